/**
 * `npm run bench:load`: the dashboard's leaderboard under 50 concurrent clients for 30 s
 * (autocannon), from the production build (`next start`) against real Postgres, seeded with a
 * realistic leaderboard (test/seed: hundreds of checkpoints in several series, per-layer rows).
 * Two servers: the local embedded default (loopback, anonymous) and token-guarded
 * (WEIGHTLENS_DASHBOARD_TOKEN; clients send the bearer token, and once without it: refused with
 * 401, never a result). Prints requests/s, p50/p99 latency, errors, and p99 against the 500 ms
 * target and against a reference measured in the same run on the same server: the sign-in page
 * (/login: the same proxy and React render, no query). The leaderboard is served from the rendered
 * page cache (dashboard/page-cache.ts) unless WEIGHTLENS_DASHBOARD_PAGE_CACHE_ENTRIES=0.
 */
import autocannon from 'autocannon';
import { buildDashboardIfStale, type RunningDashboard, startDashboardServer } from '../dashboard/control.ts';
import { createPrismaClient } from '../db/client.ts';
import { resolveServices } from '../infra/config.ts';
import { applyMigrations } from '../infra/migrate.ts';
import { freePort } from '../test/integration/cli-helpers.ts';
import { recreateDatabase } from '../test/seed/scratch-database.ts';
import { seedDashboardData } from '../test/seed/seed.ts';

const CHECKPOINTS = Number(process.env.BENCH_CHECKPOINTS ?? 600);
const LAYERS = Number(process.env.BENCH_LAYERS ?? 60);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 30);
const REFERENCE_DURATION_S = Number(process.env.BENCH_REFERENCE_DURATION_S ?? 10);
const TARGET_P99_MS = 500;
const BENCH_DATABASE = 'weightlens_bench_load';
const FAMILIES = ['resnet-a', 'resnet-b', 'vit-s', 'vit-b', 'mlp-mixer', 'esrgan'];
const TOKEN = `bench-load-${'x'.repeat(24)}`;

interface LoadResult {
  label: string;
  requestsPerSecond: number;
  total: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors, timeouts and responses with another status than the one expected. */
  errors: number;
  /** Median of 10 requests one after another just before the run: the server's cost of one. */
  singleMs: number;
}

async function sequentialMedianMs(url: string, headers: Record<string, string>): Promise<number> {
  const samples: number[] = [];
  for (let index = 0; index < 10; index++) {
    const start = performance.now();
    await (await fetch(url, { headers, redirect: 'manual' })).text();
    samples.push(performance.now() - start);
  }
  return samples.sort((a, b) => a - b)[5]!;
}

async function load(
  label: string,
  url: string,
  options: { headers?: Record<string, string>; durationS: number; expectStatus: number },
): Promise<LoadResult> {
  const singleMs = await sequentialMedianMs(url, options.headers ?? {});
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: options.durationS,
    headers: options.headers ?? {},
    timeout: 10,
  });
  const expected = result.statusCodeStats?.[String(options.expectStatus) as '200']?.count ?? 0;
  // Requests answered with an unexpected status, plus those never answered.
  const unexpected = result.requests.total - result.errors - result.timeouts - expected;
  return {
    label,
    requestsPerSecond: result.requests.average,
    total: result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + Math.max(0, unexpected),
    singleMs,
  };
}

/** One request that must answer `status` and (when given) contain `mustContain`; then a few warm-ups. */
async function check(
  url: string,
  headers: Record<string, string>,
  status: number,
  mustContain: string | null,
): Promise<string | null> {
  let pageCache: string | null = null;
  for (let index = 0; index < 10; index++) {
    const response = await fetch(url, { headers, redirect: 'manual' });
    pageCache = response.headers.get('x-weightlens-page-cache');
    const body = await response.text();
    if (response.status !== status) throw new Error(`${url}: HTTP ${response.status}, expected ${status}`);
    if (mustContain !== null && !body.includes(mustContain))
      throw new Error(`${url}: the page lacks ${mustContain}`);
    if (mustContain === null && body.includes('-step'))
      throw new Error(`${url}: a refused request shows a result`);
  }
  return pageCache;
}

/** Until one request to the sign-in page answers within 1 s (the server's backlog is gone). */
async function settle(base: string, headers: Record<string, string> = {}): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt++) {
    const start = performance.now();
    await (await fetch(`${base}/login`, { headers })).text();
    if (performance.now() - start < 1_000) return;
  }
}

// Only Postgres is needed: with DATABASE_URL set nothing local is started.
const services = await resolveServices({
  start: !process.env.DATABASE_URL,
  migrate: false,
  need: ['postgres'],
});
const databaseUrl = await recreateDatabase(services.databaseUrl, BENCH_DATABASE);
await applyMigrations(databaseUrl);
const prisma = createPrismaClient(databaseUrl);
const servers: RunningDashboard[] = [];
try {
  const seedStart = performance.now();
  await seedDashboardData(prisma, {
    prefix: 'load',
    checkpoints: CHECKPOINTS,
    layersPerCheckpoint: LAYERS,
    families: FAMILIES,
    esdCheckpoints: 0,
    esdSink: null,
    hostileNames: false,
    seed: 7,
  });
  await prisma.$executeRawUnsafe('ANALYZE');
  const layerRows = await prisma.layerResult.count();
  console.log(
    `seeded ${CHECKPOINTS} checkpoints in ${FAMILIES.length} series × ${LAYERS} layers (${layerRows} layer rows) in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );
  await buildDashboardIfStale();
  const anonymous = await startDashboardServer({ databaseUrl }, { port: await freePort() });
  servers.push(anonymous);
  const guarded = await startDashboardServer(
    { databaseUrl, dashboardToken: TOKEN },
    { port: await freePort() },
  );
  servers.push(guarded);
  const bearer = { authorization: `Bearer ${TOKEN}` };
  // A name the default leaderboard's first page shows (a bench run measuring an error page is worthless).
  const firstSeries = FAMILIES[0]!;

  const anonymousCache = await check(`${anonymous.url}/`, {}, 200, firstSeries);
  await check(`${anonymous.url}/login`, {}, 200, 'Sign in');
  const guardedCache = await check(`${guarded.url}/`, bearer, 200, firstSeries);
  if ((await check(`${guarded.url}/`, {}, 401, null)) !== null)
    throw new Error('a refused request was answered by the page cache');
  // What the runs below measure: the page cache (dashboard/page-cache.ts) on, or off.
  console.log(
    `leaderboard after 10 requests: x-weightlens-page-cache ${anonymousCache ?? 'absent'} (anonymous), ${guardedCache ?? 'absent'} (token)`,
  );

  const results: LoadResult[] = [];
  const run = async (...args: Parameters<typeof load>) => {
    // Requests still in flight when a run stops are served before the next run's: wait them out.
    await settle(anonymous.url);
    await settle(guarded.url, bearer);
    console.log(`${args[0]}: ${CONNECTIONS} connections for ${args[2].durationS} s…`);
    results.push(await load(...args));
  };
  await run('anonymous: reference /login', `${anonymous.url}/login`, {
    durationS: REFERENCE_DURATION_S,
    expectStatus: 200,
  });
  await run('anonymous: leaderboard /', `${anonymous.url}/`, { durationS: DURATION_S, expectStatus: 200 });
  await run('token: reference /login (bearer)', `${guarded.url}/login`, {
    headers: bearer,
    durationS: REFERENCE_DURATION_S,
    expectStatus: 200,
  });
  await run('token: leaderboard / (bearer)', `${guarded.url}/`, {
    headers: bearer,
    durationS: DURATION_S,
    expectStatus: 200,
  });
  await run('token: leaderboard / without the token (401)', `${guarded.url}/`, {
    durationS: REFERENCE_DURATION_S,
    expectStatus: 401,
  });

  console.log(
    `\n${'load'.padEnd(46)} 1 client ms  req/s   total  p50 ms  p99 ms  errors  p99/500ms  p99/reference`,
  );
  for (const result of results) {
    const reference = results.find(
      (entry) =>
        entry.label.includes('reference') && entry.label.split(':')[0] === result.label.split(':')[0],
    )!;
    console.log(
      `${result.label.padEnd(46)} ${result.singleMs.toFixed(0).padStart(11)} ${result.requestsPerSecond.toFixed(1).padStart(5)} ${String(result.total).padStart(7)} ${result.p50Ms.toFixed(0).padStart(7)} ${result.p99Ms.toFixed(0).padStart(7)} ${String(result.errors).padStart(7)} ${(result.p99Ms / TARGET_P99_MS).toFixed(2).padStart(10)} ${(result.p99Ms / reference.p99Ms).toFixed(2).padStart(14)}`,
    );
  }
  const leaderboards = results.filter(
    (result) => result.label.includes('leaderboard /') && !result.label.includes('401'),
  );
  const worst = Math.max(...leaderboards.map((result) => result.p99Ms));
  const errors = leaderboards.reduce((sum, result) => sum + result.errors, 0);
  // A run in which no request completed measured nothing: not a pass.
  const met = worst <= TARGET_P99_MS && errors === 0 && leaderboards.every((result) => result.total > 0);
  console.log(
    `\ntarget: leaderboard p99 ≤ ${TARGET_P99_MS} ms with no errors — worst p99 ${worst.toFixed(0)} ms (${(worst / TARGET_P99_MS).toFixed(2)}× the target), ${errors} errors: ${met ? 'met' : 'NOT met'}`,
  );
} finally {
  for (const server of servers) await server.stop();
  await prisma.$disconnect();
}
process.exit(0);
