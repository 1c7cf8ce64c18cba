/**
 * WeightWatcher's Marchenko–Pastur fit (spec §8): rescale the ESD to unit mean, fit σ of the MP
 * density (quarter circle on singular values when Q = 1) to a linear-kernel KDE by a 195-point grid
 * and a Nelder–Mead finish, then count spikes beyond the bulk edge plus a Tracy–Widom margin.
 */
import { bruteThenFmin, mgrid } from './nelder-mead.ts';

export interface MarchenkoPasturFit {
  num_spikes: number;
  sigma_mp: number;
  mp_softrank: number;
  W_scale: number;
  /** Bulk edges in the layer's own units. */
  bulk_max: number;
  bulk_min: number;
}

const KDE_BANDWIDTH = 0.1;
const KDE_POINTS = 1000;
/** KDE points with density below this are dropped from the residual (WeightWatcher's hack). */
const KDE_THRESHOLD = 0.01;
const BAD_FIT_RESIDUAL = 1000;

/** Linear-kernel KDE (sklearn's normalization: 1/(n·h)) of sorted `values` at `points`. */
function linearKde(sorted: Float64Array, points: Float64Array, h: number): Float64Array {
  const n = sorted.length;
  const density = new Float64Array(points.length);
  let lo = 0;
  for (let p = 0; p < points.length; p++) {
    const t = points[p]!;
    while (lo < n && sorted[lo]! <= t - h) lo++;
    let sum = 0;
    for (let j = lo; j < n && sorted[j]! < t + h; j++) sum += 1 - Math.abs(t - sorted[j]!) / h;
    density[p] = sum / (n * h);
  }
  return density;
}

/** numpy.nan_to_num: NaN → 0, ±inf → ±max float. */
function nanToNum(v: number): number {
  if (Number.isNaN(v)) return 0;
  if (v === Number.POSITIVE_INFINITY) return Number.MAX_VALUE;
  if (v === Number.NEGATIVE_INFINITY) return -Number.MAX_VALUE;
  return v;
}

/** The fit objective Σ(ρ_MP − KDE)² over the KDE points with density > 0.01. */
function mpResidual(sigma: number, q: number, xs: Float64Array, kde: Float64Array, peakX: number): number {
  const n = xs.length;
  if (n === 0) return 0;
  if (q === 1) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = xs[i]!;
      const r = nanToNum((1 / (Math.PI * sigma * sigma)) * Math.sqrt(4 - x * x)) - kde[i]!;
      sum += r * r;
    }
    return sum;
  }
  const y = 1 / q;
  const b = (sigma * (1 + Math.sqrt(1 / q))) ** 2;
  const a = (sigma * (1 - Math.sqrt(1 / q))) ** 2;
  if (b < peakX || b > xs[n - 1]! || a > peakX) return n * BAD_FIT_RESIDUAL * BAD_FIT_RESIDUAL;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    const rho = nanToNum((1 / (2 * Math.PI * sigma * sigma * x * y)) * Math.sqrt((b - x) * (x - a)));
    const r = rho - kde[i]!;
    sum += r * r;
  }
  return sum;
}

/** MP fit of the ascending eigenvalues `evals` of a layer with WeightWatcher's N, M. */
export function fitMarchenkoPastur(evals: Float64Array, N: number, M: number): MarchenkoPasturFit {
  const q = N / M;
  const n = evals.length;
  let total = 0;
  for (const v of evals) total += v;
  const wScale = Math.sqrt(n) / Math.sqrt(total);
  const scale2 = wScale * wScale;
  const x = evals.map((v) => scale2 * v);
  const lambdaMax = x[n - 1]!;
  const toFit = q === 1 ? x.map(Math.sqrt) : x;
  const maxFit = toFit[n - 1]!;
  // KDE on its grid; only points with density > threshold enter the residual.
  const grid = Float64Array.from({ length: KDE_POINTS }, (_, i) =>
    i === KDE_POINTS - 1 ? maxFit + 0.5 : i * ((maxFit + 0.5) / (KDE_POINTS - 1)),
  );
  const density = linearKde(toFit, grid, KDE_BANDWIDTH);
  const goodX: number[] = [];
  const goodY: number[] = [];
  let peakX = 0;
  let peakY = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < KDE_POINTS; i++) {
    if (density[i]! > KDE_THRESHOLD) {
      goodX.push(grid[i]!);
      goodY.push(density[i]!);
      if (density[i]! > peakY) {
        peakY = density[i]!;
        peakX = grid[i]!;
      }
    }
  }
  const xs = Float64Array.from(goodX);
  const kde = Float64Array.from(goodY);
  const s0 = Math.sqrt(lambdaMax / (1 + 1 / Math.sqrt(q)) ** 2);
  const sigmaGrid = mgrid(0.05 * s0, 2.0 * s0, 0.01 * s0);
  const { x: sigma } = bruteThenFmin((s) => mpResidual(s, q, xs, kde, peakX), sigmaGrid);
  const bulkMax = (sigma * (1 + 1 / Math.sqrt(q))) ** 2;
  const bulkMin = (sigma * (1 - 1 / Math.sqrt(q))) ** 2;
  const tracyWidom = (1 / Math.sqrt(q)) * bulkMax ** (2 / 3) * M ** (-2 / 3);
  const edge = bulkMax + Math.sqrt(tracyWidom);
  let spikes = 0;
  for (const v of x) if (v > edge) spikes++;
  return {
    num_spikes: spikes,
    sigma_mp: sigma,
    mp_softrank: bulkMax / lambdaMax,
    W_scale: wScale,
    bulk_max: bulkMax / scale2,
    bulk_min: bulkMin / scale2,
  };
}
