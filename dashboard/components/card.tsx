/** One labelled value of a page's summary cards. */
import type { ReactNode } from 'react';

export function Card(props: { label: string; value: ReactNode; testId?: string }) {
  return (
    <div className="card" data-testid={props.testId}>
      <div className="label">{props.label}</div>
      <div className="value">{props.value}</div>
    </div>
  );
}
