/**
 * `weightlens plan <checkpoint-uri> --method hawq|zeroq|alpha|uniform --bits 2,4,8 --avg-bits 4
 * [--max-bytes N] [--sparsity 0.5] [--format table|json] [--write <uri>]`: a mixed-precision
 * quantization (and magnitude-pruning) plan for one checkpoint, computed locally with lib/plan.
 * alpha: data-free, α from the spectral analysis; hawq: per-layer Hessian traces of the TF.js
 * layers model beside the checkpoint (lib/curvature); zeroq: KL(model ‖ model with one layer
 * quantized) over distilled/random/real inputs on that model; uniform: every layer at --avg-bits.
 * `--write` stores the planned checkpoint as safetensors: fake-quantized float32 values
 * ((code − zero point)·scale per output channel; at most 2^b distinct values per channel of a
 * b-bit layer), pruned weights exactly 0, the plan JSON in `__metadata__.weightlens_plan`.
 */
import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { BadInputError } from '../../lib/errors.ts';
import { discoverCheckpoints } from '../../lib/formats/discover.ts';
import { dirname, joinUri } from '../../lib/formats/uri.ts';
import {
  type PlanInputs,
  planCheckpoint,
  plannedPruneCounts,
  plannedTensors,
} from '../../lib/plan/checkpoint.ts';
import { parseLatencyTable } from '../../lib/plan/cost.ts';
import { alphaInputs, bopsInputs, klInputs, traceInputs } from '../../lib/plan/inputs.ts';
import {
  type Plan,
  type PlanMethod,
  type PlanOptions,
  PRUNE_ALLOCATIONS,
  type PruneAllocation,
} from '../../lib/plan/plan.ts';
import { QUANT_SCHEMES, type QuantScheme } from '../../lib/plan/quantize.ts';
import { ALPHA_SOURCE } from '../../lib/plan/stored.ts';
import { plannedCheckpointBytes } from '../../lib/plan/write.ts';
import { createStorage } from '../../storage/index.ts';
import { type CheckpointFailure, reportCheckpointFailure } from '../checkpoint-failure.ts';
import { terminalLines, terminalText } from '../terminal-text.ts';
import { addBatchOptions, finiteNumber } from './flag-values.ts';

const bitList = (value: string) => {
  const bits = value.split(',').map((s) => Number(s.trim()));
  if (bits.some((b) => !Number.isInteger(b))) throw new InvalidArgumentError('expected integers like 2,4,8');
  return [...new Set(bits)].sort((a, b) => a - b);
};

export function formatPlanTable(plan: Plan, header: string): string {
  const fmt = (v: number | null) => (v === null ? '-' : v.toPrecision(4));
  const width = Math.max(5, ...plan.layers.map((l) => l.name.length));
  const lines = [
    header,
    `  ${'layer'.padEnd(width)}  ${'params'.padStart(9)}  bits  ${'sparsity'.padStart(8)}  ${'sensitivity'.padStart(11)}  note`,
  ];
  for (const l of plan.layers) {
    lines.push(
      `  ${l.name.padEnd(width)}  ${String(l.params).padStart(9)}  ${String(l.bits).padStart(4)}  ${(l.sparsity * 100).toFixed(2).padStart(7)}%  ${fmt(l.sensitivity).padStart(11)}  ${l.note ?? ''}`.trimEnd(),
    );
  }
  const budget = Object.entries(plan.budget)
    .map(([k, v]) => `${k} ${k === 'sparsity' ? '=' : '≤'} ${v}`)
    .join(', ');
  lines.push(
    `  ${plan.method} (${plan.scheme}): average ${plan.avg_bits.toFixed(4)} bits, ${plan.bytes} bytes${plan.bops !== undefined ? `, ${plan.bops} BOPs` : ''}${plan.latency !== undefined ? `, latency ${Number(plan.latency.toPrecision(6))}` : ''}, sparsity ${(plan.sparsity * 100).toFixed(2)}%, objective ${fmt(plan.objective)}; budget ${budget}`,
  );
  return lines.join('\n');
}

/** Per-layer BOPs (from the TF.js model beside the checkpoint) and latencies (from the table file). */
async function costInputs(
  checkpointUri: string,
  opts: { maxBops?: number; latencyTable?: string },
  bits: number[],
): Promise<PlanInputs> {
  const storage = createStorage();
  const { planned } = await plannedTensors(checkpointUri, storage);
  const names = planned.map((p) => p.tensor.name);
  const out: PlanInputs = {};
  if (opts.maxBops !== undefined) {
    const modelUri = modelJsonBeside(checkpointUri);
    if (!(await storage.exists(modelUri))) {
      throw new BadInputError(
        '--max-bops needs a TF.js layers model.json beside the checkpoint (layer output sizes)',
        {
          file: checkpointUri,
        },
      );
    }
    out.bops = await bopsInputs(modelUri, names, storage);
  }
  if (opts.latencyTable !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.latencyTable, 'utf8');
    } catch (err) {
      throw new BadInputError(`cannot read the latency table: ${(err as Error).message}`, {
        file: opts.latencyTable,
      });
    }
    out.latency = parseLatencyTable(text, opts.latencyTable, names, bits);
  }
  return out;
}

const modelJsonBeside = (checkpointUri: string) =>
  checkpointUri.endsWith('.json') ? checkpointUri : joinUri(dirname(checkpointUri), 'model.json');

export function register(program: Command): void {
  const command = program
    .command('plan')
    .description('mixed-precision quantization / pruning plan of a checkpoint (HAWQ, α-guided, uniform)')
    .argument(
      '<checkpoint-uri>',
      'a checkpoint, or a directory/prefix of them each planned on its own (path, file:// or s3://)',
    )
    .addOption(
      new Option('--method <m>', 'sensitivity: Hessian traces, ZeroQ KL, data-free α, or uniform')
        .choices(['hawq', 'zeroq', 'alpha', 'uniform'])
        .makeOptionMandatory(),
    )
    .option('--bits <list>', 'candidate bit widths', bitList, [2, 4, 8])
    .option('--avg-bits <b>', 'budget: average bits per weight of the planned layers', finiteNumber)
    .option('--max-bytes <n>', 'budget: packed weight bytes of the planned layers', finiteNumber)
    .option(
      '--max-bops <n>',
      'budget: bit operations Σ MACs·b² (HAWQ-V3; needs the TF.js model.json)',
      finiteNumber,
    )
    .option('--latency-table <file>', 'JSON {"<layer>": {"<bits>": latency}} of measured per-layer latencies')
    .option(
      '--max-latency <t>',
      'budget: Σ latency of the chosen widths (needs --latency-table)',
      finiteNumber,
    )
    .option(
      '--sparsity <s>',
      'target sparsity (magnitude pruning; α-guided per-layer ratios for alpha)',
      finiteNumber,
    )
    .addOption(
      new Option(
        '--prune-by <a>',
        'split of --sparsity over layers (default: alpha for alpha, else uniform)',
      ).choices([...PRUNE_ALLOCATIONS]),
    )
    .addOption(
      new Option('--scheme <s>', 'weight quantizer').choices([...QUANT_SCHEMES]).default('symmetric'),
    )
    .option('--epsilon <e>', 'AlphaPruning ε of the α map', finiteNumber, 0.3)
    .option('--keep-first-last', 'keep the first and last layers at the widest width (HAWQ)');
  addBatchOptions(command, 'hawq/zeroq: ')
    .option('--probes <n>', 'hawq: Hutchinson probes per layer', finiteNumber, 30)
    .option('--seed <n>', 'hawq: seed of probes and data-free inputs', finiteNumber, 1)
    .addOption(new Option('--format <f>', 'output format').choices(['table', 'json']).default('table'))
    .option(
      '--write <uri>',
      'write the planned checkpoint (safetensors, fake-quantized float32) to a path, file:// or s3://',
    )
    .option('--stack', 'plan in the system: the plan workflow over stored results, stored in Postgres')
    .option('--local-worker', 'with --stack: run a worker in this process (default with a local Temporal)')
    .option('--no-local-worker', 'with --stack: never run a worker in this process')
    .action(async (uri: string, opts) => {
      const storage = createStorage();
      if (opts.stack) {
        // The worker and Temporal client load only for --stack.
        const { planInStack } = await import('./plan-stack.ts');
        const stacked = await planInStack(uri, planOptions(opts), opts);
        printPlan(stacked.checkpoint, stacked.inputs, stacked.plan, opts.format);
        if (opts.write && opts.format !== 'json')
          process.stdout.write(`  wrote ${terminalText(opts.write)}\n`);
        return;
      }
      const found = await discoverCheckpoints(uri, storage);
      if (found.length === 0) throw new BadInputError('no checkpoint found', { file: uri });
      if (found.length === 1) {
        const { source, plan } = await planLocal(found[0]!.uri, opts, storage);
        printPlan(found[0]!.uri, source, plan, opts.format);
        if (opts.write && opts.format !== 'json')
          process.stdout.write(`  wrote ${terminalText(opts.write)}\n`);
        return;
      }
      if (opts.write) {
        throw new BadInputError(`--write names one file, but ${found.length} checkpoints were found`, {
          file: uri,
        });
      }
      // Each checkpoint on its own, as analyze <dir>: a failed one is reported, the others planned.
      const entries: (ReturnType<typeof planJson> | CheckpointFailure)[] = [];
      const tables: string[] = [];
      for (const checkpoint of found) {
        try {
          const { source, plan } = await planLocal(checkpoint.uri, opts, storage);
          entries.push(planJson(checkpoint.uri, source, plan));
          tables.push(planText(checkpoint.uri, source, plan));
        } catch (err) {
          entries.push(reportCheckpointFailure(checkpoint, err));
        }
      }
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify(entries)}\n`);
        return;
      }
      const failed = found.length - tables.length;
      if (failed > 0)
        tables.push(`${tables.length} of ${found.length} checkpoints planned, ${failed} failed (see stderr)`);
      process.stdout.write(`${tables.join('\n\n')}\n`);
    });
}

/** The flags local mode reads beside the plan options. */
interface LocalPlanFlags {
  format: string;
  data?: string;
  distilled?: boolean;
  random?: boolean;
  samples: number;
  seed: number;
  probes: number;
  maxBops?: number;
  maxLatency?: number;
  latencyTable?: string;
  write?: string;
  [flag: string]: unknown;
}

/** Plan one checkpoint in local mode (its inputs computed here); writes `--write` when given. */
async function planLocal(
  checkpointUri: string,
  opts: LocalPlanFlags,
  storage: ReturnType<typeof createStorage>,
): Promise<{ source: string; plan: Plan }> {
  const options = planOptions(opts);
  const progress =
    opts.format === 'table' ? (line: string) => process.stderr.write(`  ${terminalText(line)}\n`) : undefined;
  let inputs: PlanInputs = {};
  let source = '';
  if (options.method === 'alpha') {
    inputs = await alphaInputs(checkpointUri, storage);
    source = ALPHA_SOURCE;
  } else if (options.method === 'hawq' || options.method === 'zeroq') {
    const modelUri = modelJsonBeside(checkpointUri);
    if (!(await storage.exists(modelUri))) {
      throw new BadInputError(`${options.method} needs a TF.js layers model.json beside the checkpoint`, {
        file: checkpointUri,
      });
    }
    const { ckpt, planned } = await plannedTensors(checkpointUri, storage);
    const data = {
      data: opts.data,
      distilled: opts.distilled,
      random: opts.random,
      samples: opts.samples,
      seed: opts.seed,
    };
    if (options.method === 'hawq') {
      const traced = await traceInputs(
        modelUri,
        planned.map((p) => p.tensor.name),
        storage,
        {
          data,
          probes: opts.probes,
          onProgress: progress,
        },
      );
      inputs = traced;
      source = `Hessian traces on ${traced.source}, ${opts.probes} probes per layer, backend ${traced.backend}`;
    } else {
      const measured = await klInputs(modelUri, ckpt, planned, storage, {
        data,
        probes: 0,
        bits: options.bits,
        scheme: options.scheme,
        pruneCounts: await plannedPruneCounts(ckpt, planned, options),
        onProgress: progress,
      });
      inputs = measured;
      source = `ZeroQ KL on ${measured.source}, backend ${measured.backend}`;
    }
  }
  if ((opts.maxLatency === undefined) !== (opts.latencyTable === undefined)) {
    throw new BadInputError('--max-latency and --latency-table go together');
  }
  if (opts.maxBops !== undefined || opts.latencyTable !== undefined) {
    inputs = { ...inputs, ...(await costInputs(checkpointUri, opts, options.bits)) };
  }
  if (options.method !== 'alpha' && (options.sparsity ?? 0) > 0 && options.pruneBy === 'alpha') {
    inputs = { ...inputs, alpha: (await alphaInputs(checkpointUri, storage)).alpha };
  }
  const result = await planCheckpoint(checkpointUri, storage, options, inputs);
  if (opts.write) await storage.write(opts.write, await plannedCheckpointBytes(result, checkpointUri));
  return { source, plan: result.plan };
}

/** The plan options from the command's flags (the same in local and stack mode). */
function planOptions(opts: Record<string, unknown>): PlanOptions {
  return {
    method: opts.method as PlanMethod,
    bits: opts.bits as number[],
    avgBits: opts.avgBits as number | undefined,
    maxBytes: opts.maxBytes as number | undefined,
    maxBops: opts.maxBops as number | undefined,
    maxLatency: opts.maxLatency as number | undefined,
    sparsity: opts.sparsity as number | undefined,
    pruneBy: opts.pruneBy as PruneAllocation | undefined,
    scheme: opts.scheme as QuantScheme,
    epsilon: opts.epsilon as number,
    keepFirstLast: !!opts.keepFirstLast,
  };
}

function planJson(checkpointUri: string, source: string, plan: Plan) {
  return { checkpoint: checkpointUri, inputs: source, ...plan };
}

function planText(checkpointUri: string, source: string, plan: Plan): string {
  return terminalLines(formatPlanTable(plan, `${checkpointUri}${source ? ` (${source})` : ''}`));
}

function printPlan(checkpointUri: string, source: string, plan: Plan, format: string): void {
  const text =
    format === 'json'
      ? JSON.stringify(planJson(checkpointUri, source, plan))
      : planText(checkpointUri, source, plan);
  process.stdout.write(`${text}\n`);
}
