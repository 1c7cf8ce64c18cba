/**
 * Tied input embedding and output head from the model's config.json: with tie_word_embeddings:
 * true the model's head is its embedding, whether or not the file stores the head (safetensors
 * files from transformers leave a tied head out; a stored one must hold the same values, or the
 * file's head is not the model's and both are analyzed). Only an explicit `true` ties: the
 * default differs by model class. Identity of stored bytes (torch views) is layers.ts's
 * markTiedTensors, without a config.
 */
import { BadInputError } from '../errors.ts';
import { decodeUtf8, isRecord, parseJson } from './checks.ts';
import { rowBlocks } from './row-blocks.ts';
import type { ObjectOpener, OpenedCheckpoint, TensorInfo, TiedHead } from './types.ts';
import { dirname } from './uri.ts';

export const MODEL_CONFIG_NAME = 'config.json';
/** A model config is small; a larger file is not one. */
const MAX_MODEL_CONFIG_BYTES = 4 * 1024 * 1024;
/** The input embedding of a Hugging Face language model. */
const INPUT_EMBEDDING = /(^|\.)(embed_tokens|wte|word_embeddings|tok_embeddings)\.weight$/;
const OUTPUT_HEAD = /(^|\.)lm_head\.weight$/;
/** The head's name when the file leaves a tied head out (transformers' CausalLM head). */
const DEFAULT_HEAD_NAME = 'lm_head.weight';
/** Bytes of each tensor decoded at a time while comparing a stored head with the embedding. */
const COMPARE_BLOCK_BYTES = 4 * 1024 * 1024;

/** tie_word_embeddings of config.json beside `uri` (undefined without the file or the key). */
async function readTieWordEmbeddings(
  uri: string,
  opener: ObjectOpener,
): Promise<{ tie: boolean; configUri: string } | undefined> {
  const dir = dirname(uri);
  const configUri = `${dir.endsWith('/') ? dir : `${dir}/`}${MODEL_CONFIG_NAME}`;
  if (!(await opener.exists(configUri))) return undefined;
  const reader = await opener.open(configUri, { within: dir });
  if (reader.size > MAX_MODEL_CONFIG_BYTES) {
    throw new BadInputError(
      `model config is ${reader.size} bytes, over the ${MAX_MODEL_CONFIG_BYTES}-byte limit`,
      {
        file: configUri,
      },
    );
  }
  const json = parseJson(decodeUtf8(await reader.read(0, reader.size), { file: configUri }), {
    file: configUri,
  });
  if (!isRecord(json)) throw new BadInputError('model config is not a JSON object', { file: configUri });
  const tie = json.tie_word_embeddings;
  if (tie === undefined) return undefined;
  if (typeof tie !== 'boolean') {
    throw new BadInputError(`tie_word_embeddings must be true or false, not ${JSON.stringify(tie)}`, {
      file: configUri,
    });
  }
  return { tie, configUri };
}

function sameStoredBytes(a: TensorInfo, b: TensorInfo): boolean {
  return (
    a.uri === b.uri && a.member === b.member && a.byteOffset === b.byteOffset && a.byteLength === b.byteLength
  );
}

/** Whether two tensors of one shape and dtype hold the same values, decoding a block of rows at a time. */
async function sameValues(ckpt: OpenedCheckpoint, a: TensorInfo, b: TensorInfo): Promise<boolean> {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    return false;
  }
  if (sameStoredBytes(a, b)) return true;
  const rowBytes = Math.max(1, a.byteLength / Math.max(1, a.shape[0]!));
  const blockRows = Math.max(1, Math.floor(COMPARE_BLOCK_BYTES / rowBytes));
  const left = rowBlocks(ckpt, a, blockRows);
  const right = rowBlocks(ckpt, b, blockRows);
  for (;;) {
    const [x, y] = await Promise.all([left.next(), right.next()]);
    if (x.done || y.done) return x.done === y.done;
    const u = x.value.data;
    const v = y.value.data;
    for (let i = 0; i < u.length; i++) if (!Object.is(u[i], v[i])) return false;
  }
}

/**
 * The head tied to the embedding by config.json beside the checkpoint at `uri`, when it says
 * tie_word_embeddings: true and the file has an input embedding whose head is absent or equal.
 * Reads config.json; a stored head at other bytes is compared with the embedding block by block.
 */
export async function findTiedHead(
  ckpt: OpenedCheckpoint,
  uri: string,
  opener: ObjectOpener,
): Promise<TiedHead | undefined> {
  const embedding = ckpt.tensors.find((t) => INPUT_EMBEDDING.test(t.name) && t.shape.length === 2);
  if (!embedding) return undefined;
  const config = await readTieWordEmbeddings(uri, opener);
  if (!config?.tie) return undefined;
  const head = ckpt.tensors.find((t) => OUTPUT_HEAD.test(t.name));
  if (!head)
    return {
      embedding: embedding.name,
      head: DEFAULT_HEAD_NAME,
      headStored: false,
      configUri: config.configUri,
    };
  if (!(await sameValues(ckpt, embedding, head))) return undefined;
  return { embedding: embedding.name, head: head.name, headStored: true, configUri: config.configUri };
}
