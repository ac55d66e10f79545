/**
 * A transaction stages one operation's changes in memory: device writes in a
 * copy-on-write overlay (read-your-writes), and RAM-only state (a volatile
 * memmap, extended fields) in maps. Commit sends the device writes through the
 * journal and appends a history record with the bytes they replaced.
 */
import { projectTwoWords, twoWordOffset } from '../format/twoWord';
import { DESCRIPTOR_SIZE, PAGE_SIZE } from '../format/constants';
import { decodeDescriptor, Descriptor, encodeDescriptor } from '../format/descriptor';
import { decodeFreeAreaEntry, encodeFreeAreaEntry, FreeAreaEntry, freeAreaIndex } from '../format/freeArea';
import { FREE_LINK_SIZE } from '../format/freeLink';
import { FREE_AREA_ENTRY_SIZE, SECTION_ENTRY_SIZE } from '../format/layout';
import { coalesce, ByteRange, mergeOverlapping } from '../format/rangeList';
import { decodeSectionEntry, encodeSectionEntry, SectionEntry, sectionState, SectionState } from '../format/sectionTable';
import { StagingStore } from '../store/stagingStore';
import type { InverseEntry } from '../format/undoCodec';
import type { Store } from '../store/store';
import type { ImageCore } from './imageContext';

export type ExtendedValues = Record<string, number>;

/** What the image's commit takes from a transaction (a Txn, or the fast lane's FastTxn). */
export interface StagedChanges {
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
  stagedRanges(): { redo: ByteRange[]; undo: ByteRange[] };
  stagedRedo(): ByteRange[];
  bulkRanges(): { plain: ByteRange[]; journaled: ByteRange[] };
  readonly ramSections: ReadonlyMap<number, Uint8Array>;
  stagedNeverHints(): ReadonlyMap<string, number>;
  readonly extended: ReadonlyMap<number, ExtendedValues | null>;
  readonly notes: string[];
  /** The operation's inverse, checked to give back every byte it replaced: the history keeps it instead of those bytes. */
  readonly inverse?: InverseEntry;
}

export class Txn implements StagedChanges {
  readonly overlay: StagingStore;
  private readonly bulk: ByteRange[] = [];
  private readonly bulkJournaled: ByteRange[] = [];
  readonly ramSections = new Map<number, Uint8Array>();
  readonly extended = new Map<number, ExtendedValues | null>();
  /** Problems noticed while re-initialising sections (kept for the boot report). */
  readonly notes: string[] = [];
  /** Sections whose initialisation generation this transaction changed (lazy init reached them). */
  readonly initialisedSections = new Set<number>();
  /** Search hints moved by this transaction; they reach the image only on commit, like every other change. */
  private readonly neverHints = new Map<string, number>();

  constructor(readonly img: ImageCore) {
    this.overlay = new StagingStore(img.store);
  }

  read(offset: number, length: number): Uint8Array {
    return this.overlay.read(offset, length);
  }

  /** A journaled write: part of the atomic operation, undone when stepping back. */
  write(offset: number, data: Uint8Array): void {
    this.overlay.write(offset, data);
  }

  /**
   * An idempotent bulk write (descriptor initialisation): written before the
   * operation's transaction and kept out of its history, because redoing it
   * after a crash gives the same bytes. `replacesLiveBytes`: the bytes it
   * overwrites are still needed if it tears (a stale section's descriptors),
   * so it goes through the journal in chunks of its own; otherwise (a
   * never-initialised section, whose old bytes mean nothing) it is written plainly.
   * `handOver`: the caller never touches `data` again, so it is not copied.
   */
  bulkWrite(offset: number, data: Uint8Array, replacesLiveBytes = false, handOver = false): void {
    if (handOver && !replacesLiveBytes) {
      // Staged and committed from the same buffer: later writes over it reach it too, which for a
      // never-initialised section only changes bytes nothing reads until the transaction commits them anyway.
      this.bulk.push({ offset, data });
      this.overlay.writeBulkOwned(offset, data);
      return;
    }
    (replacesLiveBytes ? this.bulkJournaled : this.bulk).push({ offset, data: handOver ? data : data.slice() });
    this.overlay.writeBulk(offset, data);
  }

  // --- section table -------------------------------------------------------

  /** Section entries read or staged by this transaction (every access to a block asks its section's state). */
  private readonly sections = new Map<number, SectionEntry>();

  section(index: number): SectionEntry {
    let e = this.sections.get(index);
    if (!e) {
      const at = this.img.layout.sectionTable.startPfn * PAGE_SIZE + index * SECTION_ENTRY_SIZE;
      e = decodeSectionEntry(this.overlay.read(at, SECTION_ENTRY_SIZE));
      this.sections.set(index, e);
    }
    return { ...e };
  }

  setSection(index: number, e: SectionEntry): void {
    if (e.initGeneration !== this.section(index).initGeneration) this.initialisedSections.add(index);
    const at = this.img.layout.sectionTable.startPfn * PAGE_SIZE + index * SECTION_ENTRY_SIZE;
    this.write(at, encodeSectionEntry(e));
    this.sections.set(index, { ...e });
  }

  sectionState(index: number): SectionState {
    let e = this.sections.get(index);
    if (!e) {
      this.section(index);
      e = this.sections.get(index)!;
    }
    return sectionState(e.initGeneration, this.img.bootGeneration);
  }

  // --- search hints ----------------------------------------------------------

  /** First section of a node/zone that may still be never-initialised, as this transaction sees it. */
  neverHint(key: string): number | undefined {
    return this.neverHints.get(key) ?? this.img.neverHint.get(key);
  }

  setNeverHint(key: string, section: number): void {
    this.neverHints.set(key, section);
  }

  /** Hints staged by this transaction, applied to the image by its commit. */
  stagedNeverHints(): ReadonlyMap<string, number> {
    return this.neverHints;
  }

  // --- free area -----------------------------------------------------------

  private areaOffset(node: number, zone: number, order: number): number {
    return this.img.layout.freeArea.startPfn * PAGE_SIZE + freeAreaIndex(this.img.geometry.maxOrder, node, zone, order) * FREE_AREA_ENTRY_SIZE;
  }

  area(node: number, zone: number, order: number): FreeAreaEntry {
    return decodeFreeAreaEntry(this.overlay.read(this.areaOffset(node, zone, order), FREE_AREA_ENTRY_SIZE));
  }

  setArea(node: number, zone: number, order: number, e: FreeAreaEntry): void {
    this.write(this.areaOffset(node, zone, order), encodeFreeAreaEntry(e));
  }

  // --- descriptors -----------------------------------------------------------

  /** The raw descriptor bytes as this transaction sees them (RAM or device memmap). */
  rawDescriptor(pfn: number): Uint8Array {
    if (this.img.geometry.memmap === 'device') return this.overlay.read(this.img.memmapOffset(pfn), DESCRIPTOR_SIZE);
    const s = Math.floor(pfn / this.img.geometry.sectionFrames);
    const buf = this.ramSections.get(s) ?? this.img.ram.get(s);
    if (!buf) return new Uint8Array(DESCRIPTOR_SIZE);
    const at = (pfn - s * this.img.geometry.sectionFrames) * DESCRIPTOR_SIZE;
    return buf.subarray(at, at + DESCRIPTOR_SIZE);
  }

  descriptor(pfn: number): Descriptor {
    return decodeDescriptor(this.rawDescriptor(pfn));
  }

  setDescriptor(d: Descriptor): void {
    this.writeDescriptors(d.pfn, encodeDescriptor(d));
  }

  /** Raw descriptors of [pfn, pfn + count) as this transaction sees them (one read on a device memmap). */
  readDescriptors(pfn: number, count: number): Uint8Array {
    if (this.img.geometry.memmap === 'device') return this.overlay.read(this.img.memmapOffset(pfn), count * DESCRIPTOR_SIZE);
    const out = new Uint8Array(count * DESCRIPTOR_SIZE);
    for (let i = 0; i < count; i++) out.set(this.rawDescriptor(pfn + i), i * DESCRIPTOR_SIZE);
    return out;
  }

  /**
   * Writes raw descriptors starting at pfn (a run of them in one write on a
   * device memmap). `handOver`: the caller never touches `bytes` again, so a
   * long run is staged without a copy.
   */
  writeDescriptors(pfn: number, bytes: Uint8Array, handOver = false): void {
    if (this.img.geometry.memmap === 'device') {
      if (handOver) this.overlay.writeOwned(this.img.memmapOffset(pfn), bytes);
      else this.write(this.img.memmapOffset(pfn), bytes);
      return;
    }
    // The two-word design's descriptors on the device follow the index in RAM, descriptor for descriptor.
    if (this.img.geometry.descriptors === 'twoWord') this.write(twoWordOffset(this.img.layout, pfn), projectTwoWords(bytes));
    const frames = this.img.geometry.sectionFrames;
    for (let done = 0; done < bytes.length; ) {
      const p = pfn + done / DESCRIPTOR_SIZE;
      const s = Math.floor(p / frames);
      let buf = this.ramSections.get(s);
      if (!buf) {
        const committed = this.img.ram.get(s);
        buf = committed ? committed.slice() : new Uint8Array(frames * DESCRIPTOR_SIZE);
        this.ramSections.set(s, buf);
      }
      const at = (p - s * frames) * DESCRIPTOR_SIZE;
      const n = Math.min(bytes.length - done, buf.length - at);
      buf.set(bytes.subarray(done, done + n), at);
      done += n;
    }
  }

  // --- free-list links (in the free page, or in the descriptor) -------------

  setExtended(pfn: number, values: ExtendedValues | null): void {
    this.extended.set(pfn, values);
  }

  // --- commit ----------------------------------------------------------------

  get empty(): boolean {
    return this.overlay.empty && this.ramSections.size === 0;
  }

  /** Coalesced journaled ranges, with the bytes each replaced (read from the device before commit). */
  stagedRanges(): { redo: ByteRange[]; undo: ByteRange[] } {
    return withReplacedBytes(this.img.store, this.overlay.changes());
  }

  /** The coalesced journaled ranges alone (after the history record is staged, its undo taken already). */
  stagedRedo(): ByteRange[] {
    return this.overlay.changes();
  }

  bulkRanges(): { plain: ByteRange[]; journaled: ByteRange[] } {
    return { plain: mergeOverlapping(this.bulk), journaled: coalesce(this.bulkJournaled) };
  }
}

/** Journaled ranges with the bytes each replaces, read from the store before commit. */
export function withReplacedBytes(store: Store, redo: ByteRange[]): { redo: ByteRange[]; undo: ByteRange[] } {
  return { redo, undo: redo.map((r) => ({ offset: r.offset, data: store.read(r.offset, r.data.length) })) };
}

export const emptyLinkBytes = new Uint8Array(FREE_LINK_SIZE);
