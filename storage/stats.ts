/** Counters of what a storage backend fetched: tests use them to prove reads stay ranged. */
export interface ReadStats {
  /** Bytes returned by ranged reads. */
  bytesRead: number;
  /** Ranged read requests made (retries of one read count once). */
  reads: number;
}

export function newReadStats(): ReadStats {
  return { bytesRead: 0, reads: 0 };
}
