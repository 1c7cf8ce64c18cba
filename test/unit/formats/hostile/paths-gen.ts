/**
 * Generators of crafted checkpoints whose references try to leave their directory: percent-encoded
 * dot segments (decoded only after the sibling check, when analyzed as a file:// URI) and symlinked
 * shards pointing outside. Each writes into `root`: the checkpoint under `root/ckpt/`, the "secret"
 * file it aims at under `root/`.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSafetensors, jsonBytes } from '../builders.ts';

/** The bytes of the file outside the checkpoint: recognisable, and a valid F32 [4, 4] payload. */
export const SECRET = new TextEncoder().encode('SECRET-OUTSIDE-0123456789abcdefghijklmnopqrstuvwxyz!');
export const SECRET_NAME = 'outside.bin';
/** 18 characters, as long as "external.onnx.data", so the ONNX fixture can be patched in place. */
export const ENCODED_ESCAPE = `%2e%2e/${SECRET_NAME}`;

const ONNX_FIXTURE = fileURLToPath(new URL('../../../fixtures/formats/onnx/external.onnx', import.meta.url));

function prepare(root: string): string {
  const dir = path.join(root, 'ckpt');
  mkdirSync(dir, { recursive: true });
  const secret = new Uint8Array(4096);
  for (let i = 0; i < secret.length; i += SECRET.length) secret.set(SECRET.subarray(0, secret.length - i), i);
  writeFileSync(path.join(root, SECRET_NAME), secret);
  return dir;
}

/** ONNX whose external data location is `%2e%2e/outside.bin` (the fixture's location, patched). */
export function onnxEncodedEscape(root: string): string {
  const dir = prepare(root);
  const bytes = readFileSync(ONNX_FIXTURE);
  const from = Buffer.from('external.onnx.data');
  const to = Buffer.from(ENCODED_ESCAPE);
  if (from.length !== to.length) throw new Error('patch must keep the length');
  let at = bytes.indexOf(from);
  if (at < 0) throw new Error('fixture has no external location to patch');
  while (at >= 0) {
    to.copy(bytes, at);
    at = bytes.indexOf(from, at + 1);
  }
  const file = path.join(dir, 'model.onnx');
  writeFileSync(file, bytes);
  return file;
}

/** tfjs model.json whose one shard path is `%2e%2e/outside.bin`. */
export function tfjsEncodedEscape(root: string): string {
  const dir = prepare(root);
  const file = path.join(dir, 'model.json');
  writeFileSync(
    file,
    jsonBytes({
      format: 'layers-model',
      modelTopology: { class_name: 'Sequential', config: { name: 'net', layers: [] } },
      weightsManifest: [
        { paths: [ENCODED_ESCAPE], weights: [{ name: 'fc/kernel', shape: [4, 4], dtype: 'float32' }] },
      ],
    }),
  );
  return file;
}

/** safetensors index whose weight_map names `%2e%2e/outside.bin`. */
export function safetensorsIndexEncodedEscape(root: string): string {
  const dir = prepare(root);
  const file = path.join(dir, 'model.safetensors.index.json');
  writeFileSync(file, jsonBytes({ metadata: {}, weight_map: { 'fc.weight': ENCODED_ESCAPE } }));
  return file;
}

/** safetensors index whose shard is a symlink to a valid safetensors file outside the directory. */
export function safetensorsSymlinkedShard(root: string): string {
  const dir = prepare(root);
  const target = path.join(root, 'outside.safetensors');
  writeFileSync(
    target,
    buildSafetensors([{ name: 'fc.weight', shape: [4, 4], data: new Float32Array(16).fill(3) }]),
  );
  symlinkSync(target, path.join(dir, 'model-00001-of-00001.safetensors'));
  const file = path.join(dir, 'model.safetensors.index.json');
  writeFileSync(
    file,
    jsonBytes({ metadata: {}, weight_map: { 'fc.weight': 'model-00001-of-00001.safetensors' } }),
  );
  return file;
}
