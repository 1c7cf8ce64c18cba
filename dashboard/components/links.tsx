/** Links to the pages of one checkpoint and one sweep, written once. */
import Link from 'next/link';
import type { ReactNode } from 'react';
import { hrefWith } from '../view/url.ts';

/** A checkpoint's page, under one analysis config when given. */
export function CheckpointLink(props: {
  id: string;
  config?: string | null;
  testId?: string;
  children: ReactNode;
}) {
  return (
    <Link
      prefetch={false}
      href={hrefWith(`/checkpoints/${encodeURIComponent(props.id)}`, { config: props.config })}
      data-testid={props.testId}
    >
      {props.children}
    </Link>
  );
}

export function SweepLink(props: { id: string; children: ReactNode }) {
  return (
    <Link prefetch={false} href={`/sweeps/${encodeURIComponent(props.id)}`}>
      {props.children}
    </Link>
  );
}
