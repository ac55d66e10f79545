/** What a window reads from (a history's ByteIO, a store). */
interface Readable {
  read(offset: number, length: number): Uint8Array;
}

/** Bytes a window reads at once: the heads of a few hundred history records. */
const WINDOW_BYTES = 16 * 1024;

/**
 * Reads of `io` served from one larger read, for a walk of many small reads
 * in one region (the history's evictions: a record's first bytes, then the
 * next's) while nothing writes there. Writing through it is refused: a
 * window would go stale.
 */
export class ReadWindow {
  private start = 0;
  private bytes: Uint8Array = new Uint8Array(0);

  /** Reads at most up to `end` (the region's end: a window never reads past it). */
  constructor(private readonly io: Readable, private readonly end: number) {}

  read(offset: number, length: number): Uint8Array {
    if (offset < this.start || offset + length > this.start + this.bytes.length) {
      const n = Math.max(length, Math.min(WINDOW_BYTES, this.end - offset));
      this.bytes = this.io.read(offset, n);
      this.start = offset;
    }
    return this.bytes.subarray(offset - this.start, offset - this.start + length);
  }

  write(): void {
    throw new Error('a read window is read-only');
  }
}
