'use client';
import * as Plot from '@observablehq/plot';
import { PlotFigure } from './plot-figure.tsx';

export interface HeatmapChartCell {
  step: number;
  layerId: number;
  layerName: string;
  value: number;
}

/** Layer × step heatmap of a layer metric (α by default). */
export function HeatmapChart(props: { cells: HeatmapChartCell[]; metric: string; family: string }) {
  const { cells } = props;
  const layerCount = new Set(cells.map((cell) => cell.layerId)).size;
  const stepCount = new Set(cells.map((cell) => cell.step)).size;
  // Label about ten ticks per axis, whatever the number of bands.
  const stepEvery = Math.max(1, Math.ceil(stepCount / 10));
  const layerEvery = Math.max(1, Math.ceil(layerCount / 20));
  return (
    <PlotFigure
      caption={`${props.metric} per layer and step — ${props.family}`}
      testId="chart-heatmap"
      options={() => ({
        height: Math.min(900, Math.max(220, 8 * layerCount + 60)),
        padding: 0,
        x: {
          label: 'step',
          type: 'band',
          tickFormat: (step: number, index: number) => (index % stepEvery === 0 ? String(step) : ''),
        },
        y: {
          label: 'layer id',
          type: 'band',
          reverse: false,
          tickFormat: (id: number, index: number) => (index % layerEvery === 0 ? String(id) : ''),
        },
        color: { type: 'linear', scheme: 'turbo', legend: true, label: props.metric },
        marks: [
          Plot.cell(cells, {
            x: 'step',
            y: 'layerId',
            fill: 'value',
            inset: 0,
            tip: true,
            title: (cell: HeatmapChartCell) =>
              `${cell.layerName}\nstep ${cell.step}\n${props.metric} = ${cell.value.toFixed(3)}`,
          }),
        ],
      })}
    />
  );
}
