/**
 * A counting semaphore for the CPU-bound part of the layer activities. A worker accepts a few more
 * activity tasks than it has compute slots, so the next layer batch is already fetched (and its
 * tensors read) and checkpoint bookkeeping runs while the eigensolver is busy; the solver itself
 * still runs at most `size` layers at once. Waiting respects the activity's cancellation.
 */
export class ComputeSlots {
  private free: number;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`compute slots: ${size} (need an integer >= 1)`);
    this.free = size;
  }

  /** Run `work` once a slot is free (FIFO); rejects with the signal's reason if aborted while waiting. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const at = this.waiters.indexOf(grant);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(grant);
    });
  }

  private release(): void {
    const next = this.waiters.shift();
    // The slot passes straight to the next waiter; `free` only grows when nobody waits.
    if (next) next();
    else this.free += 1;
  }
}
