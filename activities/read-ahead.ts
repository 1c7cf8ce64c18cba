/**
 * When a cpu worker should take its next activity task: reading a layer's tensor (ranged GETs,
 * decoding) takes about a second per 100 MB, and with one task per compute slot that read sat
 * between two analyses. Taking the next task just before the running analysis is expected to end,
 * one read's time ahead, overlaps the read with it without holding tasks that another worker could
 * run: a task taken early waits here about one read, not the minutes a large analysis takes.
 * Pure bookkeeping; workers/activity-slots.ts turns it into the worker's slot supplier.
 */
import type { ComputeSlots } from './compute-slots.ts';

/** Reads remembered for the lead time. */
const RECENT_READS = 4;
/**
 * Lead per read time: the read itself and as much again, because an analysis of a known shape
 * still ends a second or so either side of its estimate (bench:llm, 4096×14336: 11.7–12.9 s).
 */
const LEAD_PER_READ = 2;
/** Lead before any read was measured, and the least lead (poll and dispatch take ~10–50 ms). */
export const MIN_LEAD_MS = 1_000;
/** The most lead: a slow read beyond this is not worth holding a task for. */
export const MAX_LEAD_MS = 30_000;

export class ReadAheadGate {
  private readonly reads: number[] = [];

  constructor(private readonly compute: ComputeSlots) {}

  /** A layer's read (fetch and decode) took `ms`. */
  noteRead(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.reads.push(ms);
    if (this.reads.length > RECENT_READS) this.reads.shift();
  }

  /** How long before a slot frees the next task is taken: twice the longest recent read, clamped. */
  leadMs(): number {
    const longest = this.reads.length > 0 ? Math.max(...this.reads) : 0;
    return Math.min(MAX_LEAD_MS, Math.max(MIN_LEAD_MS, LEAD_PER_READ * longest));
  }

  /**
   * Whether a task taken now, beside the `tasksHeld` this worker holds, would find a compute slot
   * within about one read. Never while a held task is not yet computing (being read, or doing
   * anything else): the slot that frees is that task's.
   */
  isDue(tasksHeld: number): boolean {
    if (tasksHeld > this.compute.running + this.compute.waiting) return false;
    return this.compute.msUntilFree() <= this.leadMs();
  }
}
