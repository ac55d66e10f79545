/**
 * Chunk numbers per page of a ChunkIndex: small, as writes are often sparse
 * (a free block's link record in its first page, one chunk every 4 MiB).
 */
const PAGE = 32;

/**
 * A map from chunk numbers (whole numbers, 0 or more) to values, kept in pages
 * of PAGE entries under a map of pages. An overlay holding a million chunks
 * (4 GiB of an editor's unsaved changes) keeps a map of some 30,000 pages, not
 * one of a million entries: such a map copied every entry each time it grew,
 * holding the thread 20 ms at a time.
 */
export class ChunkIndex<V> {
  private readonly pages = new Map<number, Array<V | undefined>>();
  private lastPage = -1;
  private last: Array<V | undefined> | undefined;
  /** Chunk numbers held. */
  size = 0;

  private page(p: number): Array<V | undefined> | undefined {
    if (p !== this.lastPage) {
      this.last = this.pages.get(p);
      this.lastPage = p;
    }
    return this.last;
  }

  get(i: number): V | undefined {
    return this.page(Math.floor(i / PAGE))?.[i % PAGE];
  }

  has(i: number): boolean {
    return this.get(i) !== undefined;
  }

  /** Sets the value of chunk i (never undefined: there is no delete but clear). */
  set(i: number, value: V): void {
    const p = Math.floor(i / PAGE);
    let entries = this.page(p);
    if (!entries) {
      entries = new Array<V | undefined>(PAGE).fill(undefined);
      this.pages.set(p, entries);
      this.last = entries;
    }
    const k = i % PAGE;
    if (entries[k] === undefined) this.size++;
    entries[k] = value;
  }

  clear(): void {
    this.pages.clear();
    this.lastPage = -1;
    this.last = undefined;
    this.size = 0;
  }

  /** The chunk numbers held, in ascending order. */
  *keys(): Generator<number> {
    for (const p of [...this.pages.keys()].sort((a, b) => a - b)) {
      const entries = this.pages.get(p)!;
      for (let k = 0; k < PAGE; k++) if (entries[k] !== undefined) yield p * PAGE + k;
    }
  }
}
