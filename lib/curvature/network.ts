/**
 * A `tf.LayersModel` turned into a pure function `logits = forward(params, x)` of explicit parameter
 * tensors, so that nested `tf.grads` can differentiate it twice. Only layers whose ops are covered
 * by the second-order gradients (secondOrder.ts) are accepted; anything else is refused with an
 * error naming the layer, because an uncovered op can make Hessian products silently wrong.
 * Inference mode throughout (BatchNorm running statistics, no dropout), as PyHessian does.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { UnsupportedError } from '../errors.ts';
import { type ActivationName, activationFn, type Stage } from './stages.ts';

/** One trainable tensor of the model, laid out in the flat parameter vector at `offset`. */
export interface ParameterInfo {
  /** e.g. "dense_1/kernel". */
  name: string;
  /** The layer it belongs to (per-layer blocks group by this). */
  layer: string;
  shape: number[];
  offset: number;
  size: number;
}

/** A contiguous range of the flat parameter vector: one layer's trainable tensors. */
export interface ParameterBlock {
  name: string;
  offset: number;
  size: number;
}

/** What a BatchNormalization layer sees at inference, for ZeroQ's statistics-matching loss. */
export interface BatchNormTap {
  layer: string;
  /** The layer's input activations. */
  input: tf.Tensor;
  movingMean: tf.Tensor1D;
  movingVariance: tf.Tensor1D;
}

type Activation = (x: tf.Tensor) => tf.Tensor;
type LayerFn = (x: tf.Tensor, params: readonly tf.Tensor[], taps?: BatchNormTap[]) => tf.Tensor;

export interface CurvatureNetwork {
  params: ParameterInfo[];
  blocks: ParameterBlock[];
  /** Total number of trainable scalars. */
  dim: number;
  /** Current values of the trainable tensors (float32, owned by the network). */
  values: tf.Tensor[];
  inputShape: number[];
  numClasses: number;
  /** The same function as a chain of primitive stages (for the cached R-operator products). */
  stages: Stage[];
  /** Logits (pre-softmax). `taps`, when given, collects BatchNorm inputs. */
  forward(params: readonly tf.Tensor[], x: tf.Tensor, taps?: BatchNormTap[]): tf.Tensor2D;
  dispose(): void;
}

const ACTIVATION_NAMES: readonly string[] = ['linear', 'relu', 'tanh', 'sigmoid', 'softplus'];

type Config = Record<string, unknown>;

function activationOf(config: Config, layer: string, isLast: boolean): ActivationName {
  const raw = config.activation ?? 'linear';
  const name = typeof raw === 'string' ? raw : String((raw as Config).className ?? raw);
  // The final softmax is folded into the loss (cross-entropy from logits).
  if (name === 'softmax' && isLast) return 'linear';
  if (!ACTIVATION_NAMES.includes(name))
    throw new UnsupportedError(`activation '${name}' is not covered by the exact Hessian engine`, { layer });
  return name as ActivationName;
}

/** Pushes the activation stage (none for linear) and returns its function. */
function pushActivation(stages: Stage[], name: ActivationName): Activation {
  if (name !== 'linear') stages.push({ kind: 'activation', name });
  return activationFn(name);
}

const pair = (v: unknown, fallback: [number, number]): [number, number] => {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2) return [Number(v[0]), Number(v[1])];
  return fallback;
};

/** Builds the layer function; `take(suffix)` returns the index of the layer's weight named so. */
function buildLayer(
  className: string,
  config: Config,
  layer: string,
  isLast: boolean,
  inputShape: readonly (number | null)[] | undefined,
  take: (suffix: string, trainable: boolean) => number | tf.Tensor | undefined,
  stages: Stage[],
): LayerFn | null {
  const refuse = (why: string): never => {
    throw new UnsupportedError(`${className} layer ${why}`, { layer });
  };
  const channelsLast = () => {
    if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast')
      refuse('must be channelsLast');
  };
  switch (className) {
    case 'InputLayer':
    case 'Dropout':
      return null;
    case 'Flatten':
      stages.push({ kind: 'flatten' });
      return (x) => tf.reshape(x, [x.shape[0]!, -1]);
    case 'Activation': {
      const act = pushActivation(stages, activationOf(config, layer, isLast));
      return (x) => act(x);
    }
    case 'ReLU':
      if (config.maxValue != null || Number(config.threshold ?? 0) !== 0) refuse('with maxValue/threshold');
      stages.push({ kind: 'activation', name: 'relu' });
      return (x) => tf.relu(x);
    case 'Softmax':
      if (!isLast) refuse('is only supported as the output layer');
      return (x) => x;
    case 'Dense': {
      const kernel = take('kernel', true) as number;
      const bias = config.useBias === false ? undefined : (take('bias', true) as number);
      stages.push({ kind: 'dense', kernel, bias });
      const act = pushActivation(stages, activationOf(config, layer, isLast));
      return (x, p) => {
        if (x.rank !== 2) refuse(`on rank-${x.rank} input (only after Flatten)`);
        const z = tf.matMul(x as tf.Tensor2D, p[kernel] as tf.Tensor2D);
        return act(bias === undefined ? z : tf.add(z, p[bias]!));
      };
    }
    case 'Conv2D': {
      channelsLast();
      const [dh, dw] = pair(config.dilationRate, [1, 1]);
      if (dh !== 1 || dw !== 1) refuse('with dilation');
      const strides = pair(config.strides, [1, 1]);
      const padding = config.padding === 'same' ? 'same' : 'valid';
      const kernel = take('kernel', true) as number;
      const bias = config.useBias === false ? undefined : (take('bias', true) as number);
      stages.push({ kind: 'conv2d', kernel, bias, strides, padding });
      const act = pushActivation(stages, activationOf(config, layer, isLast));
      return (x, p) => {
        const z = tf.conv2d(x as tf.Tensor4D, p[kernel] as tf.Tensor4D, strides, padding);
        return act(bias === undefined ? z : tf.add(z, p[bias]!));
      };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      channelsLast();
      const pool = pair(config.poolSize, [2, 2]);
      const strides = pair(config.strides ?? config.poolSize, pool);
      const padding = config.padding === 'same' ? 'same' : 'valid';
      if (className === 'MaxPooling2D') {
        if (pool[0] !== strides[0] || pool[1] !== strides[1])
          refuse('with overlapping windows (stride != pool size)');
        stages.push({ kind: 'maxPool', pool, strides, padding });
        return (x) => tf.maxPool(x as tf.Tensor4D, pool, strides, padding);
      }
      if (padding === 'same' && inputShape) {
        // tfjs's AvgPoolGrad divides by the full window even where 'same' padding cuts it short.
        const [h, w] = [Number(inputShape[1]), Number(inputShape[2])];
        const partial = (size: number, i: 0 | 1) =>
          (Math.ceil(size / strides[i]) - 1) * strides[i] + pool[i] !== size;
        if (partial(h, 0) || partial(w, 1))
          refuse("with 'same' padding over partial windows (wrong tfjs gradient)");
      }
      stages.push({ kind: 'avgPool', pool, strides, padding });
      return (x) => tf.avgPool(x as tf.Tensor4D, pool, strides, padding);
    }
    case 'BatchNormalization': {
      const axis = Number(config.axis ?? -1);
      if (axis !== -1 && axis !== 3 && axis !== 1) refuse(`on axis ${axis}`);
      const epsilon = Number(config.epsilon ?? 1e-3);
      const gamma = config.scale === false ? undefined : (take('gamma', true) as number);
      const beta = config.center === false ? undefined : (take('beta', true) as number);
      const mean = take('moving_mean', false) as tf.Tensor1D;
      const variance = take('moving_variance', false) as tf.Tensor1D;
      stages.push({ kind: 'batchNorm', gamma, beta, mean, variance, epsilon });
      return (x, p, taps) => {
        if (axis === 1 && x.rank !== 2) refuse('on axis 1 of a rank>2 tensor');
        taps?.push({ layer, input: x, movingMean: mean, movingVariance: variance });
        let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
        if (gamma !== undefined) y = tf.mul(y, p[gamma]!);
        return beta === undefined ? y : tf.add(y, p[beta]!);
      };
    }
    default:
      return refuse(
        'is not covered by the exact Hessian engine (supported: Dense, Conv2D, MaxPooling2D, AveragePooling2D, Flatten, BatchNormalization, Activation, ReLU, Softmax, Dropout)',
      );
  }
}

/** Short weight name: "conv2d_1/kernel" → "kernel" (tfjs may add unique suffixes like "kernel_1"). */
const weightSuffix = (name: string) => (name.split('/').pop() ?? name).replace(/_\d+$/, '');

export function buildCurvatureNetwork(model: LayersModel): CurvatureNetwork {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new UnsupportedError('only single-input, single-output models are supported', {
      layer: model.name,
    });
  }
  const params: ParameterInfo[] = [];
  const values: tf.Tensor[] = [];
  const kept: tf.Tensor[] = [];
  const fns: LayerFn[] = [];
  const stages: Stage[] = [];
  const blocks: ParameterBlock[] = [];
  let offset = 0;
  const layers = model.layers;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    if (i > 0 && layers[i - 1]!.output !== layer.input) {
      throw new UnsupportedError('only sequential (chain) topologies are supported', { layer: layer.name });
    }
    const blockStart = offset;
    const take = (suffix: string, trainable: boolean) => {
      const w = layer.weights.find((lw) => weightSuffix(lw.originalName ?? lw.name) === suffix);
      if (!w) return undefined;
      const value = tf.keep(w.read().clone());
      if (!trainable) {
        kept.push(value);
        return value;
      }
      const size = value.size;
      params.push({ name: `${layer.name}/${suffix}`, layer: layer.name, shape: value.shape, offset, size });
      values.push(value);
      offset += size;
      return values.length - 1;
    };
    const layerInput = layer.input;
    const inputShape = Array.isArray(layerInput) ? undefined : layerInput.shape;
    const fn = buildLayer(
      layer.getClassName(),
      layer.getConfig() as Config,
      layer.name,
      i === layers.length - 1,
      inputShape,
      take,
      stages,
    );
    if (fn) fns.push(fn);
    if (offset > blockStart) blocks.push({ name: layer.name, offset: blockStart, size: offset - blockStart });
  }
  const outShape = model.outputs[0]!.shape;
  const inShape = model.inputs[0]!.shape;
  return {
    params,
    blocks,
    dim: offset,
    values,
    stages,
    inputShape: inShape.slice(1).map((d) => Number(d)),
    numClasses: Number(outShape[outShape.length - 1]),
    forward(p, x, taps) {
      let h = x;
      for (const fn of fns) h = fn(h, p, taps);
      return h as tf.Tensor2D;
    },
    dispose() {
      tf.dispose(values);
      tf.dispose(kept);
    },
  };
}
