import { describe, expect, it } from 'vitest';
import { ComputeSlots, untilAborted } from '../../activities/compute-slots.ts';

describe('untilAborted', () => {
  it('rejects at once when the signal aborts, while the slot stays held until the work ends', async () => {
    const slots = new ComputeSlots(1);
    let finish!: (v: number) => void;
    const work = slots.run(() => new Promise<number>((resolve) => (finish = resolve)));
    const controller = new AbortController();
    const waiting = untilAborted(work, controller.signal);
    controller.abort(new Error('shutdown'));
    await expect(waiting).rejects.toThrow('shutdown');
    expect(slots.available).toBe(0);
    finish(1);
    await work;
    expect(slots.available).toBe(1);
  });

  it("passes the work's value and error through when not aborted", async () => {
    const signal = new AbortController().signal;
    await expect(untilAborted(Promise.resolve(7), signal)).resolves.toBe(7);
    await expect(untilAborted(Promise.reject(new Error('boom')), signal)).rejects.toThrow('boom');
  });

  it('rejects with the reason of an already aborted signal', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(untilAborted(new Promise(() => undefined), controller.signal)).rejects.toThrow('gone');
  });
});
