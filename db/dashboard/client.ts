/**
 * One Prisma client per server process. Pages are rendered on demand (force-dynamic), so the client
 * is created on first use from DATABASE_URL (set by `weightlens dashboard` from resolveServices).
 */
import { createPrismaClient, type PrismaClient } from '../client.ts';

export type Db = PrismaClient;

const globalHolder = globalThis as typeof globalThis & { weightlensDashboardDb?: PrismaClient };

/** A page waits at most this long for a database connection, then shows the error page. */
const CONNECT_TIMEOUT_MS = 10_000;

export function createDb(databaseUrl: string): PrismaClient {
  return createPrismaClient(databaseUrl, { connectTimeoutMs: CONNECT_TIMEOUT_MS });
}

export function db(): PrismaClient {
  if (!globalHolder.weightlensDashboardDb) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set (start the dashboard with `weightlens dashboard`)');
    globalHolder.weightlensDashboardDb = createDb(url);
  }
  return globalHolder.weightlensDashboardDb;
}
