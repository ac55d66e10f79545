import { newBytes } from '../core/bytes';
import { checkRange, Store } from './store';

const LINE = 64;

/**
 * Changes over a read-only base store, kept per 64-byte line: the grain of
 * the history's undo entries, so undoing thousands of steps scattered over a
 * large device copies a line each, not a page. The base is never written.
 */
export class PatchStore implements Store {
  private readonly lines = new Map<number, Uint8Array>();
  private sorted?: number[];

  constructor(readonly base: Store) {}

  get size(): number {
    return this.base.size;
  }

  /** The line of bytes index × 64 .. + 63, loaded from the base on first use; changes made to it are kept. */
  line(index: number): Uint8Array {
    let l = this.lines.get(index);
    if (!l) {
      l = newBytes(LINE);
      l.set(this.base.read(index * LINE, LINE));
      this.lines.set(index, l);
      this.sorted = undefined;
    }
    return l;
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    const out = this.base.read(offset, length);
    if (this.lines.size === 0 || length === 0) return out;
    const first = Math.floor(offset / LINE);
    const last = Math.floor((offset + length - 1) / LINE);
    const patch = (i: number, l: Uint8Array) => {
      const a = Math.max(offset, i * LINE);
      const b = Math.min(offset + length, (i + 1) * LINE);
      out.set(l.subarray(a - i * LINE, b - i * LINE), a - offset);
    };
    if (last - first < this.lines.size) {
      for (let i = first; i <= last; i++) {
        const l = this.lines.get(i);
        if (l) patch(i, l);
      }
      return out;
    }
    // A long read: walk the changed lines in it instead of every line of it.
    const keys = (this.sorted ??= [...this.lines.keys()].sort((x, y) => x - y));
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid] < first) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < keys.length && keys[k] <= last; k++) patch(keys[k], this.lines.get(keys[k])!);
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const index = Math.floor(pos / LINE);
      const within = pos - index * LINE;
      const n = Math.min(LINE - within, data.length - done);
      this.line(index).set(data.subarray(done, done + n), within);
      done += n;
    }
  }

  /** Lines changed so far. */
  get lineCount(): number {
    return this.lines.size;
  }

  flush(): void {}
  close(): void {}
}
