/**
 * The cpu worker's read-ahead: ComputeSlots learns how long work takes and says when a slot is
 * expected to free; the gate opens one read's time before that; the slot supplier gives the extra
 * activity task slot only through the open gate.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ComputeSlots } from '../../activities/compute-slots.ts';
import { MAX_LEAD_MS, MIN_LEAD_MS, ReadAheadGate } from '../../activities/read-ahead.ts';
import { READ_AHEAD_SLOTS, readAheadSlotSupplier } from '../../workers/activity-slots.ts';

/** A clock the test moves, and work the test finishes. */
function harness(size = 1) {
  let now = 0;
  const slots = new ComputeSlots(size, () => now);
  const started = (key: string, cost: number) => {
    let finish!: () => void;
    const done = slots.run(() => new Promise<void>((resolve) => (finish = resolve)), undefined, {
      key,
      cost,
    });
    return { done, finish: () => finish() };
  };
  return {
    slots,
    started,
    advance: (ms: number) => {
      now += ms;
    },
    /** Run work of `key`/`cost` that takes `ms` on the clock. */
    async runFor(key: string, cost: number, ms: number) {
      const job = started(key, cost);
      await Promise.resolve();
      now += ms;
      job.finish();
      await job.done;
    },
  };
}

describe('ComputeSlots.msUntilFree', () => {
  it('is 0 with a free slot and unknown (Infinity) for work never seen', async () => {
    const h = harness();
    expect(h.slots.msUntilFree()).toBe(0);
    const job = h.started('4096×14336', 1);
    await Promise.resolve();
    expect(h.slots.msUntilFree()).toBe(Number.POSITIVE_INFINITY);
    job.finish();
    await job.done;
    expect(h.slots.msUntilFree()).toBe(0);
  });

  it('expects the last duration of the same key, counting down to 0 when overdue', async () => {
    const h = harness();
    await h.runFor('a', 10, 12_000);
    const job = h.started('a', 10);
    await Promise.resolve();
    expect(h.slots.msUntilFree()).toBe(12_000);
    h.advance(11_000);
    expect(h.slots.msUntilFree()).toBe(1_000);
    h.advance(5_000);
    expect(h.slots.msUntilFree()).toBe(0);
    job.finish();
    await job.done;
  });

  it('scales a new key by cost from the recent time per cost unit', async () => {
    const h = harness();
    await h.runFor('small', 100, 1_000); // 10 ms per unit
    const job = h.started('big', 300);
    await Promise.resolve();
    expect(h.slots.msUntilFree()).toBeCloseTo(3_000, 6);
    job.finish();
    await job.done;
  });

  it('is Infinity while work waits for a slot (a task taken now would queue behind it)', async () => {
    const h = harness();
    await h.runFor('a', 1, 100);
    const holder = h.started('a', 1);
    const waiter = h.started('a', 1);
    await Promise.resolve();
    expect(h.slots.msUntilFree()).toBe(Number.POSITIVE_INFINITY);
    h.advance(100);
    holder.finish();
    await holder.done;
    expect(h.slots.msUntilFree()).toBe(100);
    waiter.finish();
    await waiter.done;
  });

  it('with two slots: 0 while one is free, then the sooner of the two ends', async () => {
    const h = harness(2);
    await h.runFor('long', 1, 60_000);
    await h.runFor('short', 1, 5_000);
    const long = h.started('long', 1);
    await Promise.resolve();
    expect(h.slots.msUntilFree()).toBe(0);
    const short = h.started('short', 1);
    await Promise.resolve();
    expect(h.slots.msUntilFree()).toBe(5_000);
    short.finish();
    long.finish();
    await Promise.all([short.done, long.done]);
  });
});

describe('ReadAheadGate', () => {
  it('opens twice the longest recent read before the slot is expected to free (clamped)', async () => {
    const h = harness();
    const gate = new ReadAheadGate(h.slots);
    expect(gate.leadMs()).toBe(MIN_LEAD_MS);
    await h.runFor('mlp', 1, 50_000);
    gate.noteRead(2_500);
    gate.noteRead(800);
    expect(gate.leadMs()).toBe(5_000);
    const job = h.started('mlp', 1);
    await Promise.resolve();
    expect(gate.isDue(1)).toBe(false);
    h.advance(44_000);
    expect(gate.isDue(1)).toBe(false);
    h.advance(1_100); // 4.9 s left
    expect(gate.isDue(1)).toBe(true);
    job.finish();
    await job.done;
    for (let i = 0; i < 4; i++) gate.noteRead(10);
    expect(gate.leadMs()).toBe(MIN_LEAD_MS);
    gate.noteRead(10 * MAX_LEAD_MS);
    expect(gate.leadMs()).toBe(MAX_LEAD_MS);
  });

  it('stays closed for work of unknown length (a first analysis never holds a second task)', async () => {
    const h = harness();
    const gate = new ReadAheadGate(h.slots);
    const job = h.started('first', 1);
    await Promise.resolve();
    h.advance(3_600_000);
    expect(gate.isDue(1)).toBe(false);
    job.finish();
    await job.done;
  });

  it('stays closed while a held task is not computing yet (its read will take the free slot)', async () => {
    const h = harness();
    const gate = new ReadAheadGate(h.slots);
    await h.runFor('mlp', 1, 10_000);
    // One task held, reading: the compute slot is free, but it is that task's.
    expect(gate.isDue(1)).toBe(false);
    // Nothing held: a task is welcome at once.
    expect(gate.isDue(0)).toBe(true);
    const job = h.started('mlp', 1);
    await Promise.resolve();
    h.advance(9_500);
    expect(gate.isDue(1)).toBe(true); // 0.5 s left, lead 1 s (no read noted yet)
    // Two held (the analysing one and one being read): that read already waits for this slot.
    expect(gate.isDue(2)).toBe(false);
    job.finish();
    await job.done;
  });
});

describe('readAheadSlotSupplier', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const ctx = {} as Parameters<ReturnType<typeof readAheadSlotSupplier>['reserveSlot']>[0];

  it('gives one slot per compute slot always, the extra one only through the open gate', async () => {
    vi.useFakeTimers();
    let due = false;
    const heldSeen: number[] = [];
    const supplier = readAheadSlotSupplier(2, {
      isDue: (held) => {
        heldSeen.push(held);
        return due;
      },
    });
    const abort = new AbortController();
    await supplier.reserveSlot(ctx, abort.signal);
    await supplier.reserveSlot(ctx, abort.signal);
    expect(supplier.held).toBe(2);
    expect(supplier.tryReserveSlot(ctx)).toBeNull();
    let got = false;
    const extra = supplier.reserveSlot(ctx, abort.signal).then(() => (got = true));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(got).toBe(false);
    due = true;
    await vi.advanceTimersByTimeAsync(200);
    await extra;
    expect(supplier.held).toBe(2 + READ_AHEAD_SLOTS);
    expect(new Set(heldSeen)).toEqual(new Set([2]));
    // Never more than that, open gate or not.
    expect(supplier.tryReserveSlot(ctx)).toBeNull();
    supplier.releaseSlot({ permit: {} });
    expect(supplier.held).toBe(2);
    expect(supplier.tryReserveSlot(ctx)).not.toBeNull();
  });

  it('a waiting reservation rejects with the abort reason when the SDK aborts it', async () => {
    vi.useFakeTimers();
    const supplier = readAheadSlotSupplier(1, { isDue: () => false });
    await supplier.reserveSlot(ctx, new AbortController().signal);
    const abort = new AbortController();
    const waiting = supplier.reserveSlot(ctx, abort.signal);
    const reason = new DOMException('no longer needed', 'AbortError');
    abort.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(supplier.held).toBe(1);
  });
});
