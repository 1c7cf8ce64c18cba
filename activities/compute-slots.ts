/**
 * A counting semaphore for the CPU-bound part of the layer activities: the solver runs at most
 * `size` layers at once in this process. A cpu worker takes one activity task per slot and one
 * more only shortly before a slot frees (activities/read-ahead.ts), so a layer waits here at most
 * about one read, or behind a batch's presolve; a gpu worker takes one more task than slots, so a
 * routed batch is read while another is on the device and then waits here. A waiter waits as long
 * as the work ahead of it takes: its activity keeps heartbeating meanwhile (activities/layer.ts),
 * and running it beside the holder instead would put two long analyses on one slot's core (and
 * their memory in one worker). Waiting respects the activity's cancellation.
 *
 * Work can come with an estimate (a key for work of the same kind, e.g. a shape, and a relative
 * cost): the slots learn durations from finished work, so `msUntilFree` can say when a slot is
 * expected to free: the last duration of the same key, else the cost at the recent time per unit.
 */
export interface WorkEstimate {
  /** Work with equal keys takes about equally long (a layer's shape). */
  key: string;
  /** Relative cost, comparable across keys (a layer's flops). */
  cost: number;
}

/** Keys whose last duration is remembered (a model has a handful of distinct layer shapes). */
const REMEMBERED_KEYS = 256;
/** Weight of the older history in the time-per-cost average (per finished job). */
const RATE_DECAY = 0.7;

interface RunningJob {
  started: number;
  /** Expected duration; undefined while nothing like it has finished yet. */
  expectedMs: number | undefined;
}

export class ComputeSlots {
  private free: number;
  private readonly waiters: (() => void)[] = [];
  private active = 0;
  private readonly jobs = new Set<RunningJob>();
  private readonly lastMsByKey = new Map<string, number>();
  private decayedMs = 0;
  private decayedCost = 0;

  constructor(
    readonly size: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`compute slots: ${size} (need an integer >= 1)`);
    this.free = size;
  }

  /** Analyses running right now (also those whose cancelled activity stopped waiting for them). */
  get running(): number {
    return this.active;
  }

  /** Work waiting for a slot right now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Slots free right now. */
  get available(): number {
    return this.free;
  }

  /**
   * Expected milliseconds until a slot is free: 0 when one is free now, Infinity while work waits
   * for a slot or a running job has no estimate; otherwise the soonest expected end (0 once overdue).
   */
  msUntilFree(): number {
    if (this.free > 0) return 0;
    if (this.waiters.length > 0) return Number.POSITIVE_INFINITY;
    const now = this.now();
    let soonest = Number.POSITIVE_INFINITY;
    for (const job of this.jobs) {
      if (job.expectedMs === undefined) continue;
      soonest = Math.min(soonest, Math.max(0, job.started + job.expectedMs - now));
    }
    return soonest;
  }

  /** Run `work` once a slot is free (first come, first served); rejects if `signal` aborts first. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal, estimate?: WorkEstimate): Promise<T> {
    await this.acquire(signal);
    this.active += 1;
    const job: RunningJob = { started: this.now(), expectedMs: this.expectedMs(estimate) };
    this.jobs.add(job);
    try {
      const result = await work();
      this.learn(estimate, this.now() - job.started);
      return result;
    } finally {
      this.jobs.delete(job);
      this.active -= 1;
      this.release();
    }
  }

  private expectedMs(estimate: WorkEstimate | undefined): number | undefined {
    if (!estimate) return undefined;
    const same = this.lastMsByKey.get(estimate.key);
    if (same !== undefined) return same;
    return this.decayedCost > 0 ? (estimate.cost * this.decayedMs) / this.decayedCost : undefined;
  }

  private learn(estimate: WorkEstimate | undefined, ms: number): void {
    if (!estimate || !(estimate.cost > 0)) return;
    this.lastMsByKey.delete(estimate.key);
    this.lastMsByKey.set(estimate.key, ms);
    if (this.lastMsByKey.size > REMEMBERED_KEYS) {
      this.lastMsByKey.delete(this.lastMsByKey.keys().next().value!);
    }
    this.decayedMs = RATE_DECAY * this.decayedMs + ms;
    this.decayedCost = RATE_DECAY * this.decayedCost + estimate.cost;
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
