'use client';
import * as Plot from '@observablehq/plot';
import { ALPHA_BAND } from '../../../lib/metrics/display.ts';
import { PlotFigure } from './plot-figure.tsx';

export interface LayerAlphaPoint {
  layerId: number;
  name: string;
  alpha: number;
  /** Which checkpoint the point belongs to (compare page); one series otherwise. */
  series?: string;
}

/** α per layer as dots, with WeightWatcher's 2–6 "well-trained" band shaded. */
export function AlphaByLayerChart(props: {
  points: LayerAlphaPoint[];
  selectedLayerId?: number | null;
  width?: number;
}) {
  const { points, selectedLayerId } = props;
  const multiSeries = points.some((point) => point.series !== undefined);
  return (
    <PlotFigure
      caption="α per layer (band: 2–6, well-trained)"
      testId="chart-alpha-by-layer"
      options={() => ({
        width: props.width ?? 760,
        height: 300,
        marginLeft: 45,
        x: { label: 'layer id' },
        // Keep the whole 2–6 band and a margin in view so 'inside/outside' reads at a glance.
        y: {
          label: 'α',
          grid: true,
          domain: [
            Math.min(ALPHA_BAND.low - 0.5, ...points.map((point) => point.alpha)),
            Math.max(ALPHA_BAND.high + 0.5, ...points.map((point) => point.alpha)),
          ],
        },
        color: multiSeries ? { legend: true } : undefined,
        marks: [
          Plot.rectY([ALPHA_BAND], { y1: 'low', y2: 'high', fill: '#1e7b34', fillOpacity: 0.08 }),
          Plot.ruleY([ALPHA_BAND.low, ALPHA_BAND.high], { stroke: '#1e7b34', strokeDasharray: '4,3' }),
          multiSeries
            ? Plot.line(points, { x: 'layerId', y: 'alpha', stroke: 'series', strokeOpacity: 0.5 })
            : null,
          Plot.dot(points, {
            x: 'layerId',
            y: 'alpha',
            fill: multiSeries
              ? 'series'
              : (point: LayerAlphaPoint) => (point.layerId === selectedLayerId ? '#d97706' : '#1f5fbf'),
            r: (point: LayerAlphaPoint) => (point.layerId === selectedLayerId ? 5 : 3),
            tip: true,
            title: (point: LayerAlphaPoint) => `${point.name}\nα = ${point.alpha.toFixed(3)}`,
          }),
        ],
      })}
    />
  );
}
