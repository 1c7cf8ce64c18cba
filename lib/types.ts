/**
 * Contracts between the layers of the analysis library. Readers (lib/formats) produce
 * `LayerWeights`; the spectral and curvature code consumes them. Nothing here does I/O.
 */

/**
 * WeightWatcher's layer types, plus `expert`: one expert's matrix of a fused mixture-of-experts
 * tensor (E, rows, cols), analyzed like a dense matrix; and `lora`: a LoRA module's update
 * ΔW = scale·B·A (lib/formats/adapters.ts); `lora_merged`: with a base checkpoint, the merged
 * W_base + ΔW of a LoRA module (lib/deltas.ts).
 */
export type LayerType = 'dense' | 'conv1d' | 'conv2d' | 'embedding' | 'expert' | 'lora' | 'lora_merged';

/**
 * A weight tensor brought to the canonical layout the spectral code expects.
 * - dense / embedding / conv1d(2-D) / expert: shape [rows, cols] as stored (only singular values matter).
 * - conv2d: shape [kh, kw, in, out] (HWIO, as tfjs/Keras store it); every (p, q) kernel position
 *   is a contiguous in×out block, so slicing needs no copy.
 */
export interface LayerWeights {
  name: string;
  layerType: LayerType;
  shape: number[];
  data: Float32Array | Float64Array;
  /** How the stored values were quantized, if they were (it puts a noise floor in the ESD). */
  quantization?: QuantizationInfo;
  /** Set for a fine-tune delta W − W_base (lib/deltas.ts): ‖ΔW‖_F / ‖W_base‖_F (null for a zero base). */
  deltaNormRatio?: number | null;
  /** A LoRA update: its rank and scale (reported in the row). */
  lora?: { rank: number; scale: number };
  /**
   * A rank-r matrix given by an r×r core C whose singular values are the matrix's nonzero ones
   * (`data` is then C, `shape` the full matrix's); `expand` forms the full matrix when an
   * analysis needs its entries (randomized ESDs).
   */
  lowRank?: { core: Float64Array; rank: number; expand(): Float64Array };
  /**
   * A matrix too tall to hold (N above max_N, AnalysisConfig.aboveMaxN 'gram'): `data` is empty and
   * `solve` streams its row blocks into the small-side Gram matrix and returns that matrix's
   * eigenvalues — run inside the analysis (its compute slot), not when the weights are read.
   */
  gram?: { solve(): Promise<GramSolution> };
  /** Other names of this matrix (tied weights): reported in the row's `tied_with`. */
  tiedWith?: string[];
}

/** The ESD of a matrix analyzed through its streamed Gram matrix (LayerWeights.gram). */
export interface GramSolution {
  /** Ascending eigenvalues of WᵀW (the squared singular values of W). */
  evals: Float64Array;
  /** The eigen-solver ('native-syevd' or 'ts'). */
  backend: 'native-syevd' | 'ts';
  /** For a fine-tune delta streamed against its base: ‖ΔW‖_F / ‖W_base‖_F (null for a zero base). */
  deltaNormRatio?: number | null;
}

export interface QuantizationInfo {
  /** e.g. 'uint8-affine', 'uint16-affine', 'float16', 'bfloat16', 'q4_0', 'q8_0' ... */
  scheme: string;
  scale?: number;
  min?: number;
}
