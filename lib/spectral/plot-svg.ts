/**
 * One self-contained SVG per layer: the ESD as a density histogram on log-log axes (log-spaced
 * bins), the fitted power law over the tail, xmin marked, and the Marchenko–Pastur density fitted
 * to the bulk. No plotting library: a few hundred bytes of path data per layer.
 */
import { fitMarchenkoPastur } from './mp.ts';
import type { LayerAnalysis } from './types.ts';

const WIDTH = 640;
const HEIGHT = 420;
const MARGIN = { left: 64, right: 16, top: 40, bottom: 48 };
const BINS = 60;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(4) : String(v);
}

/** Marchenko–Pastur density in the layer's own eigenvalue units. */
function mpDensity(lambda: number, sigma: number, q: number, scale2: number): number {
  const x = scale2 * lambda;
  const a = (sigma * (1 - Math.sqrt(1 / q))) ** 2;
  const b = (sigma * (1 + Math.sqrt(1 / q))) ** 2;
  if (x <= a || x >= b) return 0;
  return (scale2 * Math.sqrt((b - x) * (x - a))) / (2 * Math.PI * sigma * sigma * x * (1 / q));
}

export function esdPlotSvg(analysis: LayerAnalysis): string {
  const { metrics, eigenvalues } = analysis;
  const positive = Array.from(eigenvalues).filter((v) => v > 1e-5);
  const title = `${metrics.name} — α=${fmt(metrics.alpha)}, D=${fmt(metrics.D)}, xmin=${fmt(metrics.xmin)}`;
  if (positive.length < 2) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="80"><text x="8" y="40">${escapeXml(title)}: no positive eigenvalues</text></svg>\n`;
  }
  const lo = Math.log10(positive[0]!);
  const hi = Math.log10(positive[positive.length - 1]!) + 1e-9;
  const width = (hi - lo) / BINS || 1;
  const counts = new Array<number>(BINS).fill(0);
  for (const v of positive) counts[Math.min(BINS - 1, Math.floor((Math.log10(v) - lo) / width))]!++;
  const n = eigenvalues.length;
  const bars = counts.map((count, i) => {
    const x0 = 10 ** (lo + i * width);
    const x1 = 10 ** (lo + (i + 1) * width);
    return { x0, x1, density: count / (n * (x1 - x0)) };
  });
  const densities = bars.map((b) => b.density).filter((d) => d > 0);
  const yMin = Math.log10(Math.min(...densities)) - 0.5;
  const yMax = Math.log10(Math.max(...densities)) + 0.5;
  const px = (x: number) =>
    MARGIN.left + ((Math.log10(x) - lo) / (hi - lo)) * (WIDTH - MARGIN.left - MARGIN.right);
  const py = (y: number) =>
    HEIGHT - MARGIN.bottom - ((Math.log10(y) - yMin) / (yMax - yMin)) * (HEIGHT - MARGIN.top - MARGIN.bottom);
  const parts: string[] = [];
  for (const bar of bars) {
    if (bar.density <= 0) continue;
    const top = py(bar.density);
    parts.push(
      `<rect x="${px(bar.x0).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(0.5, px(bar.x1) - px(bar.x0)).toFixed(1)}" height="${(HEIGHT - MARGIN.bottom - top).toFixed(1)}" fill="#6b8cc7" fill-opacity="0.6"/>`,
    );
  }
  // Power law over the tail, normalized to the tail's share of all eigenvalues.
  if (metrics.alpha > 1 && metrics.xmin > 0) {
    const share = metrics.num_pl_spikes / n;
    const xmax = positive[positive.length - 1]!;
    const points: string[] = [];
    for (let i = 0; i <= 40; i++) {
      const x = metrics.xmin * (xmax / metrics.xmin) ** (i / 40);
      const p = share * ((metrics.alpha - 1) / metrics.xmin) * (x / metrics.xmin) ** -metrics.alpha;
      if (Math.log10(p) >= yMin) points.push(`${px(x).toFixed(1)},${py(p).toFixed(1)}`);
    }
    if (points.length > 1)
      parts.push(
        `<polyline points="${points.join(' ')}" fill="none" stroke="#c0392b" stroke-width="2" stroke-dasharray="6 3"/>`,
      );
    parts.push(
      `<line x1="${px(metrics.xmin).toFixed(1)}" x2="${px(metrics.xmin).toFixed(1)}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" stroke="#c0392b"/>`,
      `<text x="${(px(metrics.xmin) + 4).toFixed(1)}" y="${MARGIN.top + 12}" font-size="11" fill="#c0392b">xmin</text>`,
    );
  }
  // Marchenko–Pastur bulk (fitted here when the analysis did not run mp_fit).
  try {
    const mp =
      typeof metrics.sigma_mp === 'number' && typeof metrics.W_scale === 'number' && metrics.sigma_mp > 0
        ? { sigma_mp: metrics.sigma_mp, W_scale: metrics.W_scale }
        : fitMarchenkoPastur(eigenvalues, metrics.N, metrics.M);
    const scale2 = mp.W_scale * mp.W_scale;
    const points: string[] = [];
    for (let i = 0; i <= 200; i++) {
      const x = 10 ** (lo + ((hi - lo) * i) / 200);
      const d = mpDensity(x, mp.sigma_mp, metrics.Q, scale2);
      if (d > 0 && Math.log10(d) >= yMin) points.push(`${px(x).toFixed(1)},${py(d).toFixed(1)}`);
    }
    if (points.length > 1)
      parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="#27ae60" stroke-width="1.5"/>`);
  } catch {
    // No MP overlay for a spectrum the fit cannot handle.
  }
  const ticks: string[] = [];
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) {
    const x = px(10 ** e);
    ticks.push(
      `<text x="${x.toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" font-size="11" text-anchor="middle">1e${e}</text>`,
    );
  }
  for (let e = Math.ceil(yMin); e <= Math.floor(yMax); e++) {
    const y = py(10 ** e);
    ticks.push(
      `<text x="${MARGIN.left - 6}" y="${(y + 4).toFixed(1)}" font-size="11" text-anchor="end">1e${e}</text>`,
    );
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="13">${escapeXml(title)}</text>`,
    ...parts,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${WIDTH - MARGIN.left - MARGIN.right}" height="${HEIGHT - MARGIN.top - MARGIN.bottom}" fill="none" stroke="#333"/>`,
    ...ticks,
    `<text x="${(WIDTH + MARGIN.left) / 2}" y="${HEIGHT - 10}" font-size="12" text-anchor="middle">eigenvalue λ (log)</text>`,
    `<text x="14" y="${HEIGHT / 2}" font-size="12" transform="rotate(-90 14 ${HEIGHT / 2})" text-anchor="middle">density (log)</text>`,
    `<text x="${WIDTH - MARGIN.right - 4}" y="${MARGIN.top + 14}" font-size="11" text-anchor="end"><tspan fill="#c0392b">– – power law</tspan>  <tspan fill="#27ae60">— MP bulk</tspan></text>`,
    '</svg>',
    '',
  ].join('\n');
}
