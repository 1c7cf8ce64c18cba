/**
 * Model order of a sharded checkpoint's tensors, for files that do not keep it.
 *
 * A sharded safetensors checkpoint carries no model order anywhere: transformers writes the
 * index's weight_map with sorted keys, and each shard's header is sorted by dtype and name. Sorted
 * names put `lm_head` before `model.*` and `layers.10` before `layers.2`. So the order is derived
 * from the names: dotted segments compared one by one, numbers as numbers, and the module names of
 * standard Hugging Face models ranked in their registration order (embeddings, blocks, final norm,
 * head; within a block self_attn q, k, v, o then mlp gate, up, down). Other names sort naturally
 * between the ranked ones. A torch shard's pickle keeps the state dict's order (the registration
 * order), so torch shards are ordered by their shard number instead (sharded.ts).
 */

/** Registration order of well-known module names among their siblings (lower first). */
const MODULE_RANK: ReadonlyMap<string, number> = new Map(
  Object.entries({
    // Embeddings first.
    embed_tokens: 0,
    tok_embeddings: 0,
    word_embeddings: 0,
    wte: 0,
    embeddings: 0,
    embed_positions: 1,
    position_embeddings: 1,
    wpe: 1,
    token_type_embeddings: 2,
    // Then the blocks (and BERT-style encoder/decoder stacks).
    encoder: 10,
    decoder: 11,
    layers: 12,
    layer: 12,
    h: 12,
    blocks: 12,
    // Within a block: attention, then the MLP (router before experts), then the block's norms.
    self_attn: 20,
    attn: 20,
    attention: 20,
    self: 20,
    q_proj: 21,
    query: 21,
    wq: 21,
    k_proj: 22,
    key: 22,
    wk: 22,
    v_proj: 23,
    value: 23,
    wv: 23,
    o_proj: 24,
    wo: 24,
    cross_attn: 25,
    encoder_attn: 25,
    mlp: 30,
    feed_forward: 30,
    block_sparse_moe: 30,
    intermediate: 30,
    router: 31,
    gate: 31,
    gate_proj: 32,
    w1: 32,
    up_proj: 33,
    w3: 33,
    down_proj: 34,
    w2: 34,
    gate_up_proj: 35,
    experts: 36,
    shared_expert: 37,
    shared_expert_gate: 38,
    output: 45,
    input_layernorm: 46,
    post_attention_layernorm: 47,
    // A parameter's weight before its bias (nn.Linear's registration order).
    weight: 0,
    bias: 1,
    // After the blocks: the final norm, then the head.
    norm: 90,
    final_layernorm: 90,
    ln_f: 90,
    lm_head: 99,
  }),
);
/** Rank of names not in the table (and of numbers): between the blocks' parts and the final norm. */
const UNRANKED = 50;

type SegmentKey = [rank: number, isWord: number, value: number, text: string];

function segmentKey(segment: string): SegmentKey {
  const rank = MODULE_RANK.get(segment);
  if (rank !== undefined) return [rank, 1, 0, segment];
  if (/^\d+$/.test(segment)) return [UNRANKED, 0, Number(segment), segment];
  return [UNRANKED, 1, 0, segment];
}

const naturalText = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });

function compareSegments(a: SegmentKey, b: SegmentKey): number {
  return (
    a[0] - b[0] ||
    a[1] - b[1] ||
    a[2] - b[2] ||
    naturalText.compare(a[3], b[3]) ||
    (a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : 0)
  );
}

function nameKey(name: string): SegmentKey[] {
  return name.split('.').map(segmentKey);
}

function compareKeys(a: readonly SegmentKey[], b: readonly SegmentKey[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareSegments(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Compare two tensor names in model order (a total order: equal only for equal names). */
export function compareModelOrder(a: string, b: string): number {
  return compareKeys(nameKey(a), nameKey(b));
}

/** A copy of `items` sorted into model order by `name` (keys computed once per item). */
export function inModelOrder<T extends { name: string }>(items: readonly T[]): T[] {
  const keyed = items.map((item) => ({ item, key: nameKey(item.name) }));
  keyed.sort((x, y) => compareKeys(x.key, y.key));
  return keyed.map((k) => k.item);
}
