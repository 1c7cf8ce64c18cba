/**
 * One `ObjectOpener` for every URI scheme: `s3://` goes to S3Storage, plain paths and `file://`
 * to FileStorage. The S3 client is created on first use, so local-only runs need no AWS setup.
 */
import { BadInputError } from '../lib/errors.ts';
import type { ObjectOpener, OpenOptions, RangeReader } from '../lib/formats/types.ts';
import { FileStorage } from './file.ts';
import { S3Storage, type S3StorageOptions } from './s3.ts';
import { newReadStats, type ReadStats } from './stats.ts';

export { FileStorage, filePathOf } from './file.ts';
export { parseS3Uri, S3Storage, s3ClientConfig } from './s3.ts';
export { newReadStats, type ReadStats } from './stats.ts';

export interface StorageOptions {
  /** Confine local paths to this directory (path traversal and symlinks out are rejected). */
  fileRoot?: string;
  s3?: S3StorageOptions;
  /** Shared counters of bytes and reads across both backends. */
  stats?: ReadStats;
}

export class Storage implements ObjectOpener {
  readonly stats: ReadStats;
  private readonly files: FileStorage;
  private s3: S3Storage | undefined;

  constructor(private readonly options: StorageOptions = {}) {
    this.stats = options.stats ?? newReadStats();
    this.files = new FileStorage({ root: options.fileRoot, stats: this.stats });
  }

  private backend(uri: string): ObjectOpener & { write(uri: string, bytes: Uint8Array): Promise<void> } {
    if (uri.startsWith('s3://')) {
      this.s3 ??= new S3Storage({ ...this.options.s3, stats: this.stats });
      return this.s3;
    }
    if (uri.startsWith('file://') || !/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(uri)) return this.files;
    throw new BadInputError('unsupported URI scheme (use a path, file:// or s3://)', { file: uri });
  }

  open(uri: string, options?: OpenOptions): Promise<RangeReader> {
    return this.backend(uri).open(uri, options);
  }
  exists(uri: string): Promise<boolean> {
    return this.backend(uri).exists(uri);
  }
  list(prefixUri: string): Promise<string[]> {
    return this.backend(prefixUri).list(prefixUri);
  }
  /** Write a whole object: a path, file:// or s3:// URI. */
  write(uri: string, bytes: Uint8Array): Promise<void> {
    return this.backend(uri).write(uri, bytes);
  }
}

/** The storage a CLI command or activity uses: env-configured S3, optional local root. */
export function createStorage(options: StorageOptions = {}): Storage {
  return new Storage({ ...options, fileRoot: options.fileRoot ?? process.env.WEIGHTLENS_FILE_ROOT });
}
