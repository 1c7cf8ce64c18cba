/**
 * Truncated power law p(x) ∝ x^−α·e^−Λx on [xmin, ∞), fitted at a given xmin by maximum likelihood
 * the way the `powerlaw` package does it (Nelder–Mead from (α_PL, 1/mean), out-of-range parameters
 * scored as likelihood 1e-308 per point). The normalizer needs Γ(1−α, Λ·xmin) with 1−α < 0, computed
 * here by quadrature of ∫₀^∞ exp(a·u − z·eᵘ) du (t = z·eᵘ), which is smooth and fast to converge.
 */
import { fminNelderMead } from './nelder-mead.ts';

const GAUSS_NODES = 8;
const { nodes: GL_NODES, weights: GL_WEIGHTS } = gaussLegendre(GAUSS_NODES);
/** log of the `powerlaw` package's floor likelihood 10**sys.float_info.min_10_exp. */
const LOG_FLOOR_LIKELIHOOD = Math.log(1e-307);

/** Gauss–Legendre nodes and weights on [−1, 1] (Newton on the Legendre polynomial). */
function gaussLegendre(n: number): { nodes: number[]; weights: number[] } {
  const nodes: number[] = [];
  const weights: number[] = [];
  for (let i = 1; i <= n; i++) {
    let x = Math.cos((Math.PI * (i - 0.25)) / (n + 0.5));
    let derivative = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      derivative = (n * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / derivative;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    nodes.push(x);
    weights.push(2 / ((1 - x * x) * derivative * derivative));
  }
  return { nodes, weights };
}

/** ln Γ(a, z) (upper incomplete gamma, unregularized) for a ≤ 0 and z > 0. */
export function logUpperGamma(a: number, z: number): number {
  // Γ(a, z) = z^a ∫₀^∞ exp(a·u − z·eᵘ) du; factor out the value at u = 0, exp(−z).
  const exponent = (u: number): number => a * u - z * Math.expm1(u);
  // Integrate until the integrand is below e^−50 of its start (monotone decreasing for a ≤ 0).
  let upper = 1;
  while (exponent(upper) > -50 && upper < 1e4) upper *= 1.5;
  const panel = 0.25;
  const panels = Math.ceil(upper / panel);
  let sum = 0;
  for (let p = 0; p < panels; p++) {
    const mid = (p + 0.5) * panel;
    for (let i = 0; i < GAUSS_NODES; i++) {
      sum += GL_WEIGHTS[i]! * Math.exp(exponent(mid + 0.5 * panel * GL_NODES[i]!));
    }
  }
  return a * Math.log(z) - z + Math.log(sum * 0.5 * panel);
}

export interface TruncatedPowerLawFit {
  alpha: number;
  Lambda: number;
}

/** TPL maximum-likelihood fit on `tail` (all values ≥ xmin, xmin = the smallest). */
export function fitTruncatedPowerLaw(tail: Float64Array, xmin: number): TruncatedPowerLawFit {
  const n = tail.length;
  let sumLog = 0;
  let sumX = 0;
  let sumLogRatio = 0;
  for (const x of tail) {
    sumLog += Math.log(x);
    sumX += x;
    sumLogRatio += Math.log(x / xmin);
  }
  const negativeLogLikelihood = ([alpha, lambda]: number[]): number => {
    if (!(lambda! > 0 && alpha! > 1)) return -n * LOG_FLOOR_LIKELIHOOD;
    const logC = (1 - alpha!) * Math.log(lambda!) - logUpperGamma(1 - alpha!, lambda! * xmin);
    return -(-alpha! * sumLog - lambda! * sumX + n * logC);
  };
  const start = [1 + n / sumLogRatio, 1 / (sumX / n)];
  const result = fminNelderMead(negativeLogLikelihood, start);
  return { alpha: result.x[0]!, Lambda: result.x[1]! };
}
