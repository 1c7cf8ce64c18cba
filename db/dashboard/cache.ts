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

export interface CacheBounds<V> {
  /** Entries kept; the least recently used goes first. */
  maxEntries: number;
  /** Sum of the kept values' weights (bytes, say); unbounded when absent. */
  maxWeight?: number;
  /** A value's weight once computed; null: answer it but keep nothing (an error page, say). */
  weigh?: (value: V) => number | null;
}

interface Entry<V> {
  value: Promise<V>;
  /** 0 until computed. */
  weight: number;
}

export class VersionedCache<V = unknown> {
  private version: bigint | null = null;
  private readonly entries = new Map<string, Entry<V>>();
  private weight = 0;
  private readonly bounds: Required<CacheBounds<V>>;

  constructor(bounds: number | CacheBounds<V>) {
    const given = typeof bounds === 'number' ? { maxEntries: bounds } : bounds;
    this.bounds = { maxWeight: Number.POSITIVE_INFINITY, weigh: () => 0, ...given };
  }

  get size(): number {
    return this.entries.size;
  }

  /** Sum of the kept entries' weights. */
  get totalWeight(): number {
    return this.weight;
  }

  get<T extends V>(version: bigint, key: string, compute: () => Promise<T>): Promise<T> {
    if (this.version === null || version > this.version) {
      this.entries.clear();
      this.weight = 0;
      this.version = version;
    }
    // A request that read an older version than a newer one already seen: answer it, keep nothing.
    if (version < this.version || this.bounds.maxEntries <= 0) return compute();
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value as Promise<T>;
    }
    const computing = compute();
    const entry: Entry<V> = { value: computing, weight: 0 };
    this.entries.set(key, entry);
    computing.then(
      (value) => {
        if (this.entries.get(key) !== entry) return;
        const weight = this.bounds.weigh(value);
        if (weight === null || weight > this.bounds.maxWeight) this.drop(key);
        else {
          entry.weight = weight;
          this.weight += weight;
          this.evict();
        }
      },
      () => {
        if (this.entries.get(key) === entry) this.drop(key);
      },
    );
    this.evict();
    return computing;
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.weight -= entry.weight;
    this.entries.delete(key);
  }

  private evict(): void {
    while (this.entries.size > this.bounds.maxEntries || this.weight > this.bounds.maxWeight) {
      this.drop(this.entries.keys().next().value as string);
    }
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
