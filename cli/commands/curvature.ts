/**
 * `weightlens curvature <model-uri> --data <uri>|--distilled|--random [--top-k K] [--trace]
 * [--density] [--per-layer] [--format table|json]`: Hessian curvature of a TF.js layers model
 * (local mode; sweeps run the same library in the curvature activity on the 'gpu' queue).
 * `--data` takes an .npz with arrays x and y, or `fashion-mnist` / `mnist` (their test split).
 */
import { type Command, Option } from 'commander';
import { type BackendPreference, initCurvatureBackend } from '../../lib/curvature/backend.ts';
import { checkDataSource, type DataSourceOptions, resolveBatch } from '../../lib/curvature/batch.ts';
import { analyzeCurvature, type CurvatureReport, curvatureJson } from '../../lib/curvature/index.ts';
import { loadLayersModelFromStorage } from '../../lib/curvature/load.ts';
import { buildCurvatureNetwork } from '../../lib/curvature/network.ts';
import { createStorage } from '../../storage/index.ts';
import { terminalLines, terminalText } from '../terminal-text.ts';
import { addBatchOptions, integerAtLeast, positiveNumber } from './flag-values.ts';

/** The curvature table; the header (model URI) and layer names come from files, shown escaped. */
export function formatCurvatureTable(report: CurvatureReport, header: string): string {
  return terminalLines(curvatureLines(report, header).join('\n'));
}

function curvatureLines(report: CurvatureReport, header: string): string[] {
  const lines = [header];
  const fmt = (v: number) => v.toPrecision(6);
  if (report.topEigenvalues.length > 0)
    lines.push(`  top eigenvalues: ${report.topEigenvalues.map(fmt).join(', ')}`);
  if (report.trace !== null) {
    lines.push(
      `  trace: ${fmt(report.trace)} ± ${(report.traceStandardError ?? Number.NaN).toPrecision(2)} (${report.traceProbes} probes)`,
    );
  }
  if (report.density) {
    const { grid, values } = report.density;
    const peak = values.indexOf(Math.max(...values));
    lines.push(
      `  density: ${grid.length} points on [${fmt(grid[0]!)}, ${fmt(grid[grid.length - 1]!)}], mode at ${fmt(grid[peak]!)}`,
    );
  }
  if (report.layers.length > 0) {
    const names = report.layers.map((l) => terminalText(l.name));
    const width = Math.max(5, ...names.map((n) => n.length));
    lines.push(
      `  ${'layer'.padEnd(width)}  ${'params'.padStart(8)}  ${'top eigenvalue'.padStart(14)}  ${'trace'.padStart(12)}`,
    );
    for (const [i, l] of report.layers.entries()) {
      lines.push(
        `  ${names[i]!.padEnd(width)}  ${String(l.parameters).padStart(8)}  ${fmt(l.topEigenvalue).padStart(14)}  ${fmt(l.trace).padStart(12)}`,
      );
    }
  }
  lines.push(
    `  ${report.parameters} parameters, ${report.samples} samples, loss ${fmt(report.loss)}, engine ${report.engine}, ${report.hessianVectorProducts} HVPs in ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  return lines;
}

const count = integerAtLeast(0);

export function register(program: Command): void {
  const command = program
    .command('curvature')
    .description(
      'Hessian curvature (top eigenvalues, trace, spectral density, per layer) of a TF.js layers model',
    )
    .argument('<model-uri>', 'model.json or its directory (path, file:// or s3://)');
  addBatchOptions(command)
    .option('--top-k <k>', 'number of top eigenvalues', count, 1)
    .option('--trace', 'Hutchinson trace')
    .option('--density', 'spectral density (stochastic Lanczos quadrature)')
    .option('--per-layer', 'per-layer (block-diagonal) traces and top eigenvalues')
    .addOption(
      new Option('--method <m>', 'top-eigenvalue method').choices(['lanczos', 'power']).default('lanczos'),
    )
    .addOption(
      new Option('--engine <e>', 'HVP engine').choices(['exact', 'finite-difference']).default('exact'),
    )
    .addOption(new Option('--adversarial <m>', 'perturb the batch adversarially').choices(['fgsm', 'pgd']))
    .option('--epsilon <e>', 'adversarial L∞ radius', positiveNumber, 0.1)
    .option('--grid-points <n>', 'density grid size', count, 10_000)
    .option('--chunk-size <n>', 'samples per forward/backward pass', count, 256)
    .option('--seed <n>', 'seed for probes and data-free inputs', count, 1)
    .addOption(
      new Option('--backend <b>', 'tfjs backend').choices(['auto', 'gpu', 'wasm', 'cpu']).default('auto'),
    )
    .addOption(new Option('--format <f>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (modelUri: string, opts) => {
      checkDataSource(opts as DataSourceOptions);
      const backend = await initCurvatureBackend(opts.backend as BackendPreference);
      const storage = createStorage();
      const model = await loadLayersModelFromStorage(modelUri, storage);
      const network = buildCurvatureNetwork(model); // validates the layers before any data work
      const { batch, source } = await resolveBatch(network, opts as DataSourceOptions, storage);
      network.dispose();
      const report = await analyzeCurvature(model, batch, {
        topK: opts.topK,
        eigenMethod: opts.method,
        trace: !!opts.trace,
        density: !!opts.density,
        perLayer: !!opts.perLayer,
        engine: opts.engine,
        chunkSize: opts.chunkSize,
        gridPoints: opts.gridPoints,
        seed: opts.seed,
        onProgress:
          opts.format === 'table' ? (line) => process.stderr.write(`  ${terminalText(line)}\n`) : undefined,
      });
      batch.x.dispose();
      if (opts.format === 'json') {
        process.stdout.write(
          `${JSON.stringify({ model: modelUri, data: source, backend: backend.name, ...curvatureJson(report) })}\n`,
        );
      } else {
        process.stdout.write(
          `${formatCurvatureTable(report, `${modelUri} on ${source} (backend ${backend.note})`)}\n`,
        );
      }
    });
}
