/**
 * `weightlens plan … --write` on zoo models, through the real launcher: the plan meets its budget
 * as stated (average bits ≤ the budget, sparsity = the target to one weight), the written
 * safetensors holds at most 2^b distinct values per output channel in each b-bit layer, pruned
 * weights are exact zeros, untouched tensors are bit-identical, and the plan is in the metadata.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { readSafetensorsHeader } from '../../../lib/formats/safetensors/index.ts';
import { plannedTensors } from '../../../lib/plan/checkpoint.ts';
import { klInputs } from '../../../lib/plan/inputs.ts';
import type { Plan } from '../../../lib/plan/plan.ts';
import { distinctPerChannel } from '../../../lib/plan/quantize.ts';
import { createStorage } from '../../../storage/index.ts';

const run = promisify(execFile);
const launcher = join(import.meta.dirname, '../../../bin/weightlens.mjs');
const zoo = join(import.meta.dirname, '../../../zoo/default');

async function planAndWrite(checkpoint: string, args: string[]) {
  const out = join(mkdtempSync(join(tmpdir(), 'plan-write-')), 'planned.safetensors');
  const { stdout } = await run(
    process.execPath,
    [launcher, 'plan', checkpoint, ...args, '--format', 'json', '--write', out],
    {
      maxBuffer: 1 << 24,
    },
  );
  return { plan: JSON.parse(stdout) as Plan & { checkpoint: string }, out };
}

async function checkWritten(source: string, out: string, plan: Plan) {
  const storage = createStorage();
  const written = await openCheckpoint(out, storage);
  const original = await openCheckpoint(join(source, 'model.safetensors'), storage);
  const header = await readSafetensorsHeader(await storage.open(out));
  expect(JSON.parse(header.metadata.weightlens_plan!)).toEqual(
    Object.fromEntries(Object.entries(plan).filter(([k]) => k !== 'checkpoint' && k !== 'inputs')),
  );
  expect(header.metadata.kernel_layout).toBe('HWIO');
  const layers = new Map(plan.layers.map((l) => [l.name, l]));
  expect(written.tensors.map((t) => t.name)).toEqual(original.tensors.map((t) => t.name));
  let zeros = 0;
  for (const tensor of written.tensors) {
    const data = await written.readTensor(tensor);
    const before = await original.readTensor(original.tensors.find((t) => t.name === tensor.name)!);
    const layer = layers.get(tensor.name);
    if (!layer) {
      expect(Array.from(data)).toEqual(Array.from(before));
      continue;
    }
    // TF.js layout: output channels on the last axis.
    const distinct = distinctPerChannel(data, tensor.shape, tensor.shape.length - 1);
    expect(Math.max(...distinct)).toBeLessThanOrEqual(2 ** layer.bits);
    const pruned = Array.from(data).filter((v) => v === 0).length;
    expect(pruned).toBeGreaterThanOrEqual(Math.round(layer.sparsity * layer.params));
    zeros += Math.round(layer.sparsity * layer.params);
    expect(Array.from(data)).not.toEqual(Array.from(before));
  }
  return zeros;
}

describe('weightlens plan --write', () => {
  it('alpha plan with pruning on the MLP meets its budget and grid exactly', async () => {
    const source = join(zoo, 'fmnist-mlp-base-ep03');
    const { plan, out } = await planAndWrite(source, [
      '--method',
      'alpha',
      '--bits',
      '2,3,4,5,8',
      '--avg-bits',
      '3.5',
      '--sparsity',
      '0.5',
    ]);
    const total = plan.layers.reduce((a, l) => a + l.params, 0);
    const weightBits = plan.layers.reduce((a, l) => a + l.params * l.bits, 0);
    expect(plan.method).toBe('alpha');
    expect(weightBits).toBeLessThanOrEqual(3.5 * total);
    expect(plan.avg_bits).toBe(weightBits / total);
    expect(plan.bytes).toBe(Math.ceil(weightBits / 8));
    expect(new Set(plan.layers.map((l) => l.bits)).size).toBeGreaterThan(1);
    const zeros = await checkWritten(source, out, plan);
    expect(zeros).toBe(Math.round(0.5 * total));
    expect(readFileSync(out).length).toBeGreaterThan(0);
  });

  it('uniform 3-bit plan of the CNN under a byte budget', async () => {
    const source = join(zoo, 'fmnist-cnn-base-ep03');
    const { plan, out } = await planAndWrite(source, [
      '--method',
      'uniform',
      '--avg-bits',
      '3',
      '--scheme',
      'asymmetric',
    ]);
    expect(plan.layers.every((l) => l.bits === 3)).toBe(true);
    expect(plan.avg_bits).toBe(3);
    await checkWritten(source, out, plan);
  });

  it('hawq plan from per-layer Hessian traces (random inputs) of the MLP', async () => {
    const source = join(zoo, 'fmnist-mlp-base-ep01');
    const { plan, out } = await planAndWrite(source, [
      '--method',
      'hawq',
      '--random',
      '--samples',
      '64',
      '--probes',
      '4',
      '--bits',
      '2,4,8',
      '--max-bytes',
      '40000',
    ]);
    expect(plan.bytes).toBeLessThanOrEqual(40000);
    expect(plan.layers.every((l) => l.sensitivity !== null && l.sensitivity > 0)).toBe(true);
    await checkWritten(source, out, plan);
  });

  it('zeroq plan from KL sensitivities on random inputs: fewer bits, larger KL', async () => {
    const source = join(zoo, 'fmnist-mlp-base-ep03');
    const { plan, out } = await planAndWrite(source, [
      '--method',
      'zeroq',
      '--random',
      '--samples',
      '64',
      '--bits',
      '2,3,8',
      '--avg-bits',
      '3',
    ]);
    const total = plan.layers.reduce((a, l) => a + l.params, 0);
    expect(plan.layers.reduce((a, l) => a + l.params * l.bits, 0)).toBeLessThanOrEqual(3 * total);
    expect(plan.layers.every((l) => l.sensitivity !== null && l.sensitivity >= 0)).toBe(true);
    await checkWritten(source, out, plan);
    const storage = createStorage();
    const { ckpt, planned } = await plannedTensors(join(source, 'model.safetensors'), storage);
    const { kl } = await klInputs(join(source, 'model.json'), ckpt, planned, storage, {
      data: { random: true, samples: 64, seed: 1 },
      probes: 0,
      bits: [2, 4, 8],
      scheme: 'symmetric',
      backend: 'wasm',
    });
    for (const p of planned) {
      const byBits = kl!.get(p.tensor.name)!;
      expect(byBits.get(2)!).toBeGreaterThan(byBits.get(4)!);
      expect(byBits.get(4)!).toBeGreaterThan(byBits.get(8)!);
    }
  });

  it('an infeasible budget is a clear error with the feasible range', async () => {
    const err = await run(process.execPath, [
      launcher,
      'plan',
      join(zoo, 'fmnist-mlp-base-ep03'),
      '--method',
      'alpha',
      '--bits',
      '4,8',
      '--avg-bits',
      '3',
    ]).catch((e: { stderr: string; code: number }) => e);
    expect((err as { code: number }).code).not.toBe(0);
    expect((err as { stderr: string }).stderr).toMatch(
      /budget below the minimum: the feasible range is 4\.0000–8\.0000 average bits/,
    );
  });

  it('BOPs and latency budgets on the CLI: met when feasible, the feasible range when not', async () => {
    const source = join(zoo, 'fmnist-cnn-base-ep03');
    const table = join(mkdtempSync(join(tmpdir(), 'plan-latency-')), 'latency.json');
    const names = ['conv2d_1/kernel', 'conv2d_2/kernel', 'dense_1/kernel', 'dense_2/kernel'];
    // A made-up table: latency grows with the width, dense_1 dominates.
    writeFileSync(
      table,
      JSON.stringify(
        Object.fromEntries(names.map((n, i) => [n, { 2: i + 1, 4: 2 * (i + 1), 8: 4 * (i + 1) }])),
      ),
    );
    const { plan, out } = await planAndWrite(source, [
      '--method',
      'alpha',
      '--bits',
      '2,4,8',
      '--avg-bits',
      '8',
      '--max-bops',
      '8000000',
      '--latency-table',
      table,
      '--max-latency',
      '30',
      '--prune-by',
      'global',
      '--sparsity',
      '0.5',
    ]);
    expect(plan.bops!).toBeLessThanOrEqual(8_000_000);
    expect(plan.latency!).toBeLessThanOrEqual(30);
    expect(plan.budget).toMatchObject({ max_bops: 8_000_000, max_latency: 30, sparsity: 0.5 });
    const zeros = await checkWritten(source, out, plan);
    expect(zeros).toBe(Math.round(0.5 * plan.layers.reduce((a, l) => a + l.params, 0)));
    const fail = (args: string[]) =>
      run(process.execPath, [
        launcher,
        'plan',
        source,
        '--method',
        'alpha',
        '--bits',
        '2,4,8',
        ...args,
      ]).catch((e: { stderr: string; code: number }) => e) as Promise<{ stderr: string; code: number }>;
    const low = await fail(['--max-bops', '1000']);
    expect(low.code).not.toBe(0);
    expect(low.stderr).toMatch(/--max-bops 1000 is below the minimum: the feasible range is \d+–\d+ BOPs/);
    // Every layer has an α (conv2d_1: M·rf = 9 ≥ min_evals 8) and may go to 2 bits: the minimum is 1 + 2 + 3 + 4.
    const high = await fail(['--latency-table', table, '--max-latency', '1000']);
    expect(high.stderr).toMatch(/--max-latency 1000 is above the maximum: the feasible range is 10–40/);
    const alone = await fail(['--max-latency', '20']);
    expect(alone.stderr).toMatch(/--max-latency and --latency-table go together/);
    const unknown = await fail(['--avg-bits', '4', '--prune-by', 'random', '--sparsity', '0.5']);
    expect(unknown.code).not.toBe(0);
  }, 300_000);
});
