/**
 * The ESD of a matrix too tall to hold (an embedding or head with N above max_N): its small-side
 * Gram matrix G = WᵀW = Σ BᵀB summed over blocks B of whole rows, then G's eigenvalues, which are
 * W's squared singular values. Memory: G (m² float64) and one block. The native addon does both
 * steps (dsyrk, dsyevd) when its build has them; else TypeScript (block Gram, tridiagonal QL in
 * the solver thread). Errors are those of any Gram route: ~N·ε·λmax absolute.
 */
import type { FloatArray } from './gram.ts';
import { addGramOfRows, mirrorUpper } from './gram.ts';
import { symmetricEigenvaluesTs } from './index.ts';
import { loadNativeLinalg, type NativeLinalg } from './native.ts';

export type StreamedGramBackend = 'native-syevd' | 'ts';

export interface GramAccumulator {
  /** The small side (G is m×m). */
  readonly m: number;
  readonly backend: StreamedGramBackend;
  /** Rows summed so far. */
  readonly rows: number;
  /** G += BᵀB for a row-major rows×m block (the block may be reused once this settles). */
  add(block: FloatArray, rows: number): Promise<void>;
  /** Ascending eigenvalues of G, clamped at 0 (G is PSD; round-off can leave tiny negatives). */
  eigenvalues(): Promise<Float64Array>;
}

type NativeGram = Required<Pick<NativeLinalg, 'gramUpdate' | 'symmetricEigenvalues'>>;

function nativeGram(): NativeGram | undefined {
  const native = loadNativeLinalg();
  if (!native?.gramUpdate || !native.symmetricEigenvalues) return undefined;
  return native as NativeGram;
}

/** Whether the native addon can accumulate Gram matrices (a build with gramUpdate). */
export function nativeGramAvailable(): boolean {
  return nativeGram() !== undefined;
}

function clamp(values: Float64Array): Float64Array {
  for (let i = 0; i < values.length; i++) if (values[i]! < 0) values[i] = 0;
  return values;
}

/**
 * A Gram accumulator for matrices with `m` columns: 'auto' = native when available, else 'ts';
 * 'native' where the addon lacks it is an Error.
 */
export function createGramAccumulator(
  m: number,
  backend: 'auto' | StreamedGramBackend = 'auto',
): GramAccumulator {
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`bad Gram size ${m}`);
  const native = backend === 'ts' ? undefined : nativeGram();
  if (backend === 'native-syevd' && !native) throw new Error('the native addon has no gramUpdate');
  const g = new Float64Array(m * m);
  const step = native ? nativeStep(native, g, m) : tsStep(g, m);
  let rows = 0;
  let finished = false;
  return {
    m,
    backend: step.backend,
    get rows() {
      return rows;
    },
    async add(block, count) {
      if (finished) throw new Error('Gram accumulator already solved');
      if (!Number.isInteger(count) || count < 1 || block.length < count * m) {
        throw new RangeError(`block of ${block.length} values is not ${count}×${m}`);
      }
      await step.add(block, count);
      rows += count;
    },
    async eigenvalues() {
      finished = true;
      return clamp(await step.solve());
    },
  };
}

/** How one backend sums a block into G and solves G. */
interface GramStep {
  backend: StreamedGramBackend;
  add(block: FloatArray, count: number): Promise<void>;
  solve(): Promise<Float64Array>;
}

function nativeStep(native: NativeGram, g: Float64Array, m: number): GramStep {
  return {
    backend: 'native-syevd',
    add: (block, count) => native.gramUpdate(g, block, count, m),
    solve: () => native.symmetricEigenvalues(g, m),
  };
}

function tsStep(g: Float64Array, m: number): GramStep {
  // Transposed block (m×count): G's entries are then dot products of contiguous rows.
  let transposed = new Float64Array(0);
  return {
    backend: 'ts',
    async add(block, count) {
      if (transposed.length < m * count) transposed = new Float64Array(m * count);
      for (let r = 0; r < count; r++) {
        const src = r * m;
        for (let c = 0; c < m; c++) transposed[c * count + r] = block[src + c]!;
      }
      addGramOfRows(g, transposed, m, count);
    },
    solve() {
      mirrorUpper(g, m);
      return symmetricEigenvaluesTs(g, m);
    },
  };
}
