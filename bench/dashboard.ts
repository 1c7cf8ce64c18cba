/**
 * `npm run bench:dashboard`: server time of the dashboard's two busiest pages on a large database.
 * Seeds 1,000 checkpoints × 100 layers into a separate database (weightlens_bench_dashboard on the
 * configured Postgres server), then measures (a) the data-access functions alone and (b) full
 * server renders over HTTP from the production build (`next start`), against a reference measured
 * in the same run (a trivial SQL round trip and the near-empty /sweeps page). Target: ≤ 500 ms each.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { buildDashboardIfStale, startDashboardServer } from '../dashboard/control.ts';
import { esdPlotData, readEigenvalues, storedLayerFit } from '../dashboard/view/esd.ts';
import { createPrismaClient } from '../db/client.ts';
import { fetchCheckpointDetail } from '../db/dashboard/checkpoint.ts';
import { fetchLeaderboard, parseLeaderboardQuery } from '../db/dashboard/leaderboard.ts';
import { resolveServices } from '../infra/config.ts';
import { applyMigrations } from '../infra/migrate.ts';
import { seedDashboardData } from '../test/seed/seed.ts';

const CHECKPOINTS = Number(process.env.BENCH_CHECKPOINTS ?? 1_000);
const LAYERS = Number(process.env.BENCH_LAYERS ?? 100);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 15);
const TARGET_MS = 500;
const BENCH_DATABASE = 'weightlens_bench_dashboard';

interface Timing {
  label: string;
  medianMs: number;
  p95Ms: number;
}

async function measure(label: string, run: () => Promise<unknown>): Promise<Timing> {
  await run(); // warm-up: connection, JIT, Next's first render of the route
  const samples: number[] = [];
  for (let index = 0; index < REPEATS; index++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { label, medianMs: at(0.5), p95Ms: at(0.95) };
}

async function recreateDatabase(serverUrl: string): Promise<string> {
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${BENCH_DATABASE}`;
  return url.toString();
}

async function fetchOk(url: string): Promise<void> {
  const response = await fetch(url);
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}: ${body.slice(0, 200)}`);
}

// Only Postgres is needed: with DATABASE_URL set nothing local is started.
const services = await resolveServices({ start: !process.env.DATABASE_URL, migrate: false });
const databaseUrl = await recreateDatabase(services.databaseUrl);
await applyMigrations(databaseUrl);
const prisma = createPrismaClient(databaseUrl);
const esdDir = await mkdtemp(path.join(os.tmpdir(), 'weightlens-bench-esd-'));
try {
  const seedStart = performance.now();
  const seeded = await seedDashboardData(prisma, {
    prefix: 'bench',
    checkpoints: CHECKPOINTS,
    layersPerCheckpoint: LAYERS,
    families: ['family-a', 'family-b', 'family-c'],
    esdCheckpoints: 2,
    esdSink: async (key, bytes) => {
      const file = path.join(esdDir, key);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, bytes);
      return file;
    },
    hostileNames: false,
    seed: 1,
  });
  await prisma.$executeRawUnsafe('ANALYZE');
  const layerRows = await prisma.layerResult.count();
  console.log(
    `seeded ${CHECKPOINTS} checkpoints × ${LAYERS} layers (${layerRows} layer rows) in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );
  const checkpointId = seeded.checkpoints[1]!.id;

  const timings: Timing[] = [];
  timings.push(await measure('reference: SELECT 1 round trip', () => prisma.$queryRaw`SELECT 1`));
  timings.push(
    await measure('query: leaderboard page 1 (default rank)', () =>
      fetchLeaderboard(prisma, parseLeaderboardQuery({})),
    ),
  );
  timings.push(
    await measure('query: leaderboard page 7, sorted by step desc, family filter + search', () =>
      fetchLeaderboard(
        prisma,
        parseLeaderboardQuery({ sort: 'step', dir: 'desc', page: '7', family: 'family-b', q: 'step' }),
      ),
    ),
  );
  timings.push(
    await measure(`query: checkpoint detail (${LAYERS} layers) + ESD read`, async () => {
      const detail = await fetchCheckpointDetail(prisma, checkpointId, null);
      const layer = detail?.layers.find((row) => row.esdUri !== null);
      if (!layer?.esdUri) throw new Error('the bench checkpoint has no stored ESD');
      esdPlotData(storedLayerFit(layer, layer.esdUri), await readEigenvalues(layer.esdUri));
    }),
  );

  await buildDashboardIfStale();
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const server = await startDashboardServer({ databaseUrl }, { port });
  try {
    timings.push(await measure('http: reference /sweeps (2 rows)', () => fetchOk(`${server.url}/sweeps`)));
    timings.push(await measure('http: leaderboard /', () => fetchOk(`${server.url}/`)));
    timings.push(
      await measure('http: leaderboard sorted+filtered+page 7', () =>
        fetchOk(`${server.url}/?sort=step&dir=desc&page=7&family=family-b&q=step`),
      ),
    );
    timings.push(
      await measure(`http: checkpoint page (${LAYERS} layers + ESD)`, () =>
        fetchOk(`${server.url}/checkpoints/${checkpointId}`),
      ),
    );
  } finally {
    await server.stop();
  }

  console.log(`\n${'measurement'.padEnd(72)} median ms   p95 ms   target`);
  for (const timing of timings) {
    const target = timing.label.includes('reference') ? '' : timing.medianMs <= TARGET_MS ? 'ok' : 'OVER';
    console.log(
      `${timing.label.padEnd(72)} ${timing.medianMs.toFixed(1).padStart(9)} ${timing.p95Ms.toFixed(1).padStart(8)}   ${target}`,
    );
  }
  const sqlReference = timings[0]!.medianMs;
  const httpReference = timings.find((t) => t.label.startsWith('http: reference'))?.medianMs ?? Number.NaN;
  console.log(
    `\nratios: leaderboard query / SELECT 1 = ${(timings[1]!.medianMs / sqlReference).toFixed(1)}×; ` +
      `leaderboard page / near-empty page = ${((timings.find((t) => t.label === 'http: leaderboard /')?.medianMs ?? 0) / httpReference).toFixed(2)}×`,
  );
} finally {
  await prisma.$disconnect();
  await rm(esdDir, { recursive: true, force: true });
}
process.exit(0);
