/**
 * Hugging Face shard indexes (`*.safetensors.index.json`, `pytorch_model.bin.index.json`):
 * {"metadata": {...}, "weight_map": {"tensor name": "shard file name"}}.
 */
import { BadInputError } from '../../errors.ts';
import { decodeUtf8, isRecord, parseJson, type ReaderCache } from '../checks.ts';
import { inModelOrder } from '../model-order.ts';
import type { RangeReader, TensorInfo } from '../types.ts';

/** An index is a small JSON file; anything this large is not one. */
export const MAX_INDEX_BYTES = 64 * 1024 * 1024;

export interface ShardIndex {
  /** Shard file names in first-appearance order. */
  shards: string[];
  tensorsByShard: Map<string, Set<string>>;
  metadata: Record<string, unknown>;
}

export async function readShardIndex(reader: RangeReader): Promise<ShardIndex> {
  const file = reader.uri;
  if (reader.size > MAX_INDEX_BYTES) {
    throw new BadInputError(`shard index is ${reader.size} bytes, over the ${MAX_INDEX_BYTES}-byte limit`, {
      file,
    });
  }
  const json = parseJson(
    decodeUtf8(await reader.read(0, reader.size), { file }),
    { file },
    'shard index JSON',
  );
  if (!isRecord(json) || !isRecord(json.weight_map)) {
    throw new BadInputError('shard index has no "weight_map" object', { file });
  }
  const tensorsByShard = new Map<string, Set<string>>();
  for (const [tensor, shard] of Object.entries(json.weight_map)) {
    if (typeof shard !== 'string') {
      throw new BadInputError('weight_map value is not a file name', { file, tensor });
    }
    let set = tensorsByShard.get(shard);
    if (!set) {
      set = new Set();
      tensorsByShard.set(shard, set);
    }
    set.add(tensor);
  }
  if (tensorsByShard.size === 0) throw new BadInputError('shard index lists no tensors', { file });
  return {
    shards: [...tensorsByShard.keys()],
    tensorsByShard,
    metadata: isRecord(json.metadata) ? json.metadata : {},
  };
}

/**
 * How a sharded checkpoint's tensors come out in model order (the index's key order is sorted, so
 * it is not): 'names' sorts them by name (model-order.ts; safetensors, whose files are sorted by
 * name too), 'shards' reads the shards in shard-number order and keeps each shard's own order
 * (torch shards: pickles in state-dict order, filled one after another).
 */
export type ShardedModelOrder = 'names' | 'shards';

const shardNumberOrder = new Intl.Collator('en', { numeric: true });

/**
 * The tensors of the sharded checkpoint indexed by `uri`: each shard's tensors (read by
 * `readShard`) that the index maps to it, in model order (`order`). A tensor the index maps to a
 * shard that does not hold it is an error naming both.
 */
export async function readShardedTensors(
  uri: string,
  readers: ReaderCache,
  readShard: (reader: RangeReader) => Promise<TensorInfo[]>,
  order: ShardedModelOrder,
): Promise<TensorInfo[]> {
  const index = await readShardIndex(await readers.get(uri));
  const shards = order === 'shards' ? [...index.shards].sort(shardNumberOrder.compare) : index.shards;
  const tensors: TensorInfo[] = [];
  for (const shardName of shards) {
    const shardTensors = await readShard((await readers.sibling(uri, shardName, { file: uri })).reader);
    const wanted = index.tensorsByShard.get(shardName)!;
    const found = new Set(shardTensors.map((t) => t.name));
    for (const name of wanted) {
      if (!found.has(name)) {
        throw new BadInputError(`index maps the tensor to shard "${shardName}", which does not contain it`, {
          file: uri,
          tensor: name,
        });
      }
    }
    tensors.push(...shardTensors.filter((t) => wanted.has(t.name)));
  }
  return order === 'names' ? inModelOrder(tensors) : tensors;
}
