/**
 * The reader contract every checkpoint format implements. Readers see bytes only through a
 * `RangeReader`, so the same code runs over local files and S3 ranged GETs, and a tensor is
 * decoded without reading anything else.
 */
import type { LayerType, QuantizationInfo } from '../types.ts';
import type { AdapterConfig, LoraModule } from './adapters.ts';

/** Random access to one object's bytes. Implemented by storage/ (file, s3) and by tests (memory). */
export interface RangeReader {
  /** URI of the object, for error messages. */
  readonly uri: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Read exactly `length` bytes at `offset`; rejects with BadInputError past the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** How an object is opened. */
export interface OpenOptions {
  /**
   * A directory URI the object must stay inside after every symlink is resolved (the checkpoint's
   * own directory when a reader follows a reference found in a file). Backends without links (S3)
   * have nothing to check: `siblingUri` already keeps the key under the prefix.
   */
  within?: string;
}

/** Opens sibling objects (shards, external data, sidecars) relative to a checkpoint. */
export interface ObjectOpener {
  open(uri: string, options?: OpenOptions): Promise<RangeReader>;
  /** Whether the object exists (for optional sidecars such as weightlens.json). */
  exists(uri: string): Promise<boolean>;
  /** URIs of the objects under a prefix (recursive). */
  list(prefixUri: string): Promise<string[]>;
}

export type DType =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'F8_E4M3'
  | 'F8_E5M2'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL'
  | 'Q4_0'
  | 'Q4_1'
  | 'Q5_0'
  | 'Q5_1'
  | 'Q8_0'
  | 'Q4_K'
  | 'Q5_K'
  | 'Q6_K';

export interface TensorInfo {
  name: string;
  dtype: DType;
  /** Shape as stored in the file (its own layout). */
  shape: number[];
  /** URI of the object holding the bytes (a shard, an external data file...); never a member URI. */
  uri: string;
  /**
   * The archive member holding the bytes, when they are not a byte range of the object itself (a
   * deflated zip entry): the range is then inside the member's uncompressed bytes. Carried beside
   * the URI, never joined into it: in plain paths and S3 keys `#` is a file-name character.
   */
  member?: string;
  /** Byte range inside that object (or member). */
  byteOffset: number;
  byteLength: number;
  /** Layout of a 4-D kernel as stored: 'OIHW' (torch/ONNX), 'HWIO' (tfjs/Keras), 'OHWI' (TFLite). */
  layout?: KernelLayout;
  quantization?: QuantizationInfo;
}

/** How a convolution kernel's axes are stored (3-D kernels: the same with the height axis dropped). */
export type KernelLayout = 'OIHW' | 'HWIO' | 'OHWI';

export type CheckpointFormat =
  | 'safetensors'
  | 'pytorch'
  | 'gguf'
  | 'onnx'
  | 'tflite'
  | 'keras-h5'
  | 'keras'
  | 'npy'
  | 'npz'
  | 'tfjs';

/** A tensor the layer mapper decided about: analyzed as a layer, or skipped with a reason. */
export interface MappedTensor {
  tensor: TensorInfo;
  layerType: LayerType | 'skipped';
  analyzed: boolean;
  reason?: string;
  /**
   * A fused expert tensor (layerType 'expert', stored (E, rows, cols)): `count` experts, and the
   * one expert a planned layer reads (lib/layer-plan.ts gives each expert its own row).
   */
  experts?: { count: number; index?: number };
  /** A LoRA module (layerType 'lora'): its factor tensors, as found. */
  lora?: LoraModule;
  /**
   * Other names of this analyzed tensor's stored bytes (tied weights, e.g. `lm_head.weight` saved
   * as a view of `model.embed_tokens.weight`): skipped as tied, the matrix is analyzed once.
   */
  tiedWith?: string[];
}

/** What the file itself says about a tensor's role (tfjs class names, ONNX op types...). */
export interface LayerHint {
  /** The op or layer class using the tensor, e.g. 'Conv2D', 'DepthwiseConv2D', 'Dense', 'Gemm', 'Conv'. */
  op: string;
  /** Set for depthwise/grouped convolutions (not analyzed as matrices). */
  depthwise?: boolean;
  /** Whether the tensor is the op's bias (1-D) or weight. */
  role?: 'weight' | 'bias' | 'other';
}

/** A checkpoint opened from its headers alone: its tensor list, and decoding on demand. */
export interface OpenedCheckpoint {
  format: CheckpointFormat;
  /** The checkpoint's URI (a file, or the directory/prefix holding its files). */
  uri: string;
  tensors: TensorInfo[];
  /** Tensor name → what the file says about its role, when the format carries it. */
  layerHints?: Map<string, LayerHint>;
  /**
   * Decode one tensor into floats, in its stored layout (`info.shape`). Reads only
   * `info.byteLength` bytes at `info.byteOffset` of `info.uri`; memory is bounded by the decoded size.
   */
  readTensor(info: TensorInfo): Promise<Float32Array | Float64Array>;
  /**
   * Decode `info[index]` (the index-th slice along the first axis, in stored layout) reading only
   * that slice's bytes. Readers whose tensors are contiguous row-major bytes implement it;
   * without it, slices are cut from a whole `readTensor`.
   */
  readLeadingSlice?(info: TensorInfo, index: number): Promise<Float32Array | Float64Array>;
  /**
   * Rows [start, start + count) of a tensor read by range (memory: those rows), when its rows are
   * contiguous stored bytes; undefined for tensors the reader cannot read that way.
   */
  rowReader?(
    info: TensorInfo,
  ): ((start: number, count: number) => Promise<Float32Array | Float64Array>) | undefined;
  /** adapter_config.json beside a checkpoint with LoRA factors (its scaling), when present. */
  adapter?: AdapterConfig;
  /**
   * The output head tied to the input embedding by config.json beside the weights
   * (tie_word_embeddings: true), with the head absent from the file or holding the same values:
   * the embedding is analyzed once, as both (lib/formats/tied-embeddings.ts).
   */
  tiedHead?: TiedHead;
}

/** An output head that is the input embedding (tie_word_embeddings). */
export interface TiedHead {
  /** The embedding tensor's name, e.g. `model.embed_tokens.weight`. */
  embedding: string;
  /** The head's name, e.g. `lm_head.weight`. */
  head: string;
  /** Whether the file stores the head too (then with the embedding's values). */
  headStored: boolean;
  /** The config.json that ties them. */
  configUri: string;
}

/**
 * What discovery (discover.ts) and layer mapping (layers.ts) know about a format: everything
 * format-specific outside the reader lives here, so adding a format touches only its folder and
 * the registry in index.ts.
 */
export interface FormatDescriptor {
  /** File names that may start a checkpoint of this format (the reader's `detect` then decides). */
  fileNames: RegExp;
  /**
   * Conventional names of "the model" of a directory in this format. When one directory holds the
   * model in several formats under such names, only the most preferred format is analyzed.
   */
  conventionalNames?: RegExp;
  /** Rank for that choice among the formats (lower wins; unique across readers). */
  preference: number;
  /** How 3-D and 4-D kernels are stored when the reader does not say per tensor (`TensorInfo.layout`). */
  kernelLayout: KernelLayout;
  /**
   * Tensor names are state-dict keys: as in WeightWatcher's pystatedict path, only keys ending in
   * `.weight` are layers (buffers such as GPT-2's `attn.bias` mask or `position_ids` are not).
   */
  stateDict: boolean;
  /** Every dtype the reader can produce (derived from its type table). */
  dtypes: readonly DType[];
  /**
   * Given one directory's file names (lower-cased), the names that are parts of this format's
   * checkpoints (shards of an index, a manifest's weight files) rather than checkpoints of their
   * own, and names the listing makes entry points beyond `fileNames` (a tfjs `<stem>.json` beside
   * its `<stem>.bin`).
   */
  directory?(lowerNames: readonly string[]): DirectoryClaims;
}

export interface DirectoryClaims {
  isPart?(lowerName: string): boolean;
  isEntry?(lowerName: string): boolean;
}

/** One format's reader. `detect` is cheap (name + first bytes); `open` reads headers only. */
export interface FormatReader {
  format: CheckpointFormat;
  descriptor: FormatDescriptor;
  detect(uri: string, head: Uint8Array): boolean;
  open(uri: string, opener: ObjectOpener): Promise<OpenedCheckpoint>;
}

/** What is known about a checkpoint besides its tensors (weightlens.json, trainer_state.json). */
export interface CheckpointMetadata {
  family?: string;
  run?: string;
  step?: number;
  epoch?: number;
  /** Measured test accuracy in [0, 1], when known. */
  knownTestAccuracy?: number;
  /** Any other known metrics (eval_loss, ...). */
  knownMetrics?: Record<string, number>;
  /** Everything else the sidecar said (hyperparameters...). */
  extra?: Record<string, unknown>;
}

/** A checkpoint found under a source URI by `discoverCheckpoints` (lib/formats/discover.ts). */
export interface DiscoveredCheckpoint {
  /** URI to pass to `openCheckpoint` (the weights file, index or manifest). */
  uri: string;
  format: CheckpointFormat;
  /** Every object the checkpoint is made of, with sizes. */
  files: { uri: string; size: number }[];
  /** Total bytes of `files`. */
  sizeBytes: number;
  /**
   * Identity of the checkpoint's content for idempotency: a hex digest of the files' sizes and
   * header bytes (cheap, reads no tensor data). Unchanged files give the same hash.
   */
  contentHash: string;
  metadata: CheckpointMetadata;
}
