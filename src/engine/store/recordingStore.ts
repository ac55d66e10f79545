import { ByteRange } from '../format/rangeList';
import { Store } from './store';
import { StoreWrapper } from './storeWrapper';

/**
 * One recorded write: where it went, and the bytes on the other side of it
 * (those it replaced while it is applied, those it wrote while it is undone).
 * Only one side is kept, since the store holds the other; bytes that were all
 * zero (a section never initialised) are kept as nothing at all.
 */
export class RecordedWrite {
  constructor(
    readonly offset: number,
    readonly length: number,
    private other: Uint8Array | null,
  ) {}

  /** The bytes the write replaced; only while it is applied (as made, or redone). */
  replaced(): Uint8Array {
    return this.other ?? new Uint8Array(this.length);
  }

  /** Puts the other side of the write into `store`, keeping the side it replaces: undo and redo alike. */
  swap(store: Store): void {
    const current = keepOf(store.read(this.offset, this.length));
    store.write(this.offset, this.other ?? zeros(this.length));
    this.other = current;
  }

  /** Puts back the bytes the write replaced, for good: the write is dropped (a failed or cancelled edit), so nothing is kept to redo it. */
  drop(store: Store): void {
    store.write(this.offset, this.other ?? zeros(this.length));
    this.other = null;
  }
}

/** Zeros to write back, shared (a store copies what it is given and never changes it): not a fresh buffer for each piece. */
let sharedZeros: Uint8Array | undefined;

function zeros(length: number): Uint8Array {
  sharedZeros ??= new Uint8Array(RECORD_PIECE);
  return length <= sharedZeros.length ? sharedZeros.subarray(0, length) : new Uint8Array(length);
}

/** A copy of `bytes`, or null when they are all zero. */
function keepOf(bytes: Uint8Array): Uint8Array | null {
  return isZero(bytes) ? null : bytes.slice();
}

function isZero(bytes: Uint8Array): boolean {
  let i = 0;
  const n = bytes.length;
  if (bytes.byteOffset % 4 === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, n >> 2);
    for (let k = 0; k < words.length; k++) if (words[k] !== 0) return false;
    i = words.length << 2;
  }
  for (; i < n; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** The most bytes one recorded write covers. */
export const RECORD_PIECE = 256 * 1024;

/**
 * Passes writes through to a base store and remembers, for each, the bytes it
 * replaced: an editor turns these into undo and redo of an operation.
 */
export class RecordingStore extends StoreWrapper {
  private log: RecordedWrite[] = [];
  /** Where the bytes a write replaces are read, when the base can read into a buffer: only those not all zero are copied out. */
  private scratch: Uint8Array | undefined;

  override write(offset: number, data: Uint8Array): void {
    // Recorded in pieces, so that an undo in slices never has to swap more than one piece at a time.
    for (let at = 0; at < data.length; at += RECORD_PIECE) {
      const n = Math.min(RECORD_PIECE, data.length - at);
      this.log.push(new RecordedWrite(offset + at, n, keepOf(this.replacedBy(offset + at, n))));
    }
    this.base.write(offset, data);
  }

  /** The bytes at [offset, offset + n) before a write: read into the scratch buffer (keepOf copies them) when the base allows. */
  private replacedBy(offset: number, n: number): Uint8Array {
    if (!this.base.readInto) return this.base.read(offset, n);
    this.scratch ??= new Uint8Array(RECORD_PIECE);
    this.base.readInto(offset, n, this.scratch, 0);
    return this.scratch.subarray(0, n);
  }

  /** Returns the writes since the last call and starts a new log. */
  take(): RecordedWrite[] {
    const out = this.log;
    this.log = [];
    return out;
  }
}

/**
 * Undo puts back the replaced bytes newest first; redo the written bytes
 * oldest first. Each must be called on the store as the other left it (undo
 * after the writes or a redo, redo after an undo), as an editor's stack does.
 */
export function undoWrites(store: Store, writes: RecordedWrite[]): void {
  for (let i = writes.length - 1; i >= 0; i--) writes[i].swap(store);
}

/** Undoes writes that will never be redone (newest first), keeping nothing of what they wrote. */
export function dropWrites(store: Store, writes: RecordedWrite[]): void {
  for (let i = writes.length - 1; i >= 0; i--) writes[i].drop(store);
}

export function redoWrites(store: Store, writes: RecordedWrite[]): void {
  for (const w of writes) w.swap(store);
}

export type { ByteRange };
