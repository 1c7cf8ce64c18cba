'use client';
import * as Plot from '@observablehq/plot';
import { PlotFigure } from './plot-figure.tsx';

export interface ScatterPoint {
  x: number;
  y: number;
  series: string;
  label: string;
}

/** One metric against known accuracy, colored by family; τ and ρ in the caption. */
export function AccuracyScatter(props: { points: ScatterPoint[]; metric: string; caption: string }) {
  const { points } = props;
  return (
    <PlotFigure
      caption={props.caption}
      testId={`chart-accuracy-${props.metric}`}
      options={() => ({
        width: 420,
        height: 300,
        marginLeft: 50,
        x: { label: props.metric, grid: true },
        y: { label: 'known test accuracy', grid: true },
        color: { legend: true },
        marks: [Plot.dot(points, { x: 'x', y: 'y', fill: 'series', r: 3, tip: true, title: 'label' })],
      })}
    />
  );
}
