/**
 * Prisma CLI configuration. Prisma 7 does not read .env; the database is DATABASE_URL, else the
 * local stack's Postgres (WEIGHTLENS_PG_PORT, default 15432).
 */
import path from 'node:path';
import { defineConfig } from 'prisma/config';

// No telemetry checkpoint: there is no network to send it to.
process.env.CHECKPOINT_DISABLE ??= '1';
// Offline: the CLI would download a native schema engine; use the WASM engine shim instead.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(
  import.meta.dirname,
  'infra',
  'prisma-schema-engine.mjs',
);

const localPort = process.env.WEIGHTLENS_PG_PORT || '15432';

export default defineConfig({
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  datasource: {
    url: process.env.DATABASE_URL ?? `postgresql://weightlens:weightlens@127.0.0.1:${localPort}/weightlens`,
  },
});
