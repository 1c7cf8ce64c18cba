/**
 * Nelder–Mead as scipy.optimize.fmin runs it with its defaults (initial simplex x0·1.05 per
 * coordinate, reflection 1, expansion 2, contraction ½, shrink ½, xatol = fatol = 1e-4,
 * 200·dim iterations and evaluations). WeightWatcher's MP fit and the `powerlaw` package's TPL fit
 * stop at these tolerances, so replaying the same steps is what gives parity with them.
 */

export interface MinimizeResult {
  x: number[];
  fun: number;
  evaluations: number;
}

class EvaluationLimit extends Error {}

export function fminNelderMead(objective: (x: number[]) => number, x0: readonly number[]): MinimizeResult {
  const dim = x0.length;
  const maxIterations = dim * 200;
  const maxEvaluations = dim * 200;
  const tolerance = 1e-4;
  let evaluations = 0;
  const f = (x: number[]): number => {
    if (evaluations >= maxEvaluations) throw new EvaluationLimit();
    evaluations++;
    return objective(x);
  };
  let sim: number[][] = [x0.slice()];
  for (let k = 0; k < dim; k++) {
    const y = x0.slice();
    y[k] = y[k] !== 0 ? 1.05 * y[k]! : 0.00025;
    sim.push(y);
  }
  let fsim = sim.map(() => Number.POSITIVE_INFINITY);
  const order = (): void => {
    // numpy argsort on ≤ 16 elements is an insertion sort: stable.
    const idx = fsim.map((_, i) => i).sort((a, b) => fsim[a]! - fsim[b]! || a - b);
    sim = idx.map((i) => sim[i]!);
    fsim = idx.map((i) => fsim[i]!);
  };
  try {
    for (let k = 0; k <= dim; k++) fsim[k] = f(sim[k]!);
  } catch (err) {
    if (!(err instanceof EvaluationLimit)) throw err;
  }
  order();
  const combine = (a: number, u: number[], b: number, v: number[]): number[] =>
    u.map((ui, i) => a * ui + b * v[i]!);
  let iterations = 1;
  while (evaluations < maxEvaluations && iterations < maxIterations) {
    try {
      let xSpread = 0;
      let fSpread = 0;
      for (let j = 1; j <= dim; j++) {
        for (let i = 0; i < dim; i++) xSpread = Math.max(xSpread, Math.abs(sim[j]![i]! - sim[0]![i]!));
        fSpread = Math.max(fSpread, Math.abs(fsim[0]! - fsim[j]!));
      }
      if (xSpread <= tolerance && fSpread <= tolerance) break;
      const xbar = new Array<number>(dim).fill(0);
      for (let j = 0; j < dim; j++) for (let i = 0; i < dim; i++) xbar[i] = xbar[i]! + sim[j]![i]!;
      for (let i = 0; i < dim; i++) xbar[i] = xbar[i]! / dim;
      const worst = sim[dim]!;
      const xr = combine(2, xbar, -1, worst);
      const fxr = f(xr);
      let shrink = false;
      if (fxr < fsim[0]!) {
        const xe = combine(3, xbar, -2, worst);
        const fxe = f(xe);
        if (fxe < fxr) {
          sim[dim] = xe;
          fsim[dim] = fxe;
        } else {
          sim[dim] = xr;
          fsim[dim] = fxr;
        }
      } else if (fxr < fsim[dim - 1]!) {
        sim[dim] = xr;
        fsim[dim] = fxr;
      } else if (fxr < fsim[dim]!) {
        const xc = combine(1.5, xbar, -0.5, worst);
        const fxc = f(xc);
        if (fxc <= fxr) {
          sim[dim] = xc;
          fsim[dim] = fxc;
        } else shrink = true;
      } else {
        const xcc = combine(0.5, xbar, 0.5, worst);
        const fxcc = f(xcc);
        if (fxcc < fsim[dim]!) {
          sim[dim] = xcc;
          fsim[dim] = fxcc;
        } else shrink = true;
      }
      if (shrink) {
        for (let j = 1; j <= dim; j++) {
          const best = sim[0]!;
          sim[j] = sim[j]!.map((v, i) => best[i]! + 0.5 * (v - best[i]!));
          fsim[j] = f(sim[j]!);
        }
      }
    } catch (err) {
      if (!(err instanceof EvaluationLimit)) throw err;
    }
    iterations++;
    order();
  }
  return { x: sim[0]!, fun: fsim[0]!, evaluations };
}

/** numpy.mgrid[start:stop:step] for floats: ceil((stop − start)/step) points start + i·step. */
export function mgrid(start: number, stop: number, step: number): number[] {
  const size = Math.ceil((stop - start) / step);
  return Array.from({ length: Math.max(0, size) }, (_, i) => i * step + start);
}

/** scipy.optimize.brute over a 1-D grid, finished by fmin from the best grid point. */
export function bruteThenFmin(objective: (x: number) => number, grid: number[]): { x: number; fun: number } {
  let best = 0;
  let bestValue = Number.POSITIVE_INFINITY;
  grid.forEach((x, i) => {
    const value = objective(x);
    // numpy argmin: first minimum; NaN counts as the minimum.
    if (value < bestValue || (Number.isNaN(value) && !Number.isNaN(bestValue))) {
      bestValue = value;
      best = i;
    }
  });
  const finished = fminNelderMead((x) => objective(x[0]!), [grid[best]!]);
  return { x: finished.x[0]!, fun: finished.fun };
}
