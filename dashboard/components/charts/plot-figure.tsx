'use client';
/**
 * Mounts an Observable Plot figure. Plot builds DOM nodes, so it runs only in the browser after
 * render; the server sends plain data and the page stays usable (tables) without JavaScript.
 * Charts give their axes and marks; the frame (width, left margin for tick labels) defaults to
 * the dashboard's full-width chart.
 */
import * as Plot from '@observablehq/plot';
import { useEffect, useRef } from 'react';

const FRAME: Plot.PlotOptions = { width: 900, marginLeft: 55 };

export function PlotFigure(props: { caption: string; testId: string; options: () => Plot.PlotOptions }) {
  const holder = useRef<HTMLDivElement>(null);
  const { options } = props;
  // Rebuilt whenever the parent re-renders with new data (navigation); Plot draws in milliseconds.
  useEffect(() => {
    const node = holder.current;
    if (!node) return;
    const figure = Plot.plot({ ...FRAME, ...options() });
    node.replaceChildren(figure);
    return () => figure.remove();
  }, [options]);
  return (
    <figure className="chart" data-testid={props.testId}>
      <figcaption>{props.caption}</figcaption>
      <div ref={holder} />
    </figure>
  );
}
