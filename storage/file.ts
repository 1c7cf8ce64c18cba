/**
 * Local files: plain paths and `file://` URIs. With a `root`, every path (after resolving `..`
 * and symlinks) must stay inside it, so a URI coming from a user or a checkpoint index cannot
 * read /etc/passwd.
 */
import { mkdir, open, readdir, realpath, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BadInputError, ConfigError } from '../lib/errors.ts';
import { checkRange } from '../lib/formats/range.ts';
import type { ObjectOpener, OpenOptions, RangeReader } from '../lib/formats/types.ts';
import { encodeSegment, parseLocation } from '../lib/formats/uri.ts';
import { newReadStats, type ReadStats } from './stats.ts';

export interface FileStorageOptions {
  /** If set, only paths inside this directory may be opened or listed. */
  root?: string;
  /** Counters shared with the caller. */
  stats?: ReadStats;
}

/**
 * Local path of a plain path (taken as it is) or a file:// URI (percent-decoded), by
 * `parseLocation`'s rules. A URI naming an archive member (`#…`) is refused: storage opens whole
 * files, and cutting the fragment would open another file than the one named.
 */
export function filePathOf(uri: string): string {
  const location = parseLocation(uri);
  if (location.kind === 's3') throw new BadInputError('not a local path or file:// URI', { file: uri });
  if (location.kind === 'file' && location.member !== undefined) {
    throw new BadInputError(
      `names member "${location.member}" of an archive (the URI's #fragment), not a file; a "#" in a file name is %23`,
      { file: uri },
    );
  }
  return location.path;
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function notRegular(uri: string, info: { isDirectory(): boolean; isFIFO(): boolean }): BadInputError {
  if (info.isDirectory()) return new BadInputError('is a directory, not a file', { file: uri });
  const kind = info.isFIFO() ? 'a FIFO' : 'a socket or device';
  return new BadInputError(`is ${kind}, not a regular file`, { file: uri });
}

class FileRangeReader implements RangeReader {
  constructor(
    readonly uri: string,
    private readonly filePath: string,
    readonly size: number,
    private readonly stats: ReadStats,
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.uri, this.size, offset, length);
    const handle = await open(this.filePath, 'r');
    try {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) {
          throw new BadInputError(`file shrank while reading: expected ${length} bytes at ${offset}`, {
            file: this.uri,
          });
        }
        done += bytesRead;
      }
      this.stats.reads += 1;
      this.stats.bytesRead += length;
      return out;
    } finally {
      await handle.close();
    }
  }
}

export class FileStorage implements ObjectOpener {
  readonly stats: ReadStats;
  private readonly root: string | undefined;
  private rootReal: Promise<string> | undefined;

  constructor(options: FileStorageOptions = {}) {
    this.stats = options.stats ?? newReadStats();
    this.root = options.root === undefined ? undefined : path.resolve(options.root);
  }

  /** Resolve a URI to a real path, enforcing the root (symlinks included) when one is set. */
  private async resolve(uri: string, mustExist: boolean): Promise<string | undefined> {
    const resolved = path.resolve(filePathOf(uri));
    if (this.root === undefined) return resolved;
    const outside = (p: string, root: string) => p !== root && !p.startsWith(root + path.sep);
    if (outside(resolved, this.root)) {
      throw new BadInputError(`path is outside the storage root ${this.root}`, { file: uri });
    }
    this.rootReal ??= realpath(this.root).catch((err) => {
      throw new ConfigError(`storage root ${this.root} is not accessible: ${(err as Error).message}`, {
        cause: err,
      });
    });
    const rootReal = await this.rootReal;
    let real: string;
    try {
      real = await realpath(resolved);
    } catch (err) {
      if (!mustExist && errnoCode(err) === 'ENOENT') return undefined;
      throw this.fsError(uri, err);
    }
    if (outside(real, rootReal)) {
      throw new BadInputError(`path leads outside the storage root ${this.root} (through a symlink)`, {
        file: uri,
      });
    }
    return real;
  }

  /**
   * Refuse an object whose real location is outside `within` (a reference in a checkpoint file
   * followed through a symlink out of the checkpoint's directory). The message names the
   * reference only: nothing about the target (its path, size or bytes) is printed.
   */
  private async assertWithin(uri: string, real: string, within: string): Promise<void> {
    let dirReal: string;
    let fileReal: string;
    try {
      dirReal = await realpath(path.resolve(filePathOf(within)));
      fileReal = await realpath(real);
    } catch (err) {
      throw this.fsError(uri, err);
    }
    if (fileReal !== dirReal && !fileReal.startsWith(dirReal + path.sep)) {
      throw new BadInputError('refers to a file outside the checkpoint directory (through a symlink)', {
        file: uri,
      });
    }
  }

  private fsError(uri: string, err: unknown): Error {
    const code = errnoCode(err);
    if (code === 'ELOOP') return new BadInputError('symlink loop', { file: uri }, { cause: err });
    if (code === 'ENOTDIR')
      return new BadInputError('a parent of the path is not a directory', { file: uri }, { cause: err });
    if (code === 'ENAMETOOLONG') return new BadInputError('path is too long', { file: uri }, { cause: err });
    if (code === 'ENOENT') return new BadInputError('no such file', { file: uri }, { cause: err });
    if (code === 'EACCES' || code === 'EPERM')
      return new BadInputError('permission denied', { file: uri }, { cause: err });
    if (code === 'EISDIR')
      return new BadInputError('is a directory, not a file', { file: uri }, { cause: err });
    return err instanceof Error ? err : new Error(String(err));
  }

  async open(uri: string, options: OpenOptions = {}): Promise<RangeReader> {
    const real = (await this.resolve(uri, true))!;
    if (options.within !== undefined) await this.assertWithin(uri, real, options.within);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(real);
    } catch (err) {
      throw this.fsError(uri, err);
    }
    if (!info.isFile()) throw notRegular(uri, info);
    return new FileRangeReader(uri, real, info.size, this.stats);
  }

  async exists(uri: string): Promise<boolean> {
    const real = await this.resolve(uri, false);
    if (real === undefined) return false;
    try {
      const info = await stat(real);
      if (info.isFile()) return true;
      if (info.isDirectory()) return false;
      throw notRegular(uri, info);
    } catch (err) {
      if (err instanceof BadInputError) throw err;
      if (errnoCode(err) === 'ENOENT') return false;
      throw this.fsError(uri, err);
    }
  }

  /**
   * Write a whole file (parent directories created). Under a root, the target must resolve inside
   * it; the bytes go to a temporary sibling renamed into place, so readers never see a partial file.
   */
  async write(uri: string, bytes: Uint8Array): Promise<void> {
    const target = path.resolve(filePathOf(uri));
    if (this.root !== undefined) {
      // Lexically inside the root, and so is the real path of the nearest folder that exists
      // (a symlinked folder out of the root is refused before anything is created).
      await this.resolve(target, false);
      let existing = path.dirname(target);
      while (
        !(await stat(existing).then(
          () => true,
          () => false,
        ))
      )
        existing = path.dirname(existing);
      await this.resolve(existing, true);
    }
    try {
      await mkdir(path.dirname(target), { recursive: true });
    } catch (err) {
      throw this.fsError(uri, err);
    }
    const temporary = `${target}.${process.pid}.partial`;
    try {
      await writeFile(temporary, bytes);
      await rename(temporary, target);
    } catch (err) {
      throw this.fsError(uri, err);
    }
  }

  /**
   * Files under a directory, recursively, as URIs in the caller's spelling (path or file://); under
   * file:// each name is percent-encoded, so a listed `a#b` or `%2e%2e` names that very file.
   */
  async list(prefixUri: string): Promise<string[]> {
    const real = await this.resolve(prefixUri, false);
    if (real === undefined) return [];
    let entries: string[];
    try {
      const info = await stat(real);
      if (!info.isDirectory()) return [];
      entries = await readdir(real, { recursive: true });
    } catch (err) {
      throw this.fsError(prefixUri, err);
    }
    const base = prefixUri.endsWith('/') ? prefixUri.slice(0, -1) : prefixUri;
    const out: string[] = [];
    for (const entry of entries) {
      const full = path.join(real, entry);
      try {
        if (!(await stat(full)).isFile()) continue;
      } catch {
        continue; // dangling symlink or raced deletion: not an object
      }
      const segments = entry.split(path.sep).map((segment) => encodeSegment(prefixUri, segment));
      out.push(`${base}/${segments.join('/')}`);
    }
    return out.sort();
  }
}
