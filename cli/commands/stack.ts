/**
 * `weightlens stack up|down|status`: the local Temporal dev server, S3 (versitygw) and Postgres,
 * detached, with state under .weightlens/ (WEIGHTLENS_STATE_DIR).
 */
import type { Command } from 'commander';
import type { StackState } from '../../infra/paths.ts';
import type { ServiceName } from '../../infra/service.ts';
import { ConfigError } from '../../lib/errors.ts';

// Service modules load the AWS SDK, the Temporal client and pg: import them only when a
// subcommand runs, so `weightlens --help` and other commands stay fast.
const paths = () => import('../../infra/paths.ts');
const stackModule = () => import('../../infra/stack.ts');

const SERVICE_NAMES: readonly ServiceName[] = ['postgres', 's3', 'temporal'];

function parseServices(names: string[]): ServiceName[] {
  if (names.length === 0) return [...SERVICE_NAMES];
  for (const name of names) {
    if (!SERVICE_NAMES.includes(name as ServiceName)) {
      throw new ConfigError(`unknown service "${name}"; use one of ${SERVICE_NAMES.join(', ')}`);
    }
  }
  return names as ServiceName[];
}

async function printEndpoints(state: StackState): Promise<void> {
  const { localDatabaseUrl, localTemporalAddress } = await paths();
  const { localS3Settings } = await import('../../infra/s3.ts');
  const s3 = localS3Settings(state);
  const lines = [
    `TEMPORAL_ADDRESS=${localTemporalAddress(state)}`,
    `DATABASE_URL=${localDatabaseUrl(state)}`,
    `AWS_ENDPOINT_URL_S3=${s3.endpoint}`,
    `AWS_ACCESS_KEY_ID=${s3.accessKeyId}`,
    `AWS_SECRET_ACCESS_KEY=${s3.secretAccessKey}`,
    `AWS_REGION=${s3.region}`,
    `WEIGHTLENS_BUCKET=${s3.bucket}`,
  ];
  if (state.ports.temporalUi > 0)
    lines.push(`# Temporal Web UI: http://${state.host}:${state.ports.temporalUi}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function register(program: Command): void {
  const stack = program.command('stack').description('the local Temporal, S3 and Postgres services');

  stack
    .command('up [services...]')
    .description(`start services (default all: ${SERVICE_NAMES.join(', ')}) and apply migrations; idempotent`)
    .action(async (names: string[]) => {
      const services = parseServices(names);
      const { stackStateFromEnv, localDatabaseUrl } = await paths();
      const state = stackStateFromEnv();
      await (await stackModule()).stackUp(state, services);
      if (services.includes('postgres')) {
        const { pendingMigrations } = await import('../../infra/migrations-status.ts');
        const { applyMigrations } = await import('../../infra/migrate.ts');
        const url = localDatabaseUrl(state);
        if ((await pendingMigrations(url)).length > 0) await applyMigrations(url);
      }
      process.stdout.write(`stack up (${state.dir})\n`);
      await printEndpoints(state);
    });

  stack
    .command('down [services...]')
    .description('stop services (default all); data is kept')
    .action(async (names: string[]) => {
      const services = parseServices(names);
      const state = (await paths()).stackStateFromEnv();
      await (await stackModule()).stackDown(state, services);
      process.stdout.write('stack down\n');
    });

  stack
    .command('status')
    .description('show each service: running/stopped, pid, endpoint (exit code 3 when any is down)')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const state = (await paths()).stackStateFromEnv();
      const statuses = await (await stackModule()).stackStatus(state);
      if (options.json) process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
      else {
        for (const s of statuses) {
          const state = s.running ? (s.healthy ? 'running' : 'starting/unhealthy') : 'stopped';
          const pid = s.pid === undefined ? '' : ` pid ${s.pid}`;
          process.stdout.write(`${s.name.padEnd(9)}${state.padEnd(19)}${s.endpoint}${pid}\n`);
        }
      }
      if (statuses.some((s) => !s.running || !s.healthy)) process.exitCode = 3;
    });

  stack
    .command('env')
    .description('print the local stack endpoints as environment variables')
    .action(async () => printEndpoints((await paths()).stackStateFromEnv()));
}
