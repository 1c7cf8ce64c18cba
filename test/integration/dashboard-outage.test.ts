/**
 * A dead database in the dashboard (app/error.tsx, app/loading.tsx, /health), in Chromium: the
 * production dashboard reaches the real test Postgres through a TCP forwarder this test controls.
 * Refused connections (Postgres stopped) show a page naming the database, where it was looked for
 * and what to run — no stack trace, no blank page; a database that accepts and never answers shows
 * the loading page, then the same page once the connect timeout passes; with the database back,
 * "Try again" shows the leaderboard again.
 */
import net from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  buildDashboardIfStale,
  type RunningDashboard,
  startDashboardServer,
} from '../../dashboard/control.ts';
import { freePort } from './cli-helpers.ts';
import { launchChromium, screenshot, watchedPage } from './dashboard-fixtures.ts';

const services = inject('services');

/** A loopback forwarder to Postgres that can refuse (stopped), black-hole (silent) or forward. */
interface Forwarder {
  port: number;
  mode(next: 'forward' | 'refuse' | 'silent'): Promise<void>;
  close(): Promise<void>;
}

async function startForwarder(target: { host: string; port: number }, port: number): Promise<Forwarder> {
  let mode: 'forward' | 'refuse' | 'silent' = 'forward';
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open.add(client);
    client.on('error', () => client.destroy());
    client.on('close', () => open.delete(client));
    if (mode === 'silent') return; // accepted, never answered
    const upstream = net.connect(target.port, target.host);
    open.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      open.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const listening = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listening();
  const dropAll = () => {
    for (const socket of [...open]) socket.destroy();
  };
  return {
    port,
    async mode(next) {
      dropAll();
      if (next === 'refuse' && server.listening) await new Promise<void>((r) => server.close(() => r()));
      if (next !== 'refuse' && !server.listening) await listening();
      mode = next;
    },
    async close() {
      dropAll();
      if (server.listening) await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let forwarder: Forwarder;
let server: RunningDashboard;
let browser: Browser;

const LONG = { timeout: 90_000 };

async function alertText(page: Page): Promise<string> {
  const alert = page.locator('section.unavailable[data-unreachable="database"]');
  await alert.waitFor(LONG);
  return (await alert.textContent()) ?? '';
}

beforeAll(async () => {
  const database = new URL(services.databaseUrl);
  forwarder = await startForwarder(
    { host: database.hostname, port: Number(database.port || 5432) },
    await freePort(),
  );
  database.hostname = '127.0.0.1';
  database.port = String(forwarder.port);
  await buildDashboardIfStale({ log: (line) => process.stderr.write(`${line}\n`) });
  server = await startDashboardServer(
    { databaseUrl: database.toString(), s3: services.s3, temporalUiUrl: 'http://127.0.0.1:1' },
    { port: await freePort() },
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await forwarder?.close();
});

describe('dashboard with a dead database', () => {
  it('names the unreachable database and what to do, then recovers with "Try again"', async () => {
    const { page } = await watchedPage(browser);
    await page.goto(`${server.url}/`, LONG);
    await page.locator('h1', { hasText: 'Leaderboard' }).waitFor(LONG);

    await forwarder.mode('refuse');
    await page.goto(`${server.url}/`, LONG);
    const text = await alertText(page);
    await screenshot(page, 'outage-database-refused');
    expect(text).toContain('The database is unreachable');
    expect(text).toContain(`127.0.0.1:${forwarder.port}/`);
    expect(text).toContain('npx weightlens stack up postgres');
    expect(text).toContain('DATABASE_URL');
    expect(text).not.toMatch(/\bat \S+ \(\S+:\d+:\d+\)/); // no stack frames
    expect(await page.locator('body').textContent()).not.toContain('Application error');
    const health = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(60_000) });
    expect(health.status).toBe(503);
    expect(((await health.json()) as { database: { reachable: boolean } }).database.reachable).toBe(false);

    // Back: "Try again" renders the page (the pool reconnects; clicked until it has).
    await forwarder.mode('forward');
    const leaderboard = page.locator('h1', { hasText: 'Leaderboard' });
    const deadline = Date.now() + 90_000;
    while (!(await leaderboard.isVisible())) {
      if (Date.now() > deadline) throw new Error('the leaderboard did not come back after "Try again"');
      const again = page.getByRole('button', { name: 'Try again' });
      if (await again.isVisible()) await again.click();
      await page.waitForTimeout(1_000);
    }
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('a database that never answers shows the loading page, then the unreachable page', async () => {
    const { page } = await watchedPage(browser);
    await forwarder.mode('silent');
    try {
      await page.goto(`${server.url}/sweeps`, { waitUntil: 'commit', timeout: 90_000 });
      await page.getByRole('status').filter({ hasText: 'Loading results from the database' }).waitFor(LONG);
      const text = await alertText(page);
      await screenshot(page, 'outage-database-silent');
      expect(text).toContain(`127.0.0.1:${forwarder.port}/`);
      expect(text).toContain('npx weightlens stack up postgres');
    } finally {
      await forwarder.mode('forward');
    }
  });
});
