/**
 * Who may see the dashboard. Anonymous access only in the local embedded default: bound to a
 * loopback address (WEIGHTLENS_DASHBOARD_HOST, set by `weightlens dashboard` / startDashboardServer)
 * with no token configured. Anywhere else WEIGHTLENS_DASHBOARD_TOKEN is required: a client sends
 * it as `Authorization: Bearer <token>`, or a browser signs in once at /login and gets an HttpOnly
 * session cookie holding an HMAC of the token (rotating the token ends every session). Tokens are
 * compared in constant time. Bound elsewhere without a token, every request is refused.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'weightlens_session';
export const SESSION_MAX_AGE_S = 12 * 60 * 60;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);
/** Shorter tokens are refused: guessable over the network. */
export const MIN_TOKEN_LENGTH = 24;

export type AccessPolicy =
  | { mode: 'anonymous' }
  | { mode: 'token'; token: string }
  | { mode: 'refuse'; reason: string };

export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && (LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host));
}

export function accessPolicy(env: NodeJS.ProcessEnv = process.env): AccessPolicy {
  const token = env.WEIGHTLENS_DASHBOARD_TOKEN || undefined;
  if (token !== undefined) {
    if (token.length < MIN_TOKEN_LENGTH) {
      return {
        mode: 'refuse',
        reason: `WEIGHTLENS_DASHBOARD_TOKEN is shorter than ${MIN_TOKEN_LENGTH} characters`,
      };
    }
    return { mode: 'token', token };
  }
  const host = env.WEIGHTLENS_DASHBOARD_HOST || undefined;
  if (isLoopbackHost(host)) return { mode: 'anonymous' };
  return {
    mode: 'refuse',
    reason: `the dashboard listens on ${host ?? 'an unknown address'} (not loopback): set WEIGHTLENS_DASHBOARD_TOKEN`,
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time equality of two secrets (their digests have equal length whatever the inputs). */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The session cookie's value for `token`. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('weightlens-dashboard-session-v1').digest('base64url');
}

export interface Credentials {
  authorization: string | null;
  sessionCookie: string | undefined;
}

export function isAuthorized(policy: AccessPolicy, credentials: Credentials): boolean {
  if (policy.mode === 'anonymous') return true;
  if (policy.mode === 'refuse') return false;
  const bearer = /^Bearer (.+)$/.exec(credentials.authorization ?? '')?.[1];
  if (bearer !== undefined && secretsEqual(bearer, policy.token)) return true;
  const cookie = credentials.sessionCookie;
  return cookie !== undefined && secretsEqual(cookie, sessionValue(policy.token));
}

/** A same-origin path to return to after signing in (never another origin). */
export function safeNextPath(next: string | null | undefined): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}

/**
 * Headers on every response. Next's App Router inlines its bootstrap scripts and styles, hence
 * 'unsafe-inline' for them; everything else comes from this origin, and no site may frame it.
 */
export const SECURITY_HEADERS: readonly { key: string; value: string }[] = [
  {
    key: 'Content-Security-Policy',
    value: [
      "default-src 'self'",
      "script-src 'self' 'unsafe-inline'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: blob:",
      "font-src 'self'",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
  },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Referrer-Policy', value: 'no-referrer' },
];
