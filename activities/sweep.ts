/**
 * Sweep-level activities: discovery (sources → checkpoint rows in Postgres), paging through the
 * sweep's checkpoints by cursor, and recording the sweep's final state.
 */
import { Context, log } from '@temporalio/activity';
import type {
  DiscoverInput,
  DiscoverResult,
  SourceError,
  SweepActivities,
  SweepItem,
} from '../contracts/sweep.ts';
import {
  addSweepCheckpoints,
  checkpointIdOf,
  finishSweepRecord,
  listSweepItems,
  markSweepRunning,
} from '../db/sweeps.ts';
import { isBadInput } from '../lib/errors.ts';
import { type CompletenessRule, incompleteReason } from '../lib/formats/completeness.ts';
import { discoverCheckpoints } from '../lib/formats/discover.ts';
import type { DiscoveredCheckpoint } from '../lib/formats/types.ts';
import type { ActivityDeps } from './deps.ts';
import { failureText, mappingFailures } from './failures.ts';

/** The checkpoints of a watched source that are complete; the others wait for a later run. */
async function completeOnly(
  found: DiscoveredCheckpoint[],
  deps: ActivityDeps,
  rule: CompletenessRule,
): Promise<DiscoveredCheckpoint[]> {
  const complete: DiscoveredCheckpoint[] = [];
  for (const checkpoint of found) {
    const reason = await incompleteReason(checkpoint.uri, deps.storage, rule);
    if (reason === undefined) complete.push(checkpoint);
    else log.info('checkpoint not complete yet; left for a later run', { uri: checkpoint.uri, reason });
  }
  return complete;
}

export function createSweepLevelActivities(
  deps: ActivityDeps,
): Pick<SweepActivities, 'discoverSweep' | 'listSweepCheckpoints' | 'finishSweep'> {
  return {
    discoverSweep: (input: DiscoverInput): Promise<DiscoverResult> =>
      mappingFailures(async () => {
        const sourceErrors: SourceError[] = [];
        let total = 0;
        let current = 0;
        // Listing a large prefix takes minutes; heartbeat on a timer, not per source.
        const context = Context.current();
        const timer = setInterval(() => context.heartbeat({ source: current }), 5_000);
        try {
          for (const [i, source] of input.sources.entries()) {
            current = i;
            context.heartbeat({ source: i });
            try {
              let found = await discoverCheckpoints(source, deps.storage, {
                // Inspection usually runs on this worker next: it finds the headers parsed.
                onOpened: (checkpoint, opened) =>
                  deps.openedCheckpoints.put(checkpointIdOf(checkpoint.uri, checkpoint.contentHash), opened),
              });
              if (input.completeness) found = await completeOnly(found, deps, input.completeness);
              total = await addSweepCheckpoints(deps.prisma, input.sweepId, found);
            } catch (err) {
              // One bad source (typo, empty prefix) is reported; the others are still swept.
              if (!isBadInput(err)) throw err;
              sourceErrors.push({ source, error: failureText(err) });
            }
          }
        } finally {
          clearInterval(timer);
        }
        await markSweepRunning(deps.prisma, input.sweepId, total);
        if (sourceErrors.length > 0) {
          await deps.prisma.sweep.update({
            where: { id: input.sweepId },
            data: { error: sourceErrors.map((e) => `${e.source}: ${e.error}`).join('; ') },
          });
        }
        return { total, sourceErrors };
      }),

    listSweepCheckpoints: (input): Promise<SweepItem[]> =>
      mappingFailures(() => listSweepItems(deps.prisma, input.sweepId, input.after, input.limit)),

    finishSweep: (input): Promise<void> =>
      mappingFailures(() => finishSweepRecord(deps.prisma, input.sweepId, input.status, input.error)),
  };
}
