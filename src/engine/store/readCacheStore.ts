import { checkRange, Store } from './store';

const PAGE = 4096;

/**
 * Keeps the pages last read from a store in memory and writes through: for a
 * store whose reads are system calls (a file), while this store is its only
 * writer. Bounded: beyond `maxPages` the page cached first is dropped.
 */
export class ReadCacheStore implements Store {
  /** Pages in the order they were cached (a Map keeps insertion order). */
  private readonly pages = new Map<number, Uint8Array>();

  constructor(readonly base: Store, private readonly maxPages = 16384) {}

  get size(): number {
    return this.base.size;
  }

  private page(index: number): Uint8Array {
    let page = this.pages.get(index);
    if (page) return page;
    const start = index * PAGE;
    page = this.base.read(start, Math.min(PAGE, this.size - start));
    // First in, first out: cheaper than reordering on every hit, and as good for the allocator's working set.
    if (this.pages.size >= this.maxPages) this.pages.delete(this.pages.keys().next().value as number);
    this.pages.set(index, page);
    return page;
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    // Large reads (a section's memmap) go straight to the base: caching them would evict the small, hot pages.
    // Cached pages are never older than the base (writes go through), so a direct read is as fresh.
    if (length > 4 * PAGE) return this.base.read(offset, length);
    const first = Math.floor(offset / PAGE);
    const within = offset - first * PAGE;
    if (within + length <= PAGE) return this.page(first).slice(within, within + length);
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const pos = offset + done;
      const index = Math.floor(pos / PAGE);
      const at = pos - index * PAGE;
      const n = Math.min(PAGE - at, length - done);
      out.set(this.page(index).subarray(at, at + n), done);
      done += n;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    this.base.write(offset, data);
    for (let done = 0; done < data.length; ) {
      const pos = offset + done;
      const index = Math.floor(pos / PAGE);
      const at = pos - index * PAGE;
      const n = Math.min(PAGE - at, data.length - done);
      this.pages.get(index)?.set(data.subarray(done, done + n), at);
      done += n;
    }
  }

  flush(): void {
    this.base.flush();
  }

  close(): void {
    this.pages.clear();
    this.base.close();
  }
}
