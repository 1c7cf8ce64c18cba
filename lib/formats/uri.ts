/**
 * URI arithmetic shared by readers and storage: plain paths, `file://` and `s3://bucket/key` are
 * all treated as '/'-separated strings so a reader can find siblings (shards, sidecars) the same
 * way on every backend.
 *
 * The one set of rules for what a location string means (README "Paths and URIs"):
 * - a plain path is a file name as it is: `%`, `#`, `?` and spaces are name characters;
 * - a `file://` URI follows the URI rules: its path is percent-decoded (`%23` is a `#` in a file
 *   name, `%2e%2e` a `..` segment), `#…` is a fragment naming a member of an archive, `?…` a query
 *   (refused: it has no meaning for a file);
 * - an `s3://bucket/key` key is taken as it is, like a plain path (as the AWS CLI does).
 * Names weightlens appends to a location (listed files, shards, members) are encoded for that
 * location's kind, so parsing the result gives back exactly those names.
 */
import { fileURLToPath } from 'node:url';
import { BadInputError } from '../errors.ts';

/** What a location string names, parsed by the rules above. */
export type ParsedLocation =
  | { kind: 'path'; path: string }
  | { kind: 'file'; path: string; member?: string }
  | { kind: 's3'; bucket: string; key: string };

const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;

/** Parse a plain path, `file://` URI or `s3://` URI (BadInputError naming it otherwise). */
export function parseLocation(uri: string): ParsedLocation {
  if (uri.startsWith('file://')) {
    const hash = uri.indexOf('#');
    const body = hash < 0 ? uri : uri.slice(0, hash);
    if (body.includes('?')) {
      throw new BadInputError('a file:// URI with a query (?…); a "?" in a file name is %3F', { file: uri });
    }
    let path: string;
    let member: string | undefined;
    try {
      path = fileURLToPath(body);
      if (hash >= 0) member = decodeURIComponent(uri.slice(hash + 1));
    } catch (err) {
      throw new BadInputError(`invalid file URI: ${(err as Error).message}`, { file: uri }, { cause: err });
    }
    return member === undefined ? { kind: 'file', path } : { kind: 'file', path, member };
  }
  if (uri.startsWith('s3://')) {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
    if (!match) throw new BadInputError('not an s3://bucket/key URI', { file: uri });
    return { kind: 's3', bucket: match[1]!, key: match[2]! };
  }
  if (SCHEME.test(uri)) {
    throw new BadInputError('unsupported URI scheme (use a path, file:// or s3://)', { file: uri });
  }
  return { kind: 'path', path: uri };
}

/** One path segment as it is written under `baseUri`: percent-encoded under file://, else as is. */
export function encodeSegment(baseUri: string, segment: string): string {
  return baseUri.startsWith('file://') ? encodeURIComponent(segment) : segment;
}

/**
 * The location of `member` inside the archive at `objectUri`, for messages: under file:// the
 * member is the URI's fragment (percent-encoded, so `parseLocation` reads back the exact name).
 * Plain paths and S3 keys have no member syntax (`#` is a name character there): the string is
 * only shown, never parsed; readers carry the member beside the object (`TensorInfo.member`).
 */
export function memberUri(objectUri: string, member: string): string {
  return `${objectUri}#${encodeSegment(objectUri, member)}`;
}

/** The last path segment ("model.safetensors"). */
export function basename(uri: string): string {
  const trimmed = uri.endsWith('/') ? uri.slice(0, -1) : uri;
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

/** Everything before the last segment, without a trailing slash ("s3://b/dir"). */
export function dirname(uri: string): string {
  const trimmed = uri.endsWith('/') ? uri.slice(0, -1) : uri;
  const i = trimmed.lastIndexOf('/');
  if (i < 0) return '.';
  // Keep "s3://bucket" and "/" intact.
  if (i === 0) return '/';
  const parent = trimmed.slice(0, i);
  if (parent.endsWith(':/')) return `${parent}/`;
  return parent;
}

/**
 * Resolve a relative name found inside a file (a shard name in an index, an external data file)
 * against the directory of `baseUri`. Names that climb out of that directory or are absolute are
 * rejected: a checkpoint must not make us read arbitrary files.
 *
 * The name is a file name, never a URI: `%` and `#` in it are file-name characters. Under a
 * `file://` base each segment is percent-encoded, so decoding the URI later gives back exactly
 * the checked name (`%2e%2e` stays a file called "%2e%2e", it never becomes `..`). Plain paths
 * and S3 keys take the name as it is.
 */
export function siblingUri(baseUri: string, relativeName: string, context: { file?: string } = {}): string {
  if (
    relativeName.length === 0 ||
    relativeName.startsWith('/') ||
    relativeName.includes('\\') ||
    relativeName.includes('\0') ||
    /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(relativeName) ||
    relativeName.split('/').some((segment) => segment === '..')
  ) {
    throw new BadInputError(`refers to "${relativeName}", which is not a plain relative file name`, context);
  }
  const dir = dirname(baseUri);
  const cleaned = relativeName
    .split('/')
    .filter((s) => s !== '.' && s !== '')
    .map((segment) => encodeSegment(baseUri, segment))
    .join('/');
  if (dir === '.') return cleaned;
  return dir.endsWith('/') ? `${dir}${cleaned}` : `${dir}/${cleaned}`;
}

/** Join a directory/prefix URI and a relative name without doubling slashes. */
export function joinUri(dirUri: string, name: string): string {
  return dirUri.endsWith('/') ? `${dirUri}${name}` : `${dirUri}/${name}`;
}

/** Lower-case file extension including the dot (".safetensors"), or "" when there is none. */
export function extension(uri: string): string {
  const name = basename(uri);
  const i = name.lastIndexOf('.');
  return i <= 0 ? '' : name.slice(i).toLowerCase();
}
