/**
 * Picks the tfjs backend for curvature work. `@tensorflow/tfjs-node-gpu` is optional and never a
 * dependency (its install script downloads libtensorflow, impossible on our machines): it is loaded
 * by a guarded dynamic import when present and working. Otherwise wasm (SIMD, single thread), then
 * the pure-JS cpu backend; both get our JS Conv2DBackpropFilter kernel (wasm has none).
 * Set WEIGHTLENS_TF_BACKEND=gpu|wasm|cpu to force a choice.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.ts';
import { registerConvFilterKernel, registerIndexKernels, registerMaxPoolGradKernel } from './jsKernels.ts';
import { enableSecondOrder } from './secondOrder.ts';
import { registerFastWasmKernels } from './wasmKernels.ts';

export type BackendPreference = 'auto' | 'gpu' | 'wasm' | 'cpu';

export interface CurvatureBackend {
  /** tfjs backend name: 'tensorflow' (tfjs-node-gpu), 'wasm' or 'cpu'. */
  name: string;
  gpu: boolean;
  /** Why this backend was chosen (for logs and stored results). */
  note: string;
}

// A variable specifier keeps TypeScript and bundlers from resolving the optional package.
const GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';

async function tryGpu(): Promise<string | undefined> {
  try {
    await import(GPU_PACKAGE);
    if (!(await tf.setBackend('tensorflow')))
      return 'tfjs-node-gpu loaded but its backend did not initialise';
    tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync());
    return undefined;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return `${GPU_PACKAGE} not installed`;
    return `${GPU_PACKAGE} failed to load (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
}

async function selectWasm(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    registerConvFilterKernel('wasm');
    registerMaxPoolGradKernel('wasm');
    registerIndexKernels('wasm');
    registerFastWasmKernels();
    return await tf.setBackend('wasm');
  } catch {
    return false;
  }
}

async function selectCpu(): Promise<boolean> {
  await import('@tensorflow/tfjs-backend-cpu');
  registerConvFilterKernel('cpu');
  registerIndexKernels('cpu');
  return tf.setBackend('cpu');
}

let current: CurvatureBackend | undefined;

/**
 * Initialise once per process; later calls return the same choice. `log` gets one line saying
 * which backend runs and, on fallback, why the GPU one did not.
 */
export async function initCurvatureBackend(
  preference: BackendPreference = (process.env.WEIGHTLENS_TF_BACKEND as BackendPreference | undefined) ??
    'auto',
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<CurvatureBackend> {
  if (
    current &&
    (preference === 'auto' || current.name === preference || (preference === 'gpu' && current.gpu))
  ) {
    return current;
  }
  let gpuProblem: string | undefined;
  if (preference === 'auto' || preference === 'gpu') {
    gpuProblem = await tryGpu();
    // After the import: tfjs-node-gpu's own tfjs-core copy registers the stock gradients again.
    enableSecondOrder();
    if (!gpuProblem) {
      current = { name: 'tensorflow', gpu: true, note: 'tfjs-node-gpu' };
      log('curvature: backend tfjs-node-gpu (tensorflow)');
      return current;
    }
  }
  enableSecondOrder();
  const fallbackReason = gpuProblem ? `; ${gpuProblem}` : '';
  if (preference !== 'cpu' && (await selectWasm())) {
    current = { name: 'wasm', gpu: false, note: `wasm (SIMD, single thread)${fallbackReason}` };
  } else if (await selectCpu()) {
    current = { name: 'cpu', gpu: false, note: `cpu (pure JS)${fallbackReason}` };
  } else {
    throw new ConfigError('no tfjs backend could be initialised (tried tfjs-node-gpu, wasm, cpu)');
  }
  await tf.ready();
  log(`curvature: backend ${current.note}`);
  return current;
}
