/**
 * The dashboard's version-keyed cache and the shared version reads (db/dashboard/cache.ts,
 * db/results-version.ts), with controllable promises instead of a database.
 */
import { describe, expect, it } from 'vitest';
import { VersionedCache } from '../../../db/dashboard/cache.ts';
import { FreshVersionReader } from '../../../db/results-version.ts';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('VersionedCache', () => {
  it('computes a key once per version; concurrent requests share the computation', async () => {
    const cache = new VersionedCache(10);
    let computed = 0;
    const compute = async () => ++computed;
    const [a, b] = await Promise.all([cache.get(1n, 'k', compute), cache.get(1n, 'k', compute)]);
    expect([a, b, computed]).toEqual([1, 1, 1]);
    expect(await cache.get(1n, 'k', compute)).toBe(1);
    expect(await cache.get(2n, 'k', compute)).toBe(2);
    expect(await cache.get(2n, 'other', compute)).toBe(3);
  });

  it('a newer version drops every entry; an older one is answered and not kept', async () => {
    const cache = new VersionedCache(10);
    await cache.get(5n, 'a', async () => 'a5');
    await cache.get(5n, 'b', async () => 'b5');
    expect(await cache.get(6n, 'a', async () => 'a6')).toBe('a6');
    expect(cache.size).toBe(1);
    expect(await cache.get(4n, 'a', async () => 'a4')).toBe('a4');
    expect(await cache.get(6n, 'a', async () => 'unused')).toBe('a6');
  });

  it('never keeps a failed computation', async () => {
    const cache = new VersionedCache(10);
    await expect(cache.get(1n, 'k', async () => Promise.reject(new Error('db down')))).rejects.toThrow(
      'db down',
    );
    expect(cache.size).toBe(0);
    expect(await cache.get(1n, 'k', async () => 'ok')).toBe('ok');
  });

  it('keeps at most its bound, dropping the least recently used key', async () => {
    const cache = new VersionedCache(2);
    await cache.get(1n, 'a', async () => 'a');
    await cache.get(1n, 'b', async () => 'b');
    await cache.get(1n, 'a', async () => 'unused');
    await cache.get(1n, 'c', async () => 'c');
    expect(cache.size).toBe(2);
    expect(await cache.get(1n, 'a', async () => 'recomputed')).toBe('a');
    expect(await cache.get(1n, 'b', async () => 'recomputed')).toBe('recomputed');
  });
});

describe('VersionedCache with a weight bound', () => {
  const weighed = (maxEntries: number, maxWeight: number) =>
    new VersionedCache<string>({
      maxEntries,
      maxWeight,
      weigh: (value) => (value.startsWith('error') ? null : value.length),
    });

  it('keeps the sum of weights under its bound, dropping the least recently used', async () => {
    const cache = weighed(10, 10);
    await cache.get(1n, 'a', async () => 'aaaa');
    await cache.get(1n, 'b', async () => 'bbbb');
    expect(cache.totalWeight).toBe(8);
    await cache.get(1n, 'a', async () => 'unused');
    await cache.get(1n, 'c', async () => 'cccc');
    await Promise.resolve();
    expect([cache.size, cache.totalWeight]).toEqual([2, 8]);
    expect(await cache.get(1n, 'a', async () => 'recomputed')).toBe('aaaa');
    expect(await cache.get(1n, 'b', async () => 'bb')).toBe('bb');
  });

  it('answers a value weighed null or heavier than the bound, and keeps nothing of it', async () => {
    const cache = weighed(10, 10);
    expect(await cache.get(1n, 'e', async () => 'error page')).toBe('error page');
    expect(await cache.get(1n, 'big', async () => 'x'.repeat(11))).toHaveLength(11);
    await Promise.resolve();
    expect([cache.size, cache.totalWeight]).toEqual([0, 0]);
    expect(await cache.get(1n, 'e', async () => 'fine')).toBe('fine');
  });

  it('a newer version starts from zero weight; a late result of the old one is not counted', async () => {
    const cache = weighed(10, 100);
    const late = deferred<string>();
    const pending = cache.get(1n, 'slow', () => late.promise);
    await cache.get(1n, 'a', async () => 'aaaa');
    expect(await cache.get(2n, 'a', async () => 'a2')).toBe('a2');
    late.resolve('slow result');
    expect(await pending).toBe('slow result');
    await Promise.resolve();
    expect([cache.size, cache.totalWeight]).toEqual([1, 2]);
  });

  it('with no entries allowed it computes every time and keeps nothing', async () => {
    const cache = weighed(0, 100);
    let computed = 0;
    await cache.get(1n, 'a', async () => `v${++computed}`);
    await cache.get(1n, 'a', async () => `v${++computed}`);
    expect([computed, cache.size]).toEqual([2, 0]);
  });
});

describe('FreshVersionReader', () => {
  it('answers a caller only with a read that began after it called', async () => {
    const reads: ReturnType<typeof deferred<bigint>>[] = [];
    const reader = new FreshVersionReader(() => {
      const read = deferred<bigint>();
      reads.push(read);
      return read.promise;
    });
    const first = reader.current();
    expect(reads).toHaveLength(1);
    // Two callers while the first read is in flight: both wait for one second read.
    const second = reader.current();
    const third = reader.current();
    expect(reads).toHaveLength(1);
    reads[0]!.resolve(1n);
    expect(await first).toBe(1n);
    await Promise.resolve();
    await Promise.resolve();
    expect(reads).toHaveLength(2);
    reads[1]!.resolve(2n);
    expect([await second, await third]).toEqual([2n, 2n]);
    // Idle again: the next caller starts its own read.
    const fourth = reader.current();
    expect(reads).toHaveLength(3);
    reads[2]!.resolve(3n);
    expect(await fourth).toBe(3n);
  });

  it('a failed read fails its callers; the waiting callers get the next read', async () => {
    const reads: ReturnType<typeof deferred<bigint>>[] = [];
    const reader = new FreshVersionReader(() => {
      const read = deferred<bigint>();
      reads.push(read);
      return read.promise;
    });
    const first = reader.current();
    const waiting = reader.current();
    reads[0]!.reject(new Error('connection refused'));
    await expect(first).rejects.toThrow('connection refused');
    await new Promise((resolve) => setTimeout(resolve, 0));
    reads[1]!.resolve(7n);
    expect(await waiting).toBe(7n);
  });
});
