'use client';
import * as Plot from '@observablehq/plot';
import type { EsdPlotData } from '../../view/esd-types.ts';
import { PlotFigure } from './plot-figure.tsx';

/** A layer's ESD on log-log axes: histogram, fitted power law, xmin and the MP bulk edge. */
export function EsdHistogramChart({ esd }: { esd: EsdPlotData }) {
  const densities = esd.bins.map((bin) => bin.density).filter((density) => density > 0);
  // Log scales cannot start bars at 0: they start just below the smallest non-empty bin.
  const floor = densities.length > 0 ? Math.min(...densities) / 2 : 1e-6;
  interface RuleLabel {
    x: number;
    label: string;
    color: string;
    anchor: 'top' | 'bottom';
    dy: number;
  }
  // xmin labelled at the top, the MP edge at the bottom, so close values do not overprint.
  const rules: RuleLabel[] = [
    esd.xmin !== null
      ? { x: esd.xmin, label: `xmin = ${esd.xmin.toPrecision(4)}`, color: '#d97706', anchor: 'top', dy: 8 }
      : null,
    esd.bulkEdge !== null
      ? {
          x: esd.bulkEdge,
          label: `MP edge = ${esd.bulkEdge.toPrecision(4)}`,
          color: '#6a3fb3',
          anchor: 'bottom',
          dy: -8,
        }
      : null,
  ].filter((rule): rule is RuleLabel => rule !== null);
  return (
    <PlotFigure
      caption={`ESD of ${esd.layerName} (${esd.eigenvalueCount} eigenvalues)${esd.alpha !== null ? `, power law α = ${esd.alpha.toFixed(3)}` : ''}`}
      testId="chart-esd"
      options={() => ({
        width: 760,
        height: 360,
        x: { type: 'log', label: 'eigenvalue λ', grid: true },
        y: { type: 'log', label: 'density', grid: true },
        marks: [
          Plot.rect(
            esd.bins.filter((bin) => bin.density > 0),
            { x1: 'x1', x2: 'x2', y1: floor, y2: 'density', fill: '#1f5fbf', fillOpacity: 0.55, inset: 0 },
          ),
          Plot.line(esd.powerLaw, { x: 'x', y: 'density', stroke: '#b3261e', strokeWidth: 2 }),
          Plot.ruleX(rules, { x: 'x', stroke: 'color', strokeDasharray: '5,4', strokeWidth: 1.5 }),
          ...rules.map((rule) =>
            Plot.text([rule.label], {
              x: rule.x,
              frameAnchor: rule.anchor,
              fill: rule.color,
              dx: 4,
              dy: rule.dy,
              textAnchor: 'start',
            }),
          ),
        ],
      })}
    />
  );
}
