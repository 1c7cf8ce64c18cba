/**
 * The results version (table "ResultsVersion", bumped by triggers in the writing transaction; see
 * the `results_version` migration): any write that can change the leaderboard or its filters
 * raises it, so a reader that sees version v also sees every write up to v. A cache keyed by it
 * (db/dashboard/cache.ts) serves nothing older than the version read when the request began.
 */
import { ConfigError } from '../lib/errors.ts';
import type { PrismaClient } from './client.ts';

export async function readResultsVersion(prisma: PrismaClient): Promise<bigint> {
  const rows = await prisma.$queryRaw<{ version: bigint }[]>`
    SELECT "version" FROM "ResultsVersion" WHERE "id" = 1`;
  const row = rows[0];
  if (row === undefined) {
    throw new ConfigError('the "ResultsVersion" row is missing: run `weightlens db migrate`');
  }
  return BigInt(row.version);
}

/**
 * Version reads shared by concurrent callers without ever answering one with a read that began
 * before it called: a caller joins the next read to start (at most one read waits while one is in
 * flight), so under load the database sees one small query at a time, not one per request.
 */
export class FreshVersionReader {
  private inFlight: Promise<bigint> | null = null;
  private next: Promise<bigint> | null = null;

  constructor(private readonly read: () => Promise<bigint>) {}

  current(): Promise<bigint> {
    if (this.inFlight === null) {
      this.inFlight = this.start();
      return this.inFlight;
    }
    // The read in flight may have begun before this call: wait for the one after it.
    if (this.next === null) {
      const after = this.inFlight.then(
        () => undefined,
        () => undefined,
      );
      this.next = after.then(() => {
        this.next = null;
        this.inFlight = this.start();
        return this.inFlight;
      });
    }
    return this.next;
  }

  private start(): Promise<bigint> {
    const reading = this.read();
    const settle = () => {
      if (this.inFlight === reading) this.inFlight = null;
    };
    reading.then(settle, settle);
    return reading;
  }
}
