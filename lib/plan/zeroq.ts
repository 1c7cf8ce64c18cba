/**
 * ZeroQ's sensitivity (Cai et al. CVPR 2020): Ω_i(b) = (1/N) Σ_j KL(M(θ; x_j) ‖ M(θ with only layer i
 * quantized to b bits; x_j)) over a batch of inputs (ZeroQ's distilled data, random inputs or real
 * images). The model's output is read as class probabilities when its last layer is a softmax,
 * otherwise softmax is applied to it. One layer is quantized at a time and restored afterwards.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { BadInputError } from '../errors.ts';
import { type QuantScheme, quantizePerChannel } from './quantize.ts';

export interface KlLayer {
  /** Weight name as stored (matched to the model's weights by their original names). */
  name: string;
  shape: number[];
  channelAxis: number;
  /** The (pruned) weights to quantize. */
  data: Float32Array;
}

const LOG_FLOOR = 1e-12;

function probabilities(model: LayersModel, x: tf.Tensor, softmaxOutput: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const out = model.predict(x) as tf.Tensor2D;
    return softmaxOutput ? out : tf.softmax(out);
  });
}

/** KL sensitivities by layer name and bit width. */
export function klSensitivities(
  model: LayersModel,
  x: tf.Tensor,
  layers: readonly KlLayer[],
  bitWidths: readonly number[],
  scheme: QuantScheme,
): Map<string, Map<number, number>> {
  const last = model.layers[model.layers.length - 1]!;
  const softmaxOutput = (last.getConfig() as { activation?: string }).activation === 'softmax';
  const reference = probabilities(model, x, softmaxOutput);
  const logReference = tf.tidy(() => tf.log(tf.maximum(reference, LOG_FLOOR)));
  const out = new Map<string, Map<number, number>>();
  try {
    for (const layer of layers) {
      const variable = model.weights.find((w) => w.originalName === layer.name || w.name === layer.name);
      if (!variable) throw new BadInputError('no model weight of that name', { tensor: layer.name });
      const original = variable.read().clone();
      const byBits = new Map<number, number>();
      try {
        for (const b of bitWidths) {
          const q = quantizePerChannel(layer.data, layer.shape, layer.channelAxis, b, scheme, {
            tensor: layer.name,
          });
          const quantized = tf.tensor(q.values, layer.shape);
          variable.write(quantized);
          quantized.dispose();
          const kl = tf.tidy(() => {
            const p = probabilities(model, x, softmaxOutput);
            const terms = tf.mul(reference, tf.sub(logReference, tf.log(tf.maximum(p, LOG_FLOOR))));
            return tf.mean(tf.sum(terms, 1));
          });
          byBits.set(b, Math.max(0, kl.dataSync()[0]!));
          kl.dispose();
        }
      } finally {
        variable.write(original);
        original.dispose();
      }
      out.set(layer.name, byBits);
    }
  } finally {
    reference.dispose();
    logReference.dispose();
  }
  return out;
}
