/**
 * `weightlens db migrate|status|generate`: the Prisma CLI, offline (WASM schema-engine shim),
 * against DATABASE_URL or the local stack (started when needed).
 */
import type { Command } from 'commander';

// Loaded when a subcommand runs (they pull in the AWS SDK, Temporal client and pg).
const config = () => import('../../infra/config.ts');
const migrate = () => import('../../infra/migrate.ts');
const migrationsStatus = () => import('../../infra/migrations-status.ts');

export function register(program: Command): void {
  const db = program.command('db').description('database schema: migrations and the generated client');

  db.command('migrate')
    .description('apply pending migrations (DATABASE_URL, else the local stack, started if needed)')
    .action(async () => {
      const { resolveServices } = await config();
      const { migrationNames, pendingMigrations } = await migrationsStatus();
      const { applyMigrations } = await migrate();
      const services = await resolveServices({ start: true, migrate: false, need: ['postgres'] });
      // The direct check is fast and turns connection problems into one actionable line.
      const pending = await pendingMigrations(services.databaseUrl);
      if (pending.length === 0) {
        process.stdout.write(`database is up to date (${migrationNames().length} migrations applied)\n`);
        return;
      }
      const output = await applyMigrations(services.databaseUrl);
      process.stdout.write(`applied ${pending.length} migration(s): ${pending.join(', ')}\n`);
      if (process.env.WEIGHTLENS_DEBUG) process.stdout.write(output);
    });

  db.command('status')
    .description('show which migrations are applied')
    .action(async () => {
      const { resolveServices } = await config();
      const { runPrismaCli } = await migrate();
      const services = await resolveServices({ start: false, migrate: false });
      process.stdout.write(await runPrismaCli(['migrate', 'status'], services.databaseUrl));
    });

  db.command('generate')
    .description('generate the Prisma client into generated/prisma')
    .action(async () => {
      const { runPrismaCli } = await migrate();
      process.stdout.write(await runPrismaCli(['generate']));
    });
}
