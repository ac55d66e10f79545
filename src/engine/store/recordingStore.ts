import { ByteRange } from '../format/rangeList';
import { Store } from './store';
import { StoreWrapper } from './storeWrapper';

export interface RecordedWrite {
  offset: number;
  before: Uint8Array;
  after: Uint8Array;
}

/**
 * Passes writes through to a base store and remembers, for each, the bytes it
 * replaced: an editor turns these into undo and redo of an operation.
 */
export class RecordingStore extends StoreWrapper {
  private log: RecordedWrite[] = [];

  override write(offset: number, data: Uint8Array): void {
    this.log.push({ offset, before: this.base.read(offset, data.length), after: data.slice() });
    this.base.write(offset, data);
  }

  /** Returns the writes since the last call and starts a new log. */
  take(): RecordedWrite[] {
    const out = this.log;
    this.log = [];
    return out;
  }
}

/** Undo applies the old bytes newest first; redo the new bytes oldest first. */
export function undoWrites(store: Store, writes: RecordedWrite[]): void {
  for (let i = writes.length - 1; i >= 0; i--) store.write(writes[i].offset, writes[i].before);
}

export function redoWrites(store: Store, writes: RecordedWrite[]): void {
  for (const w of writes) store.write(w.offset, w.after);
}

export type { ByteRange };
