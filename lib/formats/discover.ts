/**
 * Checkpoint discovery: a file, a directory or an S3 prefix → the checkpoints in it, each with its
 * files, a cheap content hash and its metadata (weightlens.json sidecar, HF trainer_state.json).
 * A directory of checkpoint subdirectories (a model zoo) yields one checkpoint per subdirectory;
 * sidecars of parent directories apply to everything below them (nearer ones win).
 */
import { createHash } from 'node:crypto';
import { BadInputError, WeightlensError } from '../errors.ts';
import { mapLimited } from './concurrency.ts';
import { headCachingOpener } from './header-cache.ts';
import { DETECT_HEAD_BYTES, detectFormat, formatReaders, openCheckpoint } from './index.ts';
import { readSidecarMetadata } from './metadata.ts';
import type { DiscoveredCheckpoint, FormatReader, ObjectOpener, OpenedCheckpoint } from './types.ts';
import { basename, dirname } from './uri.ts';

/** Bytes of each file's start and end hashed into contentHash (headers, zip central directories). */
const HASH_HEAD_BYTES = 64 * 1024;
const HASH_TAIL_BYTES = 4 * 1024;

/** Checkpoints described at once (each is a few small reads: overlapping them matters on S3). */
const DESCRIBE_CONCURRENCY = 8;

/** Files written next to weights by training loops that are not model weights. */
const AUXILIARY_FILE =
  /^(optimizer\.pt|scheduler\.pt|scaler\.pt|training_args\.bin|rng_state.*\.pth|trainer_state\.json|weightlens\.json|config\.json|generation_config\.json|tokenizer.*|special_tokens_map\.json|vocab\..*|merges\.txt)$/i;

export interface DiscoverOptions {
  /** Called with each checkpoint's opened headers (e.g. to cache them for the analysis that follows). */
  onOpened?: (checkpoint: DiscoveredCheckpoint, opened: OpenedCheckpoint) => void;
}

/** Find the checkpoints under `sourceUri` (sorted by uri). */
export async function discoverCheckpoints(
  sourceUri: string,
  sourceOpener: ObjectOpener,
  options: DiscoverOptions = {},
): Promise<DiscoveredCheckpoint[]> {
  // Detection, header parse and content hash read the same first bytes: one request per object.
  const opener = headCachingOpener(sourceOpener);
  try {
    return await discoverIn(sourceUri, opener, options);
  } finally {
    opener.release();
  }
}

async function discoverIn(
  sourceUri: string,
  opener: ObjectOpener,
  options: DiscoverOptions,
): Promise<DiscoveredCheckpoint[]> {
  if (await opener.exists(sourceUri)) {
    const checkpoint = await describeCheckpoint(sourceUri, opener, dirname(sourceUri), options);
    if (!checkpoint) {
      throw new BadInputError('not a recognized checkpoint file', { file: sourceUri });
    }
    return [checkpoint];
  }
  const files = await opener.list(sourceUri);
  if (files.length === 0) throw new BadInputError('no such file, directory or prefix', { file: sourceUri });
  const root = sourceUri.endsWith('/') ? sourceUri.slice(0, -1) : sourceUri;
  const byDirectory = new Map<string, string[]>();
  for (const uri of files) {
    const dir = dirname(uri);
    const list = byDirectory.get(dir) ?? [];
    list.push(uri);
    byDirectory.set(dir, list);
  }
  // The listing already says which sidecars exist: no HEAD request per directory and checkpoint.
  const listed = new Set(files);
  const listedOpener: ObjectOpener = {
    open: (uri, openOptions) => opener.open(uri, openOptions),
    list: (prefix) => opener.list(prefix),
    exists: async (uri) => (uri.startsWith(`${root}/`) ? listed.has(uri) : opener.exists(uri)),
  };
  const entries: EntryPoint[] = [];
  for (const dirFiles of byDirectory.values()) entries.push(...(await entryPoints(dirFiles, listedOpener)));
  const described = await mapLimited(entries, DESCRIBE_CONCURRENCY, (entry) =>
    describeCheckpoint(entry.uri, listedOpener, root, options, entry.reader),
  );
  const found = described.filter((c): c is DiscoveredCheckpoint => c !== undefined);
  return found.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
}

interface EntryPoint {
  uri: string;
  reader: FormatReader;
}

/**
 * The files of one directory that start a checkpoint: names some reader's descriptor claims,
 * minus auxiliary files and the parts (shards, weight files) of other entries, detected by head.
 */
async function entryPoints(dirFiles: string[], opener: ObjectOpener): Promise<EntryPoint[]> {
  const lowerNames = dirFiles.map((uri) => basename(uri).toLowerCase());
  const claims = formatReaders.map((r) => r.descriptor.directory?.(lowerNames) ?? {});
  const entries: EntryPoint[] = [];
  for (const uri of dirFiles) {
    const name = basename(uri);
    const lower = name.toLowerCase();
    const candidate =
      formatReaders.some((r) => r.descriptor.fileNames.test(name)) || claims.some((c) => c.isEntry?.(lower));
    if (!candidate || AUXILIARY_FILE.test(name)) continue;
    if (claims.some((c) => c.isPart?.(lower))) continue;
    const reader = await detectReader(uri, opener);
    if (reader) entries.push({ uri, reader });
  }
  return preferOneFormat(entries);
}

/**
 * When one directory holds the same model in several formats under the conventional names (a zoo
 * checkpoint with model.safetensors and model.json, an HF repo with model.safetensors and
 * pytorch_model.bin), the most preferred format is analyzed and the others skipped.
 */
function preferOneFormat(entries: EntryPoint[]): EntryPoint[] {
  const isConventional = (e: EntryPoint) =>
    e.reader.descriptor.conventionalNames?.test(basename(e.uri)) ?? false;
  const conventional = entries.filter(isConventional);
  if (new Set(conventional.map((e) => e.reader.format)).size <= 1) return entries;
  const rank = (e: EntryPoint) => e.reader.descriptor.preference;
  const best = Math.min(...conventional.map(rank));
  return entries.filter((e) => !isConventional(e) || rank(e) === best);
}

async function detectReader(uri: string, opener: ObjectOpener): Promise<FormatReader | undefined> {
  const reader = await opener.open(uri);
  const head = await reader.read(0, Math.min(reader.size, DETECT_HEAD_BYTES));
  return detectFormat(uri, head);
}

/**
 * Describe one checkpoint: its files (from its tensors' URIs, so shards and external data count),
 * content hash and metadata. Returns undefined when no reader claims the file. A checkpoint whose
 * headers are broken is still returned (files = the entry file alone), so the pipeline records
 * its error instead of the whole discovery failing.
 */
async function describeCheckpoint(
  uri: string,
  opener: ObjectOpener,
  root: string,
  options: DiscoverOptions,
  known?: FormatReader,
): Promise<DiscoveredCheckpoint | undefined> {
  const format = known ?? (await detectReader(uri, opener));
  if (!format) return undefined;
  const fileUris = new Set<string>([uri]);
  let opened: OpenedCheckpoint | undefined;
  try {
    opened = await openCheckpoint(uri, opener);
    for (const t of opened.tensors) fileUris.add(t.uri);
  } catch (err) {
    if (!(err instanceof WeightlensError)) throw err;
  }
  const files: { uri: string; size: number }[] = [];
  const hash = createHash('sha256');
  const checkpointDir = dirname(uri);
  for (const fileUri of [...fileUris].sort()) {
    const reader = await opener.open(fileUri);
    files.push({ uri: fileUri, size: reader.size });
    // Names relative to the checkpoint's directory: moving a zoo does not change identities.
    const relative = fileUri.startsWith(`${checkpointDir}/`)
      ? fileUri.slice(checkpointDir.length + 1)
      : fileUri;
    hash.update(`${relative}\0${reader.size}\0`);
    const headLength = Math.min(reader.size, HASH_HEAD_BYTES);
    hash.update(await reader.read(0, headLength));
    const tailLength = Math.min(reader.size - headLength, HASH_TAIL_BYTES);
    if (tailLength > 0) hash.update(await reader.read(reader.size - tailLength, tailLength));
  }
  const checkpoint: DiscoveredCheckpoint = {
    uri,
    format: format.format,
    files,
    sizeBytes: files.reduce((sum, f) => sum + f.size, 0),
    contentHash: hash.digest('hex'),
    metadata: await readSidecarMetadata(checkpointDir, root, opener),
  };
  if (opened) options.onOpened?.(checkpoint, opened);
  return checkpoint;
}
