/**
 * `npm run bench:curvature [-- --model DIR --samples N]`: one exact Hessian-vector product and a
 * 20-iteration top-eigenvalue run (PyHessian's power iteration, no early stop) on a zoo CNN, here
 * (tfjs, backend chosen as in production: tfjs-node-gpu if it loads, else wasm) and with a
 * PyHessian-equivalent torch script (bench/curvature_pyhessian.py, dev venv, 1 CPU thread) on the
 * same weights, batch and probe vector, in the same run. Prints times, ratios (ours / torch) and
 * how far the two products and eigenvalues agree.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initCurvatureBackend } from '../lib/curvature/backend.ts';
import { datasetTestBatch } from '../lib/curvature/data.ts';
import { flatten, HessianOperator } from '../lib/curvature/hvp.ts';
import { loadLayersModelFromStorage } from '../lib/curvature/load.ts';
import { buildCurvatureNetwork } from '../lib/curvature/network.ts';
import { powerIteration } from '../lib/curvature/power.ts';
import { norm, SeededRandom, scale } from '../lib/curvature/vector.ts';
import { createStorage } from '../storage/index.ts';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    samples: { type: 'string', default: '128' },
    python: { type: 'string', default: '/root/.cache/weightlens/venv/bin/python' },
  },
});
const candidates = [
  args.model,
  '/root/.cache/weightlens/zoo/trained/fmnist-cnn-base-ep03',
  join(import.meta.dirname, '../zoo/default/fmnist-cnn-base-ep03'),
].filter((p): p is string => !!p && existsSync(join(p, 'model.json')));
if (candidates.length === 0) throw new Error('no zoo CNN found: pass --model <dir with model.json>');
const modelDir = candidates[0]!;

const backend = await initCurvatureBackend();
const model = await loadLayersModelFromStorage(modelDir, createStorage());
const network = buildCurvatureNetwork(model);
const batch = datasetTestBatch('fashion-mnist', network, Number(args.samples));
const op = new HessianOperator(network, batch, { chunkSize: Number(args.samples) });
const probe = new SeededRandom(42).gaussianVector(op.dim);
const v = scale(1 / norm(probe), probe);

// Everything the torch side needs, in tfjs layouts.
const work = mkdtempSync(join(tmpdir(), 'bench-curvature-'));
const layers = model.layers.map((layer) => {
  const config = layer.getConfig() as Record<string, unknown>;
  switch (layer.getClassName()) {
    case 'Conv2D': {
      const k = (config.kernelSize as number[])[0]!;
      return { kind: 'conv', name: layer.name, padding: config.padding === 'same' ? (k - 1) / 2 : 0 };
    }
    case 'MaxPooling2D':
      return { kind: 'pool', name: layer.name, size: (config.poolSize as number[])[0] };
    case 'Flatten':
      return { kind: 'flatten', name: layer.name };
    case 'Dense':
      return { kind: 'dense', name: layer.name, activation: config.activation };
    default:
      throw new Error(`bench: layer ${layer.name} (${layer.getClassName()}) has no torch counterpart here`);
  }
});
writeFileSync(
  join(work, 'meta.json'),
  JSON.stringify({
    x_shape: batch.x.shape,
    params: network.params.map((p) => ({ name: p.name, shape: p.shape })),
    layers,
  }),
);
writeFileSync(join(work, 'params.bin'), Float32Array.from(flatten(network.values, op.dim)));
writeFileSync(join(work, 'x.bin'), batch.x.dataSync() as Float32Array);
writeFileSync(join(work, 'y.bin'), batch.labels);
writeFileSync(join(work, 'v.bin'), Float32Array.from(v));

await op.apply(v); // warm-up (kernel set-up, wasm compilation)
// Wall and CPU time: the machine is shared, so CPU seconds are the steadier comparison.
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};
const hvpTimes: number[] = [];
const hvpCpu: number[] = [];
let ours: Float64Array = new Float64Array(0);
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  ours = await op.apply(v);
  hvpTimes.push((performance.now() - t0) / 1000);
  hvpCpu.push(cpuSeconds(c0));
}
const t0 = performance.now();
const c0 = process.cpuUsage();
const power = await powerIteration(op, { maxIter: 20, tol: 0, seed: 7 });
const powerSeconds = (performance.now() - t0) / 1000;
const powerCpu = cpuSeconds(c0);

const torchOut = execFileSync(args.python!, [join(import.meta.dirname, 'curvature_pyhessian.py'), work], {
  encoding: 'utf8',
  maxBuffer: 256 << 20,
});
rmSync(work, { recursive: true, force: true });
const reference = JSON.parse(torchOut) as {
  torch: string;
  threads: number;
  loss: number;
  graph_seconds: number;
  hvp_seconds: number;
  hvp_cpu_seconds: number;
  power20_seconds: number;
  power20_cpu_seconds: number;
  top_eigenvalue: number;
  hv: number[];
};

let diff = 0;
let ref = 0;
for (let i = 0; i < ours.length; i++) {
  diff += (ours[i]! - reference.hv[i]!) ** 2;
  ref += reference.hv[i]! ** 2;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
const pair = (label: string, a: number, b: number, digits: number) =>
  `${label} ours ${a.toFixed(digits)} s   torch ${b.toFixed(digits)} s   ratio ${(a / b).toFixed(2)}`;
const lines = [
  `model ${modelDir} (${op.dim} parameters), ${op.sampleCount} Fashion-MNIST test images`,
  `ours:  backend ${backend.note}`,
  `torch: ${reference.torch}, ${reference.threads} thread(s), PyHessian-style (gradient graph built once: ${reference.graph_seconds.toFixed(3)} s)`,
  `loss                ours ${op.loss().toFixed(6)}   torch ${reference.loss.toFixed(6)}`,
  pair('one HVP, wall          ', median(hvpTimes), reference.hvp_seconds, 3),
  pair('one HVP, CPU           ', median(hvpCpu), reference.hvp_cpu_seconds, 3),
  pair('20 power iters, wall   ', powerSeconds, reference.power20_seconds, 2),
  pair('20 power iters, CPU    ', powerCpu, reference.power20_cpu_seconds, 2),
  `top eigenvalue      ours ${power.values[0]!.toFixed(4)}   torch ${reference.top_eigenvalue.toFixed(4)}`,
  `HVP agreement       ‖ours − torch‖ / ‖torch‖ = ${Math.sqrt(diff / ref).toExponential(2)}`,
];
console.log(lines.join('\n'));
op.dispose();
