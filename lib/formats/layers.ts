/**
 * Layer mapping: which tensors of a checkpoint are weight matrices to analyze, of which layer
 * type, and decoding them into the canonical layout of lib/types.ts. Follows WeightWatcher
 * (shared/notes/weightwatcher-spec.md §3-4): 2-D → dense (embedding by name or hint), 4-D →
 * conv2d, 3-D → conv1d; biases, norms, 1-D and integer tensors are skipped with a reason; fused
 * QKV projections stay one matrix (WW does not split them); depthwise kernels are skipped where the
 * graph marks them, except in ONNX and state dicts, which analyze them as conv2d, as WeightWatcher does.
 * Fused 3-D mixture-of-experts tensors (experts.ts) are `expert` layers, one matrix per expert;
 * LoRA factor pairs (adapters.ts) are one `lora` layer per module, its ΔW = scale·B·A.
 * Size filters (min/max evals) are the spectral code's `layerFilter`, not decided here.
 */
import { BadInputError } from '../errors.ts';
import type { LayerType, LayerWeights, QuantizationInfo } from '../types.ts';
import { checkLoraFactors, loraScale, loraShape, mapLoraModules } from './adapters.ts';
import { isIntegerDType } from './dtypes.ts';
import { expertRowName, isFusedExpertTensor, readSlice } from './experts.ts';
import { formatDescriptor } from './index.ts';
import { loraWeights } from './lora-weights.ts';
import { gatherStrided, rowMajorStrides } from './strided.ts';
import type {
  CheckpointFormat,
  KernelLayout,
  LayerHint,
  MappedTensor,
  OpenedCheckpoint,
  TensorInfo,
  TiedHead,
} from './types.ts';

const EMBEDDING_NAME = /embed|embd|(^|[._/])(wte|wpe|shared)([._/]|$)/i;
const NORM_NAME = /(^|[._/])([a-z_]*norm\d*|ln(_\w+|\d*)|bn\d*)([._/]|$)/i;
const DEPTHWISE_NAME = /depthwise|conv_dw|dw_conv|dwconv/i;
const BIAS_NAME = /(^|[._/])bias$/i;

function skipped(tensor: TensorInfo, reason: string): MappedTensor {
  return { tensor, layerType: 'skipped', analyzed: false, reason };
}

function layerTypeFromHint(hint: LayerHint, rank: number): LayerType | undefined {
  const op = hint.op.toLowerCase();
  if (op.includes('embed')) return 'embedding';
  if (op.includes('conv1d') || (op.includes('conv') && rank === 3)) return 'conv1d';
  if (op.includes('conv') && rank === 4) return 'conv2d';
  if (rank === 2) return 'dense';
  return undefined;
}

/** Decide about one tensor. Exported for readers' tests and the inspect command. */
export function mapTensor(
  tensor: TensorInfo,
  format: CheckpointFormat,
  hint: LayerHint | undefined,
): MappedTensor {
  const rank = tensor.shape.length;
  const name = tensor.name;
  if (hint?.role === 'bias' || BIAS_NAME.test(name)) return skipped(tensor, 'bias');
  // WeightWatcher's ONNX reader analyzes every 4-D initializer, depthwise kernels included (a
  // [C, 1, kh, kw] kernel is a conv2d with M = 1, kept when rf ≥ min_evals); formats it cannot
  // read keep the graph's verdict.
  if (hint?.depthwise && format !== 'onnx') return skipped(tensor, 'depthwise/grouped convolution kernel');
  if (rank < 2) return skipped(tensor, rank === 0 ? 'scalar' : '1-D tensor (bias, norm or scale)');
  if (isIntegerDType(tensor.dtype) && !tensor.quantization) {
    return skipped(tensor, `integer tensor (${tensor.dtype}): indices or shape constants, not weights`);
  }
  if (rank > 4) return skipped(tensor, `${rank}-D tensor: no matrix interpretation`);
  if (!hint && isFusedExpertTensor(tensor)) {
    return { tensor, layerType: 'expert', analyzed: true, experts: { count: tensor.shape[0]! } };
  }
  // State-dict keys (the format's descriptor says): only `.weight` parameters are layers.
  if (formatDescriptor(format).stateDict && !hint && !name.endsWith('.weight') && name.includes('.')) {
    return skipped(tensor, 'not a ".weight" parameter (buffer or fused parameter; WeightWatcher skips it)');
  }
  if (NORM_NAME.test(name) && !hint) return skipped(tensor, 'normalization layer');
  // WeightWatcher reads a state dict without its graph: a depthwise kernel [C, 1, kh, kw] is a conv2d
  // there (N = C, M = 1, rf = kh·kw, kept when rf ≥ min_evals), so state-dict formats analyze it too.
  if (DEPTHWISE_NAME.test(name) && !formatDescriptor(format).stateDict && format !== 'onnx') {
    return skipped(tensor, 'depthwise/grouped convolution kernel');
  }
  if (tensor.shape.some((d) => d < 1)) return skipped(tensor, 'empty tensor');

  let layerType = hint ? layerTypeFromHint(hint, rank) : undefined;
  if (!layerType) {
    if (rank === 2) layerType = EMBEDDING_NAME.test(name) ? 'embedding' : 'dense';
    else if (rank === 3) layerType = 'conv1d';
    else layerType = 'conv2d';
  }
  if (layerType === 'conv2d' && rank !== 4) return skipped(tensor, `conv2d kernel of rank ${rank}`);
  if ((layerType === 'dense' || layerType === 'embedding') && rank !== 2) {
    return skipped(tensor, `${layerType} weight of rank ${rank}`);
  }
  if (layerType === 'conv1d' && rank !== 3 && rank !== 2) {
    return skipped(tensor, `conv1d kernel of rank ${rank}`);
  }
  // WW's pystatedict rule: a first dimension below 2 is not a matrix (e.g. [1, n] class tokens).
  if (rank === 2 && Math.min(tensor.shape[0]!, tensor.shape[1]!) < 2) {
    return skipped(tensor, `degenerate matrix [${tensor.shape.join(', ')}]`);
  }
  return { tensor, layerType, analyzed: true };
}

/** Every tensor of the checkpoint, analyzed or skipped with a reason, in the reader's order. */
export function mapTensors(ckpt: OpenedCheckpoint): MappedTensor[] {
  const mapped = markTiedTensors(
    mapLoraModules(ckpt.tensors.map((t) => mapTensor(t, ckpt.format, ckpt.layerHints?.get(t.name)))),
  );
  return ckpt.tiedHead ? markTiedHead(mapped, ckpt.tiedHead) : mapped;
}

/**
 * A head tied to the embedding by config.json (tie_word_embeddings): the embedding is analyzed
 * once and lists the head in `tiedWith`; a stored head (the same values) is skipped as tied to it.
 */
function markTiedHead(mapped: MappedTensor[], tied: TiedHead): MappedTensor[] {
  const owner = mapped.find((m) => m.tensor.name === tied.embedding);
  if (!owner?.analyzed) return mapped;
  if (!owner.tiedWith?.includes(tied.head)) owner.tiedWith = [...(owner.tiedWith ?? []), tied.head];
  return mapped.map((m) =>
    m.tensor.name === tied.head && m.analyzed
      ? skipped(
          m.tensor,
          `tied to ${tied.embedding} (tie_word_embeddings in ${tied.configUri}, the same values): analyzed once, as that layer`,
        )
      : m,
  );
}

/**
 * Tied weights: analyzed tensors whose stored bytes are the same (same object, member, range,
 * dtype and shape — torch saves a tied `lm_head.weight` as a second view of the embedding's
 * storage). The first is analyzed and lists the others in `tiedWith`; the others are skipped as
 * tied to it, so the matrix is analyzed (and averaged into the summary) once.
 */
export function markTiedTensors(mapped: MappedTensor[]): MappedTensor[] {
  const first = new Map<string, MappedTensor>();
  return mapped.map((m) => {
    if (!m.analyzed || m.lora || m.experts || m.tensor.byteLength === 0) return m;
    const t = m.tensor;
    const key = JSON.stringify([t.uri, t.member ?? null, t.byteOffset, t.byteLength, t.dtype, t.shape]);
    const owner = first.get(key);
    if (!owner) {
      first.set(key, m);
      return m;
    }
    owner.tiedWith = [...(owner.tiedWith ?? []), t.name];
    return skipped(t, `tied to ${owner.tensor.name} (the same stored bytes): analyzed once, as that layer`);
  });
}

/** Stored layout of a tensor's 4-D kernel: what the reader said, else the format's convention. */
export function kernelLayout(tensor: TensorInfo, format: CheckpointFormat): KernelLayout {
  return tensor.layout ?? formatDescriptor(format).kernelLayout;
}

/**
 * Canonical shape of a mapped tensor (without decoding): conv2d → [kh, kw, in, out] (HWIO);
 * conv1d (3-D) → [k, in, out]; dense/embedding as stored.
 */
export function canonicalShape(mapped: MappedTensor, format: CheckpointFormat): number[] {
  const shape = mapped.tensor.shape;
  // One expert's matrix: [rows, cols] as stored.
  if (mapped.layerType === 'expert') return shape.slice(1);
  if (mapped.lora) return loraShape(mapped.lora);
  if (shape.length !== 4 && shape.length !== 3) return [...shape];
  return permutationFor(mapped.tensor, format).map((axis) => shape[axis]!);
}

/**
 * For each canonical axis, the stored axis it comes from. Canonical 4-D is HWIO; canonical 3-D
 * is the same with the height axis dropped ([k, in, out]).
 */
function permutationFor(tensor: TensorInfo, format: CheckpointFormat): number[] {
  const layout = kernelLayout(tensor, format);
  if (tensor.shape.length === 4) {
    if (layout === 'OIHW') return [2, 3, 1, 0];
    if (layout === 'OHWI') return [1, 2, 3, 0];
    return [0, 1, 2, 3];
  }
  if (layout === 'OIHW') return [2, 1, 0]; // [out, in, k] (torch Conv1d)
  if (layout === 'OHWI') return [1, 2, 0]; // [out, k, in]
  return [0, 1, 2]; // [k, in, out] (Keras Conv1D)
}

/** Permute a row-major array: out[canonical index] = data[stored index]. Memory: one copy. */
function permute<T extends Float32Array | Float64Array>(data: T, shape: number[], perm: number[]): T {
  if (perm.every((p, i) => p === i)) return data;
  const strides = rowMajorStrides(shape);
  // The permuted view: each canonical axis walks its stored axis' stride.
  return gatherStrided(
    data,
    perm.map((p) => shape[p]!),
    perm.map((p) => strides[p]!),
  );
}

export function quantizationOf(tensor: TensorInfo): QuantizationInfo | undefined {
  if (tensor.quantization) return tensor.quantization;
  switch (tensor.dtype) {
    case 'F16':
      return { scheme: 'float16' };
    case 'BF16':
      return { scheme: 'bfloat16' };
    case 'F8_E4M3':
      return { scheme: 'float8_e4m3' };
    case 'F8_E5M2':
      return { scheme: 'float8_e5m2' };
    case 'Q4_0':
    case 'Q4_1':
    case 'Q5_0':
    case 'Q5_1':
    case 'Q8_0':
    case 'Q4_K':
    case 'Q5_K':
    case 'Q6_K':
      return { scheme: tensor.dtype.toLowerCase() };
    default:
      return undefined;
  }
}

/**
 * Decode one mapped tensor and bring it to the canonical layout. Memory: the decoded tensor plus
 * one permuted copy for conv kernels stored in another layout.
 */
export async function readLayerWeights(ckpt: OpenedCheckpoint, mapped: MappedTensor): Promise<LayerWeights> {
  const tensor = mapped.tensor;
  if (!mapped.analyzed || mapped.layerType === 'skipped') {
    throw new BadInputError(`tensor is not an analyzed layer (${mapped.reason ?? 'skipped'})`, {
      file: tensor.uri,
      tensor: tensor.name,
    });
  }
  if (mapped.layerType === 'expert') return readExpertWeights(ckpt, mapped);
  if (mapped.lora) {
    const { a, b, rank } = checkLoraFactors(mapped.lora, ckpt.uri);
    const scale = loraScale(ckpt.adapter, mapped.lora.module, rank, ckpt.uri);
    const [aData, bData] = await Promise.all([ckpt.readTensor(a), ckpt.readTensor(b)]);
    return loraWeights(mapped.lora.module, {
      a: aData,
      b: bData,
      inDim: a.shape[1]!,
      outDim: b.shape[0]!,
      rank,
      scale,
    });
  }
  const stored = await ckpt.readTensor(tensor);
  const rank = tensor.shape.length;
  const data =
    rank === 3 || rank === 4 ? permute(stored, tensor.shape, permutationFor(tensor, ckpt.format)) : stored;
  const weights: LayerWeights = {
    name: tensor.name,
    layerType: mapped.layerType,
    shape: canonicalShape(mapped, ckpt.format),
    data,
  };
  const quantization = quantizationOf(tensor);
  if (quantization) weights.quantization = quantization;
  return weights;
}

/** One expert of a fused expert tensor, reading only its slice where the reader can. */
async function readExpertWeights(ckpt: OpenedCheckpoint, mapped: MappedTensor): Promise<LayerWeights> {
  const tensor = mapped.tensor;
  const index = mapped.experts?.index;
  if (index === undefined) {
    throw new BadInputError('a fused expert tensor is analyzed one expert at a time (no expert chosen)', {
      file: tensor.uri,
      tensor: tensor.name,
    });
  }
  const weights: LayerWeights = {
    name: expertRowName(tensor.name, index),
    layerType: 'expert',
    shape: tensor.shape.slice(1),
    data: await readSlice(ckpt, tensor, index),
  };
  const quantization = quantizationOf(tensor);
  if (quantization) weights.quantization = quantization;
  return weights;
}
