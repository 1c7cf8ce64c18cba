/**
 * Rendered leaderboard pages, served by the access proxy (proxy.ts) after its access check, so a
 * refused request never reaches this. One `next start` process renders ~30 leaderboard pages a
 * second on a small node (docs/benchmarks.md), and 50 readers at p99 ≤ 500 ms need ≥ 100; a page
 * taken from memory costs no render at all.
 *
 * Freshness is the query cache's (db/dashboard/cache.ts): the proxy reads the results version when
 * the request begins and keys the page by (version, URL). A miss renders the page over loopback
 * with the client's own credentials, and that render reads the version again (never older), so a
 * page kept under version v holds every write up to v: a request that begins after a write
 * committed never gets a page from before it. A new version drops every page.
 *
 * Only a plain document GET of a cached path with credentials already accepted is served; RSC
 * payloads (client navigations, refreshes, prefetches) and everything else are rendered as usual.
 * Pages are bounded in number and bytes; anything but a 200 HTML page without cookies is answered
 * and not kept.
 */
import type { NextRequest } from 'next/server';
import { VersionedCache } from '../db/dashboard/cache.ts';
import { db } from '../db/dashboard/client.ts';
import { FreshVersionReader, readResultsVersion } from '../db/results-version.ts';
import { ConfigError } from '../lib/errors.ts';

/** On the response: `hit` (another request's render) or `miss` (rendered for this one). */
export const PAGE_CACHE_HEADER = 'x-weightlens-page-cache';
/** Marks the proxy's own loopback render, which must be rendered, not served from here. */
export const PAGE_RENDER_HEADER = 'x-weightlens-page-render';
const CACHED_PATHS = new Set(['/']);
/** Headers of an RSC request (Next's FLIGHT_HEADERS, plus server actions): never a document. */
const RSC_REQUEST_HEADERS = [
  'rsc',
  'next-router-state-tree',
  'next-router-prefetch',
  'next-router-segment-prefetch',
  'next-hmr-refresh',
  'next-action',
];
const KEPT_RESPONSE_HEADERS = ['content-type', 'cache-control', 'vary', 'link'];
/** Past this the proxy renders the page itself rather than wait on the database for the version. */
const VERSION_WAIT_MS = 2_000;
const RENDER_TIMEOUT_MS = 60_000;

export const PAGE_CACHE_DEFAULTS = { entries: 64, megabytes: 64 };

export interface RenderedPage {
  status: number;
  headers: [string, string][];
  body: Uint8Array<ArrayBuffer>;
  /** Whether the render answered with cookies (never kept: they belong to one client). */
  setsCookie: boolean;
}

export interface PageCacheLimits {
  entries: number;
  bytes: number;
}

function limitFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) {
    throw new ConfigError(
      `${name} must be a number ≥ 0 (0 turns the page cache off), got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

/** WEIGHTLENS_DASHBOARD_PAGE_CACHE_ENTRIES / _MB; 0 entries turns the cache off. */
export function pageCacheLimits(env: NodeJS.ProcessEnv = process.env): PageCacheLimits {
  const entries = limitFrom(
    env.WEIGHTLENS_DASHBOARD_PAGE_CACHE_ENTRIES,
    PAGE_CACHE_DEFAULTS.entries,
    'WEIGHTLENS_DASHBOARD_PAGE_CACHE_ENTRIES',
  );
  const megabytes = limitFrom(
    env.WEIGHTLENS_DASHBOARD_PAGE_CACHE_MB,
    PAGE_CACHE_DEFAULTS.megabytes,
    'WEIGHTLENS_DASHBOARD_PAGE_CACHE_MB',
  );
  return { entries: Math.floor(entries), bytes: Math.floor(megabytes * 1024 * 1024) };
}

/**
 * Where the proxy renders a miss: this server's own listener (WEIGHTLENS_DASHBOARD_HOST, and the
 * PORT `next start` sets once listening), never the request's Host header, which the client
 * chooses. A wildcard bind is reached on loopback. Null (no cache) when either is unknown.
 */
export function renderOrigin(env: NodeJS.ProcessEnv = process.env): string | null {
  const host = env.WEIGHTLENS_DASHBOARD_HOST;
  const port = env.PORT;
  if (!host || !port || !/^\d+$/.test(port)) return null;
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const reachable = bare === '0.0.0.0' ? '127.0.0.1' : bare === '::' ? '::1' : bare;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** The cache key of a request that may be served a kept page (path and query), or null. */
export function pageCacheKey(request: {
  method: string;
  pathname: string;
  search: string;
  headers: Headers;
}): string | null {
  if (request.method !== 'GET' || !CACHED_PATHS.has(request.pathname)) return null;
  if (request.headers.has(PAGE_RENDER_HEADER)) return null;
  if (RSC_REQUEST_HEADERS.some((name) => request.headers.has(name))) return null;
  if (new URLSearchParams(request.search).has('_rsc')) return null;
  return `${request.pathname}${request.search}`;
}

/** A page's weight in the cache (its bytes), or null when it must not be kept. */
export function keptWeight(page: RenderedPage): number | null {
  const type = page.headers.find(([name]) => name === 'content-type')?.[1] ?? '';
  if (page.status !== 200 || page.setsCookie || !type.startsWith('text/html')) return null;
  return page.body.byteLength;
}

async function renderOverLoopback(origin: string, key: string, request: NextRequest): Promise<RenderedPage> {
  const headers = new Headers({ [PAGE_RENDER_HEADER]: '1', 'accept-encoding': 'identity' });
  // The client's own credentials: the render passes the same access check it did.
  for (const name of ['authorization', 'cookie']) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const response = await fetch(`${origin}${key}`, {
    headers,
    redirect: 'manual',
    cache: 'no-store',
    signal: AbortSignal.timeout(RENDER_TIMEOUT_MS),
  });
  const body = new Uint8Array(await response.arrayBuffer());
  const kept: [string, string][] = [];
  for (const name of KEPT_RESPONSE_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) kept.push([name, value]);
  }
  return { status: response.status, headers: kept, body, setsCookie: response.headers.has('set-cookie') };
}

interface PageCache {
  versions: FreshVersionReader;
  pages: VersionedCache<RenderedPage>;
}

let cache: PageCache | null = null;

function pageCache(limits: PageCacheLimits): PageCache {
  cache ??= {
    versions: new FreshVersionReader(() => readResultsVersion(db())),
    pages: new VersionedCache<RenderedPage>({
      maxEntries: limits.entries,
      maxWeight: limits.bytes,
      weigh: keptWeight,
    }),
  };
  return cache;
}

function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The page for an already authorized request, from the cache or rendered into it; null when the
 * request is not one to cache or the cache cannot answer (the database is down, the render
 * failed): the caller lets Next render it, and its error page says what is wrong.
 */
export async function cachedPage(
  request: NextRequest,
): Promise<{ page: RenderedPage; source: 'hit' | 'miss' } | null> {
  const key = pageCacheKey({
    method: request.method,
    pathname: request.nextUrl.pathname,
    search: request.nextUrl.search,
    headers: request.headers,
  });
  if (key === null) return null;
  const limits = pageCacheLimits();
  const origin = renderOrigin();
  if (limits.entries === 0 || origin === null) return null;
  const { versions, pages } = pageCache(limits);
  try {
    const version = await withinMs(versions.current(), VERSION_WAIT_MS);
    if (version === null) return null;
    let source: 'hit' | 'miss' = 'hit';
    const page = await pages.get(version, key, () => {
      source = 'miss';
      return renderOverLoopback(origin, key, request);
    });
    return { page, source };
  } catch {
    return null;
  }
}
