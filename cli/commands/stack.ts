/**
 * `weightlens stack up|down|status`: the local Temporal dev server, S3 (versitygw) and Postgres,
 * detached, with state under .weightlens/ (WEIGHTLENS_STATE_DIR).
 */
import type { Command } from 'commander';
import { applyMigrations } from '../../infra/migrate.ts';
import { pendingMigrations } from '../../infra/migrations-status.ts';
import {
  localDatabaseUrl,
  localTemporalAddress,
  type StackState,
  stackStateFromEnv,
} from '../../infra/paths.ts';
import { localS3Settings } from '../../infra/s3.ts';
import { ALL_SERVICES, type ServiceName, stackDown, stackStatus, stackUp } from '../../infra/stack.ts';
import { ConfigError } from '../../lib/errors.ts';

function parseServices(names: string[]): ServiceName[] {
  if (names.length === 0) return [...ALL_SERVICES];
  for (const name of names) {
    if (!ALL_SERVICES.includes(name as ServiceName)) {
      throw new ConfigError(`unknown service "${name}"; use one of ${ALL_SERVICES.join(', ')}`);
    }
  }
  return names as ServiceName[];
}

function printEndpoints(state: StackState): void {
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
    .description(`start services (default all: ${ALL_SERVICES.join(', ')}) and apply migrations; idempotent`)
    .action(async (names: string[]) => {
      const state = stackStateFromEnv();
      const services = parseServices(names);
      await stackUp(state, services);
      if (services.includes('postgres')) {
        const url = localDatabaseUrl(state);
        if ((await pendingMigrations(url)).length > 0) await applyMigrations(url);
      }
      process.stdout.write(`stack up (${state.dir})\n`);
      printEndpoints(state);
    });

  stack
    .command('down [services...]')
    .description('stop services (default all); data is kept')
    .action(async (names: string[]) => {
      const state = stackStateFromEnv();
      await stackDown(state, parseServices(names));
      process.stdout.write('stack down\n');
    });

  stack
    .command('status')
    .description('show each service: running/stopped, pid, endpoint (exit code 3 when any is down)')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const statuses = await stackStatus(stackStateFromEnv());
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
    .action(() => printEndpoints(stackStateFromEnv()));
}
