/**
 * Dashboard access control in Chromium against the production build: on the local embedded default
 * (loopback, no token) pages open anonymously; bound to all interfaces with a token, nothing is shown
 * without it (pages redirect to the sign-in form, data requests get 401), a wrong token is refused,
 * the right one opens a session, and a bearer token works for non-browser clients. Bound beyond
 * loopback without a token the server does not start. Security headers on every response.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  buildDashboardIfStale,
  type RunningDashboard,
  startDashboardServer,
} from '../../dashboard/control.ts';
import { createPrismaClient, type PrismaClient } from '../../db/client.ts';
import { applyMigrations } from '../../infra/migrate.ts';
import { ConfigError } from '../../lib/errors.ts';
import { type SeedResult, seedDashboardData } from '../seed/seed.ts';
import { freePort } from './cli-helpers.ts';
import { clickThrough, launchChromium, screenshot, watchedPage } from './dashboard-fixtures.ts';

const services = inject('services');
const DATABASE = 'weightlens_dashboard_access';
const TOKEN = `e2e-${'t'.repeat(20)}-${process.pid}`;

let databaseUrl: string;
let prisma: PrismaClient;
let seeded: SeedResult;
let esdDir: string;
let anonymous: RunningDashboard;
let guarded: RunningDashboard;
let browser: Browser;

async function recreateDatabase(): Promise<string> {
  const admin = new URL(services.databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  const url = new URL(services.databaseUrl);
  url.pathname = `/${DATABASE}`;
  return url.toString();
}

beforeAll(async () => {
  databaseUrl = await recreateDatabase();
  await applyMigrations(databaseUrl);
  prisma = createPrismaClient(databaseUrl);
  esdDir = await mkdtemp(path.join(os.tmpdir(), 'weightlens-access-esd-'));
  seeded = await seedDashboardData(prisma, {
    prefix: 'access',
    checkpoints: 4,
    layersPerCheckpoint: 3,
    families: ['family-a'],
    esdCheckpoints: 0,
    esdSink: null,
    hostileNames: false,
    seed: 3,
  });
  await buildDashboardIfStale({ log: (line) => process.stderr.write(`${line}\n`) });
  anonymous = await startDashboardServer({ databaseUrl }, { port: await freePort() });
  const port = await freePort();
  guarded = await startDashboardServer({ databaseUrl, dashboardToken: TOKEN }, { port, host: '0.0.0.0' });
  // Bound to every interface; reached here over loopback.
  guarded.url = `http://127.0.0.1:${port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await anonymous?.stop();
  await guarded?.stop();
  await prisma?.$disconnect();
  if (esdDir) await rm(esdDir, { recursive: true, force: true });
});

const checkpointName = () => seeded.checkpoints[0]!.name;

function expectSecurityHeaders(headers: Headers | Record<string, string>): void {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name]);
  expect(get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(get('content-security-policy')).toContain("default-src 'self'");
  expect(get('x-content-type-options')).toBe('nosniff');
  expect(get('x-frame-options')).toBe('DENY');
}

describe('local embedded default (loopback, no token)', () => {
  it('opens the leaderboard anonymously, with security headers and no CSP violation', async () => {
    const { page, errors } = await watchedPage(browser);
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    const response = await page.goto(`${anonymous.url}/?sweep=${encodeURIComponent(seeded.sweepId)}`);
    expect(response?.status()).toBe(200);
    expectSecurityHeaders(response!.headers());
    await expect.poll(() => page.getByTestId('leaderboard-row').count()).toBe(4);
    expect(await page.content()).toContain(checkpointName());
    // Client navigation (hydrated React under the CSP) reaches another page.
    await clickThrough(page, page.getByRole('link', { name: 'Sweeps' }), /\/sweeps$/);
    expect(errors).toEqual([]);
    expect(cspViolations).toEqual([]);
    await screenshot(page, 'access-anonymous');
  });
});

describe('bound to all interfaces with a token', () => {
  it('a browser without a session sees only the sign-in form, no results', async () => {
    const { page } = await watchedPage(browser);
    const response = await page.goto(`${guarded.url}/?sweep=${encodeURIComponent(seeded.sweepId)}`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expectSecurityHeaders(response!.headers());
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByTestId('leaderboard-row').count()).toBe(0);
    const html = await page.content();
    for (const checkpoint of seeded.checkpoints) expect(html).not.toContain(checkpoint.name);
    await screenshot(page, 'access-login');
  });

  it('pages, RSC payloads and checkpoint pages answer 401 to requests without credentials', async () => {
    const id = seeded.checkpoints[0]!.id;
    for (const route of ['/', `/checkpoints/${id}`, '/sweeps', '/trends']) {
      const plain = await fetch(`${guarded.url}${route}`, { redirect: 'manual' });
      expect(plain.status, route).toBe(401);
      const body = await plain.text();
      expect(body).not.toContain(checkpointName());
      expectSecurityHeaders(plain.headers);
      const rsc = await fetch(`${guarded.url}${route}`, { headers: { rsc: '1' }, redirect: 'manual' });
      expect(rsc.status, `${route} (RSC)`).toBe(401);
    }
    const wrongBearer = await fetch(`${guarded.url}/`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrongBearer.status).toBe(401);
    const bearer = await fetch(`${guarded.url}/?sweep=${seeded.sweepId}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(bearer.status).toBe(200);
    expect(await bearer.text()).toContain(checkpointName());
  });

  it('a wrong token is refused; the right one opens a session that returns to the page asked for', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const target = `/?sweep=${encodeURIComponent(seeded.sweepId)}`;
    await page.goto(`${guarded.url}${target}`);
    await page.getByLabel('Token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('login-error').waitFor();
    expect(await page.getByTestId('leaderboard-row').count()).toBe(0);
    await page.getByLabel('Token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    expect(new URL(page.url()).searchParams.get('sweep')).toBe(seeded.sweepId);
    await expect.poll(() => page.getByTestId('leaderboard-row').count()).toBe(4);
    const cookie = (await context.cookies()).find((c) => c.name === 'weightlens_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(cookie?.value).not.toContain(TOKEN);
    await screenshot(page, 'access-signed-in');
    await context.close();
  });

  it('without a token, a bind beyond loopback does not start', async () => {
    const err = await startDashboardServer(
      { databaseUrl },
      { port: await freePort(), host: '0.0.0.0' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      'dashboard: the dashboard listens on 0.0.0.0 (not loopback): set WEIGHTLENS_DASHBOARD_TOKEN',
    );
  });
});
