/**
 * Model order of sharded checkpoints: a Hugging Face–shaped sharded safetensors checkpoint (index
 * with sorted keys, each shard's header sorted by name, as transformers writes them) lists and
 * plans its tensors in model order; torch shards come in shard-number order with each pickle's own
 * (state-dict) order; single files keep their stored order.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../lib/formats/index.ts';
import { compareModelOrder } from '../../../lib/formats/model-order.ts';
import { planLayers } from '../../../lib/layer-plan.ts';
import { defaultAnalysisConfig } from '../../../lib/spectral/index.ts';
import { buildSafetensors, jsonBytes } from './builders.ts';
import { FIXTURES_DIR, readExpected } from './fixture-helpers.ts';
import { MemoryObjectOpener } from './memory-opener.ts';

const BLOCK_LAYERS = 12;
const H = 8;

/** A Llama-shaped model's state-dict keys in registration order (what model order must give). */
function llamaModelOrder(): string[] {
  const names = ['model.embed_tokens.weight'];
  for (let l = 0; l < BLOCK_LAYERS; l++) {
    for (const p of ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj']) {
      names.push(`model.layers.${l}.${p}.weight`);
    }
    for (const p of ['mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'])
      names.push(`model.layers.${l}.${p}.weight`);
    names.push(
      `model.layers.${l}.input_layernorm.weight`,
      `model.layers.${l}.post_attention_layernorm.weight`,
    );
  }
  names.push('model.norm.weight', 'lm_head.weight');
  return names;
}

function shapeOf(name: string): number[] {
  if (name.includes('norm')) return [H];
  if (name.includes('embed') || name.startsWith('lm_head')) return [32, H];
  return [H, H];
}

/** Two shards filled in model order, each written sorted by name, and a sorted-key index. */
function shardedLlama(): Record<string, Uint8Array> {
  const order = llamaModelOrder();
  const half = Math.ceil(order.length / 2);
  const shards = [order.slice(0, half), order.slice(half)];
  const files: Record<string, Uint8Array> = {};
  const weightMap: Record<string, string> = {};
  shards.forEach((names, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    files[`ckpt/${file}`] = buildSafetensors(
      [...names].sort().map((name) => ({ name, shape: shapeOf(name) })),
    );
    for (const name of names) weightMap[name] = file;
  });
  const sortedMap = Object.fromEntries(
    Object.keys(weightMap)
      .sort()
      .map((k) => [k, weightMap[k]!]),
  );
  files['ckpt/model.safetensors.index.json'] = jsonBytes({ metadata: {}, weight_map: sortedMap });
  return files;
}

describe('model order', () => {
  it('orders Llama names as the modules are registered, layers numerically', () => {
    const expected = llamaModelOrder();
    const sorted = [...expected].sort();
    expect(sorted).not.toEqual(expected);
    expect([...sorted].sort(compareModelOrder)).toEqual(expected);
    expect([...sorted].reverse().sort(compareModelOrder)).toEqual(expected);
  });

  it('orders experts, routers and other architectures’ blocks', () => {
    const mixtral = [
      'model.layers.0.block_sparse_moe.gate.weight',
      'model.layers.0.block_sparse_moe.experts.0.w1.weight',
      'model.layers.0.block_sparse_moe.experts.0.w3.weight',
      'model.layers.0.block_sparse_moe.experts.0.w2.weight',
      'model.layers.0.block_sparse_moe.experts.2.w1.weight',
      'model.layers.0.block_sparse_moe.experts.10.w1.weight',
    ];
    expect([...mixtral].sort().sort(compareModelOrder)).toEqual(mixtral);
    const gpt2 = [
      'transformer.wte.weight',
      'transformer.wpe.weight',
      'transformer.h.0.attn.c_attn.weight',
      'transformer.h.0.attn.c_proj.weight',
      'transformer.h.0.mlp.c_fc.weight',
      'transformer.h.0.mlp.c_proj.weight',
      'transformer.h.2.attn.c_attn.weight',
      'transformer.h.11.attn.c_attn.weight',
      'transformer.ln_f.weight',
      'lm_head.weight',
    ];
    expect([...gpt2].sort().sort(compareModelOrder)).toEqual(gpt2);
    // A total order: names that are not equal never compare equal.
    expect(compareModelOrder('a.constructor', 'a.toString')).not.toBe(0);
    expect(compareModelOrder('x.01', 'x.1')).not.toBe(0);
  });

  it('lists and plans a sharded safetensors checkpoint in model order', async () => {
    const ckpt = await openCheckpoint(
      'ckpt/model.safetensors.index.json',
      new MemoryObjectOpener(shardedLlama()),
    );
    expect(ckpt.tensors.map((t) => t.name)).toEqual(llamaModelOrder());
    const plan = planLayers(ckpt, { ...defaultAnalysisConfig, minEvals: 2 });
    const ids = new Map(plan.layers.map((l) => [l.name, l.layerId]));
    expect(ids.get('model.embed_tokens.weight')).toBe(0);
    expect(ids.get('model.layers.0.self_attn.q_proj.weight')).toBe(1);
    expect(ids.get('model.layers.0.mlp.down_proj.weight')).toBe(7);
    expect(ids.get('model.layers.10.self_attn.q_proj.weight')).toBe(1 + 10 * 9);
    expect(ids.get('lm_head.weight')).toBe(llamaModelOrder().length - 1);
    const planned = plan.layers.map((l) => l.layerId);
    expect(planned).toEqual([...planned].sort((a, b) => a - b));
  });

  it('reads torch shards in shard-number order, each in its pickle order', async () => {
    const dir = `${FIXTURES_DIR}pytorch/sharded/`;
    const index = JSON.parse(readFileSync(`${dir}pytorch_model.bin.index.json`, 'utf8')) as {
      weight_map: Record<string, string>;
    };
    // Sorted keys as transformers writes them, with the second shard's tensor first.
    const entries = Object.entries(index.weight_map).sort(([a], [b]) =>
      a === '3.bias' ? -1 : b === '3.bias' ? 1 : a < b ? -1 : 1,
    );
    expect(entries[0]![1]).toMatch(/00002-of/);
    const files: Record<string, Uint8Array> = {
      'pt/pytorch_model.bin.index.json': jsonBytes({ metadata: {}, weight_map: Object.fromEntries(entries) }),
    };
    for (const shard of new Set(Object.values(index.weight_map))) {
      files[`pt/${shard}`] = new Uint8Array(readFileSync(`${dir}${shard}`));
    }
    const ckpt = await openCheckpoint('pt/pytorch_model.bin.index.json', new MemoryObjectOpener(files));
    const registration = Object.keys(
      readExpected('pytorch/expected.json')['sharded/pytorch_model.bin.index.json']!,
    );
    expect(ckpt.tensors.map((t) => t.name)).toEqual(registration);
  });

  it('keeps a single safetensors file in its stored order', async () => {
    const names = [
      'lm_head.weight',
      'model.layers.10.mlp.up_proj.weight',
      'model.layers.2.mlp.up_proj.weight',
    ];
    const files = { 'one.safetensors': buildSafetensors(names.map((name) => ({ name, shape: [H, H] }))) };
    const ckpt = await openCheckpoint('one.safetensors', new MemoryObjectOpener(files));
    expect(ckpt.tensors.map((t) => t.name)).toEqual(names);
  });
});
