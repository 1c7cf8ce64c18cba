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
