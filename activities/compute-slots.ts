/**
 * A counting semaphore for the CPU-bound part of the layer activities: the solver runs at most
 * `size` layers at once in this process. A cpu worker takes no more activity tasks than it has
 * slots (workers/create.ts), so there a layer only waits here behind a batch's presolve; a gpu
 * worker takes one more task than slots, so a routed batch is read while another is on the device
 * and then waits here. A waiter waits as long as the work ahead of it takes: its activity keeps
 * heartbeating meanwhile (activities/layer.ts), and running it beside the holder instead would put
 * two long analyses on one slot's core (and their memory in one worker). Waiting respects the
 * activity's cancellation.
 */
export class ComputeSlots {
  private free: number;
  private readonly waiters: (() => void)[] = [];
  private active = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`compute slots: ${size} (need an integer >= 1)`);
    this.free = size;
  }

  /** Analyses running right now (also those whose cancelled activity stopped waiting for them). */
  get running(): number {
    return this.active;
  }

  /** Slots free right now. */
  get available(): number {
    return this.free;
  }

  /** Run `work` once a slot is free (first come, first served); rejects if `signal` aborts first. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    this.active += 1;
    try {
      return await work();
    } finally {
      this.active -= 1;
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
