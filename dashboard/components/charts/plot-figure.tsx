'use client';
/**
 * Mounts an Observable Plot figure. Plot builds DOM nodes, so it runs only in the browser after
 * render; the server sends plain data and the page stays usable (tables) without JavaScript.
 */
import { useEffect, useRef } from 'react';

export function PlotFigure(props: { caption: string; testId: string; build: () => Element }) {
  const holder = useRef<HTMLDivElement>(null);
  const { build } = props;
  // Rebuilt whenever the parent re-renders with new data (navigation); Plot draws in milliseconds.
  useEffect(() => {
    const node = holder.current;
    if (!node) return;
    const figure = build();
    node.replaceChildren(figure);
    return () => figure.remove();
  }, [build]);
  return (
    <figure className="chart" data-testid={props.testId}>
      <figcaption>{props.caption}</figcaption>
      <div ref={holder} />
    </figure>
  );
}
