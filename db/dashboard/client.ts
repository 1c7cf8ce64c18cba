/**
 * One Prisma client per server process. Pages are rendered on demand (force-dynamic), so the client
 * is created on first use from DATABASE_URL (set by `weightlens dashboard` from resolveServices).
 */
import { createPrismaClient, type PrismaClient } from '../client.ts';

export type Db = PrismaClient;

const globalHolder = globalThis as typeof globalThis & { weightlensDashboardDb?: PrismaClient };

export function createDb(databaseUrl: string): PrismaClient {
  return createPrismaClient(databaseUrl);
}

export function db(): PrismaClient {
  if (!globalHolder.weightlensDashboardDb) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set (start the dashboard with `weightlens dashboard`)');
    globalHolder.weightlensDashboardDb = createDb(url);
  }
  return globalHolder.weightlensDashboardDb;
}
