/**
 * `weightlens dashboard [--port P] [--host H] [--rebuild]`: build the Next.js dashboard when its
 * sources changed (production build), then serve it against the resolved services (DATABASE_URL,
 * S3 for the stored eigenvalues; the local stack is started when nothing is configured).
 */
import { type Command, Option } from 'commander';
import { buildDashboardIfStale, startDashboardServer } from '../../dashboard/control.ts';
import { resolveServices } from '../../infra/config.ts';
import { stackStateFromEnv } from '../../infra/paths.ts';
import { ensurePortFree } from '../../infra/ports.ts';
import { BadInputError } from '../../lib/errors.ts';

interface DashboardOptions {
  port: string;
  host: string;
  rebuild?: boolean;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BadInputError(`--port ${text} is not a port number (1–65535)`);
  }
  return port;
}

/** Where `weightlens dashboard` listens by default (other commands print links to it). */
export const DEFAULT_DASHBOARD_HOST = '127.0.0.1';
export const DEFAULT_DASHBOARD_PORT = 3000;

/** The dashboard's leaderboard of one sweep, as `weightlens dashboard` serves it by default. */
export function dashboardUrl(sweepId: string): string {
  return `http://${DEFAULT_DASHBOARD_HOST}:${DEFAULT_DASHBOARD_PORT}/?sweep=${encodeURIComponent(sweepId)}`;
}

export function planDashboardUrl(planId: string): string {
  return `http://${DEFAULT_DASHBOARD_HOST}:${DEFAULT_DASHBOARD_PORT}/plans/${encodeURIComponent(planId)}`;
}

export function register(program: Command): void {
  program
    .command('dashboard')
    .description('serve the web dashboard (leaderboard, layer spectra, trends), building it first if needed')
    .addOption(new Option('--port <port>', 'port to listen on').default(String(DEFAULT_DASHBOARD_PORT)))
    .addOption(new Option('--host <host>', 'interface to listen on').default(DEFAULT_DASHBOARD_HOST))
    .option('--rebuild', 'build even if the last build is up to date')
    .action(async (options: DashboardOptions) => {
      const port = parsePort(options.port);
      // Fail with one clear line before building, rather than after (next start's EADDRINUSE).
      await ensurePortFree(options.host, port, 'dashboard', '--port');
      const services = await resolveServices({ start: true });
      const built = await buildDashboardIfStale({ force: options.rebuild });
      if (!built) process.stderr.write('dashboard build is up to date\n');
      // The local stack's Temporal Web UI, unless TEMPORAL_UI_URL points elsewhere.
      const state = stackStateFromEnv();
      const temporalUiUrl =
        process.env.TEMPORAL_UI_URL ??
        (state.ports.temporalUi > 0 ? `http://${state.host}:${state.ports.temporalUi}` : undefined);
      const server = await startDashboardServer(
        {
          databaseUrl: services.databaseUrl,
          s3: services.s3,
          temporalUiUrl,
          temporalNamespace: services.namespace,
        },
        { port, host: options.host, stdio: 'inherit' },
      );
      process.stdout.write(`dashboard: ${server.url}\n`);
      const stop = () => void server.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await new Promise<void>((resolve) => server.process.once('exit', () => resolve()));
    });
}
