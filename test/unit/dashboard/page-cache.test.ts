/**
 * Which requests the rendered-page cache may answer, where it renders a miss and what it keeps
 * (dashboard/page-cache.ts); the cache against `next start` is test/integration/dashboard-cache.
 */
import { describe, expect, it } from 'vitest';
import {
  keptWeight,
  PAGE_RENDER_HEADER,
  pageCacheKey,
  pageCacheLimits,
  type RenderedPage,
  renderOrigin,
} from '../../../dashboard/page-cache.ts';
import { ConfigError } from '../../../lib/errors.ts';

function request(pathname: string, search = '', headers: Record<string, string> = {}, method = 'GET') {
  return { method, pathname, search, headers: new Headers(headers) };
}

describe('pageCacheKey', () => {
  it('a document GET of the leaderboard is keyed by path and query', () => {
    expect(pageCacheKey(request('/'))).toBe('/');
    expect(pageCacheKey(request('/', '?across=1&sort=name'))).toBe('/?across=1&sort=name');
    expect(pageCacheKey(request('/', '', { accept: 'text/html', authorization: 'Bearer x' }))).toBe('/');
  });

  it('RSC requests, other pages, other methods and the proxy’s own render are not served', () => {
    expect(pageCacheKey(request('/', '', { rsc: '1' }))).toBeNull();
    expect(pageCacheKey(request('/', '', { 'next-router-prefetch': '1' }))).toBeNull();
    expect(pageCacheKey(request('/', '', { 'next-router-state-tree': '%5B%5D' }))).toBeNull();
    expect(pageCacheKey(request('/', '?_rsc=abc12'))).toBeNull();
    expect(pageCacheKey(request('/', '', { [PAGE_RENDER_HEADER]: '1' }))).toBeNull();
    expect(pageCacheKey(request('/sweeps'))).toBeNull();
    expect(pageCacheKey(request('/', '', {}, 'HEAD'))).toBeNull();
    expect(pageCacheKey(request('/', '', {}, 'POST'))).toBeNull();
  });
});

describe('renderOrigin', () => {
  it('is this server’s own listener; a wildcard bind is reached on loopback', () => {
    expect(renderOrigin({ WEIGHTLENS_DASHBOARD_HOST: '127.0.0.1', PORT: '3001' })).toBe(
      'http://127.0.0.1:3001',
    );
    expect(renderOrigin({ WEIGHTLENS_DASHBOARD_HOST: '0.0.0.0', PORT: '3000' })).toBe(
      'http://127.0.0.1:3000',
    );
    expect(renderOrigin({ WEIGHTLENS_DASHBOARD_HOST: '::', PORT: '3000' })).toBe('http://[::1]:3000');
    expect(renderOrigin({ WEIGHTLENS_DASHBOARD_HOST: '[::1]', PORT: '80' })).toBe('http://[::1]:80');
    expect(renderOrigin({ WEIGHTLENS_DASHBOARD_HOST: '10.0.0.5', PORT: '3000' })).toBe(
      'http://10.0.0.5:3000',
    );
  });

  it('is unknown (no cache) without a host or a numeric port', () => {
    expect(renderOrigin({ PORT: '3000' })).toBeNull();
    expect(renderOrigin({ WEIGHTLENS_DASHBOARD_HOST: '0.0.0.0' })).toBeNull();
    expect(renderOrigin({ WEIGHTLENS_DASHBOARD_HOST: '0.0.0.0', PORT: '30x' })).toBeNull();
  });
});

describe('pageCacheLimits', () => {
  it('defaults, settings and 0 for off', () => {
    expect(pageCacheLimits({})).toEqual({ entries: 64, bytes: 64 * 1024 * 1024 });
    expect(
      pageCacheLimits({
        WEIGHTLENS_DASHBOARD_PAGE_CACHE_ENTRIES: '3',
        WEIGHTLENS_DASHBOARD_PAGE_CACHE_MB: '0.5',
      }),
    ).toEqual({ entries: 3, bytes: 512 * 1024 });
    expect(pageCacheLimits({ WEIGHTLENS_DASHBOARD_PAGE_CACHE_ENTRIES: '0' }).entries).toBe(0);
  });

  it('a bad value is a ConfigError naming the variable', () => {
    expect(() => pageCacheLimits({ WEIGHTLENS_DASHBOARD_PAGE_CACHE_MB: 'lots' })).toThrow(ConfigError);
    expect(() => pageCacheLimits({ WEIGHTLENS_DASHBOARD_PAGE_CACHE_ENTRIES: '-1' })).toThrow(
      /WEIGHTLENS_DASHBOARD_PAGE_CACHE_ENTRIES/,
    );
  });
});

describe('keptWeight', () => {
  const page = (overrides: Partial<RenderedPage>): RenderedPage => ({
    status: 200,
    headers: [['content-type', 'text/html; charset=utf-8']],
    body: new Uint8Array(1234),
    setsCookie: false,
    ...overrides,
  });

  it('a 200 HTML page without cookies weighs its bytes', () => {
    expect(keptWeight(page({}))).toBe(1234);
  });

  it('error pages, redirects, other types and pages setting cookies are not kept', () => {
    expect(keptWeight(page({ status: 500 }))).toBeNull();
    expect(keptWeight(page({ status: 303 }))).toBeNull();
    expect(keptWeight(page({ status: 401 }))).toBeNull();
    expect(keptWeight(page({ headers: [['content-type', 'text/x-component']] }))).toBeNull();
    expect(keptWeight(page({ headers: [] }))).toBeNull();
    expect(keptWeight(page({ setsCookie: true }))).toBeNull();
  });
});
