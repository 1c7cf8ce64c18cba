/**
 * WeightWatcher's "finger" fixes (spec §6.3): `clip_xmax` refits without the top eigenvalues until
 * α drops by more than `finger_thresh`; `xmin_peak` restricts the xmin search to below 1.5× the
 * peak of the log-ESD (with the `powerlaw` package's semantics, as WeightWatcher needs it).
 */
import { fitPowerLawPackage, fitPowerLawWW, type PowerLawFit } from './fit.ts';

export interface ClippedFit {
  fit: PowerLawFit;
  numFingers: number;
  rawAlpha: number;
}

/** Clipped fits stop once α falls to this (WeightWatcher's min_alpha). */
const CLIP_MIN_ALPHA = 2.0;
const DEFAULT_MAX_FINGERS = 10;

/**
 * `fix_fingers='clip_xmax'` on the ascending fit data (already > 1e-5). WeightWatcher resets
 * `max_fingers` to 10 unless it is ≥ half the eigenvalue count, and tries idx = 2 … max_fingers−1.
 */
export function fitClipXmax(
  data: Float64Array,
  evalCount: number,
  maxFingers: number,
  fingerThresh: number,
): ClippedFit | null {
  const limit = maxFingers < evalCount / 2 ? DEFAULT_MAX_FINGERS : maxFingers;
  const first = fitPowerLawWW(data);
  if (!first) return null;
  // WeightWatcher's loop variable is undefined when the loop is empty, which fails the fit.
  if (limit <= 2) return null;
  let best = first;
  let numFingers = 0;
  let idx = 2;
  for (; idx < limit; idx++) {
    const clipped = fitPowerLawWW(data.subarray(0, Math.max(0, data.length - idx)));
    if (!clipped) return null;
    if (clipped.alpha + fingerThresh < first.alpha) {
      best = clipped;
      numFingers = idx - 1;
      break;
    }
    if (clipped.alpha <= CLIP_MIN_ALPHA) break;
  }
  if (idx === limit) idx--;
  // WeightWatcher then refits without 1–3 more eigenvalues only to log a warning, but a refit on
  // fewer than 2 points throws there and fails the whole fit; mirror that outcome.
  if (data.length - (idx + 3) < 2) return null;
  return { fit: best, numFingers, rawAlpha: first.alpha };
}

/** numpy.histogram's bin index rule for 100 equal bins on [min, max] (last bin closed). */
function histogramPeakLeftEdge(values: Float64Array, bins: number): number {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const step = (hi - lo) / bins;
  const edges = Float64Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * step));
  const counts = new Float64Array(bins);
  const norm = bins / (hi - lo);
  for (const v of values) {
    let index = Math.floor((v - lo) * norm);
    if (index >= bins) index = bins - 1;
    if (v < edges[index]!) index--;
    else if (index !== bins - 1 && v >= edges[index + 1]!) index++;
    counts[index] = counts[index]! + 1;
  }
  let peak = 0;
  for (let i = 1; i < bins; i++) if (counts[i]! > counts[peak]!) peak = i;
  return edges[peak]!;
}

/**
 * `fix_fingers='xmin_peak'`: peak = 10^(left edge of the fullest of 100 log10 bins); candidates in
 * [log10(0.95·peak), xmin_max ?? 1.5·peak]. The lower bound is in log10 units — WeightWatcher's
 * mistake, kept for parity (in practice only the upper bound acts).
 */
export function fitXminPeak(data: Float64Array, xminMax: number | null): PowerLawFit | null {
  if (data.length < 2) return null;
  const peak = 10 ** histogramPeakLeftEdge(data.map(Math.log10), 100);
  const upper = xminMax ?? 1.5 * peak;
  return fitPowerLawPackage(data, [Math.log10(0.95 * peak), upper]);
}
