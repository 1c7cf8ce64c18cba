/** The ESD plot's data as sent from the server to the chart (plain, serializable). */
export interface EsdBin {
  x1: number;
  x2: number;
  /** Empirical density: count / (n · bin width). */
  density: number;
  count: number;
}

export interface EsdPlotData {
  layerName: string;
  eigenvalueCount: number;
  bins: EsdBin[];
  /** The stored power-law fit drawn over the tail, p(x) ∝ x^−α from xmin (scaled to the tail's share). */
  powerLaw: { x: number; density: number }[];
  alpha: number | null;
  xmin: number | null;
  /** Marchenko–Pastur bulk edge (σ_mp(1 + 1/√Q))², when the MP fit is stored. */
  bulkEdge: number | null;
  lambdaMax: number | null;
}
