/**
 * The buddy allocator. Free lists per node, zone and order; a free block is
 * marked in its head descriptor (PG_buddy + order) and linked through a record
 * in its own first page (or through the descriptor, when the image says so).
 * Allocation takes the smallest sufficient block and splits it; freeing merges
 * with the buddy (pfn XOR 2^order) while it is free, of the same order, and in
 * the same node and zone.
 */
import { clearAllocation, freeSlot, hasMemdescs, refuseWordsBeyondJournal, writeAllocation } from './memdescs';
import { ALLOCATEE_BYTES } from '../format/twoWord';
import { clearUnits, hasUnitDescriptors, refuseBelowUnit, writeUnitHead } from './units2m';
import { OperationError, UsageError } from '../core/errors';
import { DESCRIPTOR_SIZE, PAGE_SIZE, ZONE_DMA32, ZONE_MOVABLE, ZONE_NAMES, ZONE_NORMAL } from '../format/constants';
import { DESC, Descriptor, encodeDescriptorInto, WORDS_ARE_LITTLE_ENDIAN, encodeOwner, OWNER_BYTES, patchAllocatedHeadBody, patchDescriptor, patchPlain, patchPlainSealed, PG_ALLOCATED, PG_BUDDY, PG_CORE, sealDescriptors, stampDescriptors } from '../format/descriptor';
import { copyBytes, readString } from '../core/bytes';
import { decodeFreeLink, encodeFreeLink, FREE_LINK_SIZE } from '../format/freeLink';
import { keepsDescriptors, nodeZoneOf } from '../format/layout';
import { MAX_ALLOC_COUNT } from '../image/limits';
import type { ImageCore } from '../image/imageContext';
import type { Txn } from '../image/txn';
import { emptyLinkBytes } from '../image/txn';
import { reservedFramesIn } from '../format/layout';
import { ensureSectionReady, freshSectionDescriptors, sectionDataRange, sectionOf } from './sectionInit';
import { borrowBuffer } from '../core/bufferPool';

// --- section accounting -----------------------------------------------------

/** Adds dFree/dAlloc times the frames of block (pfn, order) to the summaries of the sections it covers. */
export function account(txn: Txn, pfn: number, order: number, dFree: number, dAlloc: number): void {
  const g = txn.img.geometry;
  const frames = 2 ** order;
  const first = sectionOf(g, pfn);
  const last = sectionOf(g, pfn + frames - 1);
  const per = Math.min(frames, g.sectionFrames);
  for (let s = first; s <= last; s++) {
    const e = txn.section(s);
    txn.setSection(s, { ...e, freeFrames: e.freeFrames + dFree * per, allocatedFrames: e.allocatedFrames + dAlloc * per });
  }
}

// --- descriptors of block heads ----------------------------------------------

/**
 * Readies every section a block covers before its links change. With a RAM
 * memmap a stale section is rebuilt from the link records, so it must be
 * rebuilt while the block's record still says what the block is.
 */
function ensureBlockReady(txn: Txn, pfn: number, order: number): void {
  const g = txn.img.geometry;
  for (let s = sectionOf(g, pfn); s <= sectionOf(g, pfn + 2 ** order - 1); s++) ensureSectionReady(txn, s);
}

function headDescriptor(txn: Txn, pfn: number): Descriptor {
  if (!ensureSectionReady(txn, sectionOf(txn.img.geometry, pfn))) {
    throw new OperationError(`pfn ${pfn} lies in a section that was never initialised`, { pfn });
  }
  return txn.descriptor(pfn);
}

/** The head's raw descriptor (a copy), after readying its section. */
function headBytes(txn: Txn, pfn: number): Uint8Array {
  if (!ensureSectionReady(txn, sectionOf(txn.img.geometry, pfn))) {
    throw new OperationError(`pfn ${pfn} lies in a section that was never initialised`, { pfn });
  }
  return copyBytes(txn.rawDescriptor(pfn));
}

/** Changes some fields of a head's descriptor in place (the rest kept as stored) and reseals it. */
function setHead(txn: Txn, pfn: number, change: Partial<Descriptor>): void {
  const bytes = headBytes(txn, pfn);
  patchDescriptor(bytes, 0, { ...change, pfn });
  putDescriptors(txn, pfn, bytes);
}

function markPlain(txn: Txn, pfn: number): void {
  const bytes = headBytes(txn, pfn);
  patchPlain(bytes, 0);
  putDescriptors(txn, pfn, bytes);
}

// --- sections handed over by a transaction ----------------------------------------

/** Per transaction: the never-initialised sections it handed over. */
const handedOver = new WeakMap<Txn, Set<number>>();
/** Transactions that write the descriptors of the sections they hand over outside their journal. */
const bulkDescriptors = new WeakSet<Txn>();

function handedOverBy(txn: Txn, s: number): boolean {
  return handedOver.get(txn)?.has(s) ?? false;
}

/**
 * Lets `txn` write every descriptor of a section it hands over as part of that
 * section's initialisation (in place before its journal transaction, see
 * Txn.bulkWrite) instead of journaling it: until the transaction commits the
 * section table says never initialised, so those bytes mean nothing, and once
 * it commits they are final. Their old bytes are then not in the
 * transaction's undo, so only a transaction whose undo is dropped uses it.
 */
export function descriptorsOutsideJournal(txn: Txn): void {
  bulkDescriptors.add(txn);
}

/**
 * Writes raw descriptors from pfn on, each section's in the journal or, when
 * handed over by `txn` (see descriptorsOutsideJournal), in place. `owned`:
 * the caller never touches `bytes` again (the journal may stage them as they are).
 */
function putDescriptors(txn: Txn, pfn: number, bytes: Uint8Array, owned = false): void {
  const img = txn.img;
  const sections = bulkDescriptors.has(txn) && img.geometry.memmap === 'device' ? handedOver.get(txn) : undefined;
  if (!sections) {
    txn.writeDescriptors(pfn, bytes, owned);
    return;
  }
  const frames = img.geometry.sectionFrames;
  const count = bytes.length / DESCRIPTOR_SIZE;
  for (let i = 0; i < count; ) {
    const s = Math.floor((pfn + i) / frames);
    const n = Math.min(count - i, (s + 1) * frames - (pfn + i));
    const part = n === count ? bytes : bytes.subarray(i * DESCRIPTOR_SIZE, (i + n) * DESCRIPTOR_SIZE);
    if (sections.has(s)) txn.bulkWrite(img.memmapOffset(pfn + i), part);
    else txn.writeDescriptors(pfn + i, part);
    i += n;
  }
}

// --- free-list links ----------------------------------------------------------

interface Links {
  next: number;
  prev: number;
}

function getLinks(txn: Txn, pfn: number): Links {
  const links = readLinks(txn, pfn);
  // A link that leaves the data area (a corrupt but checksummed record) must not be followed.
  const data = txn.img.layout.data;
  for (const [name, to] of Object.entries(links)) {
    if (to !== 0 && !(Number.isSafeInteger(to) && to >= data.startPfn && to < data.startPfn + data.frames)) {
      throw new OperationError(`free list is corrupt: the block at pfn ${pfn} has ${name} link ${to}, outside the data area; run "check"`, { pfn, field: txn.img.geometry.links === 'page' ? `freeLink.${name}` : `descriptor.${name}` });
    }
  }
  return links;
}

function readLinks(txn: Txn, pfn: number): Links {
  if (txn.img.geometry.links === 'descriptor') {
    const d = headDescriptor(txn, pfn);
    return { next: d.next, prev: d.prev };
  }
  const l = decodeFreeLink(txn.read(pfn * PAGE_SIZE, FREE_LINK_SIZE));
  if (!l.ok || l.link.pfn !== pfn) {
    throw new OperationError(`free list is corrupt: the block at pfn ${pfn} has ${l.ok ? `a link record for pfn ${l.link.pfn}` : `no valid link record (${l.reason})`}; run "check"`, { pfn, field: 'freeLink' });
  }
  return { next: l.link.next, prev: l.link.prev };
}

function setLinks(txn: Txn, pfn: number, links: Links, order: number, node: number, zone: number): void {
  if (txn.img.geometry.links === 'descriptor') {
    setHead(txn, pfn, links);
    return;
  }
  txn.write(pfn * PAGE_SIZE, encodeFreeLink({ pfn, next: links.next, prev: links.prev, order, node, zone, linkedGeneration: txn.img.bootGeneration }));
}

function clearLinks(txn: Txn, pfn: number): void {
  if (txn.img.geometry.links === 'descriptor') setHead(txn, pfn, { next: 0, prev: 0 });
  else txn.write(pfn * PAGE_SIZE, emptyLinkBytes);
}

export function listPush(txn: Txn, node: number, zone: number, order: number, pfn: number): void {
  const area = txn.area(node, zone, order);
  setLinks(txn, pfn, { next: area.head, prev: 0 }, order, node, zone);
  if (area.head) {
    const old = getLinks(txn, area.head);
    setLinks(txn, area.head, { next: old.next, prev: pfn }, order, node, zone);
  }
  txn.setArea(node, zone, order, { head: pfn, count: area.count + 1 });
}

export function listRemove(txn: Txn, node: number, zone: number, order: number, pfn: number): void {
  const links = getLinks(txn, pfn);
  const area = txn.area(node, zone, order);
  if (area.count < 1) throw new OperationError(`free list is corrupt: the list of order ${order} (node ${node}, zone ${ZONE_NAMES[zone] ?? zone}) counts no block but holds block ${pfn}`, { pfn, field: 'freeArea.count' });
  if (links.prev) {
    const p = getLinks(txn, links.prev);
    setLinks(txn, links.prev, { next: links.next, prev: p.prev }, order, node, zone);
  } else if (area.head !== pfn) {
    throw new OperationError(`free list is corrupt: block ${pfn} has no predecessor but list head is ${area.head}`, { pfn, field: 'freeArea.head' });
  }
  if (links.next) {
    const n = getLinks(txn, links.next);
    setLinks(txn, links.next, { next: n.next, prev: links.prev }, order, node, zone);
  }
  txn.setArea(node, zone, order, { head: links.prev ? area.head : links.next, count: area.count - 1 });
  clearLinks(txn, pfn);
}

// --- merge and split ------------------------------------------------------------

/** True when the buddy block (pfn, order) lies wholly in the data area and in the given zone. */
function buddyInBounds(txn: Txn, pfn: number, order: number, node: number, zone: number): boolean {
  const { layout, nodes } = txn.img;
  const end = pfn + 2 ** order;
  if (pfn < layout.data.startPfn || end > layout.data.startPfn + layout.data.frames) return false;
  const z = nodes[node].zones[zone];
  return pfn >= z.firstPfn && end <= z.firstPfn + z.frames;
}

/** Frees block (pfn, order), merging with free buddies, and puts the result on its free list. */
export function freeBlockInto(txn: Txn, pfn: number, order: number): void {
  const g = txn.img.geometry;
  const { node, zone } = nodeZoneOf(txn.img.nodes, pfn);
  while (order < g.maxOrder) {
    const buddy = pfn ^ (2 ** order);
    if (!buddyInBounds(txn, buddy, order, node, zone)) break;
    if (!ensureSectionReady(txn, sectionOf(g, buddy))) break;
    const d = txn.descriptor(buddy);
    if (!(d.flags & PG_BUDDY) || d.order !== order || d.node !== node || d.zone !== zone) break;
    ensureBlockReady(txn, buddy, order);
    listRemove(txn, node, zone, order, buddy);
    markPlain(txn, buddy);
    pfn = Math.min(pfn, buddy);
    order++;
  }
  setHead(txn, pfn, { flags: PG_CORE | PG_BUDDY, order, node, zone, owner: '', refcount: 0 });
  listPush(txn, node, zone, order, pfn);
}

// --- allocation --------------------------------------------------------------------

export type ZoneName = 'dma32' | 'normal' | 'movable';
const utf8 = new TextEncoder();

/** A tag's length in UTF-8 (a short ASCII one, the usual kind, without encoding it). */
function utf8Length(tag: string): number {
  // eslint-disable-next-line no-control-regex
  return tag.length <= 16 && /^[\x00-\x7f]*$/.test(tag) ? tag.length : utf8.encode(tag).length;
}

const ZONE_BY_NAME: Record<ZoneName, number> = { dma32: ZONE_DMA32, normal: ZONE_NORMAL, movable: ZONE_MOVABLE };

export interface AllocRequest {
  order: number;
  count?: number;
  /** Preferred node (default 0); others are tried in id order unless strict. */
  node?: number;
  strict?: boolean;
  /** Highest zone the caller accepts (default normal); lower zones are the fallback, as with GFP flags. */
  zone?: ZoneName;
  owner?: string;
}

export interface AllocatedBlock {
  pfn: number;
  order: number;
  node: number;
  zone: number;
}

export function validateAllocRequest(txn: { img: ImageCore }, req: AllocRequest): Required<AllocRequest> {
  const g = txn.img.geometry;
  const full: Required<AllocRequest> = {
    order: req.order, count: req.count ?? 1, node: req.node ?? 0, strict: req.strict ?? false, zone: req.zone ?? 'normal', owner: req.owner ?? '',
  };
  if (!Number.isInteger(full.order) || full.order < 0 || full.order > g.maxOrder) throw new UsageError(`order must be 0 to ${g.maxOrder} for this image, not ${req.order}`);
  if (!Number.isInteger(full.count) || full.count < 1 || full.count > MAX_ALLOC_COUNT) throw new UsageError(`count must be 1 to ${MAX_ALLOC_COUNT}, not ${req.count}`);
  if (!Number.isInteger(full.node) || full.node < 0 || full.node >= g.nodeCount) throw new UsageError(`node must be 0 to ${g.nodeCount - 1}, not ${req.node}`);
  if (!(full.zone in ZONE_BY_NAME)) throw new UsageError(`zone must be dma32, normal or movable, not "${req.zone}"`);
  const ownerBytes = utf8Length(full.owner);
  if (ownerBytes > 16) throw new UsageError(`owner tag "${full.owner}" is longer than 16 bytes`);
  if (hasUnitDescriptors(g)) refuseBelowUnit(full.order);
  if (hasMemdescs(g)) refuseWordsBeyondJournal(txn.img, full.order);
  if (g.descriptors === 'twoWord' && ownerBytes > ALLOCATEE_BYTES) {
    throw new UsageError(`a two-word image's allocatee is one 64-bit word: owner tag "${full.owner}" is longer than ${ALLOCATEE_BYTES} bytes`);
  }
  return full;
}

/** Node order (preferred first) then zones from the highest allowed down, as a Linux zonelist. */
export function zonelist(txn: { img: ImageCore }, req: Required<AllocRequest>): Array<{ node: number; zone: number }> {
  const nodes = [req.node, ...txn.img.nodes.map((n) => n.id).filter((id) => id !== req.node && !req.strict)];
  const top = ZONE_BY_NAME[req.zone];
  const out: Array<{ node: number; zone: number }> = [];
  for (const node of nodes) for (let zone = top; zone >= 0; zone--) if (txn.img.nodes[node].zones[zone].frames > 0) out.push({ node, zone });
  return out;
}

/** The next never-initialised section of a zone that has data frames, or -1. */
function nextNeverSection(txn: Txn, node: number, zone: number): number {
  const img = txn.img;
  const z = img.nodes[node].zones[zone];
  const g = img.geometry;
  const key = `${node}/${zone}`;
  const first = sectionOf(g, z.firstPfn);
  const end = sectionOf(g, z.firstPfn + z.frames - 1) + 1;
  for (let s = Math.max(first, txn.neverHint(key) ?? first); s < end; s++) {
    const e = txn.section(s);
    if (e.initGeneration === 0 && e.reservedFrames < g.sectionFrames) {
      txn.setNeverHint(key, s);
      return s;
    }
  }
  txn.setNeverHint(key, end);
  return -1;
}

/**
 * Takes a free block of `order` (splitting a larger one). With `want` > 1 the
 * caller needs that many blocks of `order`: when the block found is no larger
 * than that, it is taken whole and returned with its order (see allocate).
 */
function takeFromZone(txn: Txn, node: number, zone: number, order: number, want = 1): { pfn: number; order: number; section?: number } | undefined {
  const g = txn.img.geometry;
  for (;;) {
    for (let o = order; o <= g.maxOrder; o++) {
      const area = txn.area(node, zone, o);
      if (!area.head) continue;
      const pfn = area.head;
      const d = headDescriptor(txn, pfn);
      if (!(d.flags & PG_BUDDY) || d.order !== o) {
        throw new OperationError(`free list ${ZONE_NAMES[zone]}/order ${o} of node ${node} is corrupt: its head pfn ${pfn} is not a free block of that order; run "check"`, { pfn });
      }
      ensureBlockReady(txn, pfn, o);
      listRemove(txn, node, zone, o, pfn);
      if (o > order && 2 ** (o - order) <= want) return { pfn, order: o };
      while (o > order) {
        o--;
        const half = pfn + 2 ** o;
        setHead(txn, half, { flags: PG_CORE | PG_BUDDY, order: o, node, zone, owner: '', refcount: 0 });
        listPush(txn, node, zone, o, half);
      }
      return { pfn, order };
    }
    const s = nextNeverSection(txn, node, zone);
    if (s < 0) return undefined;
    if (takesSectionWhole(txn, s, order, want)) return { pfn: s * g.sectionFrames, order: Math.log2(g.sectionFrames), section: s };
    handOverSection(txn, s);
  }
}

/**
 * Allocated blocks of one order kept in typed arrays: a million of them would
 * otherwise be a million objects for the garbage collector to trace while the
 * operation goes on.
 */
export class BlockRun {
  private pfns: Float64Array;
  private where: Uint8Array; // node × 3 + zone
  length = 0;

  /** `expected`: how many blocks it will likely hold (it grows past that as needed). */
  constructor(readonly order: number, expected = 256) {
    this.pfns = new Float64Array(Math.max(1, expected));
    this.where = new Uint8Array(Math.max(1, expected));
  }

  /** Room for `more` blocks. */
  private reserve(more: number): void {
    if (this.length + more <= this.pfns.length) return;
    const n = Math.max(this.length + more, this.pfns.length * 2);
    this.pfns = grown(this.pfns, n, this.length);
    this.where = grown(this.where, n, this.length);
  }

  push(pfn: number, node: number, zone: number): void {
    this.reserve(1);
    this.pfns[this.length] = pfn;
    this.where[this.length++] = node * 3 + zone;
  }

  /** Adds `count` blocks of one node and zone, the first at `pfn`, each `step` frames after the one before. */
  pushRun(pfn: number, count: number, step: number, node: number, zone: number): void {
    this.reserve(count);
    for (let i = 0; i < count; i++) this.pfns[this.length + i] = pfn + i * step;
    this.where.fill(node * 3 + zone, this.length, this.length + count);
    this.length += count;
  }

  /** Appends every block of `other` (of the same order). */
  append(other: BlockRun): void {
    this.reserve(other.length);
    this.pfns.set(other.pfns.subarray(0, other.length), this.length);
    this.where.set(other.where.subarray(0, other.length), this.length);
    this.length += other.length;
  }

  pfn(i: number): number {
    return this.pfns[i];
  }

  node(i: number): number {
    return Math.floor(this.where[i] / 3);
  }

  zone(i: number): number {
    return this.where[i] % 3;
  }

  block(i: number): AllocatedBlock {
    return { pfn: this.pfns[i], order: this.order, node: this.node(i), zone: this.zone(i) };
  }

  /** The blocks' pfns, in order: numbers, no object per block. */
  pfnList(): number[] {
    return numbersOf(this.pfns, this.length);
  }

  /** The blocks [start, end) as objects. */
  blocks(start = 0, end = this.length): AllocatedBlock[] {
    const stop = Math.min(end, this.length);
    const out: AllocatedBlock[] = new Array(Math.max(0, stop - start));
    for (let i = start; i < stop; i++) out[i - start] = this.block(i);
    return out;
  }
}

/** The first `n` numbers of a typed array as an array: a loop, several times faster than Array.from on a million. */
function numbersOf(a: Float64Array, n: number): number[] {
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i];
  return out;
}

/** Allocates `count` blocks; all or nothing (the transaction is dropped on failure). */
export function allocate(txn: Txn, request: AllocRequest): AllocatedBlock[] {
  const run = new BlockRun(request.order, Math.min(request.count ?? 1, 2 ** 16));
  allocateInto(txn, request, run);
  return run.blocks();
}

/** As allocate, adding the blocks to `out`. */
export function allocateInto(txn: Txn, request: AllocRequest, out: BlockRun): void {
  const req = validateAllocRequest(txn, request);
  const start = out.length;
  const candidates = zonelist(txn, req);
  const head = { flags: PG_CORE | PG_ALLOCATED, order: req.order, owner: req.owner, refcount: 1, next: 0, prev: 0 };
  while (out.length - start < req.count) {
    let taken = false;
    for (const { node, zone } of candidates) {
      const got = takeFromZone(txn, node, zone, req.order, req.count - (out.length - start));
      if (got === undefined) continue;
      if (got.section !== undefined) {
        allocateSectionWhole(txn, got.section, req.order, node, zone, req.owner, out);
        taken = true;
        break;
      }
      // A larger block taken whole is cut into blocks of the order asked for, in pfn order: the
      // same blocks, bytes and list state as splitting it one allocation at a time would leave.
      if (got.order === req.order) {
        setHead(txn, got.pfn, { ...head, node, zone });
        out.push(got.pfn, node, zone);
      } else {
        cutAllocated(txn, got.pfn, got.order, req.order, node, zone, req.owner, out);
      }
      account(txn, got.pfn, got.order, -1, +1);
      taken = true;
      break;
    }
    if (!taken) {
      const where = req.strict ? `node ${req.node}` : 'any node';
      throw new OperationError(`out of memory: no free block of order ${req.order} in zone ${req.zone} or below on ${where} (allocated ${out.length - start} of ${req.count}; nothing was changed)`);
    }
  }
  if (!keepsDescriptors(txn.img.geometry)) for (let i = start; i < out.length; i++) forgetBlock(txn, out.pfn(i), req.order);
  if (hasMemdescs(txn.img.geometry)) {
    for (let i = start; i < out.length; i++) writeAllocation(txn, txn.img, { pfn: out.pfn(i), order: req.order, node: out.node(i), zone: out.zone(i), owner: req.owner, initGeneration: txn.img.bootGeneration });
  }
  if (hasUnitDescriptors(txn.img.geometry)) {
    const gen = txn.img.bootGeneration;
    for (let i = start; i < out.length; i++) writeUnitHead(txn, txn.img.layout, { pfn: out.pfn(i), order: req.order, node: out.node(i), zone: out.zone(i), owner: req.owner, initGeneration: gen });
  }
}

const NO_OWNER = new Uint8Array(OWNER_BYTES);

/**
 * A design without descriptors (pfn-only) keeps nothing of an allocated
 * block: its frames become what a boot rebuilds for frames no free block
 * holds (rebuildRamSection), allocated single frames with no owner and no
 * order. Freeing it takes the order from the caller (ops.ts freeOrderOp).
 */
function forgetBlock(txn: Txn, pfn: number, order: number): void {
  const count = 2 ** order;
  const bytes = txn.readDescriptors(pfn, count);
  for (let i = 0; i < count; i++) {
    const at = i * DESCRIPTOR_SIZE;
    patchAllocatedHeadBody(bytes, at, pfn + i, 0, bytes[at + DESC.node], bytes[at + DESC.zone], NO_OWNER);
  }
  sealDescriptors(bytes, 0, count);
  putDescriptors(txn, pfn, bytes);
}

/**
 * Marks the blocks of `order` that make up the free block (pfn, whole) as
 * allocated heads, patching the descriptors in one buffer: what splitting it
 * one allocation at a time would leave (the fields a head keeps, its
 * initialisation generation and volatile flags, are kept here too).
 */
function cutAllocated(txn: Txn, pfn: number, whole: number, order: number, node: number, zone: number, owner: string, blocks: BlockRun): void {
  const count = 2 ** whole;
  const size = 2 ** order;
  const bytes = txn.readDescriptors(pfn, count);
  const ownerBytes = encodeOwner(owner);
  const g = txn.img.geometry;
  const stale = staleLinksRead(txn);
  for (let i = 0; i < count; i += size) {
    const head = pfn + i;
    // A section handed over by this transaction was never initialised: nothing was ever linked in its frames.
    if (head !== pfn && stale && !handedOverBy(txn, sectionOf(g, head))) clearStaleLink(txn, head);
    patchAllocatedHeadBody(bytes, i * DESCRIPTOR_SIZE, head, order, node, zone, ownerBytes);
  }
  blocks.pushRun(pfn, count / size, size, node, zone);
  sealDescriptors(bytes, 0, count / size, size);
  if (order === 0) putDescriptors(txn, pfn, bytes);
  else for (let i = 0; i < count; i += size) putDescriptors(txn, pfn + i, bytes.subarray(i * DESCRIPTOR_SIZE, (i + 1) * DESCRIPTOR_SIZE));
}

/**
 * Whether section s, never initialised, may be handed over and allocated
 * whole in one go (allocateSectionWhole), when a zone has no free block of
 * `order` or larger left and `want` blocks are still to come: it must be all
 * data, one block when handed over (so it merges with nothing: its buddy would
 * be a free block of that order), and its descriptors written in place.
 */
function takesSectionWhole(txn: Txn, s: number, order: number, want: number): boolean {
  const g = txn.img.geometry;
  if (!bulkDescriptors.has(txn) || g.memmap !== 'device') return false;
  const sectionOrder = Math.log2(g.sectionFrames);
  if (sectionOrder > g.maxOrder || order > sectionOrder || want < 2 ** (sectionOrder - order)) return false;
  return txn.section(s).reservedFrames === 0;
}

/**
 * Hands section s over and allocates it as blocks of `order`, in pfn order:
 * the bytes handOverSection then taking its one block whole would leave
 * (the block's list goes back to empty, its link record to zeros), with each
 * descriptor written once, straight in its allocated form.
 */
function allocateSectionWhole(txn: Txn, s: number, order: number, node: number, zone: number, owner: string, blocks: BlockRun): void {
  const img = txn.img;
  const frames = img.geometry.sectionFrames;
  const first = s * frames;
  const size = 2 ** order;
  let sections = handedOver.get(txn);
  if (!sections) handedOver.set(txn, (sections = new Set()));
  sections.add(s);
  // One block's descriptors, pfns 0: its head allocated, the rest as initialisation leaves them.
  const gen = img.bootGeneration;
  const pattern = new Uint8Array(size * DESCRIPTOR_SIZE);
  encodeDescriptorInto({ flags: PG_CORE | PG_ALLOCATED, order, node, zone, pfn: 0, refcount: 1, initGeneration: gen, owner, next: 0, prev: 0, volatileFlags: 0 }, pattern, 0);
  for (let i = 1; i < size; i++) {
    encodeDescriptorInto({ flags: PG_CORE, order: 0, node, zone, pfn: 0, refcount: 0, initGeneration: gen, owner: '', next: 0, prev: 0, volatileFlags: 0 }, pattern, i * DESCRIPTOR_SIZE);
  }
  const bytes = new Uint8Array(frames * DESCRIPTOR_SIZE);
  stampDescriptors(bytes, pattern, first);
  blocks.pushRun(first, frames / size, size, node, zone);
  txn.bulkWrite(img.memmapOffset(first), bytes, false, true);
  txn.setSection(s, { initGeneration: img.bootGeneration, freeFrames: 0, allocatedFrames: frames, reservedFrames: 0 });
  if (img.geometry.links === 'page') txn.write(first * PAGE_SIZE, emptyLinkBytes);
}

/**
 * Whether a link record left in a frame that is not a free block's head would
 * be read: only with the memmap in RAM, whose descriptors a boot rebuilds from
 * every frame's record. With the memmap on the device only free heads' records
 * are read (and copied, see image/copy.ts), and the allocator leaves none
 * elsewhere: it erases a record when its block is allocated or merged. So only
 * then is a frame's record looked for before it is allocated or freed within a
 * larger block: a read per frame.
 */
function staleLinksRead(txn: Txn): boolean {
  return txn.img.geometry.links === 'page' && txn.img.geometry.memmap === 'ram';
}

/** Erases a link record left in a frame that splitting would have linked and then unlinked (usually already zero). */
function clearStaleLink(txn: Txn, pfn: number): void {
  const bytes = txn.read(pfn * PAGE_SIZE, FREE_LINK_SIZE);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0) {
      txn.write(pfn * PAGE_SIZE, emptyLinkBytes);
      return;
    }
  }
}

export interface FreedBlock {
  pfn: number;
  order: number;
  owner: string;
}

/** The block (free or allocated) that covers pfn, found by probing aligned heads; undefined if none. */
export function coveringHead(descriptorAt: (pfn: number) => Descriptor, maxOrder: number, pfn: number): Descriptor | undefined {
  for (let o = 0; o <= maxOrder; o++) {
    const q = pfn - (pfn % 2 ** o);
    if (o > 0 && q === pfn) continue;
    const d = descriptorAt(q);
    if (d.flags & (PG_BUDDY | PG_ALLOCATED) && q + 2 ** d.order > pfn) return d;
  }
  return undefined;
}

/**
 * Frees allocated blocks given in ascending pfn order. Where the list holds
 * every block of an aligned larger block (all of one order, one zone), that
 * block is freed at once: the same bytes and lists as freeing them one by one
 * in that order would leave, since each merge inside it undoes the push before.
 */
export function freeAscending(txn: Txn, pfns: ArrayLike<number>, out = new FreedRun(pfns.length)): FreedRun {
  const ownerOf = ownerReader();
  for (let i = 0; i < pfns.length; ) {
    const run = alignedRun(txn, pfns, i);
    if (!run) {
      const f = freeAllocated(txn, pfns[i]);
      out.push(f.pfn, f.order, f.owner);
      i++;
      continue;
    }
    const { order, whole, bytes } = run;
    const p = pfns[i];
    const size = 2 ** order;
    const count = 2 ** (whole - order);
    // The blocks' owners, a run of one tag at a time (the heads of a run mostly share one).
    const stride = size * DESCRIPTOR_SIZE;
    const words = WORDS_ARE_LITTLE_ENDIAN && bytes.byteOffset % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2) : undefined;
    for (let k = 0; k < count; ) {
      const at = k * stride + DESC.owner;
      const owner = ownerOf(bytes, at);
      let m = k + 1;
      if (words) {
        const a = at >> 2;
        const [w0, w1, w2, w3] = [words[a], words[a + 1], words[a + 2], words[a + 3]];
        for (let b = (m * stride + DESC.owner) >> 2; m < count && words[b] === w0 && words[b + 1] === w1 && words[b + 2] === w2 && words[b + 3] === w3; b += stride >> 2) m++;
      } else {
        while (m < count && sameBytes(bytes, at, m * stride + DESC.owner, OWNER_BYTES)) m++;
      }
      out.pushRun(p + k * size, m - k, size, order, owner);
      k = m;
    }
    if (staleLinksRead(txn)) for (let k = size; k < 2 ** whole; k += size) clearStaleLink(txn, p + k);
    patchPlainSealed(bytes, count, size);
    if (order === 0) putDescriptors(txn, p, bytes, true);
    else for (let k = 0; k < 2 ** whole; k += size) putDescriptors(txn, p + k, bytes.subarray(k * DESCRIPTOR_SIZE, (k + 1) * DESCRIPTOR_SIZE));
    account(txn, p, whole, +1, -1);
    if (hasUnitDescriptors(txn.img.geometry)) clearUnits(txn, txn.img.layout, p, whole);
    if (hasMemdescs(txn.img.geometry)) for (let k = 0; k < 2 ** whole; k += size) clearAllocation(txn, txn.img, p + k, order);
    // Merged outward as the last single free would have.
    freeBlockInto(txn, p, whole);
    i += 2 ** (whole - order);
  }
  return out;
}

function sameBytes(bytes: Uint8Array, a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/** Reads owner tags, decoding a tag only when its bytes differ from the last one's (a run of blocks mostly shares one). */
function ownerReader(): (bytes: Uint8Array, at: number) => string {
  const last = new Uint8Array(OWNER_BYTES);
  let owner: string | undefined;
  return (bytes, at) => {
    let same = owner !== undefined;
    for (let i = 0; same && i < OWNER_BYTES; i++) same = bytes[at + i] === last[i];
    if (same) return owner!;
    last.set(bytes.subarray(at, at + OWNER_BYTES));
    return (owner = readString(bytes, at, OWNER_BYTES));
  };
}

/** Freed blocks kept in typed arrays (see BlockRun), their owners as indexes into the distinct tags. */
export class FreedRun {
  private pfns: Float64Array;
  private orders: Uint8Array;
  private ownerIndex: Uint32Array;
  private readonly owners: string[] = [];
  private readonly ownerIds = new Map<string, number>();
  private lastId = 0;
  length = 0;

  /** `expected`: how many blocks it will likely hold (it grows past that as needed). */
  constructor(expected = 256) {
    this.pfns = new Float64Array(Math.max(1, expected));
    this.orders = new Uint8Array(Math.max(1, expected));
    this.ownerIndex = new Uint32Array(Math.max(1, expected));
  }

  /** Room for `more` blocks. */
  private reserve(more: number): void {
    if (this.length + more <= this.pfns.length) return;
    const n = Math.max(this.length + more, this.pfns.length * 2);
    this.pfns = grown(this.pfns, n, this.length);
    this.orders = grown(this.orders, n, this.length);
    this.ownerIndex = grown(this.ownerIndex, n, this.length);
  }

  private ownerId(owner: string): number {
    let id = owner === this.owners[this.lastId] ? this.lastId : this.ownerIds.get(owner);
    if (id === undefined) {
      id = this.owners.push(owner) - 1;
      this.ownerIds.set(owner, id);
    }
    return (this.lastId = id);
  }

  push(pfn: number, order: number, owner: string): void {
    this.pushRun(pfn, 1, 0, order, owner);
  }

  /** Adds `count` blocks of one order and owner, the first at `pfn`, each `step` frames after the one before. */
  pushRun(pfn: number, count: number, step: number, order: number, owner: string): void {
    this.reserve(count);
    const id = this.ownerId(owner);
    for (let i = 0; i < count; i++) this.pfns[this.length + i] = pfn + i * step;
    this.orders.fill(order, this.length, this.length + count);
    this.ownerIndex.fill(id, this.length, this.length + count);
    this.length += count;
  }

  append(other: FreedRun): void {
    this.reserve(other.length);
    this.pfns.set(other.pfns.subarray(0, other.length), this.length);
    this.orders.set(other.orders.subarray(0, other.length), this.length);
    const ids = other.owners.map((o) => this.ownerId(o));
    for (let i = 0; i < other.length; i++) this.ownerIndex[this.length + i] = ids[other.ownerIndex[i]];
    this.length += other.length;
  }

  pfn(i: number): number {
    return this.pfns[i];
  }

  order(i: number): number {
    return this.orders[i];
  }

  block(i: number): FreedBlock {
    return { pfn: this.pfns[i], order: this.orders[i], owner: this.owners[this.ownerIndex[i]] };
  }

  /** The blocks' pfns, in order: numbers, no object per block. */
  pfnList(): number[] {
    return numbersOf(this.pfns, this.length);
  }

  /** The blocks [start, end) as objects. */
  blocks(start = 0, end = this.length): FreedBlock[] {
    const stop = Math.min(end, this.length);
    const out: FreedBlock[] = new Array(Math.max(0, stop - start));
    for (let i = start; i < stop; i++) out[i - start] = this.block(i);
    return out;
  }
}

/** The largest aligned block starting at pfns[i] made of the next listed allocated heads, all of one order. */
function alignedRun(txn: Txn, pfns: ArrayLike<number>, i: number): { order: number; whole: number; bytes: Uint8Array } | undefined {
  const g = txn.img.geometry;
  const p = pfns[i];
  const s = sectionOf(g, p);
  if (!Number.isSafeInteger(p) || txn.sectionState(s) === 'never' || !ensureSectionReady(txn, s)) return undefined;
  const head = txn.rawDescriptor(p);
  const flags = head[DESC.flags];
  if (!(flags & PG_ALLOCATED)) return undefined;
  const order = head[DESC.order];
  const node = head[DESC.node];
  const zone = head[DESC.zone];
  // The largest aligned block in bounds whose heads of `order` are all listed next, from the pfns alone...
  const step = 2 ** order;
  let top = order;
  let listed = 1;
  while (top < g.maxOrder && p % 2 ** (top + 1) === 0) {
    const n = 2 ** (top + 1 - order);
    if (i + n > pfns.length || !buddyInBounds(txn, p, top + 1, node, zone)) break;
    while (listed < n && pfns[i + listed] === p + listed * step) listed++;
    if (listed < n) break;
    top++;
  }
  if (top === order) return undefined;
  // ...then read once: the run ends before the first head that is not an allocated block of that order.
  ensureBlockReady(txn, p, top);
  const bytes = txn.readDescriptors(p, 2 ** top);
  const n = 2 ** (top - order);
  let ok = 0;
  for (; ok < n; ok++) {
    const at = ok * step * DESCRIPTOR_SIZE;
    if ((bytes[at + DESC.flags] & (PG_ALLOCATED | PG_BUDDY)) !== PG_ALLOCATED || bytes[at + DESC.order] !== order || bytes[at + DESC.node] !== node || bytes[at + DESC.zone] !== zone) break;
  }
  if (ok < 2) return undefined;
  const whole = order + 31 - Math.clz32(ok);
  return { order, whole, bytes: whole === top ? bytes : bytes.subarray(0, 2 ** whole * DESCRIPTOR_SIZE) };
}

/** Frees the allocated block whose head is pfn. */
export function freeAllocated(txn: Txn, pfn: number): FreedBlock {
  const { layout, geometry: g } = txn.img;
  if (!Number.isSafeInteger(pfn) || pfn < layout.data.startPfn || pfn >= layout.data.startPfn + layout.data.frames) {
    throw new UsageError(`pfn ${pfn} is not in the data area (pfns ${layout.data.startPfn} to ${layout.data.startPfn + layout.data.frames - 1})`);
  }
  const s = sectionOf(g, pfn);
  if (!ensureSectionReady(txn, s)) throw new OperationError(`pfn ${pfn} is in section ${s}, which was never initialised: nothing there is allocated`, { pfn, section: s });
  const d = txn.descriptor(pfn);
  if (!(d.flags & PG_ALLOCATED)) {
    const cover = coveringHead((q) => (ensureSectionReady(txn, sectionOf(g, q)) ? txn.descriptor(q) : ({ flags: 0 } as Descriptor)), g.maxOrder, pfn);
    if (!cover) throw new OperationError(`pfn ${pfn} is not the head of an allocated block`, { pfn });
    if (cover.flags & PG_BUDDY) throw new OperationError(`pfn ${pfn} is already free (in the free block at pfn ${cover.pfn}, order ${cover.order})`, { pfn });
    throw new OperationError(`pfn ${pfn} is inside the allocated block at pfn ${cover.pfn} (order ${cover.order}); free ${cover.pfn} instead`, { pfn });
  }
  // A damaged descriptor (its checksum recomputed) may name an order whose block is not one: touch nothing then.
  if (d.order > g.maxOrder || pfn % 2 ** d.order !== 0 || pfn + 2 ** d.order > layout.data.startPfn + layout.data.frames) {
    throw new OperationError(`pfn ${pfn}'s descriptor says its block has order ${d.order}, which is no block of this image (largest order ${g.maxOrder}, data up to pfn ${layout.data.startPfn + layout.data.frames - 1}): the descriptor is damaged (pmem check reports it)`, { pfn, field: 'descriptor.order' });
  }
  ensureBlockReady(txn, pfn, d.order);
  markPlain(txn, pfn);
  account(txn, pfn, d.order, +1, -1);
  if (hasUnitDescriptors(g)) clearUnits(txn, layout, pfn, d.order);
  if (hasMemdescs(g)) clearAllocation(txn, txn.img, pfn, d.order);
  freeBlockInto(txn, pfn, d.order);
  return { pfn, order: d.order, owner: d.owner };
}

/**
 * Allocates exactly block (pfn, order) to `owner`, as a replayed trace says
 * the kernel handed it out: the free block holding it is taken off its list
 * and split down to it, each half it is not in going back on its list. A
 * section it lies in that was never initialised is handed over first (lazy
 * initialisation). Refused, saying why, when its frames are not all in one
 * free block.
 */
export function allocateExactly(txn: Txn, pfn: number, order: number, owner: string): AllocatedBlock {
  const { layout, geometry: g } = txn.img;
  if (!Number.isInteger(order) || order < 0 || order > g.maxOrder) throw new UsageError(`order ${order} is out of range (0 to ${g.maxOrder})`);
  const end = pfn + 2 ** order;
  if (!Number.isSafeInteger(pfn) || pfn < layout.data.startPfn || end > layout.data.startPfn + layout.data.frames) {
    throw new UsageError(`block at pfn ${pfn}, order ${order} is not in the data area (pfns ${layout.data.startPfn} to ${layout.data.startPfn + layout.data.frames - 1})`);
  }
  if (pfn % 2 ** order !== 0) throw new UsageError(`pfn ${pfn} is not aligned to order ${order}`);
  if (hasUnitDescriptors(g)) refuseBelowUnit(order);
  // The largest block that may hold it: its sections must be ready to be searched.
  const top = pfn - (pfn % 2 ** g.maxOrder);
  for (let s = sectionOf(g, Math.max(top, layout.data.startPfn)); s <= sectionOf(g, Math.min(top + 2 ** g.maxOrder, layout.data.startPfn + layout.data.frames) - 1); s++) {
    if (!ensureSectionReady(txn, s) && txn.section(s).reservedFrames < g.sectionFrames) handOverSection(txn, s);
  }
  const cover = coveringHead((q) => (ensureSectionReady(txn, sectionOf(g, q)) ? txn.descriptor(q) : ({ flags: 0 } as Descriptor)), g.maxOrder, pfn);
  if (!cover) throw new OperationError(`pfn ${pfn} is in no block (a reserved frame?)`, { pfn });
  if (cover.flags & PG_ALLOCATED) throw new OperationError(`pfn ${pfn} is in the allocated block at pfn ${cover.pfn} (order ${cover.order})`, { pfn });
  if (cover.pfn + 2 ** cover.order < end) throw new OperationError(`block at pfn ${pfn}, order ${order} is not one free block: the free block at pfn ${cover.pfn} (order ${cover.order}) holds only its start`, { pfn });
  const { node, zone } = { node: cover.node, zone: cover.zone };
  // memdesc: the pool's slot first, so that a full pool refuses before the block is touched (a replay goes on after a refusal).
  const slot = hasMemdescs(g) ? freeSlot(txn, txn.img) : undefined;
  ensureBlockReady(txn, cover.pfn, cover.order);
  listRemove(txn, node, zone, cover.order, cover.pfn);
  let head = cover.pfn;
  for (let o = cover.order; o > order; ) {
    o--;
    const upper = head + 2 ** o;
    const other = pfn >= upper ? head : upper;
    head = pfn >= upper ? upper : head;
    setHead(txn, other, { flags: PG_CORE | PG_BUDDY, order: o, node, zone, owner: '', refcount: 0 });
    listPush(txn, node, zone, o, other);
  }
  setHead(txn, pfn, { flags: PG_CORE | PG_ALLOCATED, order, node, zone, owner, refcount: 1, next: 0, prev: 0 });
  account(txn, pfn, order, -1, +1);
  if (!keepsDescriptors(g)) forgetBlock(txn, pfn, order);
  if (hasUnitDescriptors(g)) writeUnitHead(txn, layout, { pfn, order, node, zone, owner, initGeneration: txn.img.bootGeneration });
  if (slot !== undefined) writeAllocation(txn, txn.img, { pfn, order, node, zone, owner, initGeneration: txn.img.bootGeneration }, slot);
  return { pfn, order, node, zone };
}

// --- deferred initialisation -----------------------------------------------------

/** Hands a never-initialised section to the allocator (deferred init growing a zone). */
export function handOverSection(txn: Txn, s: number): void {
  const img = txn.img;
  const g = img.geometry;
  // On the device the descriptors are written at commit, and the buffer given back then (PmemImage.commit); in RAM they stay.
  const fresh = freshSectionDescriptors(img, s, img.bootGeneration, g.memmap === 'device' ? borrowBuffer(g.sectionFrames * DESCRIPTOR_SIZE) : undefined);
  let sections = handedOver.get(txn);
  if (!sections) handedOver.set(txn, (sections = new Set()));
  sections.add(s);
  if (g.memmap === 'device') txn.bulkWrite(img.memmapOffset(s * g.sectionFrames), fresh, false, true);
  else txn.ramSections.set(s, fresh);
  txn.setSection(s, { initGeneration: img.bootGeneration, freeFrames: 0, allocatedFrames: 0, reservedFrames: reservedFramesIn(img.layout, g.sectionFrames, s) });
  const { start, end } = sectionDataRange(img, s);
  let p = start;
  while (p < end) {
    let o = 0;
    while (o < g.maxOrder && p % 2 ** (o + 1) === 0 && p + 2 ** (o + 1) <= end) o++;
    account(txn, p, o, +1, 0);
    freeBlockInto(txn, p, o);
    p += 2 ** o;
  }
}

/** A typed array of `n` elements holding the first `length` of `a`. */
function grown<T extends Float64Array | Uint32Array | Uint8Array>(a: T, n: number, length: number): T {
  const out = new (a.constructor as new (n: number) => T)(n);
  out.set(a.subarray(0, length));
  return out;
}
