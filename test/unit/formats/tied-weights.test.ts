/**
 * Tied weights (fixtures by test/fixtures/gen/formats_torch_tied.py): a Llama-shaped state dict
 * whose lm_head.weight is a second view of the embedding's storage is analyzed once — the
 * embedding row is marked `tied_with: lm_head.weight`, the head is skipped as tied to it — while
 * an untied copy of the same values is analyzed as its own layer.
 */
import { describe, expect, it } from 'vitest';
import { analyzeCheckpoint } from '../../../lib/analyze.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { mapTensors } from '../../../lib/formats/layers.ts';
import { defaultAnalysisConfig } from '../../../lib/spectral/index.ts';
import { FileStorage } from '../../../storage/file.ts';
import { FIXTURES_DIR } from './fixture-helpers.ts';

const tied = `${FIXTURES_DIR}pytorch/tied/pytorch_model.bin`;
const untied = `${FIXTURES_DIR}pytorch/untied/pytorch_model.bin`;

describe('tied weights', () => {
  it('maps a tied head as skipped, the embedding as analyzed and tied with it', async () => {
    const mapped = mapTensors(await openCheckpoint(tied, new FileStorage()));
    const embed = mapped.find((m) => m.tensor.name === 'model.embed_tokens.weight')!;
    const head = mapped.find((m) => m.tensor.name === 'lm_head.weight')!;
    expect(embed.analyzed).toBe(true);
    expect(embed.tiedWith).toEqual(['lm_head.weight']);
    expect(head.analyzed).toBe(false);
    expect(head.reason).toMatch(/^tied to model\.embed_tokens\.weight/);
  });

  it('analyzes the tied matrix once and marks its row', async () => {
    const report = await analyzeCheckpoint(tied, new FileStorage(), defaultAnalysisConfig);
    expect(report.layers.map((r) => r.name)).toEqual([
      'model.embed_tokens.weight',
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.mlp.down_proj.weight',
    ]);
    expect(report.layers[0]!.tied_with).toBe('lm_head.weight');
    expect(report.layers[1]!.tied_with).toBeUndefined();
    expect(report.skipped.find((s) => s.layer === 'lm_head.weight')?.reason).toMatch(/tied to/);
  });

  it('analyzes an untied copy of the same values as its own layer', async () => {
    const report = await analyzeCheckpoint(untied, new FileStorage(), defaultAnalysisConfig);
    const names = report.layers.map((r) => r.name);
    expect(names).toContain('lm_head.weight');
    expect(names).toContain('model.embed_tokens.weight');
    const alpha = (n: string) => report.layers.find((r) => r.name === n)!.alpha;
    expect(alpha('lm_head.weight')).toBe(alpha('model.embed_tokens.weight'));
    expect(report.layers.every((r) => r.tied_with === undefined)).toBe(true);
  });
});
