/**
 * One-block allocations and frees whose home structures (descriptors, link
 * records, free-area entries, section counts) stay in the allocator state in
 * RAM and are written back later, many operations in one journal
 * transaction. Each operation is made durable by its history record alone,
 * kept as the operation's inverse and written after the tail the history
 * header names: one record and one flush. A boot that finds such records
 * (their write-back lost in a crash) redoes their operations in order, from
 * the state the last write-back left (PmemImage.redoDeferred); docs/FORMAT.md,
 * *Deferred write-back*.
 *
 * Whoever opts in (deferHomeWrites) gets it; reading or writing the image's
 * store in any other way writes back first, so nothing else ever sees the
 * home structures out of date.
 */
import type { AllocatedBlock, AllocRequest, FreedBlock } from '../alloc/buddy';
import { BuddyState } from '../alloc/buddyState';
import { ImageError } from '../core/errors';
import { REVISION_DEFERRED, REVISION_PLACED } from '../format/constants';
import { encodeOwner, OWNER_BYTES } from '../format/descriptor';
import { journalCapacity } from '../format/journal';
import type { ByteRange } from '../format/rangeList';
import type { OneBlock } from '../format/summaryCodec';
import type { InverseEntry } from '../format/undoCodec';
import { LineLog } from '../store/lineLog';
import type { Store } from '../store/store';
import { changeSetOfRuns, ChangeSet } from './changeSet';
import { FastTxn } from './fastTxn';
import type { DeferredWriteBack } from './imageContext';
import { PmemImage } from './imageCore';
import { withReplacedBytes } from './txn';

/** The most bytes one deferred record takes (a one-block summary and its inverse, with a list position for each order a free can merge at): room is kept for this many. */
export const DEFERRED_RECORD_BOUND = 256;
/** What a structure held for write-back may take in the journal: its bytes and its range header, rounded up. */
const JOURNAL_BYTES_PER_STRUCTURE = 96;
/** Operations held at most before a write-back (bounds what a boot after a crash redoes). */
const MOST_HELD = 1024;
/** Records' worth of room a write-back leaves after the history's tail (evicting the oldest records), so the next ones need none. */
const ROOM_RECORDS = 48;

const NO_OWNER = new Uint8Array(OWNER_BYTES);

/** Whether the image's history may keep an inverse that names list positions (revision 4). */
export function placesBlocks(img: PmemImage): boolean {
  return img.sb.formatRevision >= REVISION_PLACED;
}

export class DeferredHome implements DeferredWriteBack {
  readonly state: BuddyState;
  private readonly log: LineLog;
  /** Reads and flushes of the allocator state go through it: the store as it is, plus the write-back being staged. */
  readonly txn: FastTxn;
  /** Operations held, not written back. */
  private held = 0;
  private readonly mostStructures: number;

  constructor(private readonly img: PmemImage) {
    this.log = new LineLog(img.storeAsIs);
    this.txn = new FastTxn(img, this.log);
    this.state = new BuddyState(img);
    this.state.attach(this.txn);
    this.state.tracksChanges = true;
    // A quarter of the journal: the header, and the history header and evictions, fit beside.
    this.mostStructures = Math.max(16, Math.floor(journalCapacity(img.layout.journal) / 4 / JOURNAL_BYTES_PER_STRUCTURE));
  }

  get pending(): boolean {
    return this.held > 0;
  }

  /** Whether the next operation may be held: a record's room in the ring without an eviction, and no checkpoint due. */
  private canHold(): boolean {
    return this.img.history.canAppendDeferred(this.img.storeAsIs, DEFERRED_RECORD_BOUND);
  }

  writeBack(): void {
    if (this.held) this.writeBackMakingRoom();
  }

  /**
   * Writes back what is held, perhaps nothing, and evicts the oldest records
   * until the next ones find room after the tail: with nothing held, a full
   * ring would otherwise send every operation down the usual path, each
   * evicting just the room of its own record.
   */
  private writeBackMakingRoom(): void {
    const store = this.img.storeAsIs;
    this.state.flush();
    const ring = this.img.history;
    // The staged changes once the header is written too: what the checkpoint gathers (their old bytes) and what is committed.
    let staged: ByteRange[] | undefined;
    const changes = () => (staged ??= this.log.changes());
    ring.takeDeferred(this.log, () => withReplacedBytes(store, changes()).undo, Math.min(ROOM_RECORDS * DEFERRED_RECORD_BOUND, Math.floor(ring.ringBytes / 8)));
    const n = this.held;
    this.held = 0;
    try {
      this.img.commitWriteBack(changes(), n ? `write-back of ${n} operation${n === 1 ? '' : 's'}` : 'room in the history for the next operations');
    } catch (e) {
      // The device holds the records, perhaps not their write-back: only an open knows which (it redoes them), so this image stops here.
      this.drop();
      this.img.dead = true;
      throw e;
    }
    this.forget();
  }

  /** Writes back the state of `count` operations redone at an open (their records already in the ring). */
  writeBackRedone(count: number): void {
    this.held = count;
    this.writeBack();
  }

  /** The same device through another store (a crash model wraps it): what is held stays true of it. */
  rebase(store: Store): void {
    this.log.reset(store);
  }

  drop(): void {
    this.held = 0;
    this.img.history.dropDeferred();
    this.forget();
  }

  private forget(): void {
    this.log.reset(this.img.storeAsIs);
    this.state.reset();
  }

  /** Before an operation: written back when it could not be held (then undefined: the usual path takes it). */
  private ready(): boolean {
    if (this.canHold()) return true;
    // Nothing held and room enough: a checkpoint is due, which only the usual path writes.
    if (this.held || this.img.history.lacksRoomAfterTail(this.img.storeAsIs, DEFERRED_RECORD_BOUND)) this.writeBackMakingRoom();
    return this.canHold();
  }

  /** After an operation: its record made durable, the state written back once it holds enough. */
  private committed(): ChangeSet {
    this.img.storeAsIs.flush();
    this.held++;
    const change = this.state.lastChange;
    if (this.held >= MOST_HELD || this.state.dirtyStructures > this.mostStructures) this.writeBack();
    // As a commit leaves them: what changed, and no replaced bytes (the record keeps the operation's inverse instead).
    this.img.lastChange = changeSetOfRuns(change.frames, change.sections, change.freeLists);
    this.img.lastUndo = [];
    return this.img.lastChange;
  }

  /** One block from the lists of `where`; undefined (nothing done) when the usual path must take it. */
  alloc(full: Required<AllocRequest>, where: { node: number; zone: number }, extended: (b: AllocatedBlock, nextSeq: number) => Record<string, number> | null): { block: AllocatedBlock; step: number; changed: ChangeSet } | undefined {
    if (!this.ready()) return undefined;
    const state = this.state;
    const ownerBytes = encodeOwner(full.owner);
    const outcome = state.judgeInverse(() => state.allocateFromLists(full.order, ownerBytes, where.node, where.zone), true, placesBlocks(this.img));
    if (outcome !== 'done') return this.handOver();
    const block: AllocatedBlock = { pfn: state.allocatedPfn, order: full.order, node: where.node, zone: where.zone };
    const ext = extended(block, this.img.history.nextSeq(this.img.storeAsIs));
    const step = this.append('alloc', { pfn: block.pfn, order: block.order, owner: full.owner, node: block.node, zone: block.zone }, { kind: 'free', pfn: block.pfn, order: block.order, ownerBytes: NO_OWNER, after: state.inversePositions() });
    if (ext) this.img.extended.set(block.pfn, ext);
    else this.img.extended.delete(block.pfn);
    return { block, step, changed: this.committed() };
  }

  /** Frees the block headed by pfn; undefined (nothing done) when the usual path must take it. */
  free(pfn: number): { freed: FreedBlock; step: number; changed: ChangeSet } | undefined {
    if (!this.ready()) return undefined;
    const state = this.state;
    const outcome = state.judgeInverse(() => state.freeAllocated(pfn), true, placesBlocks(this.img));
    if (outcome !== 'done') return this.handOver();
    const freed: FreedBlock = { pfn, order: state.freedOrder, owner: state.freedOwner() };
    const step = this.append('free', { pfn, order: freed.order, owner: '', node: 0, zone: 0 }, { kind: 'allocate', pfn, order: freed.order, ownerBytes: state.freedOwnerBytes.slice(), after: state.inversePositions() });
    this.img.extended.delete(pfn);
    return { freed, step, changed: this.committed() };
  }

  /** Nothing was done: what is held is written back, so that the usual path sees the whole image. */
  private handOver(): undefined {
    this.writeBack();
    this.forget();
    return undefined;
  }

  private append(kind: 'alloc' | 'free', block: OneBlock, inverse: InverseEntry): number {
    const step = this.img.history.appendDeferred(this.img.storeAsIs, kind, this.img.bootGeneration, block, inverse);
    // canHold said there was room, and a one-block summary fits DEFERRED_RECORD_BOUND.
    if (step === undefined) throw new Error('a deferred record found no room it was promised');
    return step;
  }
}

/** Lets one-block operations on `img` hold their home structures for a later write-back (on: true), or writes back and stops. */
export function deferHomeWrites(img: PmemImage, on: boolean): void {
  if (on) {
    if (img.deferred || img.geometry.memmap !== 'device') return;
    img.assertWritable();
    if (img.sb.formatRevision < REVISION_DEFERRED) throw new ImageError(`deferred write-back needs format revision ${REVISION_DEFERRED} (the image is at ${img.sb.formatRevision}): boot it with this build first`, { file: img.file, field: 'superblock.formatRevision' });
    img.deferred = new DeferredHome(img);
    return;
  }
  if (!img.deferred) return;
  void img.store; // writes back
  img.deferred = undefined;
}

/**
 * Redoes, at an open, the operations whose records lie after the history
 * header's tail (committed, their write-back lost), and writes them back
 * (into the read-only open's overlay when read-only). Each is run as it
 * was first run, from the state the ones before it leave, and must give
 * the block its record names.
 */
PmemImage.redoDeferred = (img: PmemImage): number => {
  const store = img.storeAsIs;
  const found = img.history.deferredRecords(store, img.bootGeneration);
  if (!found.records.length) return 0;
  const lane = new DeferredHome(img);
  const state = lane.state;
  for (const [i, r] of found.records.entries()) {
    const s = r.summary as { pfns?: number[]; order?: number; owner?: string; node?: number; zone?: number };
    const pfn = s.pfns?.[0];
    const fail = (why: string) => new ImageError(`step ${r.seq} (${r.summary.text}) was committed but not written back, and cannot be redone: ${why}`, { file: img.file, field: 'historyRecord', offset: found.offsets[i] });
    if (pfn === undefined) throw fail('its record names no block');
    if (r.kind === 'alloc') {
      if (s.order === undefined || s.node === undefined || s.zone === undefined) throw fail('its record names no order, node or zone');
      const out = state.allocateFromLists(s.order, encodeOwner(s.owner ?? ''), s.node, s.zone);
      if (out !== 'done' || state.allocatedPfn !== pfn) throw fail(out !== 'done' ? 'the allocator cannot take a block from that list' : `the list gives pfn ${state.allocatedPfn}`);
    } else if (r.kind === 'free') {
      const out = state.freeAllocated(pfn);
      if (out !== 'done') throw fail(out === 'not-allocated' ? `pfn ${pfn} is not an allocated block` : 'the allocator cannot free it');
    } else throw fail(`a ${r.kind} is never deferred`);
  }
  img.history.adoptDeferred(found.header);
  lane.writeBackRedone(found.records.length);
  return found.records.length;
};
