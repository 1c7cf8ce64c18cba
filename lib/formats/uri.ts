/**
 * URI arithmetic shared by readers and storage: plain paths, `file://` and `s3://bucket/key` are
 * all treated as '/'-separated strings so a reader can find siblings (shards, sidecars) the same
 * way on every backend.
 */
import { BadInputError } from '../errors.ts';

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
  const encode = baseUri.startsWith('file://') ? encodeURIComponent : (segment: string) => segment;
  const cleaned = relativeName
    .split('/')
    .filter((s) => s !== '.' && s !== '')
    .map(encode)
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
