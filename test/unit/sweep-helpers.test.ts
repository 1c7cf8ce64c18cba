/**
 * Pure pieces of the sweep: layer timeout sizing, metric JSON round trips,
 * source normalization, leaderboard rendering and the progress line. No services.
 */
import { describe, expect, it } from 'vitest';
import { isReusableLayerRow } from '../../activities/failures.ts';
import { formatLeaderboardCsv, formatTable } from '../../cli/commands/leaderboard.ts';
import { progressLine } from '../../cli/commands/sweep.ts';
import { checkpointWorkflowId } from '../../contracts/checkpoint.ts';
import { emptySweepCounts } from '../../contracts/sweep.ts';
import { formatEta, layerEtaSeconds } from '../../db/layer-progress.ts';
import { checkpointDisplayName } from '../../db/leaderboard.ts';
import { decodeMetrics, encodeMetrics } from '../../db/results.ts';
import { checkpointIdOf } from '../../db/sweeps.ts';
import { normalizeSource } from '../../workers/sweep-client.ts';
import { layerTimeoutMs } from '../../workflows/checkpoint.ts';
import { leaderboardRow } from './leaderboard-row.ts';

describe('layer timeouts', () => {
  const plan = (shape: number[], layerType: 'dense' | 'conv2d' | 'conv1d' = 'dense') => ({
    layerId: 0,
    layerName: 'w',
    tensorName: 'w',
    layerType,
    shape,
    byteLength: shape.reduce((a, b) => a * b, 4),
  });

  it('grows with the eigen-decomposition cost and has a floor and a cap', () => {
    const small = layerTimeoutMs(plan([64, 32]));
    const large = layerTimeoutMs(plan([8192, 4096]));
    expect(small).toBeGreaterThanOrEqual(120_000);
    expect(large).toBeGreaterThan(small * 10);
    expect(layerTimeoutMs(plan([1_000_000, 1_000_000]))).toBe(6 * 3600_000);
  });

  it('counts every kernel position of a convolution as its own matrix', () => {
    const one = layerTimeoutMs(plan([1, 1, 512, 512], 'conv2d'));
    const nine = layerTimeoutMs(plan([3, 3, 512, 512], 'conv2d'));
    expect(nine - 120_000).toBeGreaterThan(8 * (one - 120_000));
    expect(layerTimeoutMs(plan([3, 512, 512], 'conv1d'))).toBeGreaterThan(one);
  });
});

describe('identities', () => {
  it('derives checkpoint and workflow ids from location, content and config', () => {
    const a = checkpointIdOf('s3://b/x/model.safetensors', 'h1');
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(checkpointIdOf('s3://b/x/model.safetensors', 'h1')).toBe(a);
    expect(checkpointIdOf('s3://b/x/model.safetensors', 'h2')).not.toBe(a);
    expect(checkpointIdOf('s3://b/y/model.safetensors', 'h1')).not.toBe(a);
    expect(checkpointWorkflowId(a, 'c'.repeat(32))).toBe(`checkpoint-${a}-${'c'.repeat(16)}`);
  });

  it('turns local paths into absolute file:// URIs and leaves URIs alone', () => {
    expect(normalizeSource('zoo/default', '/work/repo')).toBe('file:///work/repo/zoo/default');
    expect(normalizeSource('./a b/', '/w')).toBe('file:///w/a%20b');
    expect(normalizeSource('s3://bucket/prefix')).toBe('s3://bucket/prefix');
    expect(normalizeSource('file:///data/x')).toBe('file:///data/x');
  });
});

describe('stored metrics and failures', () => {
  it('round-trips non-finite WeightWatcher values through JSON', () => {
    const encoded = encodeMetrics({
      alpha: -1,
      log_norm: Number.NEGATIVE_INFINITY,
      sigma: Number.NaN,
      x: null,
    });
    const decoded = decodeMetrics(JSON.parse(JSON.stringify(encoded)));
    expect(decoded.alpha).toBe(-1);
    expect(decoded.log_norm).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isNaN(decoded.sigma)).toBe(true);
    expect(decoded.x).toBeNull();
  });

  it('reuses final rows only: results, skips and bad-input failures, not outages', () => {
    expect(isReusableLayerRow({ status: 'succeeded', errorFinal: false })).toBe(true);
    expect(isReusableLayerRow({ status: 'skipped', errorFinal: false })).toBe(true);
    expect(isReusableLayerRow({ status: 'failed', errorFinal: true })).toBe(true);
    expect(isReusableLayerRow({ status: 'failed', errorFinal: false })).toBe(false);
  });
});

describe('rendering', () => {
  it('names checkpoints by file, with the folder when the file name is generic', () => {
    expect(checkpointDisplayName('s3://b/run/step-0003/model.safetensors')).toBe(
      'step-0003/model.safetensors',
    );
    expect(checkpointDisplayName('file:///z/resnet-ep10.safetensors')).toBe('resnet-ep10.safetensors');
    expect(checkpointDisplayName('/data/ckpt_final.pt')).toBe('data/ckpt_final.pt');
    expect(checkpointDisplayName('model.safetensors')).toBe('model.safetensors');
    expect(checkpointDisplayName('s3://b/run/step-0003/model.safetensors', 'sidecar name')).toBe(
      'sidecar name',
    );
  });

  it('aligns tables and quotes CSV fields', () => {
    const table = formatTable(
      ['name', 'value'],
      [
        ['a', 1.5],
        ['long name', 10],
      ],
    ).split('\n');
    expect(table[0]).toBe('name       value');
    expect(table[2]).toBe('a          1.500');
    expect(table[3]).toBe('long name     10');
    const row = leaderboardRow({
      checkpoint: 'a,b',
      checkpoint_id: 'id',
      uri: 'file:///a,b',
      family: 'f "x"',
      step: 3,
      score: 2.5,
      alpha: 2,
      alpha_weighted: 2.5,
      layers_analyzed: 3,
      known_test_accuracy: 0.9,
    });
    const [, line] = formatLeaderboardCsv([row]).trim().split('\n');
    expect(line!.startsWith('1,1,"a,b","file:///a,b","f ""x""",3,2.5,alpha_weighted,2,2.5,,')).toBe(true);
  });

  it('draws the progress bar from finished checkpoints', () => {
    const line = progressLine({
      total: 10,
      started: 6,
      succeeded: 4,
      failed: 1,
      incomplete: 0,
      layersComputed: 12,
      layersReused: 3,
      layersFailed: 0,
      layersSkipped: 2,
      curvatureComputed: 0,
      curvatureReused: 0,
      curvatureSkipped: 0,
      curvatureFailed: 0,
      phase: 'analyzing',
      running: 2,
      runs: 0,
    });
    expect(line).toMatch(
      /^\[#{15}\.{15}\] 5\/10 checkpoints · 1 failed · 2 running · layers 12 computed, 3 reused/,
    );
  });
});

describe('layer progress', () => {
  const progress = {
    ...emptySweepCounts(),
    total: 2,
    started: 1,
    phase: 'analyzing' as const,
    running: 1,
    runs: 0,
  };

  it('moves the bar with stored layers while no checkpoint has finished', () => {
    const line = progressLine(progress, 10, {
      layersTotal: 40,
      layersDone: 20,
      layersComputed: 20,
      checkpointsInspected: 1,
      checkpointsTotal: 2,
      etaSeconds: 125,
    });
    expect(line).toBe(
      '[#####.....] 0/2 checkpoints · 0 failed · 1 running · layers 20/40 stored (1/2 checkpoints inspected), ETA 2 min 05 s',
    );
  });

  it('estimates from the measured pace', () => {
    expect(layerEtaSeconds(30, 10, 20_000)).toBe(60);
    expect(layerEtaSeconds(0, 10, 20_000)).toBe(0);
    expect(layerEtaSeconds(5, 0, 20_000)).toBeNull();
    expect(formatEta(3_900)).toBe('1 h 05 min');
    expect(formatEta(42)).toBe('42 s');
  });
});
