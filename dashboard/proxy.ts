/**
 * Access control in front of every page and route (see access.ts): unauthorized browsers are sent
 * to /login, other clients get 401; nothing is rendered for them.
 */
import { type NextRequest, NextResponse } from 'next/server';
import { accessPolicy, isAuthorized, SECURITY_HEADERS, SESSION_COOKIE } from './access.ts';

const PUBLIC_PATHS = new Set(['/login', '/login/session']);

function withSecurityHeaders(response: NextResponse): NextResponse {
  for (const { key, value } of SECURITY_HEADERS) response.headers.set(key, value);
  return response;
}

export function proxy(request: NextRequest): NextResponse {
  const policy = accessPolicy();
  if (policy.mode === 'refuse') {
    return withSecurityHeaders(
      new NextResponse(`dashboard access is refused: ${policy.reason}\n`, {
        status: 503,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      }),
    );
  }
  const authorized = isAuthorized(policy, {
    authorization: request.headers.get('authorization'),
    sessionCookie: request.cookies.get(SESSION_COOKIE)?.value,
  });
  const path = request.nextUrl.pathname;
  if (authorized || PUBLIC_PATHS.has(path)) return withSecurityHeaders(NextResponse.next());
  if (request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html')) {
    const login = new URL('/login', request.url);
    login.searchParams.set('next', `${path}${request.nextUrl.search}`);
    return withSecurityHeaders(NextResponse.redirect(login, 303));
  }
  return withSecurityHeaders(
    new NextResponse('authentication required\n', {
      status: 401,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'www-authenticate': 'Bearer realm="weightlens"',
      },
    }),
  );
}

export const config = {
  // Static build assets carry no results; everything else (pages, RSC payloads, routes) is checked.
  matcher: ['/((?!_next/static|favicon.ico).*)'],
};
