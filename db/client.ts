/**
 * The one way to get a Prisma client: the generated client (`npm run db:generate` writes it to
 * generated/prisma) over `@prisma/adapter-pg`. Callers own the client and `$disconnect()` it.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';

export type { CheckpointSummary, PrismaClient } from '../generated/prisma/client.ts';
export { Prisma } from '../generated/prisma/client.ts';

export function createPrismaClient(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}
