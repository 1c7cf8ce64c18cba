/**
 * Reads a layer's stored eigenvalues (lib/esd-artifact.ts, written by the pipeline) through the
 * project's storage adapters and turns them into plot data: a log-binned histogram (presentation
 * only) and the *stored* power-law fit drawn over it. No metric is recomputed here.
 */
import type { LayerRow } from '../../db/dashboard/checkpoint.ts';
import { decodeEsd, esdValueCount } from '../../lib/esd-artifact.ts';
import { createStorage, type Storage } from '../../storage/index.ts';
import type { EsdBin, EsdPlotData } from './esd-types.ts';

const BIN_COUNT = 60;

let storage: Storage | undefined;

export interface StoredLayerFit {
  layerName: string;
  esdUri: string;
  alpha: number | null;
  xmin: number | null;
  sigmaMp: number | null;
  Q: number | null;
  lambdaMax: number | null;
  mpSoftrank: number | null;
  /** WeightWatcher's bulk_max when the pipeline stored it in `metrics`. */
  storedBulkMax: number | null;
}

/** What the page plots over a layer's stored eigenvalues (at `esdUri`): its stored fit, recomputing nothing. */
export function storedLayerFit(layer: LayerRow, esdUri: string): StoredLayerFit {
  const storedBulkMax = layer.extra.bulk_max;
  return {
    layerName: layer.layerName,
    esdUri,
    alpha: layer.values.alpha,
    xmin: layer.values.xmin,
    sigmaMp: layer.values.sigma_mp,
    Q: layer.values.Q,
    lambdaMax: layer.values.lambda_max,
    mpSoftrank: layer.values.mp_softrank,
    storedBulkMax: typeof storedBulkMax === 'number' ? storedBulkMax : null,
  };
}

export async function readEigenvalues(uri: string): Promise<Float64Array> {
  storage ??= createStorage();
  const reader = await storage.open(uri);
  esdValueCount(reader.size, uri);
  return decodeEsd(await reader.read(0, reader.size), uri);
}

/** Log-spaced histogram of the positive eigenvalues, density-normalized over all of them. */
export function logHistogram(
  eigenvalues: Float64Array,
  // About 2√n bins (at most 60): enough resolution without empty-bin noise for small layers.
  binCount = Math.max(8, Math.min(BIN_COUNT, Math.round(2 * Math.sqrt(eigenvalues.length)))),
): EsdBin[] {
  let low = Number.POSITIVE_INFINITY;
  let high = 0;
  let positive = 0;
  for (const value of eigenvalues) {
    if (!(value > 0) || !Number.isFinite(value)) continue;
    positive++;
    if (value < low) low = value;
    if (value > high) high = value;
  }
  if (positive === 0) return [];
  if (high === low) high = low * 1.0001;
  const logLow = Math.log10(low);
  const step = (Math.log10(high) - logLow) / binCount;
  const counts = new Array<number>(binCount).fill(0);
  for (const value of eigenvalues) {
    if (!(value > 0) || !Number.isFinite(value)) continue;
    const bin = Math.min(binCount - 1, Math.floor((Math.log10(value) - logLow) / step));
    counts[bin]!++;
  }
  return counts.map((count, index) => {
    const x1 = 10 ** (logLow + index * step);
    const x2 = 10 ** (logLow + (index + 1) * step);
    return { x1, x2, count, density: count / (eigenvalues.length * (x2 - x1)) };
  });
}

/**
 * MP bulk edge in eigenvalue units. WeightWatcher fits σ_mp on the ESD rescaled to unit mean, so:
 * the stored bulk_max if present, else mp_softrank·λ_max (its definition), else
 * (σ_mp(1 + 1/√Q))² · mean(λ).
 */
export function bulkEdge(
  fit: Pick<StoredLayerFit, 'storedBulkMax' | 'sigmaMp' | 'Q' | 'mpSoftrank' | 'lambdaMax'>,
  eigenvalueMean: number | null,
): number | null {
  if (fit.storedBulkMax !== null && Number.isFinite(fit.storedBulkMax) && fit.storedBulkMax > 0) {
    return fit.storedBulkMax;
  }
  if (fit.mpSoftrank !== null && fit.lambdaMax !== null && fit.mpSoftrank > 0)
    return fit.mpSoftrank * fit.lambdaMax;
  if (fit.sigmaMp === null || fit.Q === null || !(fit.Q > 0) || eigenvalueMean === null) return null;
  return (fit.sigmaMp * (1 + 1 / Math.sqrt(fit.Q))) ** 2 * eigenvalueMean;
}

export function esdPlotData(fit: StoredLayerFit, eigenvalues: Float64Array): EsdPlotData {
  const bins = logHistogram(eigenvalues);
  const powerLaw: EsdPlotData['powerLaw'] = [];
  const { alpha, xmin } = fit;
  if (alpha !== null && xmin !== null && alpha > 1 && xmin > 0 && eigenvalues.length > 0) {
    // p(x) = (α−1)/xmin · (x/xmin)^−α for x ≥ xmin, times the share of eigenvalues in the tail.
    const tailShare = eigenvalues.filter((value) => value >= xmin).length / eigenvalues.length;
    const top = fit.lambdaMax ?? eigenvalues[eigenvalues.length - 1]!;
    const points = 40;
    for (let index = 0; index <= points; index++) {
      const x = xmin * (Math.max(top, xmin * 1.01) / xmin) ** (index / points);
      powerLaw.push({ x, density: tailShare * ((alpha - 1) / xmin) * (x / xmin) ** -alpha });
    }
  }
  return {
    layerName: fit.layerName,
    eigenvalueCount: eigenvalues.length,
    bins,
    powerLaw,
    alpha,
    xmin,
    bulkEdge: bulkEdge(
      fit,
      eigenvalues.length > 0 ? eigenvalues.reduce((sum, value) => sum + value, 0) / eigenvalues.length : null,
    ),
    lambdaMax: fit.lambdaMax,
  };
}
