/**
 * The predicted-quality ranking of a sweep's checkpoints: summaries joined with checkpoint
 * metadata, ordered by one summary metric (default mean `alpha_weighted`, lower ranks better).
 * Read-only; the CLI's `leaderboard` and the tests use it.
 */
import { basename, dirname } from '../lib/formats/uri.ts';
import {
  CHECKPOINT_METRIC_NAMES,
  type CheckpointMetricName,
  DEFAULT_RANK_METRIC,
} from '../lib/metrics/registry.ts';
import type { PrismaClient } from './client.ts';
import { type FamilyRanked, rankWithinFamilies } from './family-rank.ts';
import { decodeMetrics } from './results.ts';
import { scheduleCheckpoints } from './schedules.ts';

export { DEFAULT_RANK_METRIC };

/** Summary columns every row carries (the registry's checkpoint metrics, get_summary names). */
export const SUMMARY_METRICS = CHECKPOINT_METRIC_NAMES;

export type SummaryMetricName = CheckpointMetricName;

export type LeaderboardRow = LeaderboardBase & FamilyRanked & { [name in SummaryMetricName]: number | null };

interface LeaderboardBase {
  rank: number;
  checkpoint: string;
  uri: string;
  family: string | null;
  step: number | null;
  score: number | null;
  metric: string;
  layers_analyzed: number;
  layers_failed: number;
  over_trained: number;
  under_trained: number;
  correlation_traps: number;
  known_test_accuracy: number | null;
}

const GENERIC_FILE = /^(model|pytorch_model|weights?|checkpoint|ckpt|params)([-_.]|$)/i;

/** A short display name: the file name, with its folder when the file name says nothing. */
export function checkpointDisplayName(uri: string): string {
  const file = basename(uri);
  if (!GENERIC_FILE.test(file)) return file;
  return `${basename(dirname(uri))}/${file}`;
}

/** The checkpoints of one sweep, or the latest of every checkpoint a schedule's runs have seen. */
export type LeaderboardQuery = ({ sweepId: string; configHash: string } | { scheduleName: string }) & {
  metric?: string;
  /** One ordering over all families instead of groups per family (rank_in_family is kept). */
  acrossFamilies?: boolean;
};

const MEMBER_FIELDS = { id: true, uri: true, family: true, step: true, knownTestAccuracy: true } as const;

async function sweepMembers(prisma: PrismaClient, sweepId: string, configHash: string) {
  return prisma.sweepCheckpoint.findMany({
    where: { sweepId },
    select: { checkpoint: { select: { ...MEMBER_FIELDS, summaries: { where: { configHash } } } } },
  });
}

/** Each checkpoint with the summary under the configuration of the run that saw it last. */
async function scheduleMembers(prisma: PrismaClient, scheduleName: string) {
  const items = await scheduleCheckpoints(prisma, scheduleName);
  const hashes = new Map(items.map((i) => [i.checkpointId, i.sweep.configHash]));
  const checkpoints = await prisma.checkpoint.findMany({
    where: { id: { in: [...hashes.keys()] } },
    select: { ...MEMBER_FIELDS, summaries: { where: { configHash: { in: [...new Set(hashes.values())] } } } },
  });
  return checkpoints.map((checkpoint) => ({
    checkpoint: {
      ...checkpoint,
      summaries: checkpoint.summaries.filter((s) => s.configHash === hashes.get(checkpoint.id)),
    },
  }));
}

export async function leaderboard(prisma: PrismaClient, query: LeaderboardQuery): Promise<LeaderboardRow[]> {
  const metric = query.metric ?? DEFAULT_RANK_METRIC;
  const members =
    'scheduleName' in query
      ? await scheduleMembers(prisma, query.scheduleName)
      : await sweepMembers(prisma, query.sweepId, query.configHash);
  const rows: Omit<LeaderboardRow, 'rank' | 'rank_in_family'>[] = [];
  for (const { checkpoint } of members) {
    const summary = checkpoint.summaries[0];
    if (!summary) continue; // failed or not yet summarized: `status` lists those
    const values = decodeMetrics(summary.metrics);
    const summaryValues = Object.fromEntries(
      SUMMARY_METRICS.map((name) => [name, numberOrNull(values[name])]),
    ) as { [name in SummaryMetricName]: number | null };
    rows.push({
      checkpoint: checkpointDisplayName(checkpoint.uri),
      uri: checkpoint.uri,
      family: checkpoint.family,
      step: checkpoint.step,
      score: numberOrNull(values[metric]),
      metric,
      ...summaryValues,
      layers_analyzed: summary.layersAnalyzed,
      layers_failed: summary.layersFailed,
      over_trained: summary.overTrained,
      under_trained: summary.underTrained,
      correlation_traps: summary.correlationTraps,
      known_test_accuracy: checkpoint.knownTestAccuracy,
    });
  }
  // Lower is better; checkpoints without the metric go last; ties break by URI for stable output.
  rows.sort((a, b) => {
    const byScore =
      a.score === null || b.score === null
        ? Number(a.score === null) - Number(b.score === null)
        : a.score - b.score;
    return byScore || a.uri.localeCompare(b.uri);
  });
  return rankWithinFamilies(
    rows.map((row, i) => ({ rank: i + 1, ...row })),
    { acrossFamilies: query.acrossFamilies },
  );
}

function numberOrNull(value: number | string | null | undefined): number | null {
  return typeof value === 'number' && !Number.isNaN(value) ? value : null;
}

/** Metric names a sweep's summaries carry (for `--metric` validation and help). */
export async function availableMetrics(prisma: PrismaClient, sweepId: string, configHash: string) {
  const one = await prisma.checkpointSummary.findFirst({
    where: { configHash, checkpoint: { sweeps: { some: { sweepId } } } },
    select: { metrics: true },
  });
  const names = Object.entries(decodeMetrics(one?.metrics))
    .filter(([, v]) => typeof v === 'number')
    .map(([k]) => k);
  return names.length > 0 ? names.sort() : [...SUMMARY_METRICS];
}
