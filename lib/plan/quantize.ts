/**
 * Uniform per-output-channel weight quantizers and their perturbation ‖Q_b(W) − W‖².
 * - symmetric (HAWQ-V3's weight quantizer): scale_c = max(|min_c|, |max_c|) / (2^(b−1) − 1), clamped
 *   to ≥ 1e-8, integers clamped to [−2^(b−1), 2^(b−1) − 1], zero point 0;
 * - asymmetric (ZeroQ's): scale_c = (max_c − min_c) / (2^b − 1), zero point round(−min_c / scale_c),
 *   integers clamped to [0, 2^b − 1].
 * Rounding is half-to-even, as torch.round and numpy.round do, so the numpy fixture agrees bit for bit.
 * Either way a b-bit channel holds at most 2^b distinct values.
 */
import { BadInputError, type ErrorContext } from '../errors.ts';

export type QuantScheme = 'symmetric' | 'asymmetric';
export const QUANT_SCHEMES: readonly QuantScheme[] = ['symmetric', 'asymmetric'];

/** Bit widths the planner accepts (2/3/4/8 are the usual grids; every width in between works). */
export const MIN_BITS = 2;
export const MAX_BITS = 8;
const MIN_SCALE = 1e-8;

export function checkBits(bits: number, context: ErrorContext = {}): void {
  if (!Number.isInteger(bits) || bits < MIN_BITS || bits > MAX_BITS) {
    throw new BadInputError(`bit width ${bits} is not an integer in [${MIN_BITS}, ${MAX_BITS}]`, context);
  }
}

/** Round half to even (banker's rounding). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface ChannelQuantization {
  bits: number;
  scheme: QuantScheme;
  /** Axis of the stored tensor that indexes output channels. */
  channelAxis: number;
  /** Integer codes in the tensor's own layout (int8 range for symmetric, uint range for asymmetric). */
  codes: Int32Array;
  scales: Float64Array;
  zeroPoints: Int32Array;
  /** Fake-quantized values (codes − zero point) · scale, as float32, in the tensor's layout. */
  values: Float32Array;
  /** ‖Q_b(W) − W‖²₂ over the whole tensor (float64 accumulation). */
  perturbation: number;
}

/** Stride structure of `channelAxis`: element i belongs to channel floor(i / inner) mod channels. */
function channelLayout(shape: readonly number[], channelAxis: number, context: ErrorContext) {
  if (!Number.isInteger(channelAxis) || channelAxis < 0 || channelAxis >= shape.length) {
    throw new BadInputError(`channel axis ${channelAxis} is outside shape [${shape.join(', ')}]`, context);
  }
  const channels = shape[channelAxis]!;
  let inner = 1;
  for (let a = channelAxis + 1; a < shape.length; a++) inner *= shape[a]!;
  return { channels, inner };
}

/** Quantize a tensor per output channel. Throws BadInputError naming the tensor on NaN/Inf. */
export function quantizePerChannel(
  data: Float32Array | Float64Array,
  shape: readonly number[],
  channelAxis: number,
  bits: number,
  scheme: QuantScheme = 'symmetric',
  context: ErrorContext = {},
): ChannelQuantization {
  checkBits(bits, context);
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new BadInputError(`shape [${shape.join(', ')}] does not match ${data.length} values`, context);
  }
  const { channels, inner } = channelLayout(shape, channelAxis, context);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const lo = new Float64Array(channels).fill(Number.POSITIVE_INFINITY);
  const hi = new Float64Array(channels).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) throw new BadInputError(`non-finite weight at index ${i}`, context);
    const c = channelOf(i);
    if (v < lo[c]!) lo[c] = v;
    if (v > hi[c]!) hi[c] = v;
  }
  const scales = new Float64Array(channels);
  const zeroPoints = new Int32Array(channels);
  let qmin: number;
  let qmax: number;
  if (scheme === 'symmetric') {
    qmin = -(2 ** (bits - 1));
    qmax = 2 ** (bits - 1) - 1;
    for (let c = 0; c < channels; c++) {
      scales[c] = Math.max(Math.max(Math.abs(lo[c]!), Math.abs(hi[c]!)) / qmax, MIN_SCALE);
    }
  } else {
    qmin = 0;
    qmax = 2 ** bits - 1;
    for (let c = 0; c < channels; c++) {
      // The range always holds 0 so that exact zeros (pruned weights) stay exact.
      const low = Math.min(lo[c]!, 0);
      const high = Math.max(hi[c]!, 0);
      const scale = Math.max((high - low) / qmax, MIN_SCALE);
      scales[c] = scale;
      zeroPoints[c] = Math.min(qmax, Math.max(qmin, roundHalfEven(-low / scale)));
    }
  }
  const codes = new Int32Array(data.length);
  const values = new Float32Array(data.length);
  let perturbation = 0;
  for (let i = 0; i < data.length; i++) {
    const c = channelOf(i);
    const scale = scales[c]!;
    const zp = zeroPoints[c]!;
    const q = Math.min(qmax, Math.max(qmin, roundHalfEven(data[i]! / scale) + zp));
    codes[i] = q;
    const dq = (q - zp) * scale;
    values[i] = dq;
    // The perturbation of the float32 values a written checkpoint holds.
    const d = values[i]! - data[i]!;
    perturbation += d * d;
  }
  return { bits, scheme, channelAxis, codes, scales, zeroPoints, values, perturbation };
}

/** ‖Q_b(W) − W‖² for each bit width (the perturbation term of HAWQ's Ω). */
export function perturbations(
  data: Float32Array | Float64Array,
  shape: readonly number[],
  channelAxis: number,
  bitWidths: readonly number[],
  scheme: QuantScheme,
  context: ErrorContext = {},
): Map<number, number> {
  const out = new Map<number, number>();
  for (const b of bitWidths) {
    out.set(b, quantizePerChannel(data, shape, channelAxis, b, scheme, context).perturbation);
  }
  return out;
}

/** Distinct values per output channel (for checking a written checkpoint: ≤ 2^b in a b-bit layer). */
export function distinctPerChannel(
  data: Float32Array | Float64Array,
  shape: readonly number[],
  channelAxis: number,
): number[] {
  const { channels, inner } = channelLayout(shape, channelAxis, {});
  const sets = Array.from({ length: channels }, () => new Set<number>());
  for (let i = 0; i < data.length; i++) sets[Math.floor(i / inner) % channels]!.add(data[i]!);
  return sets.map((s) => s.size);
}
