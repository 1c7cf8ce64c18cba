'use client';
import * as Plot from '@observablehq/plot';
import { PlotFigure } from './plot-figure.tsx';

export interface ScheduleTrendChartPoint {
  x: number;
  y: number;
  isNew: boolean;
  label: string;
}

/** A metric along a watched run's steps; points first seen by the newest run are ringed. */
export function ScheduleTrendChart(props: { points: ScheduleTrendChartPoint[]; yLabel: string }) {
  const { points } = props;
  return (
    <PlotFigure
      caption={`${props.yLabel} by step (ringed: new in the latest run)`}
      testId="chart-schedule-trend"
      options={() => ({
        height: 320,
        x: { label: 'step', grid: true },
        y: { label: props.yLabel, grid: true },
        marks: [
          Plot.line(points, { x: 'x', y: 'y', sort: 'x' }),
          Plot.dot(points, { x: 'x', y: 'y', r: 3, fill: 'currentColor', tip: true, title: 'label' }),
          Plot.dot(
            points.filter((p) => p.isNew),
            { x: 'x', y: 'y', r: 7, stroke: 'crimson', strokeWidth: 2 },
          ),
        ],
      })}
    />
  );
}
