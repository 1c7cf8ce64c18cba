/**
 * Synthetic but realistic layer spectra for seeding: a Marchenko–Pastur-like bulk plus a Pareto
 * tail of a chosen α, and the WeightWatcher columns derived from them the way WeightWatcher defines
 * them (norm = Σλ, spectral_norm = λ_max, alpha_weighted = α·log10 λ_max, ...). Used only to fill
 * databases for tests and benchmarks; the dashboard itself never computes metrics.
 */

export interface SyntheticLayer {
  eigenvalues: Float64Array;
  /** MP bulk edge in eigenvalue units (WeightWatcher's bulk_max). */
  bulkMax: number;
  metrics: {
    N: number;
    M: number;
    Q: number;
    numEvals: number;
    alpha: number;
    alphaWeighted: number;
    logNorm: number;
    logSpectralNorm: number;
    spectralNorm: number;
    norm: number;
    stableRank: number;
    logAlphaNorm: number;
    mpSoftrank: number;
    numSpikes: number;
    sigmaMp: number;
    entropy: number;
    D: number;
    xmin: number;
    xmax: number;
    lambdaMax: number;
    numPlSpikes: number;
  };
}

/** One layer of shape N×M (N ≥ M) whose ESD has a power-law tail of exponent `alpha`. */
export function syntheticLayer(random: () => number, N: number, M: number, alpha: number): SyntheticLayer {
  const Q = N / M;
  const sigmaMp = 0.8 + 0.4 * random();
  const bulkMin = (sigmaMp * (1 - 1 / Math.sqrt(Q))) ** 2;
  const bulkMax = (sigmaMp * (1 + 1 / Math.sqrt(Q))) ** 2;
  const tailCount = Math.max(5, Math.round(M * (0.05 + 0.1 * random())));
  const values: number[] = [];
  for (let i = 0; i < M - tailCount; i++) {
    // Squared-sine warp gives the MP-like hump between the bulk edges.
    const u = Math.sin((Math.PI / 2) * random()) ** 2;
    values.push(Math.max(1e-6, bulkMin + (bulkMax - bulkMin) * u));
  }
  const xmin = bulkMax * (1.05 + 0.3 * random());
  for (let i = 0; i < tailCount; i++) values.push(xmin * (1 - random()) ** (-1 / (alpha - 1)));
  values.sort((a, b) => a - b);
  const eigenvalues = Float64Array.from(values);
  const lambdaMax = eigenvalues[eigenvalues.length - 1]!;
  const norm = values.reduce((sum, value) => sum + value, 0);
  const alphaNorm = values.reduce((sum, value) => sum + value ** alpha, 0);
  const probabilities = values.map((value) => value / norm);
  const entropy =
    -probabilities.reduce((sum, p) => sum + (p > 0 ? p * Math.log(p) : 0), 0) / Math.log(values.length);
  const tail = values.filter((value) => value >= xmin);
  return {
    eigenvalues,
    bulkMax,
    metrics: {
      N,
      M,
      Q,
      numEvals: M,
      alpha,
      alphaWeighted: alpha * Math.log10(lambdaMax),
      logNorm: Math.log10(norm),
      logSpectralNorm: Math.log10(lambdaMax),
      spectralNorm: lambdaMax,
      norm,
      stableRank: norm / lambdaMax,
      logAlphaNorm: Math.log10(alphaNorm),
      mpSoftrank: bulkMax / lambdaMax,
      numSpikes: values.filter((value) => value > bulkMax).length,
      // WeightWatcher reports σ_mp of the ESD rescaled to unit mean.
      sigmaMp: sigmaMp * Math.sqrt(values.length / norm),
      entropy,
      D: 0.02 + 0.08 * random(),
      xmin,
      xmax: lambdaMax,
      lambdaMax,
      numPlSpikes: tail.length,
    },
  };
}
