/**
 * The cpu worker's activity task slots (a Temporal custom slot supplier): one per compute slot,
 * always, and READ_AHEAD_SLOTS more only while the gate says a compute slot frees within about one
 * read (activities/read-ahead.ts). The SDK reserves a slot before it polls, so a closed gate keeps
 * the task in the queue for any worker instead of in this one.
 */
import type { ActivitySlotInfo, CustomSlotSupplier, SlotPermit } from '@temporalio/worker';

/** Tasks taken ahead of a free compute slot. */
export const READ_AHEAD_SLOTS = 1;
/** How often a closed gate is looked at again while the SDK waits for a slot. */
const GATE_POLL_MS = 100;

export interface ReadAheadGateView {
  /** Whether one more task is worth taking beside the `tasksHeld` this worker holds. */
  isDue(tasksHeld: number): boolean;
}

export function readAheadSlotSupplier(
  computeSlots: number,
  gate: ReadAheadGateView,
): CustomSlotSupplier<ActivitySlotInfo> & { readonly held: number } {
  let held = 0;
  const tryTake = (): SlotPermit | null => {
    if (held < computeSlots || (held < computeSlots + READ_AHEAD_SLOTS && gate.isDue(held))) {
      held += 1;
      return {};
    }
    return null;
  };
  return {
    type: 'custom',
    get held() {
      return held;
    },
    reserveSlot(_ctx, abortSignal) {
      return new Promise<SlotPermit>((resolve, reject) => {
        const settle = () => {
          clearInterval(timer);
          abortSignal.removeEventListener('abort', attempt);
        };
        const attempt = () => {
          if (abortSignal.aborted) {
            settle();
            reject(abortSignal.reason);
            return;
          }
          const permit = tryTake();
          if (permit) {
            settle();
            resolve(permit);
          }
        };
        const timer = setInterval(attempt, GATE_POLL_MS);
        abortSignal.addEventListener('abort', attempt, { once: true });
        attempt();
      });
    },
    tryReserveSlot: () => tryTake(),
    markSlotUsed: () => undefined,
    releaseSlot: () => {
      held = Math.max(0, held - 1);
    },
  };
}
