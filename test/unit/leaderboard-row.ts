/** Leaderboard rows for the printers' unit tests: every summary metric of the registry null unless given. */
import type { LeaderboardRow } from '../../db/leaderboard.ts';
import { CHECKPOINT_METRIC_NAMES } from '../../lib/metrics/registry.ts';

export function leaderboardRow(fields: Partial<LeaderboardRow> & { checkpoint: string }): LeaderboardRow {
  const metrics = Object.fromEntries(CHECKPOINT_METRIC_NAMES.map((name) => [name, null]));
  return {
    rank: 1,
    rank_in_family: 1,
    checkpoint_id: fields.checkpoint,
    config_hash: 'c',
    uri: `file:///${fields.checkpoint}`,
    family: null,
    run: null,
    step: null,
    epoch: null,
    score: null,
    metric: 'alpha_weighted',
    layers_analyzed: 1,
    layers_failed: 0,
    over_trained: 0,
    under_trained: 0,
    correlation_traps: 0,
    known_test_accuracy: null,
    hessian_top: null,
    hessian_trace: null,
    ...(metrics as Record<(typeof CHECKPOINT_METRIC_NAMES)[number], null>),
    ...fields,
  };
}
