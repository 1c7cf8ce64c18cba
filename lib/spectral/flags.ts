/**
 * Structured layer flags: what a layer's analysis warns about, as a list. WeightWatcher reports
 * them as one `warning` string ("over-trained, correlation-trap"); weightlens keeps that column for
 * parity and stores the list itself (`LayerResult.flags`), and counts from the list — never by
 * comparing the whole text, which misses a flag once a second one is appended.
 */
import { ALPHA_BAND } from '../metrics/registry.ts';

export const LAYER_FLAGS = ['over-trained', 'under-trained', 'correlation-trap'] as const;
export type LayerFlag = (typeof LAYER_FLAGS)[number];

const KNOWN = new Set<string>(LAYER_FLAGS);

export function isLayerFlag(value: unknown): value is LayerFlag {
  return typeof value === 'string' && KNOWN.has(value);
}

/** WeightWatcher's α thresholds (spec §13): below the band over-trained, above it under-trained. */
export function alphaFlags(alpha: number): LayerFlag[] {
  if (alpha < ALPHA_BAND.low) return ['over-trained'];
  if (alpha > ALPHA_BAND.high) return ['under-trained'];
  return [];
}

/** WeightWatcher's `warning` text for a list of flags ('' for none). */
export function formatWarning(flags: readonly LayerFlag[]): string {
  return flags.join(', ');
}

/**
 * The flags a `warning` text names (the inverse of `formatWarning`; also reads rows stored before
 * flags had a column). Unknown parts are dropped: the list holds only flags we count.
 */
export function parseWarning(warning: string | null | undefined): LayerFlag[] {
  if (!warning) return [];
  return warning
    .split(',')
    .map((part) => part.trim())
    .filter(isLayerFlag);
}

/** A stored row's flags: its list when it has one, else parsed from its warning text. */
export function storedFlags(row: { flags?: readonly string[] | null; warning?: string | null }): LayerFlag[] {
  if (row.flags && row.flags.length > 0) return row.flags.filter(isLayerFlag);
  return parseWarning(row.warning);
}

export interface FlagCounts {
  overTrained: number;
  underTrained: number;
  correlationTraps: number;
}

/** How many layers carry each flag (a layer with two flags counts once for each). */
export function countFlags(layers: readonly (readonly LayerFlag[])[]): FlagCounts {
  const has = (flag: LayerFlag) => layers.filter((flags) => flags.includes(flag)).length;
  return {
    overTrained: has('over-trained'),
    underTrained: has('under-trained'),
    correlationTraps: has('correlation-trap'),
  };
}
