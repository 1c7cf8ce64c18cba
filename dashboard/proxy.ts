/**
 * Access control in front of every page and route (see access.ts): unauthorized browsers are sent
 * to /login, other clients get 401; nothing is rendered for them. Authorized document requests of
 * the leaderboard are then served from rendered pages (page-cache.ts).
 */
import { type NextRequest, NextResponse } from 'next/server';
import { accessPolicy, isAuthorized, SECURITY_HEADERS, SESSION_COOKIE } from './access.ts';
import { cachedPage, PAGE_CACHE_HEADER } from './page-cache.ts';

const PUBLIC_PATHS = new Set(['/login', '/login/session']);

function withSecurityHeaders(response: NextResponse): NextResponse {
  for (const { key, value } of SECURITY_HEADERS) response.headers.set(key, value);
  return response;
}

async function pageOrNext(request: NextRequest): Promise<NextResponse> {
  const cached = await cachedPage(request);
  if (cached === null) return NextResponse.next();
  const { page, source } = cached;
  const response = new NextResponse(page.body, { status: page.status, headers: page.headers });
  response.headers.set(PAGE_CACHE_HEADER, source);
  return response;
}

export async function proxy(request: NextRequest): Promise<NextResponse> {
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
  if (authorized) return withSecurityHeaders(await pageOrNext(request));
  if (PUBLIC_PATHS.has(path)) return withSecurityHeaders(NextResponse.next());
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
