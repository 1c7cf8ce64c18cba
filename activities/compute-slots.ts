/**
 * A counting semaphore for the CPU-bound part of the layer activities. A worker accepts one more
 * activity task than it has compute slots, so the next layer batch is already fetched (and its
 * tensors read) while the eigensolver is busy; the solver itself runs at most `size` layers at
 * once. A task that waited `maxWaitMs` for a slot runs anyway (one layer over the limit): its
 * start-to-close timeout counts the wait, and the analysis ahead of it may take hours.
 * Waiting respects the activity's cancellation.
 */
export class ComputeSlots {
  private free: number;
  private readonly waiters: (() => void)[] = [];

  constructor(
    readonly size: number,
    readonly maxWaitMs = 30_000,
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`compute slots: ${size} (need an integer >= 1)`);
    this.free = size;
  }

  private active = 0;

  /** Analyses running right now (also those whose activity stopped waiting for them). */
  get running(): number {
    return this.active;
  }

  /** Slots free right now. */
  get available(): number {
    return this.free;
  }

  /** Run `work` once a slot is free (FIFO) or `maxWaitMs` passed; rejects if `signal` aborts first. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const holdsSlot = await this.acquire(signal);
    this.active += 1;
    try {
      return await work();
    } finally {
      this.active -= 1;
      if (holdsSlot) this.release();
    }
  }

  /** True with a slot; false when the wait ran out (the work runs over the limit). */
  private acquire(signal?: AbortSignal): Promise<boolean> {
    signal?.throwIfAborted();
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = this.waiters.indexOf(grant);
        if (at >= 0) this.waiters.splice(at, 1);
      };
      const grant = () => {
        leave();
        resolve(true);
      };
      const onAbort = () => {
        leave();
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        leave();
        resolve(false);
      }, this.maxWaitMs);
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

/**
 * `work`'s outcome, or `signal`'s reason as soon as it aborts. The native eigensolver cannot be
 * interrupted, so a cancelled activity stops waiting for it (its slot is freed only when the work
 * really ends): a worker shutting down hands the layer to another worker at once instead of
 * holding it until the solver returns or a heartbeat times out.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
