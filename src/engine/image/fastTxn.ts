/**
 * The staged changes of a one-block allocation or free taken by the fast lane
 * (alloc/fastBuddy.ts): device writes in a LineLog, nothing else. The image
 * commits it exactly as it commits a Txn.
 */
import type { ByteRange } from '../format/rangeList';
import { LineLog } from '../store/lineLog';
import type { ImageCore } from './imageContext';
import { withReplacedBytes } from './txn';
import type { ExtendedValues, StagedChanges } from './txn';

const NO_RAM_SECTIONS: ReadonlyMap<number, Uint8Array> = new Map();
const NO_HINTS: ReadonlyMap<string, number> = new Map();
const NO_BULK = { plain: [], journaled: [] };

export class FastTxn implements StagedChanges {
  readonly extended = new Map<number, ExtendedValues | null>();
  readonly ramSections = NO_RAM_SECTIONS;
  readonly notes: string[] = [];

  constructor(readonly img: ImageCore, readonly log: LineLog) {}

  read(offset: number, length: number): Uint8Array {
    return this.log.read(offset, length);
  }

  write(offset: number, data: Uint8Array): void {
    this.log.write(offset, data);
  }

  stagedRanges(): { redo: ByteRange[]; undo: ByteRange[] } {
    return withReplacedBytes(this.img.store, this.log.changes());
  }

  stagedRedo(): ByteRange[] {
    return this.log.changes();
  }

  bulkRanges(): { plain: ByteRange[]; journaled: ByteRange[] } {
    return NO_BULK;
  }

  stagedNeverHints(): ReadonlyMap<string, number> {
    return NO_HINTS;
  }
}
