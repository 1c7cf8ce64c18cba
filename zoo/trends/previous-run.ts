/**
 * What the trends experiment carries over from, or writes beside, the committed trends.json:
 * the sweep wall times of a re-render, the pretrained half kept by `--keep-pretrained`, and the
 * pretrained section's notes. Reads files only; no pipeline calls.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../lib/errors.ts';
import type { LeaderboardEntry } from './pipeline.ts';
import type { PretrainedSeries, SeriesResult } from './pretrained-series.ts';
import type { ReportContext } from './report.ts';

/** A re-render of stored sweeps keeps the wall times the run that made them recorded. */
export function previousSweepSeconds(
  outDir: string,
  sweeps: Record<string, string | null>,
): Record<string, number> {
  const file = join(outDir, 'trends.json');
  if (!existsSync(file)) return {};
  const previous = JSON.parse(readFileSync(file, 'utf8')) as { sweepSeconds?: Record<string, number> };
  const names = new Set(Object.values(sweeps));
  return Object.fromEntries(Object.entries(previous.sweepSeconds ?? {}).filter(([name]) => names.has(name)));
}

/** Pretrained rows by checkpoint file path (the leaderboard's file:// URI without the scheme). */
export function rowsByPath(rows: LeaderboardEntry[]) {
  return new Map(rows.map((r) => [r.uri.replace(/^file:\/\//, ''), r.metrics]));
}

export function pretrainedNotes(series: PretrainedSeries[], results: SeriesResult[]): string[] {
  const missing = results.flatMap((r) =>
    r.members.filter((m) => m.metrics === null).map((m) => `${r.series}/${m.name}`),
  );
  return [
    `Series: ${series
      .map(
        (s) =>
          `${s.series} (${[...s.members]
            .sort((a, b) => a.quality - b.quality)
            .map((m) => m.name)
            .join(' < ')} by quality)`,
      )
      .join('; ')}.`,
    'Formats: EfficientNet-Lite torch .pth (zip pickles), BlazePose TFLite, MoveNet tfjs graph models, ESRGAN tfjs layers models: all read by the pipeline.',
    'The four ESRGAN series are one architecture family at four scales, not four independent tests.',
    missing.length ? `No pipeline result for: ${missing.join(', ')}.` : 'Every member has a pipeline result.',
  ];
}

const KEPT_NOTE = 'Not re-swept in this run';
/** Earlier wording of the same note (trends.json written before it was reworded). */
const KEPT_NOTE_BEFORE = 'Kept from the run generated on';

/**
 * `--keep-pretrained`: the pretrained series' results of the committed trends.json (a pipeline
 * run) are carried over unchanged, with a note naming the run they come from.
 */
export function keptPretrained(outDir: string): Pick<ReportContext, 'pretrained' | 'pretrainedNotes'> & {
  sweep: string | null;
  seconds: Record<string, number>;
} {
  const file = join(outDir, 'trends.json');
  if (!existsSync(file)) throw new ConfigError(`--keep-pretrained reads ${file}, which does not exist`);
  const previous = JSON.parse(readFileSync(file, 'utf8')) as ReportContext;
  if (previous.source !== 'pipeline' || !previous.pretrained?.length)
    throw new ConfigError(`${file} has no pipeline results of the pretrained series to keep`);
  const sweep = previous.sweeps.pretrained ?? null;
  const seconds = Object.fromEntries(
    Object.entries(previous.sweepSeconds ?? {}).filter(([name]) => name === sweep),
  );
  const notes = (previous.pretrainedNotes ?? []).filter(
    (n) => !n.startsWith(KEPT_NOTE) && !n.startsWith(KEPT_NOTE_BEFORE),
  );
  return {
    sweep,
    seconds,
    pretrained: previous.pretrained,
    pretrainedNotes: [
      ...notes,
      `${KEPT_NOTE} (\`npm run experiment:trends -- --keep-pretrained\`): the results of sweep \`${sweep}\` as the previous trends.json (generated ${previous.generatedAt}) recorded them.`,
    ],
  };
}
