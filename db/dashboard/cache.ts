/**
 * Query results of the dashboard's hot pages, kept while the results version (db/results-version.ts)
 * is unchanged. A request reads the version when it begins (one small query, shared by concurrent
 * requests but never begun before theirs), then takes the entry cached under that version or
 * computes it. An entry under version v was computed by a request that read v first, so it holds
 * every write up to v: a request that begins after a write committed sees that write (no staleness
 * window). A new version drops every entry; errors are never cached. Access control is not here:
 * the proxy refuses a request before any page, and so before any cached read, runs.
 */
import { FreshVersionReader, readResultsVersion } from '../results-version.ts';
import type { Db } from './client.ts';

/** Distinct query keys kept (pages × filters × sorts); the least recently used one goes first. */
const MAX_ENTRIES = 500;

export class VersionedCache {
  private version: bigint | null = null;
  private readonly entries = new Map<string, Promise<unknown>>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  get<T>(version: bigint, key: string, compute: () => Promise<T>): Promise<T> {
    if (this.version === null || version > this.version) {
      this.entries.clear();
      this.version = version;
    }
    // A request that read an older version than a newer one already seen: answer it, keep nothing.
    if (version < this.version) return compute();
    const hit = this.entries.get(key) as Promise<T> | undefined;
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const computing = compute();
    this.entries.set(key, computing);
    computing.catch(() => {
      if (this.entries.get(key) === computing) this.entries.delete(key);
    });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return computing;
  }
}

interface DashboardCache {
  versions: FreshVersionReader;
  results: VersionedCache;
}

const caches = new WeakMap<Db, DashboardCache>();

function cacheOf(db: Db): DashboardCache {
  let cache = caches.get(db);
  if (cache === undefined) {
    cache = {
      versions: new FreshVersionReader(() => readResultsVersion(db)),
      results: new VersionedCache(MAX_ENTRIES),
    };
    caches.set(db, cache);
  }
  return cache;
}

/** Reads of one request under one results version: `read(key, compute)` caches by that version. */
export async function versionedReads(
  db: Db,
): Promise<<T>(key: string, compute: () => Promise<T>) => Promise<T>> {
  const cache = cacheOf(db);
  const version = await cache.versions.current();
  return (key, compute) => cache.results.get(version, key, compute);
}
