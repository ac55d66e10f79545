/**
 * The staged changes of a one-block allocation or free taken by the fast lane
 * (the allocator state of alloc/buddyState.ts, flushed here): device writes
 * in a LineLog, nothing else. The image commits it exactly as it commits a
 * Txn. It reads and writes the allocator's structures as a Txn does, for an
 * image whose memmap is on the device.
 */
import { DESCRIPTOR_SIZE } from '../format/constants';
import { decodeFreeAreaEntry, encodeFreeAreaEntry, FreeAreaEntry, freeAreaEntryOffset, freeAreaIndex } from '../format/freeArea';
import { FREE_AREA_ENTRY_SIZE, SECTION_ENTRY_SIZE } from '../format/layout';
import type { ByteRange } from '../format/rangeList';
import { decodeSectionEntry, encodeSectionEntry, SectionEntry, sectionEntryOffset, sectionState, SectionState } from '../format/sectionTable';
import { LineLog } from '../store/lineLog';
import type { ImageCore } from './imageContext';
import { withReplacedBytes } from './txn';
import type { ExtendedValues, StagedChanges } from './txn';
import type { InverseEntry } from '../format/undoCodec';

const NO_RAM_SECTIONS: ReadonlyMap<number, Uint8Array> = new Map();
const NO_HINTS: ReadonlyMap<string, number> = new Map();
const NO_BULK = { plain: [], journaled: [] };

/** Where a FastTxn stages: the fast lane's LineLog, or any bytes read and written in place (an inverse undo entry's target). */
export type StagedLines = Pick<LineLog, 'read' | 'write' | 'changes'>;

export class FastTxn implements StagedChanges {
  readonly extended = new Map<number, ExtendedValues | null>();
  readonly ramSections = NO_RAM_SECTIONS;
  readonly notes: string[] = [];
  inverse?: InverseEntry;

  constructor(readonly img: ImageCore, readonly log: StagedLines) {}

  read(offset: number, length: number): Uint8Array {
    return this.log.read(offset, length);
  }

  write(offset: number, data: Uint8Array): void {
    this.log.write(offset, data);
  }

  rawDescriptor(pfn: number): Uint8Array {
    return this.read(this.img.memmapOffset(pfn), DESCRIPTOR_SIZE);
  }

  writeDescriptors(pfn: number, bytes: Uint8Array): void {
    this.write(this.img.memmapOffset(pfn), bytes);
  }

  private areaOffset(node: number, zone: number, order: number): number {
    return freeAreaEntryOffset(this.img.layout, freeAreaIndex(this.img.geometry.maxOrder, node, zone, order));
  }

  area(node: number, zone: number, order: number): FreeAreaEntry {
    return decodeFreeAreaEntry(this.read(this.areaOffset(node, zone, order), FREE_AREA_ENTRY_SIZE));
  }

  setArea(node: number, zone: number, order: number, e: FreeAreaEntry): void {
    this.write(this.areaOffset(node, zone, order), encodeFreeAreaEntry(e));
  }

  section(index: number): SectionEntry {
    return decodeSectionEntry(this.read(sectionEntryOffset(this.img.layout, index), SECTION_ENTRY_SIZE));
  }

  setSection(index: number, e: SectionEntry): void {
    this.write(sectionEntryOffset(this.img.layout, index), encodeSectionEntry(e));
  }

  sectionState(index: number): SectionState {
    return sectionState(this.section(index).initGeneration, this.img.bootGeneration);
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
