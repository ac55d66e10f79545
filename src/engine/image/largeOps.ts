/**
 * Operations larger than one journal transaction: an allocation of many
 * blocks, freeing every block of an owner, or freeing listed blocks. They run as several
 * transactions, each recording in the intent slot (format/intent.ts) what the
 * whole operation is and how far it got. A crash between them leaves the slot
 * set, and the next boot completes the operation: before-or-after holds for
 * the operation as a whole, and it is all or nothing, because it is refused
 * before its first transaction unless it can complete.
 */
import { runToEnd, Steps, TimeSlice } from '../core/timeSlice';
import { allocate, allocateInto, AllocatedBlock, AllocRequest, BlockRun, descriptorsOutsideJournal, freeAllocated, freeAscending, FreedBlock, FreedRun, validateAllocRequest, ZoneName, zonelist } from '../alloc/buddy';
import { sectionDataRange, sectionOf } from '../alloc/sectionInit';
import { readString, view } from '../core/bytes';
import { ImageError, JournalFullError, OperationError, SimulatedCrash, UsageError } from '../core/errors';
import { DESCRIPTOR_SIZE, ZONE_NAMES } from '../format/constants';
import { checkDescriptorBytes, DESC, OWNER_BYTES, PG_ALLOCATED, PG_FREEING, sealDescriptor, WORDS_ARE_LITTLE_ENDIAN } from '../format/descriptor';
import { encodeIntent, Intent, INTENT, INTENT_SIZE, intentOffset, NO_INTENT } from '../format/intent';
import { SECTION } from '../format/sectionTable';
import { SECTION_ENTRY_SIZE } from '../format/layout';
import { PAGE_SIZE } from '../format/constants';
import type { PmemImage, VolatileState } from './imageCore';
import type { ByteRange } from '../format/rangeList';
import { ChangeSet, emptyChangeSet, mergeChangeSets } from './changeSet';
import { Txn } from './txn';
import { journalCapacity } from '../format/journal';
import { encodedSize, rangeEntrySize } from '../format/rangeList';
import { MAX_FREE_COUNT } from './limits';

const ZONE_NAME_OF: ZoneName[] = ['dma32', 'normal', 'movable'];

/** Blocks per transaction to start with; halved whenever one turns out too large for the journal. */
const FIRST_PART_BLOCKS = 4096;
/** Share of the journal a part aims to fill: room for a part that writes more per block than the one before. */
const PART_FILL = 0.6;
/** A part grows to at most this many times the blocks of the one before. */
const PART_GROWTH = 8;
/** Most blocks in one part of a run that does not yield (the CLI): few transactions. */
const MAX_PART_BLOCKS = 2 ** 18;
/** Most blocks in one part of an asynchronous run (the editor): it yields, shows progress and can be cancelled every few hundredths of a second. */
const ASYNC_PART_BLOCKS = 2 ** 14;
/** How long one part of an asynchronous run aims to hold the thread: the next part is sized from how long the last one took. */
const ASYNC_PART_MS = 12;
/** The fewest blocks an asynchronous part is cut down to (a part has a fixed cost: its journal record and history step). */
const MIN_ASYNC_PART_BLOCKS = 256;

/**
 * Blocks in the first part: in the editor as few as any part, since its
 * code may not be compiled yet (a first part of 4,096 blocks held the thread
 * 80 ms there); the parts after it are sized from how long it took.
 */
function firstPartBlocks(maxPart: number): number {
  return maxPart === ASYNC_PART_BLOCKS ? MIN_ASYNC_PART_BLOCKS : FIRST_PART_BLOCKS;
}

/**
 * `result` with its list of blocks (`key`) made from `make` when first read:
 * a million block objects hold the thread a tenth of a second or more, and
 * the editor reads only the first block and the pfns (the result's typed run).
 */
function listedOnRead<T extends object, K extends string, V>(result: T, key: K, make: () => V): T & { readonly [k in K]: V } {
  let made: V | undefined;
  Object.defineProperty(result, key, { get: () => (made ??= make()), enumerable: true });
  return result as T & { readonly [k in K]: V };
}

/**
 * Blocks for the next part, from what the last one (`n` blocks) wrote to the
 * journal: as many as fill PART_FILL of it at the same rate. Parts that take
 * never-initialised sections journal little (their descriptors are written in
 * place), parts over free lists about a descriptor a frame.
 */
function nextPartSize(img: PmemImage, n: number, maxPart: number): number {
  const capacity = journalCapacity(img.layout.journal);
  const used = Math.max(1, encodedSize(img.lastUndo));
  const byJournal = Math.max(1, Math.min(n * PART_GROWTH, maxPart, Math.floor((n * capacity * PART_FILL) / used)));
  if (maxPart !== ASYNC_PART_BLOCKS || img.lastPartMs <= 0) return byJournal;
  // In the editor, also as many as fit ASYNC_PART_MS at the rate of the last part.
  const byTime = Math.max(MIN_ASYNC_PART_BLOCKS, Math.floor((n * ASYNC_PART_MS) / img.lastPartMs));
  return Math.max(1, Math.min(byJournal, byTime));
}

export type LargePhase = 'marking' | 'freeing';

export interface LargeProgress {
  /** `phase`: given by a listed free, whose blocks are marked (done counts marks) before they are freed. */
  onProgress?: (done: number, total: number, phase?: LargePhase) => void;
}

/** The pfns and orders of the first `n` blocks of `a` then `b`, for a summary (no block objects). */
function firstFreed(a: FreedRun, b: FreedRun, n: number): { pfns: number[]; orders: number[] } {
  const pfns: number[] = [];
  const orders: number[] = [];
  for (const run of [a, b]) {
    for (let i = 0; i < run.length && pfns.length < n; i++) {
      pfns.push(run.pfn(i));
      orders.push(run.order(i));
    }
  }
  return { pfns, orders };
}

/** The first pfns and how many there are, as the history text shows them. */
function listPfns(first: number[], count: number): string {
  return count <= 4 ? first.slice(0, count).join(', ') : `${first.slice(0, 3).join(', ')}, ... (${count} blocks)`;
}

/**
 * How many blocks of the request's order its zonelist can give: every free
 * block of that order or larger splits into 2^(o - order) of them, and every
 * never-initialised section adds what handing it over would free.
 */
export function allocCapacity(txn: Txn, req: Required<AllocRequest>): number {
  const img = txn.img;
  const g = img.geometry;
  // The table read once: thousands of never-initialised sections are counted per request.
  const tableAt = img.layout.sectionTable.startPfn * PAGE_SIZE;
  const table = view(txn.read(tableAt, g.sectionCount * SECTION_ENTRY_SIZE));
  const dataStart = img.layout.data.startPfn;
  const dataEnd = dataStart + img.layout.data.frames;
  let whole = -1; // blocks in a section that is all data, counted once
  let total = 0;
  for (const { node, zone } of zonelist(txn, req)) {
    for (let o = req.order; o <= g.maxOrder; o++) total += txn.area(node, zone, o).count * 2 ** (o - req.order);
    const z = img.nodes[node].zones[zone];
    const first = sectionOf(g, z.firstPfn);
    const end = sectionOf(g, z.firstPfn + z.frames - 1) + 1;
    for (let s = first; s < end; s++) {
      const at = s * SECTION_ENTRY_SIZE;
      if (table.getUint32(at + SECTION.initGeneration, true) !== 0 || table.getUint32(at + SECTION.reservedFrames, true) >= g.sectionFrames) continue;
      const full = s * g.sectionFrames >= dataStart && (s + 1) * g.sectionFrames <= dataEnd;
      if (full && whole >= 0) {
        total += whole;
        continue;
      }
      const { start, end: stop } = sectionDataRange(img, s);
      const n = blocksHandedOver(start, stop, req.order, g.maxOrder);
      if (full) whole = n;
      total += n;
    }
  }
  return total;
}

/** Blocks of `order` that handing over the data frames [start, stop) frees (as handOverSection cuts them). */
function blocksHandedOver(start: number, stop: number, order: number, maxOrder: number): number {
  let total = 0;
  for (let p = start; p < stop; ) {
    let o = 0;
    while (o < maxOrder && p % 2 ** (o + 1) === 0 && p + 2 ** (o + 1) <= stop) o++;
    if (o >= order) total += 2 ** (o - order);
    p += 2 ** o;
  }
  return total;
}

function outOfMemory(req: Required<AllocRequest>, had: number): OperationError {
  const where = req.strict ? `node ${req.node}` : 'any node';
  return new OperationError(`out of memory: no free block of order ${req.order} in zone ${req.zone} or below on ${where} (allocated ${had} of ${req.count}; nothing was changed)`);
}

/**
 * Allocates `req.count` blocks in as many transactions as the journal needs.
 * `resume`: the intent of an interrupted run, whose remaining blocks this completes.
 */
export function allocLarge(img: PmemImage, request: AllocRequest, progress: LargeProgress = {}, resume?: Intent): AllocLargeResult {
  return drive(allocParts(img, request, resume), progress);
}

/** As allocLarge, yielding to the event loop between transactions; a cancel rolls back what was done. */
export function allocLargeAsync(img: PmemImage, request: AllocRequest, control: LargeControl = {}): Promise<AllocLargeResult> {
  return driveAsync(img, allocParts(img, request, undefined, ASYNC_PART_BLOCKS), control, 'allocation');
}

export interface AllocLargeResult {
  /** Made from `run` when first read. */
  readonly blocks: AllocatedBlock[];
  /** The blocks in typed arrays. */
  run: BlockRun;
  initialisedSections: number[];
  step: number;
  changed: ChangeSet;
}

function* allocParts(img: PmemImage, request: AllocRequest, resume?: Intent, maxPart = MAX_PART_BLOCKS): Generator<PartDone, AllocLargeResult> {
  const probe = new Txn(img);
  const req = validateAllocRequest(probe, request);
  const total = resume ? resume.count : req.count;
  let done = resume ? resume.done : 0;
  if (!resume) {
    // In the editor, a turn before counting and after it: counting a TiB's sections takes tens of milliseconds.
    if (maxPart === ASYNC_PART_BLOCKS) yield { ...PAUSE, total };
    const capacity = allocCapacity(probe, req);
    // The estimate never overcounts; merges while handing sections over can only add blocks, so check the rest by trying.
    if (capacity < req.count && !fitsByTrying(img, req)) throw outOfMemory(req, capacity);
    if (maxPart === ASYNC_PART_BLOCKS) yield { ...PAUSE, total };
  }
  const base: Intent = { kind: 'alloc', order: req.order, zone: ZONE_NAME_OF.indexOf(req.zone), node: req.node, strict: req.strict, count: total, done, owner: req.owner };
  const intentAt = intentOffset(img.layout.history);
  const blocks = new BlockRun(req.order, total - done);
  const initialised = new Set<number>();
  let part = firstPartBlocks(maxPart);
  let step = 0;
  let changed = emptyChangeSet();
  while (done < total) {
    const n = Math.min(part, total - done);
    const last = done + n === total;
    try {
      const r = img.runPart(last ? 'alloc' : undefined, (txn) => {
        descriptorsOutsideJournal(txn); // this step's undo is dropped
        const got = new BlockRun(req.order, n);
        allocateInto(txn, { ...req, count: n }, got);
        if (img.profile.extended.length) for (let i = 0; i < got.length; i++) txn.setExtended(got.pfn(i), extendedValuesFor(img, txn, got.block(i)));
        txn.write(intentAt, last ? NO_INTENT : encodeIntent({ ...base, done: done + n }));
        const head = [...blocks.blocks(0, 256), ...got.blocks(0, 256 - Math.min(256, blocks.length))];
        const first = head[0];
        const owner = req.owner ? ` for ${req.owner}` : '';
        const resumed = resume ? `, completed after a crash (${resume.done} of ${total} blocks were done before it)` : '';
        const text = `alloc order ${req.order} x${total}${owner} → pfn ${listPfns(head.map((b) => b.pfn), blocks.length + got.length)}, node ${first.node} ${ZONE_NAMES[first.zone]}${resumed}`;
        return {
          result: { got, sections: [...txn.initialisedSections] },
          summary: last
            ? { text, order: req.order, count: total, owner: req.owner, pfns: head.map((b) => b.pfn), node: first.node, zone: first.zone, initialisedSections: [...initialised, ...txn.initialisedSections].sort((a, b) => a - b).slice(0, 256) }
            : { text: `${text} (part: ${done + n} of ${total})` },
        };
      }, true);
      blocks.append(r.got);
      r.sections.forEach((s) => initialised.add(s));
      done += n;
      step = r.step;
      changed = mergeChangeSets(changed, r.changed);
      part = nextPartSize(img, n, maxPart);
    } catch (e) {
      if (e instanceof JournalFullError && n > 1) {
        part = Math.max(1, Math.floor(n / 2));
        continue;
      }
      throw e;
    }
    yield { done, total, undo: img.lastUndo, last: done === total };
  }
  return listedOnRead({ run: blocks, initialisedSections: [...initialised].sort((a, b) => a - b), step, changed }, 'blocks', () => blocks.blocks());
}

/** Whether the whole allocation succeeds, found by running it in a transaction that is then dropped. */
function fitsByTrying(img: PmemImage, req: Required<AllocRequest>): boolean {
  try {
    allocate(new Txn(img), req);
    return true;
  } catch (e) {
    if (e instanceof OperationError && /out of memory/.test(e.message)) return false;
    throw e;
  }
}

function extendedValuesFor(img: PmemImage, txn: Txn, b: AllocatedBlock): Record<string, number> {
  const values: Record<string, number> = {};
  for (const f of img.profile.extended) {
    if (f.name === 'shadow') values.shadow = 0x7f00_0000_0000 + b.pfn * 64;
    if (f.name === 'last_cpupid') values.last_cpupid = (b.node << 16) | (b.pfn & 0xffff);
    if (f.name === 'page_owner') values.page_owner = img.history.readHeader(txn).nextSeq;
  }
  return values;
}

/** Most memmap bytes a scan of marks reads at once. */
const OWNER_SCAN_BYTES = 4 * 2 ** 20;
/** Most memmap bytes blocksOwnedBy reads at once: small enough for the buffers to be reused memory, not new pages. */
const OWNER_READ_BYTES = 256 * 2 ** 10;

/**
 * Head pfns of the allocated blocks whose owner is `owner`, in pfn order, read
 * a run of sections at a time from the descriptors this boot can see.
 */
export function blocksOwnedBy(img: PmemImage, owner: string): Float64Array {
  return runToEnd(blocksOwnedBySteps(img, owner));
}

/** As blocksOwnedBy, pausing after each read: scanning a TiB's initialised sections takes tens of milliseconds. */
function* blocksOwnedBySteps(img: PmemImage, owner: string): Steps<Float64Array> {
  const g = img.geometry;
  const want = new TextEncoder().encode(owner);
  const plain = !want.includes(0);
  const table = img.store.read(img.layout.sectionTable.startPfn * PAGE_SIZE, g.sectionCount * SECTION_ENTRY_SIZE);
  const tv = view(table);
  // In a typed array: a list of a million pfns is then one object, not a million numbers to trace.
  let out = new Float64Array(1024);
  let found = 0;
  const push = (pfn: number) => {
    if (found === out.length) {
      const more = new Float64Array(2 * out.length);
      more.set(out);
      out = more;
    }
    out[found++] = pfn;
  };
  // The tag's bytes then a NUL (or the field's end), as four masked words: bytes past the NUL may hold anything.
  const field = new Uint8Array(OWNER_BYTES);
  const mask = new Uint8Array(OWNER_BYTES);
  field.set(want);
  mask.fill(0xff, 0, Math.min(OWNER_BYTES, want.length + 1));
  const fw = new Int32Array(field.buffer);
  const mw = new Int32Array(mask.buffer);
  const [m0, m1, m2, m3] = [mw[0], mw[1], mw[2], mw[3]];
  const [f0, f1, f2, f3] = [fw[0] & m0, fw[1] & m1, fw[2] & m2, fw[3] & m3];
  const o = DESC.owner >> 2;
  const scan = (bytes: Uint8Array, first: number, frames: number) => {
    if (!WORDS_ARE_LITTLE_ENDIAN || bytes.byteOffset % 4 !== 0) return scanBytes(bytes, first, frames);
    const w = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
    for (let i = 0, a = 0; i < frames; i++, a += DESCRIPTOR_SIZE >> 2) {
      if (!(w[a] & PG_ALLOCATED)) continue; // flags is the first byte of word 0
      if ((w[a + o] & m0) !== f0 || (w[a + o + 1] & m1) !== f1 || (w[a + o + 2] & m2) !== f2 || (w[a + o + 3] & m3) !== f3) continue;
      // A tag holding a NUL itself decodes to less than `owner`.
      if (plain || readString(bytes, a * 4 + DESC.owner, OWNER_BYTES) === owner) push(first + i);
    }
  };
  const scanBytes = (bytes: Uint8Array, first: number, frames: number) => {
    for (let i = 0; i < frames; i++) {
      const at = i * DESCRIPTOR_SIZE;
      if (!(bytes[at + DESC.flags] & PG_ALLOCATED)) continue;
      let same = want.length === OWNER_BYTES || bytes[at + DESC.owner + want.length] === 0;
      for (let k = 0; same && k < want.length; k++) same = bytes[at + DESC.owner + k] === want[k];
      if (same && (plain || readString(bytes, at + DESC.owner, OWNER_BYTES) === owner)) push(first + i);
    }
  };
  const initialised = (s: number) => tv.getUint32(s * SECTION_ENTRY_SIZE + SECTION.initGeneration, true) !== 0;
  for (let s = 0; s < g.sectionCount; s++) {
    if (!initialised(s)) continue;
    const first = s * g.sectionFrames;
    if (g.memmap === 'device') {
      // Consecutive initialised sections in one read.
      let end = s + 1;
      while (end < g.sectionCount && initialised(end) && (end + 1 - s) * g.sectionFrames * DESCRIPTOR_SIZE <= OWNER_READ_BYTES) end++;
      const frames = (end - s) * g.sectionFrames;
      scan(img.store.read(img.memmapOffset(first), frames * DESCRIPTOR_SIZE), first, frames);
      s = end - 1;
      yield;
      continue;
    }
    const bytes = tv.getUint32(s * SECTION_ENTRY_SIZE + SECTION.initGeneration, true) === img.bootGeneration ? img.ram.get(s) : undefined;
    if (bytes) scan(bytes, first, g.sectionFrames); // else a stale section of a RAM memmap: its owners did not survive the reboot
  }
  return out.subarray(0, found);
}

/** Frees every allocated block whose owner is `owner`, in as many transactions as the journal needs. */
export function freeOwnerLarge(img: PmemImage, owner: string, progress: LargeProgress = {}, resume?: Intent): FreeOwnerResult {
  return drive(freeOwnerParts(img, owner, resume), progress);
}

/** As freeOwnerLarge, yielding to the event loop between transactions; a cancel rolls back what was done. */
export function freeOwnerLargeAsync(img: PmemImage, owner: string, control: LargeControl = {}): Promise<FreeOwnerResult> {
  return driveAsync(img, freeOwnerParts(img, owner, undefined, ASYNC_PART_BLOCKS), control, 'free');
}

export interface FreeOwnerResult {
  /** Made from `run` when first read. */
  readonly freed: FreedBlock[];
  /** The blocks in typed arrays. */
  run: FreedRun;
  initialisedSections: number[];
  step: number;
  changed: ChangeSet;
}

function* freeOwnerParts(img: PmemImage, owner: string, resume?: Intent, maxPart = MAX_PART_BLOCKS): Generator<PartDone, FreeOwnerResult> {
  if (!owner) throw new UsageError('give the owner tag of the blocks to free');
  if (new TextEncoder().encode(owner).length > OWNER_BYTES) throw new UsageError(`owner tag "${owner}" is longer than ${OWNER_BYTES} bytes`);
  img.assertWritable();
  if (maxPart === ASYNC_PART_BLOCKS) yield PAUSE; // a turn before the scan
  const pfns = yield* pausing(blocksOwnedBySteps(img, owner), maxPart === ASYNC_PART_BLOCKS);
  if (pfns.length === 0 && !resume) throw new OperationError(`no allocated block has owner "${owner}"`);
  if (img.geometry.memmap === 'ram' && pfns.length > FIRST_PART_BLOCKS && !resume) {
    // Owners live only in RAM: after a crash the rest could not be found to complete the operation.
    throw new UsageError(`${pfns.length} blocks have owner "${owner}": with descriptors in RAM one free may take at most ${FIRST_PART_BLOCKS} (a crash midway would lose the owners needed to finish it); free them in parts with pfns`);
  }
  const total = (resume?.done ?? 0) + pfns.length;
  let done = resume?.done ?? 0;
  const base: Intent = { kind: 'free-owner', order: 0, zone: 0, node: 0, strict: false, count: total, done, owner };
  const intentAt = intentOffset(img.layout.history);
  const freed = new FreedRun(pfns.length);
  const initialised = new Set<number>();
  let part = firstPartBlocks(maxPart);
  let step = 0;
  let changed = emptyChangeSet();
  let next = 0;
  while (next < pfns.length || (resume && step === 0)) {
    const slice = pfns.subarray(next, next + part);
    const last = next + slice.length === pfns.length;
    try {
      const r = img.runPart(last ? 'free' : undefined, (txn) => {
        const got = freeAscending(txn, slice);
        // Extended fields exist only for blocks allocated in this boot under a profile that has them.
        if (img.extended.size) for (let i = 0; i < got.length; i++) txn.setExtended(got.pfn(i), null);
        txn.write(intentAt, last ? NO_INTENT : encodeIntent({ ...base, done: done + slice.length }));
        const head = firstFreed(freed, got, 256);
        const resumed = resume ? `, completed after a crash (${resume.done} blocks were freed before it)` : '';
        const text = `free owner ${owner}: ${total} block(s), pfn ${listPfns(head.pfns, freed.length + got.length)}${resumed}`;
        return {
          result: { got, sections: [...txn.initialisedSections] },
          summary: last
            ? { text, owner, pfns: head.pfns, orders: head.orders, initialisedSections: [...initialised, ...txn.initialisedSections].sort((a, b) => a - b).slice(0, 256) }
            : { text: `${text} (part: ${done + slice.length} of ${total})` },
        };
      }, total > FIRST_PART_BLOCKS);
      freed.append(r.got);
      r.sections.forEach((s) => initialised.add(s));
      done += slice.length;
      next += slice.length;
      step = r.step;
      changed = mergeChangeSets(changed, r.changed);
      part = nextPartSize(img, slice.length, maxPart);
    } catch (e) {
      if (e instanceof JournalFullError && slice.length > 1) {
        part = Math.max(1, Math.floor(slice.length / 2));
        continue;
      }
      throw e;
    }
    yield { done, total, undo: img.lastUndo, last: next === pfns.length };
  }
  return listedOnRead({ run: freed, initialisedSections: [...initialised].sort((a, b) => a - b), step, changed }, 'freed', () => freed.blocks());
}

// --- freeing listed blocks --------------------------------------------------------------

/** Journal bytes a marking part leaves free (the journal's own entry overheads). */
const MARK_MARGIN = 1024;
/** Nearby heads are read in one go when at most this many frames apart... */
const MARK_GAP = 64;
/** ...and a read spans at most this many frames. */
const MARK_SPAN = OWNER_SCAN_BYTES / DESCRIPTOR_SIZE;

/** Refuses a pfn list freeOp refuses whatever the image holds. */
export function checkPfnList(pfns: readonly number[]): void {
  if (pfns.length === 0) throw new UsageError('give at least one pfn to free');
  if (pfns.length > MAX_FREE_COUNT) throw new UsageError(`give at most ${MAX_FREE_COUNT} pfns to free at once, not ${pfns.length}`);
  if (pfns.length > 1 && new Set(pfns).size !== pfns.length) throw new UsageError('the same pfn is given twice');
}

/** Why a listed free larger than one transaction is refused with the memmap in RAM. */
export function listedFreeInRam(count: number): UsageError {
  return new UsageError(`freeing ${count} listed blocks takes more than one journal transaction, which needs the blocks marked on the device until the last one commits; with the memmap in RAM the marks would not survive a crash midway, so the next boot could neither finish nor undo it: free them in smaller lists`);
}

/**
 * The listed heads in ascending order, after checking every one without
 * writing: in the data area, in an initialised section, an allocated head (in
 * a stale section a descriptor that re-initialisation keeps). The first pfn
 * in the list that is not gets the error freeing it alone would give.
 */
function validateListed(img: PmemImage, pfns: readonly number[]): number[] {
  const g = img.geometry;
  const dataStart = img.layout.data.startPfn;
  const dataEnd = dataStart + img.layout.data.frames;
  const table = view(img.store.read(img.layout.sectionTable.startPfn * PAGE_SIZE, g.sectionCount * SECTION_ENTRY_SIZE));
  const sorted = Float64Array.from(pfns).sort();
  const bad = new Set<number>();
  for (let i = 0; i < sorted.length; ) {
    const p = sorted[i];
    if (!Number.isSafeInteger(p) || p < dataStart || p >= dataEnd) {
      bad.add(p);
      i++;
      continue;
    }
    const s = sectionOf(g, p);
    const end = Math.min((s + 1) * g.sectionFrames, dataEnd);
    let j = i + 1;
    while (j < sorted.length && sorted[j] < end && sorted[j] - p < MARK_SPAN) j++;
    const gen = table.getUint32(s * SECTION_ENTRY_SIZE + SECTION.initGeneration, true);
    if (gen === 0) {
      for (let k = i; k < j; k++) bad.add(sorted[k]);
      i = j;
      continue;
    }
    const stale = gen !== img.bootGeneration;
    const bytes = img.store.read(img.memmapOffset(p), (sorted[j - 1] - p + 1) * DESCRIPTOR_SIZE);
    for (let k = i; k < j; k++) {
      const at = (sorted[k] - p) * DESCRIPTOR_SIZE;
      if (!(bytes[at + DESC.flags] & PG_ALLOCATED) || (stale && !checkDescriptorBytes(bytes, at).ok)) bad.add(sorted[k]);
    }
    i = j;
  }
  if (bad.size) {
    const first = pfns.find((p) => bad.has(p))!;
    freeAllocated(new Txn(img), first); // throws what freeing it alone says; the transaction is dropped
    throw new OperationError(`pfn ${first} is not the head of an allocated block`, { pfn: first });
  }
  return Array.from(sorted);
}

/**
 * Sets (or clears) PG_freeing on the heads sorted[from, to): nearby heads read
 * in one go, consecutive ones written at once. A stale section's descriptor
 * is marked as it is: its re-initialisation keeps the mark.
 */
function setMarks(txn: Txn, sorted: number[], from: number, to: number, on: boolean): void {
  for (let i = from; i < to; ) {
    const first = sorted[i];
    let j = i + 1;
    while (j < to && sorted[j] - sorted[j - 1] <= MARK_GAP && sorted[j] - first < MARK_SPAN) j++;
    const bytes = txn.readDescriptors(first, sorted[j - 1] - first + 1);
    for (let k = i; k < j; k++) {
      const at = (sorted[k] - first) * DESCRIPTOR_SIZE;
      bytes[at + DESC.flags] = on ? bytes[at + DESC.flags] | PG_FREEING : bytes[at + DESC.flags] & ~PG_FREEING;
      sealDescriptor(bytes, at);
    }
    for (let k = i; k < j; ) {
      let m = k + 1;
      while (m < j && sorted[m] === sorted[m - 1] + 1) m++;
      txn.writeDescriptors(sorted[k], bytes.subarray((sorted[k] - first) * DESCRIPTOR_SIZE, (sorted[m - 1] - first + 1) * DESCRIPTOR_SIZE));
      k = m;
    }
    i = j;
  }
}

/**
 * How many of the heads sorted[from..] one marking transaction can take: its
 * payload is known up front (a range per run of consecutive heads, and the
 * intent), so a part fills the journal instead of growing towards it.
 */
function marksFitting(img: PmemImage, sorted: number[], from: number): number {
  const room = journalCapacity(img.layout.journal) - rangeEntrySize(INTENT_SIZE) - MARK_MARGIN;
  let bytes = 0;
  let i = from;
  for (; i < sorted.length; i++) {
    bytes += i > from && sorted[i] === sorted[i - 1] + 1 ? DESCRIPTOR_SIZE : rangeEntrySize(DESCRIPTOR_SIZE);
    if (bytes > room) break;
  }
  return Math.max(1, i - from);
}

/**
 * The frames marked PG_freeing in [lo, hi), ascending, read from the raw
 * descriptors of the initialised sections (a boot reads them before it
 * re-initialises any, though re-initialisation keeps the marks).
 */
export function markedHeads(img: PmemImage, lo: number, hi: number): number[] {
  const g = img.geometry;
  const table = view(img.store.read(img.layout.sectionTable.startPfn * PAGE_SIZE, g.sectionCount * SECTION_ENTRY_SIZE));
  const out: number[] = [];
  for (let s = sectionOf(g, lo); s <= sectionOf(g, hi - 1); s++) {
    if (table.getUint32(s * SECTION_ENTRY_SIZE + SECTION.initGeneration, true) === 0) continue;
    const end = Math.min(hi, (s + 1) * g.sectionFrames);
    for (let p = Math.max(lo, s * g.sectionFrames); p < end; p += MARK_SPAN) {
      const n = Math.min(MARK_SPAN, end - p);
      const bytes = img.store.read(img.memmapOffset(p), n * DESCRIPTOR_SIZE);
      for (let i = 0; i < n; i++) if (bytes[i * DESCRIPTOR_SIZE + DESC.flags] & PG_FREEING) out.push(p + i);
    }
  }
  return out;
}

export interface FreeListedResult {
  /** Made from `run` when first read. */
  readonly freed: FreedBlock[];
  /** The blocks in typed arrays. */
  run: FreedRun;
  initialisedSections: number[];
  step: number;
  changed: ChangeSet;
}

/**
 * Frees the allocated blocks headed by `pfns` (any order, each once) in as
 * many transactions as the journal needs, all or nothing. No durable place
 * holds the list, so the blocks carry it: phase 1 marks every head PG_freeing
 * (a crash meanwhile rolls the marks back), phase 2 frees the marked heads in
 * ascending order (a crash meanwhile is completed from the marks left).
 */
export function freeListedLarge(img: PmemImage, pfns: readonly number[], progress: LargeProgress = {}): FreeListedResult {
  return drive(freeListedParts(img, pfns), progress);
}

/** As freeListedLarge, yielding to the event loop between transactions; a cancel rolls back what was done, marks included. */
export function freeListedLargeAsync(img: PmemImage, pfns: readonly number[], control: LargeControl = {}): Promise<FreeListedResult> {
  return driveAsync(img, freeListedParts(img, pfns, undefined, ASYNC_PART_BLOCKS), control, 'free');
}

function* freeListedParts(img: PmemImage, pfns: readonly number[], resume?: Intent, maxPart = MAX_PART_BLOCKS): Generator<PartDone, FreeListedResult> {
  img.assertWritable();
  if (img.geometry.memmap === 'ram') throw listedFreeInRam(resume?.count ?? pfns.length);
  const intentAt = intentOffset(img.layout.history);
  let sorted: number[];
  let base: Intent;
  let changed = emptyChangeSet();
  if (resume) {
    if (resume.hi! > img.geometry.totalFrames) throw new ImageError(`its pfn range [${resume.lo}, ${resume.hi}) passes the last frame`, { field: 'intent.hi', offset: intentAt + INTENT.hi });
    base = resume;
    sorted = markedHeads(img, resume.lo!, resume.hi!);
    if (resume.done + sorted.length !== resume.count) throw new ImageError(`${sorted.length} heads are marked PG_freeing in [${resume.lo}, ${resume.hi}) where ${resume.count - resume.done} should be`, { field: 'intent.count', offset: intentAt + INTENT.count });
  } else {
    checkPfnList(pfns);
    sorted = validateListed(img, pfns);
    base = { kind: 'free-listed', order: 0, zone: 0, node: 0, strict: false, count: sorted.length, done: 0, owner: '', marking: true, lo: sorted[0], hi: sorted[sorted.length - 1] + 1 };
    // Phase 1: mark. The last part switches the intent to the freeing phase.
    let part = Infinity; // below marksFitting only after a part turned out too large
    for (let next = 0; next < sorted.length; ) {
      const n = Math.min(part, maxPart, marksFitting(img, sorted, next));
      const last = next + n === sorted.length;
      try {
        const r = img.runPart(undefined, (txn) => {
          setMarks(txn, sorted, next, next + n, true);
          txn.write(intentAt, encodeIntent({ ...base, marking: !last }));
          return { result: {}, summary: { text: `free ${sorted.length} listed blocks: marked ${next + n}` } };
        });
        changed = mergeChangeSets(changed, r.changed);
      } catch (e) {
        if (e instanceof JournalFullError && n > 1) {
          part = Math.max(1, Math.floor(n / 2));
          continue;
        }
        throw e;
      }
      next += n;
      yield { done: next, total: sorted.length, undo: img.lastUndo, last: false, phase: 'marking' };
    }
  }
  // Phase 2: free the marked heads in ascending order; the last part clears the intent and records the step.
  const total = base.count;
  let done = base.done;
  const freed = new FreedRun(sorted.length);
  const initialised = new Set<number>();
  let part = firstPartBlocks(maxPart);
  let step = 0;
  let next = 0;
  do {
    const slice = sorted.slice(next, next + part);
    const last = next + slice.length === sorted.length;
    try {
      const r = img.runPart(last ? 'free' : undefined, (txn) => {
        const got = freeAscending(txn, slice);
        // Extended fields exist only for blocks allocated in this boot under a profile that has them.
        if (img.extended.size) for (let i = 0; i < got.length; i++) txn.setExtended(got.pfn(i), null);
        txn.write(intentAt, last ? NO_INTENT : encodeIntent({ ...base, marking: false, done: done + slice.length }));
        const head = firstFreed(freed, got, 256);
        const resumed = resume ? `, completed after a crash (${resume.done} of ${total} blocks were freed before it)` : '';
        const text = `free pfn ${listPfns(head.pfns, total)} (order ${[...new Set(head.orders)].join('/')})${resumed}`;
        return {
          result: { got, sections: [...txn.initialisedSections] },
          summary: last
            ? { text, pfns: head.pfns, orders: head.orders, count: total, initialisedSections: [...initialised, ...txn.initialisedSections].sort((a, b) => a - b).slice(0, 256) }
            : { text: `${text} (part: ${done + slice.length} of ${total})` },
        };
      }, true);
      freed.append(r.got);
      r.sections.forEach((s) => initialised.add(s));
      step = r.step;
      changed = mergeChangeSets(changed, r.changed);
    } catch (e) {
      if (e instanceof JournalFullError && slice.length > 1) {
        part = Math.max(1, Math.floor(slice.length / 2));
        continue;
      }
      throw e;
    }
    done += slice.length;
    next += slice.length;
    part = nextPartSize(img, slice.length, maxPart);
    yield { done, total, undo: img.lastUndo, last: next === sorted.length, phase: 'freeing' };
  } while (next < sorted.length);
  return listedOnRead({ run: freed, initialisedSections: [...initialised].sort((a, b) => a - b), step, changed }, 'freed', () => freed.blocks());
}

/**
 * Rolls back a listed free a crash cut short while it was marking its blocks:
 * clears every PG_freeing in its range, in parts, the last clearing the intent.
 * Nothing was freed, so no step is recorded.
 */
function rollBackMarking(img: PmemImage, intent: Intent): { text: string; step: number; rolledBack: true } {
  const intentAt = intentOffset(img.layout.history);
  if (intent.hi! > img.geometry.totalFrames) throw new ImageError(`its pfn range [${intent.lo}, ${intent.hi}) passes the last frame`, { field: 'intent.hi', offset: intentAt + INTENT.hi });
  const marked = markedHeads(img, intent.lo!, intent.hi!);
  let part = Infinity;
  let next = 0;
  do {
    const n = Math.min(part, marked.length - next, marksFitting(img, marked, next));
    const last = next + n === marked.length;
    try {
      img.runPart(undefined, (txn) => {
        setMarks(txn, marked, next, next + n, false);
        txn.write(intentAt, last ? NO_INTENT : encodeIntent(intent));
        return { result: {}, summary: { text: `roll back an interrupted free of ${intent.count} listed blocks` } };
      });
    } catch (e) {
      if (e instanceof JournalFullError && n > 1) {
        part = Math.max(1, Math.floor(n / 2));
        continue;
      }
      throw e;
    }
    next += n;
  } while (next < marked.length);
  return { text: `free of ${intent.count} listed blocks rolled back after a crash (it was still marking them; ${marked.length} marks cleared, nothing freed)`, step: 0, rolledBack: true };
}

// --- driving the parts ---------------------------------------------------------------

/** One committed transaction of a large operation: how far it got, and the bytes it replaced. */
interface PartDone {
  done: number;
  total: number;
  undo: ByteRange[];
  /** True for the operation's last transaction (the one that records its step). */
  last: boolean;
  /** A listed free's phase: marking its blocks (`done` counts marks), or freeing them. */
  phase?: LargePhase;
  /** A place between two stretches of work, with no transaction (no progress to tell, nothing to roll back): a turn is given up there, or only once the thread was held a slice. */
  pause?: 'turn' | 'if-long';
}

const PAUSE: PartDone = { done: 0, total: 0, undo: [], last: false, pause: 'turn' };
const PAUSE_IF_LONG: PartDone = { ...PAUSE, pause: 'if-long' };

/** Runs `steps` inside a run of parts: in the editor (`editor`), each of its pauses a place to give up the thread once it has held it a slice. */
function* pausing<T>(steps: Steps<T>, editor: boolean): Generator<PartDone, T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (editor) yield PAUSE_IF_LONG;
  }
}

export interface LargeControl extends LargeProgress {
  /** Asked between transactions; true stops the operation and rolls back what it did. */
  cancelled?: () => boolean;
  /**
   * False: on a cancel, the caller puts the image back itself (an editing
   * session that recorded every write undoes them), so the operation stops
   * without rolling back its transactions (which would be done twice).
   */
  rollBack?: boolean;
}

/** The operation was cancelled and every transaction it had committed was undone. */
export class OperationCancelled extends OperationError {
  constructor(what: string, readonly done: number, readonly total: number, readonly unit = 'blocks', outcome = 'rolled back, the image is as it was before') {
    super(`${what} cancelled ${cancelledWhen(done, total, unit)}: ${outcome}`);
    this.name = 'OperationCancelled';
  }

  /** When it stopped, as its message says it: "after 10 of 3,000 blocks", or before its blocks were known. */
  get when(): string {
    return cancelledWhen(this.done, this.total, this.unit, true);
  }
}

/** A total of 0 is not known yet (a free by owner stopped before its scan found the blocks): said so, not "0 of 0". */
function cancelledWhen(done: number, total: number, unit: string, grouped = false): string {
  const n = (x: number) => (grouped ? x.toLocaleString('en-US') : String(x));
  return total === 0 && done === 0 ? `before any of its ${unit} were found` : `after ${n(done)} of ${n(total)} ${unit}`;
}

function drive<R>(parts: Generator<PartDone, R>, progress: LargeProgress): R {
  for (;;) {
    const r = parts.next();
    if (r.done) return r.value;
    if (!r.value.pause) progress.onProgress?.(r.value.done, r.value.total, r.value.phase);
  }
}

/**
 * Runs the parts, giving up the thread after each transaction (a macrotask
 * boundary, so that events waiting, a Cancel or a redraw, run between two) and
 * at their pauses; a cancel rolls back the transactions done.
 */
async function driveAsync<R>(img: PmemImage, parts: Generator<PartDone, R>, control: LargeControl, what: string): Promise<R> {
  const before = img.captureVolatile();
  const slice = new TimeSlice();
  const committed: ByteRange[][] = [];
  let last: PartDone | undefined;
  for (;;) {
    // Not before the first pause or part: that says of how many, and an allocation's first pause comes before any work.
    if (last && !last.last && control.cancelled?.()) {
      if (control.rollBack !== false) await rollBackAsync(img, committed, before);
      throw new OperationCancelled(what, last.phase === 'marking' ? 0 : last.done, last.total);
    }
    const r = parts.next();
    if (r.done) return r.value;
    if (r.value.pause) {
      last ??= r.value;
      if (r.value.pause === 'turn' || slice.over()) await slice.yieldTurn();
      continue;
    }
    last = r.value;
    committed.push(r.value.undo);
    control.onProgress?.(r.value.done, r.value.total, r.value.phase);
    // No turn after the last part: nothing (a cancel, an undo) can come between it and the end of the operation.
    if (!r.value.last) await slice.yieldTurn();
  }
}

/**
 * Undoes committed parts newest first, each as a transaction of its own that
 * writes back the bytes it replaced (the intent slot among them: the first
 * part's undo clears it). A crash midway leaves the intent of a part, so the
 * next boot completes the operation instead: still before or after.
 */
async function rollBackAsync(img: PmemImage, committed: ByteRange[][], before: VolatileState): Promise<void> {
  const slice = new TimeSlice();
  for (let i = committed.length - 1; i >= 0; i--) {
    if (slice.over()) await slice.yieldTurn();
    img.runPart(undefined, (txn) => {
      for (const r of committed[i]) txn.write(r.offset, r.data);
      return { result: {}, summary: { text: 'roll back a cancelled operation' } };
    });
  }
  img.restoreRamState(before);
}

/** Completes an operation a crash interrupted (called by the boot that finds its intent). */
export function resumeIntent(img: PmemImage, intent: Intent): { text: string; step: number; rolledBack?: boolean } {
  try {
    if (intent.kind === 'free-listed' && intent.marking) return rollBackMarking(img, intent);
    const r = intent.kind === 'alloc'
      ? allocLarge(img, { order: intent.order, count: intent.count - intent.done, node: intent.node, strict: intent.strict, zone: ZONE_NAME_OF[intent.zone], owner: intent.owner }, {}, intent)
      : intent.kind === 'free-listed' ? drive(freeListedParts(img, [], intent), {})
      : freeOwnerLarge(img, intent.owner, {}, intent);
    const rec = img.historyRecords().find((x) => x.seq === r.step);
    return { text: rec?.summary.text ?? intent.kind, step: r.step };
  } catch (e) {
    if (e instanceof SimulatedCrash) throw e; // the power failed again: the next boot takes over
    throw new ImageError(`an operation interrupted by a crash (${intent.kind}, ${intent.done} of ${intent.count} blocks done) could not be completed: ${(e as Error).message}; open the image read-only to inspect it`, { field: 'intent', offset: intentOffset(img.layout.history) });
  }
}
