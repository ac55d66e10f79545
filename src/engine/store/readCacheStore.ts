import { checkRange, Store } from './store';

const PAGE = 4096;
/** Pages' buffers are cut from slabs of this many: one allocation for many pages. */
const SLAB_PAGES = 64;

/**
 * Keeps the pages last read from a store in memory and writes through: for a
 * store whose reads are system calls (a file), while this store is its only
 * writer. Bounded: beyond `maxPages` the page cached first is dropped.
 */
export class ReadCacheStore implements Store {
  private readonly pages = new Map<number, Uint8Array>();
  /** The pages' indices in the order they were cached, a ring from `oldest` (a Map's own order makes each drop step over the entries dropped before). */
  private readonly order: Float64Array;
  private oldest = 0;
  /** Where new pages' buffers are cut from until the cache is full; after that a dropped page's buffer takes the next page. */
  private slab: Uint8Array | undefined;
  private slabUsed = 0;

  constructor(readonly base: Store, private readonly maxPages = 16384) {
    this.order = new Float64Array(maxPages);
  }

  get size(): number {
    return this.base.size;
  }

  private page(index: number): Uint8Array {
    const cached = this.pages.get(index);
    if (cached) return cached;
    const start = index * PAGE;
    const length = Math.min(PAGE, this.size - start);
    // First in, first out: cheaper than reordering on every hit, and as good for the allocator's working set.
    const slot = (this.oldest + this.pages.size) % this.maxPages;
    let buffer: Uint8Array;
    if (this.pages.size >= this.maxPages) {
      const dropped = this.pages.get(this.order[this.oldest])!;
      this.pages.delete(this.order[this.oldest]);
      this.oldest = (this.oldest + 1) % this.maxPages;
      buffer = new Uint8Array(dropped.buffer, dropped.byteOffset, PAGE);
    } else buffer = this.newPage();
    const page = length === PAGE ? buffer : buffer.subarray(0, length);
    if (this.base.readInto) this.base.readInto(start, length, page, 0);
    else page.set(this.base.read(start, length));
    this.order[slot] = index;
    this.pages.set(index, page);
    return page;
  }

  private newPage(): Uint8Array {
    if (!this.slab || this.slabUsed === this.slab.length) {
      this.slab = new Uint8Array(Math.min(SLAB_PAGES, this.maxPages) * PAGE);
      this.slabUsed = 0;
    }
    this.slabUsed += PAGE;
    return this.slab.subarray(this.slabUsed - PAGE, this.slabUsed);
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
    this.oldest = 0;
    this.base.close();
  }
}
