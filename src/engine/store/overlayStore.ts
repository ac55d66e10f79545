import { checkRange, Store } from './store';

const CHUNK = 4096;

/**
 * A copy-on-write layer over another store: reads fall through to the base,
 * writes stay in the overlay until `commitTo` or are dropped. Used to look at a
 * past step of the history, and to hold an editor's unsaved changes, without
 * ever writing to the user's file.
 */
export class OverlayStore implements Store {
  private readonly chunks = new Map<number, Uint8Array>();

  constructor(readonly base: Store) {}

  get size(): number {
    return this.base.size;
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    if (this.chunks.size === 0) return this.base.read(offset, length);
    const first = Math.floor(offset / CHUNK);
    if (offset + length <= (first + 1) * CHUNK) {
      const chunk = this.chunks.get(first);
      return chunk ? chunk.slice(offset - first * CHUNK, offset - first * CHUNK + length) : this.base.read(offset, length);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const index = Math.floor(pos / CHUNK);
      const within = pos - index * CHUNK;
      const n = Math.min(CHUNK - within, length - done);
      const chunk = this.chunks.get(index);
      if (chunk) {
        out.set(chunk.subarray(within, within + n), done);
        done += n;
      } else {
        // Read the longest run of chunks the overlay does not hold in one base read.
        let run = n;
        let next = index + 1;
        while (done + run < length && !this.chunks.has(next)) {
          run = Math.min(run + CHUNK, length - done);
          next++;
        }
        out.set(this.base.read(pos, run), done);
        done += run;
      }
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    // The chunks a long write covers whole and creates share one buffer: one allocation, not one per 4 KiB.
    let whole = 0;
    for (let i = Math.ceil(offset / CHUNK); (i + 1) * CHUNK <= offset + data.length; i++) if (!this.chunks.has(i)) whole++;
    const fresh = whole > 1 ? new Uint8Array(whole * CHUNK) : undefined;
    let used = 0;
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const index = Math.floor(pos / CHUNK);
      const within = pos - index * CHUNK;
      const n = Math.min(CHUNK - within, data.length - done);
      let chunk = this.chunks.get(index);
      if (!chunk && n === CHUNK) {
        chunk = fresh ? fresh.subarray(used, (used += CHUNK)) : new Uint8Array(CHUNK); // fully overwritten: no need to read the base
        this.chunks.set(index, chunk);
      } else if (!chunk) {
        chunk = this.base.read(index * CHUNK, Math.min(CHUNK, this.size - index * CHUNK));
        if (chunk.length < CHUNK) {
          const full = new Uint8Array(CHUNK);
          full.set(chunk);
          chunk = full;
        }
        this.chunks.set(index, chunk);
      }
      chunk.set(data.subarray(done, done + n), within);
      done += n;
    }
  }

  /** The changed chunks as (offset, bytes) runs, in offset order. */
  changes(): Array<{ offset: number; data: Uint8Array }> {
    const indexes = [...this.chunks.keys()].sort((a, b) => a - b);
    return indexes.map((i) => {
      const data = this.chunks.get(i)!;
      const offset = i * CHUNK;
      return { offset, data: data.subarray(0, Math.min(CHUNK, this.size - offset)) };
    });
  }

  /** Whether any chunk of [offset, offset + length) was written here. */
  holdsAny(offset: number, length: number): boolean {
    if (this.chunks.size === 0 || length === 0) return false;
    const first = Math.floor(offset / CHUNK);
    const last = Math.floor((offset + length - 1) / CHUNK);
    if (last - first >= this.chunks.size) {
      for (const i of this.chunks.keys()) if (i >= first && i <= last) return true;
      return false;
    }
    for (let i = first; i <= last; i++) if (this.chunks.has(i)) return true;
    return false;
  }

  get dirty(): boolean {
    return this.chunks.size > 0;
  }

  discard(): void {
    this.chunks.clear();
  }

  flush(): void {}
  close(): void {}
}
