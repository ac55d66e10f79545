/**
 * A spill for an overlay's chunks (an editor's unsaved changes beyond its RAM
 * budget): a temporary file of 4 KiB slots, removed from its directory as soon
 * as it is open, so nothing is left behind whatever ends the process.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChunkSpill } from '../store/overlayStore';

const SLOT = 4096;
/** Chunks given to one writev (Linux takes at most 1024 buffers a call). */
const WRITEV_CHUNKS = 256;

export class FileSpill implements ChunkSpill {
  private fd: number;
  private slots = 0;
  /** The folder still to remove at close, where an open file cannot be removed (Windows). */
  private left?: string;

  constructor(dir = os.tmpdir()) {
    const folder = fs.mkdtempSync(path.join(dir, 'pmem-unsaved-'));
    this.fd = fs.openSync(path.join(folder, 'chunks'), 'w+', 0o600);
    try {
      fs.rmSync(folder, { recursive: true });
    } catch {
      this.left = folder;
    }
  }

  put(chunk: Uint8Array, slot = this.slots): number {
    if (chunk.length !== SLOT) throw new RangeError(`a spilled chunk is ${SLOT} bytes, not ${chunk.length}`);
    fs.writeSync(this.fd, chunk, 0, SLOT, slot * SLOT);
    if (slot >= this.slots) this.slots = slot + 1;
    return slot;
  }

  putMany(chunks: Uint8Array[]): number {
    const first = this.slots;
    for (const c of chunks) if (c.length !== SLOT) throw new RangeError(`a spilled chunk is ${SLOT} bytes, not ${c.length}`);
    for (let k = 0; k < chunks.length; k += WRITEV_CHUNKS) {
      const group = chunks.slice(k, k + WRITEV_CHUNKS);
      const bytes = group.length * SLOT;
      let written = 0;
      // A writev may write less than asked (a full disk, a signal): the rest is written again from where it stopped.
      while (written < bytes) {
        const skip = Math.floor(written / SLOT);
        const rest = group.slice(skip);
        rest[0] = rest[0].subarray(written - skip * SLOT);
        const n = fs.writevSync(this.fd, rest, (first + k) * SLOT + written);
        if (n <= 0) throw new Error(`the temporary file of unsaved changes took no bytes (slot ${first + k + skip})`);
        written += n;
      }
    }
    this.slots = first + chunks.length;
    return first;
  }

  get(slot: number): Uint8Array {
    if (!(slot >= 0 && slot < this.slots)) throw new RangeError(`no spilled chunk in slot ${slot}`);
    const out = new Uint8Array(SLOT);
    fs.readSync(this.fd, out, 0, SLOT, slot * SLOT);
    return out;
  }

  clear(): void {
    this.slots = 0;
    fs.ftruncateSync(this.fd, 0);
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
    if (this.left) fs.rmSync(this.left, { recursive: true, force: true });
  }
}
