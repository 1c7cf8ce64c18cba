/**
 * Tied weights (fixtures by test/fixtures/gen/formats_torch_tied.py): a Llama-shaped state dict
 * whose lm_head.weight is a second view of the embedding's storage is analyzed once — the
 * embedding row is marked `tied_with: lm_head.weight`, the head is skipped as tied to it — while
 * an untied copy of the same values is analyzed as its own layer.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeCheckpoint } from '../../../lib/analyze.ts';
import { BadInputError } from '../../../lib/errors.ts';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { mapTensors } from '../../../lib/formats/layers.ts';
import { seededRandom } from '../../../lib/random.ts';
import { defaultAnalysisConfig } from '../../../lib/spectral/index.ts';
import { FileStorage } from '../../../storage/file.ts';
import { buildSafetensors, jsonBytes } from './builders.ts';
import { FIXTURES_DIR } from './fixture-helpers.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

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

function randomMatrix(rows: number, cols: number, seed: number): Float32Array {
  const next = seededRandom(seed);
  return Float32Array.from({ length: rows * cols }, () => next() * 2 - 1);
}

/** A safetensors Llama-shaped file (embedding 96×24, one projection, optionally a head) beside a config.json. */
function llamaSafetensors(
  head: Float32Array | undefined,
  config: Record<string, unknown>,
): MemoryObjectOpener {
  const tensors = [
    { name: 'model.embed_tokens.weight', shape: [96, 24], data: randomMatrix(96, 24, 1) },
    { name: 'model.layers.0.self_attn.q_proj.weight', shape: [24, 24], data: randomMatrix(24, 24, 2) },
  ];
  if (head) tensors.push({ name: 'lm_head.weight', shape: [96, 24], data: head });
  return new MemoryObjectOpener({
    'm/model.safetensors': buildSafetensors(tensors),
    'm/config.json': jsonBytes(config),
  });
}

describe('tie_word_embeddings from config.json', () => {
  const names = (report: { layers: { name: string }[] }) => report.layers.map((r) => r.name);

  it('analyzes the embedding once, marked tied, when the file leaves the tied head out', async () => {
    const opener = llamaSafetensors(undefined, { model_type: 'llama', tie_word_embeddings: true });
    const report = await analyzeCheckpoint('m/model.safetensors', opener, defaultAnalysisConfig);
    expect(names(report)).toEqual(['model.embed_tokens.weight', 'model.layers.0.self_attn.q_proj.weight']);
    expect(report.layers[0]!.tied_with).toBe('lm_head.weight');
    expect(report.layers[1]!.tied_with).toBeUndefined();
  });

  it('skips a stored head with the same values as tied, naming the config', async () => {
    const opener = llamaSafetensors(randomMatrix(96, 24, 1), { tie_word_embeddings: true });
    const report = await analyzeCheckpoint('m/model.safetensors', opener, defaultAnalysisConfig);
    expect(names(report)).not.toContain('lm_head.weight');
    expect(report.layers.find((r) => r.name === 'model.embed_tokens.weight')!.tied_with).toBe(
      'lm_head.weight',
    );
    expect(report.skipped.find((s) => s.layer === 'lm_head.weight')?.reason).toMatch(
      /^tied to model\.embed_tokens\.weight \(tie_word_embeddings in m\/config\.json/,
    );
  });

  it('analyzes both when the stored head differs, or when the config does not tie them', async () => {
    const differs = randomMatrix(96, 24, 1);
    differs[96 * 24 - 1] = 0.5;
    for (const [head, config] of [
      [differs, { tie_word_embeddings: true }],
      [randomMatrix(96, 24, 1), { tie_word_embeddings: false }],
      [randomMatrix(96, 24, 1), {}],
    ] as const) {
      const report = await analyzeCheckpoint(
        'm/model.safetensors',
        llamaSafetensors(head, config),
        defaultAnalysisConfig,
      );
      expect(names(report)).toContain('lm_head.weight');
      expect(report.layers.every((r) => r.tied_with === undefined)).toBe(true);
    }
  });

  it('ties a torch head stored as an equal copy when the config says so', async () => {
    const opener = new MemoryObjectOpener({
      'u/pytorch_model.bin': new Uint8Array(readFileSync(untied)),
      'u/config.json': jsonBytes({ model_type: 'llama', tie_word_embeddings: true }),
    });
    const report = await analyzeCheckpoint('u/pytorch_model.bin', opener, defaultAnalysisConfig);
    expect(names(report)).toEqual([
      'model.embed_tokens.weight',
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.mlp.down_proj.weight',
    ]);
    expect(report.layers[0]!.tied_with).toBe('lm_head.weight');
  });

  it('refuses a tie_word_embeddings that is not a boolean, naming the config', async () => {
    const opener = llamaSafetensors(undefined, { tie_word_embeddings: 'yes' });
    const err = await openCheckpoint('m/model.safetensors', opener).catch((e) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as BadInputError).message).toMatch(/tie_word_embeddings must be true or false/);
    expect((err as BadInputError).context.file).toBe('m/config.json');
  });
});
