/**
 * The one way to get a Prisma client: the generated client (`npm run db:generate` writes it to
 * generated/prisma) over `@prisma/adapter-pg`. Callers own the client and `$disconnect()` it.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';

export type { CheckpointSummary, PrismaClient } from '../generated/prisma/client.ts';
export { Prisma } from '../generated/prisma/client.ts';

/**
 * `connectTimeoutMs`: give up opening a connection after this long (pg waits forever by default,
 * which a black-holed database turns into a request that never ends).
 */
export function createPrismaClient(
  databaseUrl: string,
  options: { connectTimeoutMs?: number } = {},
): PrismaClient {
  const config = { connectionString: databaseUrl, connectionTimeoutMillis: options.connectTimeoutMs };
  return new PrismaClient({ adapter: new PrismaPg(config) });
}
