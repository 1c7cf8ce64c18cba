/**
 * The curvature part of `weightlens sweep`: its flags, the request they make, and the summary
 * printed after `--wait`. `--curvature cpu|gpu` runs one curvature activity per checkpoint on the
 * `gpu` task queue (served by `weightlens worker --queue gpu`; `sweep --wait` on a local Temporal
 * spawns one); `gpu` lets that worker use tfjs-node-gpu, `cpu` keeps it on the wasm/cpu backends.
 */
import { type Command, Option } from 'commander';
import type { CurvatureMode } from '../../contracts/curvature.ts';
import type { SweepCounts } from '../../contracts/sweep.ts';
import type { PrismaClient } from '../../db/client.ts';
import type { CurvatureRequest } from '../../workers/curvature-request.ts';
import { terminalText } from '../terminal-text.ts';
import { integerAtLeast } from './flag-values.ts';

export interface CurvatureFlags {
  curvature: CurvatureMode;
  curvatureData?: string;
  curvatureRandom?: boolean;
  curvatureDistilled?: boolean;
  curvatureSamples?: number;
  curvatureTopK?: number;
  curvatureTrace: boolean;
  curvatureDensity?: boolean;
  curvaturePerLayer?: boolean;
  curvatureSeed?: number;
}

export function addCurvatureOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--curvature <mode>',
        'also compute Hessian curvature per checkpoint (TF.js model.json beside it) on gpu-queue workers: ' +
          'gpu = tfjs-node-gpu when it loads, cpu = wasm/cpu backends only',
      )
        .choices(['off', 'cpu', 'gpu'])
        .default('off'),
    )
    .option('--curvature-data <uri>', 'curvature batch: .npz with arrays x and y, or fashion-mnist | mnist')
    .option('--curvature-random', 'curvature batch: random inputs labelled by the model (the default)')
    .option('--curvature-distilled', 'curvature batch: ZeroQ inputs matching the BatchNorm statistics')
    .option('--curvature-samples <n>', 'curvature batch size (default 256)', integerAtLeast(1))
    .option('--curvature-top-k <k>', 'top Hessian eigenvalues (default 1)', integerAtLeast(0))
    .option('--no-curvature-trace', 'skip the Hutchinson trace')
    .option('--curvature-density', 'also the spectral density (stochastic Lanczos quadrature)')
    .option('--curvature-per-layer', 'also per-layer traces and top eigenvalues')
    .option('--curvature-seed <n>', 'seed of probes and data-free inputs (default 1)', integerAtLeast(0));
}

export function curvatureRequestFromFlags(flags: CurvatureFlags): CurvatureRequest {
  return {
    mode: flags.curvature,
    data: flags.curvatureData,
    random: flags.curvatureRandom,
    distilled: flags.curvatureDistilled,
    samples: flags.curvatureSamples,
    seed: flags.curvatureSeed,
    settings: {
      topK: flags.curvatureTopK ?? 1,
      trace: flags.curvatureTrace,
      ...(flags.curvatureDensity ? { density: true } : {}),
      ...(flags.curvaturePerLayer ? { perLayer: true } : {}),
    },
  };
}

/** One line of the sweep's curvature counters. */
export function curvatureCountsLine(counts: SweepCounts): string {
  return (
    `curvature: ${counts.curvatureComputed} computed, ${counts.curvatureReused} reused, ` +
    `${counts.curvatureSkipped} skipped, ${counts.curvatureFailed} failed`
  );
}

/** The curvature rows of a sweep's checkpoints under one configHash, as a small table. */
export async function renderSweepCurvature(
  prisma: PrismaClient,
  sweepId: string,
  configHash: string,
): Promise<string> {
  const rows = await prisma.curvatureResult.findMany({
    where: { configHash, checkpoint: { sweeps: { some: { sweepId } } } },
    select: {
      status: true,
      error: true,
      topEigenvalues: true,
      trace: true,
      checkpoint: { select: { uri: true } },
    },
    orderBy: { checkpoint: { uri: 'asc' } },
  });
  return formatSweepCurvature(rows);
}

/** One curvature row of a sweep, as `renderSweepCurvature` reads it. */
export interface SweepCurvatureRow {
  status: string;
  error: string | null;
  topEigenvalues: number[];
  trace: number | null;
  checkpoint: { uri: string };
}

/** The table; checkpoint URIs and error messages come from files, shown escaped. */
export function formatSweepCurvature(rows: readonly SweepCurvatureRow[]): string {
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toPrecision(6));
  const lines = [
    `${'hessian λmax'.padStart(14)}  ${'trace'.padStart(12)}  ${'status'.padEnd(9)}  checkpoint`,
  ];
  for (const row of rows) {
    const note = row.error ? `  (${terminalText(row.error)})` : '';
    lines.push(
      `${fmt(row.topEigenvalues[0]).padStart(14)}  ${fmt(row.trace).padStart(12)}  ${row.status.padEnd(9)}  ${terminalText(row.checkpoint.uri)}${note}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
