'use client';
import * as Plot from '@observablehq/plot';
import { PlotFigure } from './plot-figure.tsx';

export interface FrontierDot {
  budget: number;
  avgBits: number;
  bytes: number;
  objective: number;
  /** The point whose plan is the one on the page (same average bits). */
  current: boolean;
}

const title = (p: FrontierDot) =>
  `budget ${p.budget} bits: ${p.avgBits.toFixed(3)} average bits, ${p.bytes} bytes, Ω ${p.objective.toPrecision(4)}`;

/** Size against predicted sensitivity over the stored budget sweep; the page's plan ringed. */
export function PlanFrontierChart(props: { points: FrontierDot[] }) {
  const { points } = props;
  return (
    <PlotFigure
      caption="packed size vs predicted sensitivity, one point per average-bit budget"
      testId="chart-plan-frontier"
      options={() => ({
        width: 640,
        height: 320,
        marginLeft: 60,
        x: { label: 'packed weight bytes', grid: true },
        y: { label: 'predicted sensitivity Σ Ω', grid: true, type: 'symlog' },
        marks: [
          Plot.line(points, { x: 'bytes', y: 'objective', stroke: '#1f5fbf', strokeOpacity: 0.5 }),
          // Two marks with constant radii: a radius channel would go through Plot's r scale.
          Plot.dot(
            points.filter((p) => !p.current),
            { x: 'bytes', y: 'objective', fill: '#1f5fbf', r: 3, tip: true, title },
          ),
          Plot.dot(
            points.filter((p) => p.current),
            { x: 'bytes', y: 'objective', fill: '#d97706', r: 6, tip: true, title },
          ),
        ],
      })}
    />
  );
}
