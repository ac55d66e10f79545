/**
 * The operations a user runs on an open image: each is one crash-atomic
 * transaction with one history record.
 */
import { dataView } from '../core/bytes';
import { allocate, AllocatedBlock, AllocRequest, type BlockRun, FreedBlock, type FreedRun, freeAllocated, handOverSection, validateAllocRequest, zonelist } from '../alloc/buddy';
import { BuddyState } from '../alloc/buddyState';
import { encodeOwner, PG_ALLOCATED } from '../format/descriptor';
import { ensureSectionReady, sectionOf } from '../alloc/sectionInit';
import type { HistoryRecord } from '../format/history';
import { allocSummary, freeSummary } from '../format/summaryCodec';
import { OperationError, UsageError } from '../core/errors';
import { REVISION_INVERSE, REVISION_PLACED } from '../format/constants';
import { TimeSlice } from '../core/timeSlice';
import { keepsDescriptors, SECTION_ENTRY_SIZE } from '../format/layout';
import { designOf } from '../designs/designs';
import { readSectionField, readSectionGeneration, SECTION, sectionEntryOffset, sectionState } from '../format/sectionTable';
import { JournalFullError } from '../core/errors';
import type { ChangeSet } from './changeSet';
import type { FastTxn } from './fastTxn';
import type { InverseEntry } from '../format/undoCodec';
import { PmemImage } from './imageCore';
import { DeferredHome, placesBlocks } from './deferredHome';
import { allocLarge, allocLargeAsync, checkPfnList, freeListedLarge, freeListedLargeAsync, freeOwnerLarge, freeOwnerLargeAsync, LargeControl, LargeProgress, listedFreeInRam, resumeIntent } from './largeOps';
import { assertFitsJournal, journalBytes, journalBytesAtLeast, journalGeometryOf } from './limits';

PmemImage.resumeIntent = resumeIntent;

const SHADOW_BASE = 0x7f00_0000_0000; // a made-up kernel address range for kmemcheck shadow pages

export interface AllocResult {
  readonly blocks: AllocatedBlock[];
  initialisedSections: number[];
  /** A large allocation's blocks in typed arrays; its `blocks` are made from them when first read. */
  run?: BlockRun;
}

/** The pfns of the blocks allocated, without an object per block. */
export function allocatedPfns(r: AllocResult): number[] {
  return r.run ? r.run.pfnList() : r.blocks.map((b) => b.pfn);
}

/** The first block allocated. */
export function firstAllocated(r: AllocResult): AllocatedBlock {
  return r.run ? r.run.block(0) : r.blocks[0];
}

/**
 * Allocates `count` blocks, all or nothing: in one transaction when the
 * journal can hold it, else in several (image/largeOps.ts).
 */
export function allocOp(img: PmemImage, req: AllocRequest, progress: LargeProgress = {}): AllocResult & { step: number; changed: ChangeSet } {
  const order = req.order;
  const count = req.count ?? 1;
  const fitsOne = Number.isInteger(order) && Number.isInteger(count) && count >= 1
    && journalBytesAtLeast(journalGeometryOf(img), { kind: 'alloc', order, count }) <= journalBytes(journalGeometryOf(img));
  if (!fitsOne && count > 1) return allocLarge(img, req, progress);
  try {
    return allocOne(img, req);
  } catch (e) {
    if (e instanceof JournalFullError && count > 1) return allocLarge(img, req, progress);
    throw e;
  }
}

function allocOne(img: PmemImage, req: AllocRequest): AllocResult & { step: number; changed: ChangeSet } {
  const fast = allocFast(img, req);
  if (fast) return fast;
  return img.run('alloc', (txn) => {
    const { order, count } = validateAllocRequest(txn, req);
    assertFitsJournal(journalGeometryOf(img), { kind: 'alloc', order, count });
    const blocks = allocate(txn, req);
    for (const b of blocks) txn.setExtended(b.pfn, extendedFields(img, b, img.history.nextSeq(txn)));
    const initialisedSections = [...txn.initialisedSections].sort((a, b) => a - b);
    return { result: { blocks, initialisedSections }, summary: allocSummaryOf(blocks, req.owner ?? '', initialisedSections) };
  });
}

/**
 * The fast lane for one block allocated or freed: the allocator state in
 * typed arrays (alloc/buddyState.ts) staged on a FastTxn instead of a Txn. It
 * gives the same bytes as the general path, but for its history record,
 * which keeps the operation as its inverse where that gives every byte back;
 * `enabled` false forces the general path (to compare the two), `taken`
 * counts the operations it took and `deferred` those it held for a deferred
 * write-back (image/deferredHome.ts).
 */
export const fastLane = { enabled: true, taken: 0, deferred: 0 };

/** Each image's allocator state for the fast lane, kept between operations (its buffers), emptied before each. */
const laneStates = new WeakMap<PmemImage, BuddyState>();

const NO_OWNER = new Uint8Array(16);

/** Has the history keep the operation staged on `t` as its inverse (an image this build booted is at a revision that has them; one that names list positions needs revision 4). */
function keepAsInverse(img: PmemImage, t: FastTxn, inverse: InverseEntry): void {
  if (img.sb.formatRevision >= (inverse.after ? REVISION_PLACED : REVISION_INVERSE)) t.inverse = inverse;
}

function laneState(img: PmemImage, t: FastTxn): BuddyState {
  let state = laneStates.get(img);
  if (!state) laneStates.set(img, (state = new BuddyState(img)));
  state.reset();
  state.attach(t);
  return state;
}

/** One block through the fast lane; undefined when the general path must take it. */
function allocFast(img: PmemImage, req: AllocRequest): (AllocResult & { step: number; changed: ChangeSet }) | undefined {
  if (!fastLane.enabled || (req.count ?? 1) !== 1 || img.geometry.memmap !== 'device') return undefined;
  img.assertWritable();
  const full = validateAllocRequest({ img }, req);
  assertFitsJournal(journalGeometryOf(img), { kind: 'alloc', order: full.order, count: full.count });
  const where = zonelist({ img }, full)[0];
  if (!where) return undefined;
  if (img.deferred instanceof DeferredHome) {
    const held = img.deferred.alloc(full, where, (b, nextSeq) => extendedFields(img, b, nextSeq));
    if (held) {
      fastLane.deferred++;
      return { blocks: [held.block], initialisedSections: [], step: held.step, changed: held.changed };
    }
  }
  const t = img.fastTxn();
  const state = laneState(img, t);
  const ownerBytes = encodeOwner(full.owner);
  const outcome = state.judgeInverse(() => state.allocateFromLists(full.order, ownerBytes, where.node, where.zone), false, placesBlocks(img));
  if (outcome !== 'done') return undefined;
  state.flush();
  const block: AllocatedBlock = { pfn: state.allocatedPfn, order: full.order, node: where.node, zone: where.zone };
  if (state.inverseExact) keepAsInverse(img, t, { kind: 'free', pfn: block.pfn, order: full.order, ownerBytes: NO_OWNER, after: state.inversePositions() });
  t.extended.set(block.pfn, extendedFields(img, block, img.history.nextSeq(t)));
  fastLane.taken++;
  return img.commitStaged(t, 'alloc', { blocks: [block], initialisedSections: [] }, allocSummaryOf([block], req.owner ?? '', []));
}

/** The running profile's extended fields of a block just allocated as step `step` (null when the profile has none). */
function extendedFields(img: PmemImage, b: AllocatedBlock, step: number): Record<string, number> | null {
  const profile = img.profile;
  // A design without descriptors has no extended part either: nothing to keep them in.
  if (!profile.extended.length || !keepsDescriptors(img.geometry)) return null;
  const values: Record<string, number> = {};
  for (const f of profile.extended) {
    if (f.name === 'shadow') values.shadow = SHADOW_BASE + b.pfn * 64;
    if (f.name === 'last_cpupid') values.last_cpupid = (b.node << 16) | (b.pfn & 0xffff);
    if (f.name === 'page_owner') values.page_owner = step;
  }
  return values;
}

function allocSummaryOf(blocks: AllocatedBlock[], owner: string, initialisedSections: number[]): HistoryRecord['summary'] {
  const first = blocks[0];
  return allocSummary(first.order, blocks.length, owner, blocks.slice(0, 256).map((b) => b.pfn), first.node, first.zone, initialisedSections);
}

export interface FreeResult {
  readonly freed: FreedBlock[];
  initialisedSections: number[];
  /** A large free's blocks in typed arrays; its `freed` are made from them when first read. */
  run?: FreedRun;
}

/** The pfns of the blocks freed, without an object per block. */
export function freedPfns(r: FreeResult): number[] {
  return r.run ? r.run.pfnList() : r.freed.map((f) => f.pfn);
}

/** How many blocks were freed, without an object per block. */
export function freedCount(r: FreeResult): number {
  return r.run ? r.run.length : r.freed.length;
}

/**
 * Frees the blocks headed by `pfns`, all or nothing: in one transaction when
 * the journal can hold it, else in several (image/largeOps.ts: the heads are
 * marked first, then freed in ascending order).
 */
export function freeOp(img: PmemImage, pfns: number[], progress: LargeProgress = {}): FreeResult & { step: number; changed: ChangeSet } {
  checkPfnList(pfns);
  for (const p of pfns) refuseUnderIo(img, p, 1);
  if (!freeFitsOne(img, pfns.length)) return freeListedLarge(img, pfns, progress);
  try {
    return freeOne(img, pfns);
  } catch (e) {
    if (!(e instanceof JournalFullError && pfns.length > 1)) throw e;
    if (img.geometry.memmap === 'ram') throw listedFreeInRam(pfns.length);
    return freeListedLarge(img, pfns, progress);
  }
}

/** Whether freeing `count` blocks may fit one transaction (the floor; the commit tells for sure). */
function freeFitsOne(img: PmemImage, count: number): boolean {
  const j = journalGeometryOf(img);
  return journalBytesAtLeast(j, { kind: 'free', count }) <= journalBytes(j);
}

function freeOne(img: PmemImage, pfns: number[]): FreeResult & { step: number; changed: ChangeSet } {
  const fast = pfns.length === 1 ? freeFast(img, pfns[0]) : undefined;
  if (fast) return fast;
  return img.run('free', (txn) => {
    const freed = pfns.map((pfn) => freeAllocated(txn, pfn));
    for (const f of freed) txn.setExtended(f.pfn, null);
    const initialisedSections = [...txn.initialisedSections].sort((a, b) => a - b);
    return { result: { freed, initialisedSections }, summary: freeSummaryOf(pfns, freed, initialisedSections) };
  });
}

/** One block through the fast lane; undefined when the general path must take it. */
function freeFast(img: PmemImage, pfn: number): (FreeResult & { step: number; changed: ChangeSet }) | undefined {
  if (!fastLane.enabled || img.geometry.memmap !== 'device') return undefined;
  img.assertWritable();
  if (img.deferred instanceof DeferredHome) {
    const held = img.deferred.free(pfn);
    if (held) {
      fastLane.deferred++;
      return { freed: [held.freed], initialisedSections: [], step: held.step, changed: held.changed };
    }
  }
  const t = img.fastTxn();
  const state = laneState(img, t);
  const outcome = state.judgeInverse(() => state.freeAllocated(pfn), false, placesBlocks(img));
  if (outcome !== 'done') return undefined;
  state.flush();
  const freed: FreedBlock = { pfn, order: state.freedOrder, owner: state.freedOwner() };
  if (state.inverseExact) keepAsInverse(img, t, { kind: 'allocate', pfn, order: state.freedOrder, ownerBytes: state.freedOwnerBytes.slice(), after: state.inversePositions() });
  t.extended.set(pfn, null);
  fastLane.taken++;
  return img.commitStaged(t, 'free', { freed: [freed], initialisedSections: [] }, freeSummaryOf([pfn], [freed], []));
}

function freeSummaryOf(pfns: number[], freed: FreedBlock[], initialisedSections: number[]): HistoryRecord['summary'] {
  return freeSummary(pfns.slice(0, 256), freed.slice(0, 256).map((f) => f.order), pfns.length, initialisedSections);
}

export interface InitResult {
  handedOver: number[];
  reinitialised: number[];
}

/** Initialises the given sections now instead of on first use (one transaction). */
export function initSectionsOp(img: PmemImage, sections: number[]): InitResult & { step: number; changed: ChangeSet } {
  const g = img.geometry;
  for (const s of sections) if (!Number.isInteger(s) || s < 0 || s >= g.sectionCount) throw new UsageError(`section ${s} does not exist (0 to ${g.sectionCount - 1})`);
  return img.run('init', (txn) => {
    const states = sections.map((s) => ({ s, state: txn.sectionState(s), hasData: txn.section(s).reservedFrames < g.sectionFrames }));
    const neverSections = states.filter((x) => x.state === 'never' && x.hasData).length;
    assertFitsJournal(journalGeometryOf(img), { kind: 'init', neverSections, staleSections: states.filter((x) => x.state === 'stale').length });
    const handedOver: number[] = [];
    const reinitialised: number[] = [];
    for (const s of sections) {
      const e = txn.section(s);
      const state = sectionState(e.initGeneration, img.bootGeneration);
      if (state === 'stale') {
        ensureSectionReady(txn, s);
        reinitialised.push(s);
      } else if (state === 'never' && e.reservedFrames < g.sectionFrames) {
        handOverSection(txn, s);
        handedOver.push(s);
      }
    }
    const text = sections.length === 1 ? `init section ${sections[0]}` : `init sections ${sections[0]}..${sections[sections.length - 1]}`;
    return { result: { handedOver, reinitialised }, summary: { text, sections: sections.slice(0, 256), handedOver: handedOver.length, reinitialised: reinitialised.length } };
  });
}

/** Sections that are not yet initialised in this boot and have data frames. */
export function sectionsNeedingInit(img: PmemImage): number[] {
  const out: number[] = [];
  const table = readSectionTable(img);
  for (let s = 0; s < img.geometry.sectionCount; s++) {
    if (readSectionGeneration(table, s) !== img.bootGeneration && readSectionField(table, s, SECTION.reservedFrames) < img.geometry.sectionFrames) out.push(s);
  }
  return out;
}

/**
 * Initialises every section, a batch per transaction (the journal bounds one
 * transaction), reporting progress and stopping early when asked.
 */
export function initAllOp(img: PmemImage, opts: { batch?: number; onProgress?: (done: number, total: number) => void; cancelled?: () => boolean } = {}): { sections: number; steps: number[] } {
  const todo = sectionsNeedingInit(img);
  const batch = opts.batch ?? (img.geometry.sectionFrames > 512 ? 1 : 16);
  const steps: number[] = [];
  for (let i = 0; i < todo.length; i += batch) {
    if (opts.cancelled?.()) break;
    steps.push(initSectionsOp(img, todo.slice(i, i + batch)).step);
    opts.onProgress?.(Math.min(i + batch, todo.length), todo.length);
  }
  return { sections: todo.length, steps };
}

/**
 * As initAllOp, giving up the thread between transactions once it has held it
 * for a slice of time. A cancel stops between transactions and says how far it
 * got (`cancelled`); the sections done stay initialised, so a caller that
 * promises all or nothing (the editing session) puts their bytes back.
 */
export async function initAllOpAsync(img: PmemImage, opts: { batch?: number; sliceMs?: number; onProgress?: (done: number, total: number) => void; cancelled?: () => boolean } = {}): Promise<{ sections: number; steps: number[]; cancelled?: { done: number } }> {
  // The slice starts before the sections are found (a TiB's table is 8 MiB): the first batch waits for a turn if that took long.
  const slice = new TimeSlice(opts.sliceMs);
  const todo = sectionsNeedingInit(img);
  const most = opts.batch ?? (img.geometry.sectionFrames > 512 ? 1 : 16);
  // Unless told, the first batch is one section (its code may not be compiled yet) and each next one sized from how long the last took.
  let batch = opts.batch ?? 1;
  const steps: number[] = [];
  for (let i = 0; i < todo.length; ) {
    if (slice.over()) await slice.yieldTurn();
    if (opts.cancelled?.()) return { sections: todo.length, steps, cancelled: { done: i } };
    const n = Math.min(batch, todo.length - i);
    const started = performance.now();
    steps.push(initSectionsOp(img, todo.slice(i, i + n)).step);
    i += n;
    if (opts.batch === undefined) batch = Math.max(1, Math.min(most, Math.floor((n * INIT_BATCH_MS) / Math.max(0.1, performance.now() - started))));
    opts.onProgress?.(i, todo.length);
  }
  return { sections: todo.length, steps };
}

/** How long one transaction of an asynchronous Initialise All aims to hold the thread. */
const INIT_BATCH_MS = 10;

/** The whole section table in one read, for sectionEntryAt and readSectionGeneration. */
export function readSectionTable(img: PmemImage): DataView {
  const bytes = img.store.read(sectionEntryOffset(img.layout, 0), img.geometry.sectionCount * SECTION_ENTRY_SIZE);
  return dataView(bytes);
}

/** Frees every allocated block whose owner tag is `owner`, all or nothing (one transaction or several). */
export function freeOwnerOp(img: PmemImage, owner: string, progress: LargeProgress = {}): FreeResult & { step: number; changed: ChangeSet } {
  refuseOwnersWithoutDescriptors(img);
  return freeOwnerLarge(img, owner, progress);
}

/** A page under I/O (a dynamic image's descriptor attached to it) is not freed: its I/O completes first. */
function refuseUnderIo(img: PmemImage, pfn: number, count: number): void {
  if (!img.io.attached) return;
  const f = img.io.flights.find((x) => x.pfn < pfn + count && pfn < x.pfn + x.count);
  if (f) throw new OperationError(`pfn ${Math.max(pfn, f.pfn)} is under I/O (I/O ${f.id}, pfn ${f.pfn} + ${f.count}): complete the I/O before freeing it (nothing was freed)`, { pfn: Math.max(pfn, f.pfn) });
}

/** A design without descriptors keeps no owner: there is nothing to free by. */
function refuseOwnersWithoutDescriptors(img: PmemImage): void {
  if (!keepsDescriptors(img.geometry)) throw new UsageError(`a ${designOf(img.geometry)} image keeps no descriptors, so no owner: free its blocks by pfn and order`);
}

/**
 * Frees the block of 2^order frames at `pfn` as its caller names it (Linux's
 * free_pages(addr, order)). With descriptors the image checks the order
 * against the block's own; a design without them (pfn-only) cannot look it
 * up, so it frees each frame, in ascending order, merging as it goes: one
 * transaction, one step.
 */
export function freeOrderOp(img: PmemImage, pfn: number, order: number): FreeResult & { step: number; changed: ChangeSet } {
  const g = img.geometry;
  if (!Number.isInteger(order) || order < 0 || order > g.maxOrder) throw new UsageError(`order ${order} is out of range (0 to ${g.maxOrder})`);
  if (!Number.isSafeInteger(pfn) || pfn < 0 || pfn + 2 ** order > g.totalFrames) throw new UsageError(`pfn ${pfn} with order ${order} is outside the image (${g.totalFrames} frames)`);
  if (pfn % 2 ** order !== 0) throw new UsageError(`pfn ${pfn} is not aligned to order ${order}: a block of order ${order} starts at a multiple of ${2 ** order}`);
  refuseUnderIo(img, pfn, 2 ** order);
  return img.run('free', (txn) => {
    let freed: FreedBlock[];
    if (!keepsDescriptors(g)) {
      // The design could not tell a frame in use from one already free; the explorer's index of free blocks can, before anything changes.
      for (let p = pfn; p < pfn + 2 ** order; p++) {
        if (!ensureSectionReady(txn, sectionOf(g, p)) || !(txn.descriptor(p).flags & PG_ALLOCATED)) {
          throw new OperationError(`pfn ${p} is not allocated: the block of order ${order} at pfn ${pfn} is not all in use (nothing was freed)`, { pfn: p });
        }
      }
      for (let p = pfn; p < pfn + 2 ** order; p++) freeAllocated(txn, p);
      freed = [{ pfn, order, owner: '' }];
    } else {
      freed = [freeAllocated(txn, pfn)];
      if (freed[0].order !== order) throw new OperationError(`the block at pfn ${pfn} is of order ${freed[0].order}, not ${order}: nothing was freed`, { pfn });
    }
    txn.setExtended(pfn, null);
    const initialisedSections = [...txn.initialisedSections].sort((a, b) => a - b);
    return { result: { freed, initialisedSections }, summary: freeSummaryOf([pfn], freed, initialisedSections) };
  });
}

/**
 * As allocOp, yielding to the event loop between the transactions of a large
 * allocation (progress, and a cancel that rolls it back); a small one runs at once.
 */
export async function allocOpAsync(img: PmemImage, req: AllocRequest, control: LargeControl = {}): Promise<AllocResult & { step: number; changed: ChangeSet }> {
  const count = req.count ?? 1;
  const fitsOne = Number.isInteger(req.order) && Number.isInteger(count) && count >= 1
    && journalBytesAtLeast(journalGeometryOf(img), { kind: 'alloc', order: req.order, count }) <= journalBytes(journalGeometryOf(img));
  if (fitsOne || count <= 1) {
    try {
      return allocOne(img, req);
    } catch (e) {
      if (!(e instanceof JournalFullError && count > 1)) throw e;
    }
  }
  return allocLargeAsync(img, req, control);
}

/**
 * As freeOp, yielding to the event loop between the transactions of a large
 * free (progress by phase, and a cancel that rolls it back, marks included);
 * a small one runs at once.
 */
export async function freeListedOpAsync(img: PmemImage, pfns: number[], control: LargeControl = {}): Promise<FreeResult & { step: number; changed: ChangeSet }> {
  checkPfnList(pfns);
  if (freeFitsOne(img, pfns.length)) {
    try {
      return freeOne(img, pfns);
    } catch (e) {
      if (!(e instanceof JournalFullError && pfns.length > 1)) throw e;
      if (img.geometry.memmap === 'ram') throw listedFreeInRam(pfns.length);
    }
  }
  return freeListedLargeAsync(img, pfns, control);
}

/** As freeOwnerOp, yielding between transactions, with progress and a cancel that rolls it back. */
export async function freeOwnerOpAsync(img: PmemImage, owner: string, control: LargeControl = {}): Promise<FreeResult & { step: number; changed: ChangeSet }> {
  refuseOwnersWithoutDescriptors(img);
  return freeOwnerLargeAsync(img, owner, control);
}
