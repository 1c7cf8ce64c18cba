import { NextResponse } from 'next/server';
import {
  accessPolicy,
  SESSION_COOKIE,
  SESSION_MAX_AGE_S,
  safeNextPath,
  secretsEqual,
  sessionValue,
} from '../../../access.ts';

/** A same-origin redirect by path: the request URL's host is the bind address (0.0.0.0), not the client's. */
function seeOther(location: string): NextResponse {
  return new NextResponse(null, { status: 303, headers: { location } });
}

/** Checks the submitted token and sets the session cookie; back to /login on a wrong one. */
export async function POST(request: Request): Promise<NextResponse> {
  const form = await request.formData();
  const token = String(form.get('token') ?? '');
  const next = safeNextPath(String(form.get('next') ?? '/'));
  const policy = accessPolicy();
  if (policy.mode !== 'token' || !secretsEqual(token, policy.token)) {
    return seeOther(`/login?${new URLSearchParams({ error: '1', next })}`);
  }
  const response = seeOther(next);
  const https =
    new URL(request.url).protocol === 'https:' || request.headers.get('x-forwarded-proto') === 'https';
  response.cookies.set(SESSION_COOKIE, sessionValue(policy.token), {
    httpOnly: true,
    sameSite: 'strict',
    secure: https,
    path: '/',
    maxAge: SESSION_MAX_AGE_S,
  });
  return response;
}
