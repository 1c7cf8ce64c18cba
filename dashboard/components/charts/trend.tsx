'use client';
import * as Plot from '@observablehq/plot';
import { PlotFigure } from './plot-figure.tsx';

export interface TrendChartPoint {
  x: number;
  y: number;
  series: string;
  label: string;
}

/** A metric against training progress, one line per family (or run). */
export function TrendChart(props: {
  points: TrendChartPoint[];
  xLabel: string;
  yLabel: string;
  logX: boolean;
}) {
  const { points } = props;
  return (
    <PlotFigure
      caption={`${props.yLabel} vs ${props.xLabel}`}
      testId="chart-trend"
      options={() => ({
        height: 380,
        x: { label: props.xLabel, type: props.logX ? 'log' : 'linear', grid: true },
        y: { label: props.yLabel, grid: true },
        color: { legend: true },
        marks: [
          Plot.line(points, { x: 'x', y: 'y', stroke: 'series', sort: 'x' }),
          Plot.dot(points, { x: 'x', y: 'y', fill: 'series', r: 2.5, tip: true, title: 'label' }),
        ],
      })}
    />
  );
}
