/**
 * The buddy allocator's state for the frames it has touched, held in typed
 * arrays and edited in place: each descriptor as its 64 bytes, free-list links
 * as numbers, free-area entries as numbers, section counts as deltas. It runs
 * buddy.ts's allocation of one block, allocateExactly and freeAllocated with
 * the result buddy.ts gives, byte for byte, without a transaction's staging
 * for every field, and writes what changed into a transaction when flushed.
 *
 * It does only the plain part of the allocator: edits of descriptors and
 * lists in sections initialised in this boot (a block taken from a list
 * head as the fast lane takes one, an exact block as a replayed trace names
 * it, a free with its merges). An operation that needs more (a
 * section to hand over or re-initialise, a damaged list, an error to report)
 * answers SLOW with nothing changed; the caller flushes, resets, and runs
 * buddy.ts, which does it or says why. Until flushed, the transaction does not
 * see its changes: flush before anything else reads or writes the image.
 */
import { DESCRIPTOR_SIZE, MAX_ORDER_LIMIT, PAGE_SIZE } from '../format/constants';
import { crc32Range } from '../format/compact';
import { CORE_VERSION, DESC, OWNER_BYTES, PG_ALLOCATED, PG_BUDDY, PG_CORE, PG_FREEING } from '../format/descriptor';
import { freeAreaIndex } from '../format/freeArea';
import { encodeFreeLink, FREE_LINK_MAGIC, FREE_LINK_SIZE, LINK } from '../format/freeLink';
import type { Txn } from '../image/txn';
import { emptyLinkBytes } from '../image/txn';
import type { ImageCore } from '../image/imageContext';
import { readString } from '../core/bytes';
import { NumberStack } from '../core/numberStack';

/** What the state reads and writes through: a Txn, or the fast lane's staging (image/fastTxn.ts). */
export type AllocatorTxn = Pick<Txn, 'read' | 'write' | 'rawDescriptor' | 'writeDescriptors' | 'area' | 'setArea' | 'section' | 'setSection' | 'sectionState'>;

/** The operation needs buddy.ts: nothing was changed. */
export const SLOW = 'slow';
export type Outcome = 'done' | typeof SLOW;

/** Thrown inside an operation to leave it, rolled back, as SLOW. */
class NeedsSlowPath {}
const needsSlowPath = new NeedsSlowPath();

const PAGE_BITS = 9;
const PAGE_MASK = (1 << PAGE_BITS) - 1;
/** Index pages kept for the next operation by reset (an operation touches a few). */
const POOLED_PAGES = 64;
/** Slots to begin with: a one-block operation touches a handful. */
const FIRST_SLOTS = 16;

// Section states as buddy.ts's ensureSectionReady meets them.
const SECTION_UNKNOWN = 0;
const SECTION_CURRENT = 1;
const SECTION_NEVER = 2;
const SECTION_STALE = 3;

// A free-link record as this state knows it.
const LINK_UNREAD = 0;
const LINK_STORED = 1; // a valid record, as read
const LINK_INVALID = 2; // as read: no valid record there
const LINK_WRITTEN = 3; // written from linkNext..linkZone
const LINK_ERASED = 4; // zeroed

const TWO_32 = 0x1_0000_0000;
/** A descriptor's 32-bit words. */
const WORDS = DESCRIPTOR_SIZE / 4;


export class BuddyState {
  /** Slot of each pfn held, by 512-pfn page (a map: an operation touches a few pages, a TiB has half a million). */
  private readonly dir = new Map<number, Int32Array>();
  /** Pages of `dir` kept by reset for the next operation. */
  private readonly pagePool: Int32Array[] = [];
  private capacity = 0;
  private used = 0;
  private pfnOf = new Float64Array(0);
  private desc = new Uint8Array(0);
  /** The same bytes as 32-bit words, for copies. */
  private desc32 = new Int32Array(0);
  private descDirty = new Uint8Array(0);
  private linkState = new Uint8Array(0);
  private linkNext = new Float64Array(0);
  private linkPrev = new Float64Array(0);
  private linkOrder = new Uint8Array(0);
  private linkNode = new Uint8Array(0);
  private linkZone = new Uint8Array(0);
  private linkDirty = new Uint8Array(0);
  /** Per slot whose link area was read: 1 when its bytes are what this state would write for it (a record of this boot, or zeros where none is). */
  private linkPure = new Uint8Array(0);
  private dirtyDescs: number[] = [];
  private dirtyLinks: number[] = [];

  private readonly areaHead: Float64Array;
  private readonly areaCount: Float64Array;
  private readonly areaLoaded: Uint8Array;
  private readonly areaDirty: Uint8Array;
  private dirtyAreas: number[] = [];

  /** Per section, its state as read (SECTION_UNKNOWN until asked), and the sections asked since the last reset. */
  private readonly sectionStates: Uint8Array;
  private readonly statesRead = new NumberStack();
  /** Per section: frames moved to free, to allocated, since the last flush (held while hasDelta); inDeltaList: listed in deltaSections. */
  private readonly deltaFree: Float64Array;
  private readonly deltaAlloc: Float64Array;
  private readonly hasDelta: Uint8Array;
  private readonly inDeltaList: Uint8Array;
  private readonly deltaSections = new NumberStack();
  /** The index page slotOf found last (an operation's frames are mostly in one). */
  private lastPage = -1;
  private lastIndex: Int32Array | undefined;

  // What the running operation changed, to put back when it turns out to need buddy.ts.
  private readonly savedSlots = new NumberStack();
  private savedDesc = new Uint8Array(64 * DESCRIPTOR_SIZE);
  private savedDesc32 = new Int32Array(this.savedDesc.buffer);
  /** Per saved slot, eight numbers: descDirty, then the link's state, next, prev, order, node, zone and dirty bit. */
  private readonly savedLink = new NumberStack();
  /** Per saving, four numbers: the entry, its head, count and dirty bit. */
  private readonly savedAreas = new NumberStack();
  /** Per saving, three numbers: the section, its delta's free and alloc (NaN free: no delta held). */
  private readonly savedSections = new NumberStack();
  /** Per slot, the number of the operation that saved it (a saved slot is not saved again). */
  private savedBy = new Uint32Array(0);

  private operationNumber = 1;
  private inOperation = false;

  private txn: AllocatorTxn | undefined;
  /** The order and owner bytes of the block the last freeAllocated freed. */
  freedOrder = 0;
  readonly freedOwnerBytes = new Uint8Array(OWNER_BYTES);
  private readonly dataStart: number;
  private readonly dataEnd: number;
  private readonly linksInPage: boolean;

  constructor(readonly img: ImageCore) {
    const g = img.geometry;
    const areas = g.nodeCount * 3 * (g.maxOrder + 1);
    this.areaHead = new Float64Array(areas);
    this.areaCount = new Float64Array(areas);
    this.areaLoaded = new Uint8Array(areas);
    this.areaDirty = new Uint8Array(areas);
    this.dataStart = img.layout.data.startPfn;
    this.dataEnd = img.layout.data.startPfn + img.layout.data.frames;
    this.linksInPage = g.links === 'page';
    this.sectionStates = new Uint8Array(g.sectionCount);
    this.deltaFree = new Float64Array(g.sectionCount);
    this.deltaAlloc = new Float64Array(g.sectionCount);
    this.hasDelta = new Uint8Array(g.sectionCount);
    this.inDeltaList = new Uint8Array(g.sectionCount);
  }

  /** Frames held (each about 100 bytes): a caller resets past a bound of its own. */
  get frames(): number {
    return this.used;
  }

  /** Pages of the pfn index held (2 KiB each, however few of their frames are): bounded by a caller as frames are. */
  get pages(): number {
    return this.dir.size;
  }

  /** Reads what it does not hold yet through `txn` (what it holds must be what `txn` sees: flushed, or reset). */
  attach(txn: AllocatorTxn): void {
    this.txn = txn;
  }

  /** Forgets everything held, changes included (after a transaction that was dropped, or before buddy.ts runs). */
  reset(): void {
    for (const page of this.dir.values()) if (this.pagePool.length < POOLED_PAGES) this.pagePool.push(page);
    this.dir.clear();
    this.lastPage = -1;
    this.lastIndex = undefined;
    this.used = 0;
    this.dirtyDescs = [];
    this.dirtyLinks = [];
    this.areaLoaded.fill(0);
    this.areaDirty.fill(0);
    this.dirtyAreas = [];
    for (let k = 0; k < this.statesRead.length; k++) this.sectionStates[this.statesRead.at(k)] = SECTION_UNKNOWN;
    this.statesRead.clear();
    this.clearDeltas();
  }

  private clearDeltas(): void {
    for (let k = 0; k < this.deltaSections.length; k++) {
      const s = this.deltaSections.at(k);
      this.hasDelta[s] = 0;
      this.inDeltaList[s] = 0;
    }
    this.deltaSections.clear();
  }

  /** Writes every change into the attached transaction; what is held stays valid for it. */
  flush(): void {
    const txn = this.requireTxn();
    const g = this.img.geometry;
    for (const slot of this.dirtyDescs) {
      if (!this.descDirty[slot]) continue;
      this.descDirty[slot] = 0;
      const at = slot * DESCRIPTOR_SIZE;
      this.setU32(at + DESC.crc, crc32Range(this.desc, at, at + DESC.crc));
      txn.writeDescriptors(this.pfnOf[slot], this.desc.subarray(at, at + DESCRIPTOR_SIZE));
    }
    this.dirtyDescs = [];
    for (const slot of this.dirtyLinks) {
      if (!this.linkDirty[slot]) continue;
      this.linkDirty[slot] = 0;
      const pfn = this.pfnOf[slot];
      if (this.linkState[slot] === LINK_ERASED) {
        txn.write(pfn * PAGE_SIZE, emptyLinkBytes);
        continue;
      }
      txn.write(pfn * PAGE_SIZE, encodeFreeLink({
        pfn, next: this.linkNext[slot], prev: this.linkPrev[slot], order: this.linkOrder[slot], node: this.linkNode[slot], zone: this.linkZone[slot], linkedGeneration: this.img.bootGeneration,
      }));
    }
    this.dirtyLinks = [];
    const orders = g.maxOrder + 1;
    for (const i of this.dirtyAreas) {
      if (!this.areaDirty[i]) continue;
      this.areaDirty[i] = 0;
      const nz = Math.floor(i / orders);
      txn.setArea(Math.floor(nz / 3), nz % 3, i % orders, { head: this.areaHead[i], count: this.areaCount[i] });
    }
    this.dirtyAreas = [];
    for (let k = 0; k < this.deltaSections.length; k++) {
      const s = this.deltaSections.at(k);
      if (!this.hasDelta[s]) continue;
      const e = txn.section(s);
      txn.setSection(s, { ...e, freeFrames: e.freeFrames + this.deltaFree[s], allocatedFrames: e.allocatedFrames + this.deltaAlloc[s] });
    }
    this.clearDeltas();
  }

  // --- the operations ------------------------------------------------------------

  /**
   * buddy.ts's allocateExactly (its checks left to it: SLOW wherever it would
   * refuse or initialise). `placeAfter` (an inverse entry's positions): the
   * half split off at order + k goes after the block placeAfter[k] in its
   * list, where it stood before the free this undoes (0 or none: at the head).
   */
  allocateExactly(pfn: number, order: number, ownerBytes: Uint8Array, placeAfter?: readonly number[]): Outcome {
    return this.operation(() => this.exactBody(pfn, order, ownerBytes, placeAfter));
  }

  private exactBody(pfn: number, order: number, ownerBytes: Uint8Array, placeAfter?: readonly number[]): void {
    const g = this.img.geometry;
    const size = 2 ** order;
    if (!Number.isSafeInteger(pfn) || order < 0 || order > g.maxOrder || pfn % size !== 0 || pfn < this.dataStart || pfn + size > this.dataEnd) this.slow();
    const top = pfn - (pfn % 2 ** g.maxOrder);
    const first = Math.floor(Math.max(top, this.dataStart) / g.sectionFrames);
    const last = Math.floor((Math.min(top + 2 ** g.maxOrder, this.dataEnd) - 1) / g.sectionFrames);
    for (let s = first; s <= last; s++) if (this.section(s) !== SECTION_CURRENT) this.slow();
    // The free block that covers pfn, probing aligned heads (coveringHead).
    let cover = -1;
    let coverOrder = 0;
    for (let o = 0; o <= g.maxOrder; o++) {
      const q = pfn - (pfn % 2 ** o);
      if (o > 0 && q === pfn) continue;
      // coveringHead reads a frame of a never-initialised section as no block, and readies a stale one.
      const state = this.section(Math.floor(q / g.sectionFrames));
      if (state === SECTION_NEVER) continue;
      if (state !== SECTION_CURRENT) this.slow();
      const slot = this.slotOf(q);
      const at = slot * DESCRIPTOR_SIZE;
      const flags = this.desc[at + DESC.flags];
      if (flags & (PG_BUDDY | PG_ALLOCATED) && q + 2 ** this.desc[at + DESC.order] > pfn) {
        if (flags & PG_ALLOCATED) this.slow();
        cover = q;
        coverOrder = this.desc[at + DESC.order];
        if (coverOrder > g.maxOrder) this.slow();
        break;
      }
    }
    if (cover < 0 || cover + 2 ** coverOrder < pfn + size) this.slow();
    const coverAt = this.slotOf(cover) * DESCRIPTOR_SIZE;
    const node = this.desc[coverAt + DESC.node];
    const zone = this.desc[coverAt + DESC.zone];
    if (node >= g.nodeCount || zone > 2) this.slow();
    this.blockReady(cover, coverOrder); // a damaged head may reach past the largest block probed above
    this.listRemove(node, zone, coverOrder, cover);
    let head = cover;
    for (let o = coverOrder; o > order; ) {
      o--;
      const upper = head + 2 ** o;
      const other = pfn >= upper ? head : upper;
      head = pfn >= upper ? upper : head;
      this.setFreeHead(other, o, node, zone);
      this.listPlace(node, zone, o, other, placeAfter?.[o - order] ?? 0);
    }
    this.setAllocatedHead(pfn, order, node, zone, ownerBytes);
    this.account(pfn, order, -1, +1);
    this.noteOperation('exact', pfn, node, zone, coverOrder, cover);
  }

  /** Head pfn of the block the last allocateFromLists took. */
  allocatedPfn = 0;

  // What the last operation did, as soundInverse judges it: its kind, node and zone, and the order of the block it took from the lists.
  private lastKind: 'alloc' | 'free' | 'exact' = 'exact';
  private lastPfn = 0;
  private lastNode = 0;
  private lastZone = 0;
  private lastTakenOrder = 0;
  /** The block an allocation took off its list (the one its inverse's merges end with). */
  private lastCover = 0;
  /** Set when the running operation takes a block from the middle of a list (an inverse without positions puts blocks back at the head). */
  private removedMidList = false;
  /** Cleared when the running operation meets links that disagree with their list (an inverse would rewrite them as the list says they are). */
  private listsIntact = true;
  /** Per order, the block before the one the running operation took off that order's list (0: it was the head). */
  private readonly removedAfter = new Float64Array(MAX_ORDER_LIMIT + 1);

  /**
   * buddy.ts's allocate of one block of `order` from the lists of one node
   * and zone (the first of the request's zonelist): the head of the first
   * list of that order or larger, split down. SLOW when those lists are empty
   * (a section to hand over, or the next zone: buddy.ts goes on from there).
   */
  allocateFromLists(order: number, ownerBytes: Uint8Array, node: number, zone: number): Outcome {
    return this.operation(() => {
      const g = this.img.geometry;
      for (let o = order; o <= g.maxOrder; o++) {
        const i = this.area(node, zone, o);
        const pfn = this.areaHead[i];
        if (!pfn) continue;
        this.headReady(pfn);
        const at = this.slotOf(pfn) * DESCRIPTOR_SIZE;
        if (!(this.desc[at + DESC.flags] & PG_BUDDY) || this.desc[at + DESC.order] !== o) this.slow();
        const taken = o;
        this.blockReady(pfn, o);
        this.listRemove(node, zone, o, pfn);
        while (o > order) {
          o--;
          const half = pfn + 2 ** o;
          this.setFreeHead(half, o, node, zone);
          this.listPush(node, zone, o, half);
        }
        this.setAllocatedHead(pfn, order, node, zone, ownerBytes);
        this.account(pfn, order, -1, +1);
        this.allocatedPfn = pfn;
        this.noteOperation('alloc', pfn, node, zone, taken, pfn);
        return;
      }
      this.slow();
    });
  }

  /** The owner tag of the block the last freeAllocated freed. */
  freedOwner(): string {
    return readString(this.freedOwnerBytes, 0, 16);
  }

  /**
   * buddy.ts's freeAllocated of the block whose head is pfn. `expectOrder`
   * (a trace's): a head of another order is left alone and reported so, as is
   * a frame that is not an allocated head. `placeAfter` (an inverse entry's
   * position): the merged block goes after that block in its list, where it
   * stood before the allocation this undoes (0: at the head).
   */
  freeAllocated(pfn: number, expectOrder?: number, placeAfter = 0): Outcome | 'not-allocated' | 'other-order' {
    let answer: 'not-allocated' | 'other-order' | undefined;
    const outcome = this.operation(() => {
      answer = this.freeBody(pfn, expectOrder, placeAfter);
    });
    return answer ?? outcome;
  }

  private freeBody(pfn: number, expectOrder: number | undefined, placeAfter = 0): 'not-allocated' | 'other-order' | undefined {
    const g = this.img.geometry;
    if (!Number.isSafeInteger(pfn) || pfn < this.dataStart || pfn >= this.dataEnd) this.slow();
    if (this.section(Math.floor(pfn / g.sectionFrames)) !== SECTION_CURRENT) this.slow();
    const at = this.slotOf(pfn) * DESCRIPTOR_SIZE;
    if (!(this.desc[at + DESC.flags] & PG_ALLOCATED)) return 'not-allocated';
    let order = this.desc[at + DESC.order];
    if (order > g.maxOrder) this.slow();
    if (expectOrder !== undefined && order !== expectOrder) return 'other-order';
    this.blockReady(pfn, order);
    this.freedOrder = order;
    for (let i = 0; i < OWNER_BYTES; i++) this.freedOwnerBytes[i] = this.desc[at + DESC.owner + i];
    this.markPlain(pfn);
    this.account(pfn, order, +1, -1);
    // freeBlockInto: merge while the buddy is a free block of the same order, node and zone.
    const nz = this.nodeZoneOf(pfn);
    const node = Math.floor(nz / 3);
    const zone = nz % 3;
    const z = this.img.nodes[node].zones[zone];
    let p = pfn;
    while (order < g.maxOrder) {
      const buddy = p ^ (2 ** order);
      const end = buddy + 2 ** order;
      if (buddy < this.dataStart || end > this.dataEnd || buddy < z.firstPfn || end > z.firstPfn + z.frames) break;
      const state = this.section(Math.floor(buddy / g.sectionFrames));
      if (state === SECTION_NEVER) break;
      if (state !== SECTION_CURRENT) this.slow();
      const b = this.slotOf(buddy) * DESCRIPTOR_SIZE;
      if (!(this.desc[b + DESC.flags] & PG_BUDDY) || this.desc[b + DESC.order] !== order || this.desc[b + DESC.node] !== node || this.desc[b + DESC.zone] !== zone) break;
      this.blockReady(buddy, order);
      this.listRemove(node, zone, order, buddy);
      this.markPlain(buddy);
      p = Math.min(p, buddy);
      order++;
    }
    this.setFreeHead(p, order, node, zone);
    this.listPlace(node, zone, order, p, placeAfter);
    this.noteOperation('free', pfn, node, zone, order, p);
    return undefined;
  }

  private noteOperation(kind: 'alloc' | 'free' | 'exact', pfn: number, node: number, zone: number, takenOrder: number, cover: number): void {
    this.lastCover = cover;
    this.lastKind = kind;
    this.lastPfn = pfn;
    this.lastNode = node;
    this.lastZone = zone;
    this.lastTakenOrder = takenOrder;
  }

  /** Runs one operation: SLOW, with every change of it put back, if it needs buddy.ts. */
  private operation(body: () => void): Outcome {
    this.requireTxn();
    this.inOperation = true;
    let keep = false;
    try {
      body();
      keep = this.keepSaved;
      return 'done';
    } catch (e) {
      this.rollBack(); // whatever stopped it, what it held stays what the transaction sees
      if (e !== needsSlowPath) throw e;
      return SLOW;
    } finally {
      this.inOperation = false;
      // judgeInverse notes the change itself, once it has kept the operation.
      if (this.tracksChanges && !this.keepSaved) this.noteChange();
      if (!keep) this.forgetSaved();
    }
  }

  /** Set by a caller that needs lastChange after each operation. */
  tracksChanges = false;
  /** What the last operation changed, when tracksChanges is set: its frames (and the blocks of heads it rewrote) as [first, end) runs, its sections, whether free lists moved. */
  lastChange: { frames: Array<[number, number]>; sections: number[]; freeLists: boolean } = { frames: [], sections: [], freeLists: false };

  /** Notes what the operation changed: the first `slots` slots and `sections` numbers it saved (all by default). */
  private noteChange(slots = this.savedSlots.length, sectionNumbers = this.savedSections.length, freeLists = this.savedAreas.length > 0): void {
    const frames: Array<[number, number]> = [];
    const blockOf = (bytes: Uint8Array, at: number, pfn: number) => {
      if (bytes[at + DESC.flags] & (PG_BUDDY | PG_ALLOCATED)) frames.push([pfn, pfn + 2 ** Math.min(bytes[at + DESC.order], MAX_ORDER_LIMIT)]);
    };
    for (let k = 0; k < slots; k++) {
      const slot = this.savedSlots.at(k);
      const pfn = this.pfnOf[slot];
      const descriptor = this.descriptorChanged(slot, k);
      if (descriptor || this.linkChanged(slot, k)) frames.push([pfn, pfn + 1]);
      if (!descriptor) continue;
      // A head's change covers its whole block, before and after (as changeSetOf counts it).
      blockOf(this.savedDesc, k * DESCRIPTOR_SIZE, pfn);
      blockOf(this.desc, slot * DESCRIPTOR_SIZE, pfn);
    }
    const sections: number[] = [];
    for (let k = 0; k < sectionNumbers; k += 3) if (!sections.includes(this.savedSections.at(k))) sections.push(this.savedSections.at(k));
    this.lastChange = { frames, sections: sections.sort((a, b) => a - b), freeLists };
  }

  /** Whether a saved slot's descriptor differs from its saved copy (a slot may be saved and written back as it was). */
  private descriptorChanged(slot: number, k: number): boolean {
    const at = slot * DESCRIPTOR_SIZE;
    const was = k * DESCRIPTOR_SIZE;
    for (let i = 0; i < DESC.crc; i++) if (this.desc[at + i] !== this.savedDesc[was + i]) return true;
    return false;
  }

  private linkChanged(slot: number, k: number): boolean {
    const s = this.savedLink;
    const l = k * 8;
    return this.linkState[slot] !== s.at(l + 1) || this.linkNext[slot] !== s.at(l + 2) || this.linkPrev[slot] !== s.at(l + 3) || this.linkOrder[slot] !== s.at(l + 4) || this.linkNode[slot] !== s.at(l + 5) || this.linkZone[slot] !== s.at(l + 6);
  }

  /** Structures changed and not flushed yet (each at most a descriptor or a link record and its place in a journal). */
  get dirtyStructures(): number {
    return this.dirtyDescs.length + this.dirtyLinks.length + this.dirtyAreas.length + this.deltaSections.length;
  }

  /** Set while judgeInverse runs an operation: its saved copies outlive it, for soundInverse to read. */
  private keepSaved = false;

  /**
   * Runs `op` (one call of allocateFromLists or freeAllocated) and finds
   * whether its inverse is exact by construction (soundInverse, the answer in
   * `inverseExact`), so that the history may record the operation as that
   * inverse without running it. When it is not, `onlyIfExact` leaves the
   * state as before `op` and answers SLOW. It may say no where running the
   * inverse would give every byte back (a structure this build would not
   * have written so), never the reverse: test/unit/inverseCheck.test.ts.
   */
  judgeInverse<T extends string>(op: () => T, onlyIfExact = false, placed = false): T | typeof SLOW {
    this.keepSaved = true;
    this.removedMidList = false;
    this.listsIntact = true;
    this.removedAfter.fill(0);
    let first: T;
    try {
      first = op();
    } finally {
      this.keepSaved = false;
    }
    this.inverseExact = false;
    if (first !== 'done') {
      this.forgetSaved();
      return first;
    }
    this.inverseExact = this.soundInverse(placed);
    if (onlyIfExact && !this.inverseExact) {
      this.rollBack();
      this.forgetSaved();
      return SLOW;
    }
    if (this.tracksChanges) this.noteChange();
    this.forgetSaved();
    return first;
  }

  /**
   * Whether the inverse of the operation just run (a free of the block it
   * allocated, an exact allocation with its owner of the block it freed)
   * gives back every byte it changed. It does when every structure the
   * operation rewrote was as this allocator writes it (a descriptor in one of
   * the three forms setHead and markPlain leave, with this boot's
   * initGeneration and its checksum right; a link record of this boot with
   * its spare bytes zero, or zeros where no block starts); the lists it
   * touched agree with themselves (listsIntact); every block it took off a
   * list was that list's head, or, `placed`, is named by its position; and
   * the inverse finds the blocks as the operation left them: for an
   * allocation's inverse no merge past the block taken, for a free's every
   * section of the largest block around it initialised in this boot.
   */
  private soundInverse(placed: boolean): boolean {
    if ((this.removedMidList && !placed) || !this.listsIntact) return false;
    const g = this.img.geometry;
    const node = this.lastNode;
    const zone = this.lastZone;
    const pfn = this.lastPfn;
    if (this.lastKind === 'alloc' || this.lastKind === 'exact') {
      // The inverse frees pfn: its merges must end with the block taken, in its zone, and go no further.
      const z = this.img.nodes[node].zones[zone];
      const cover = this.lastCover;
      const size = 2 ** this.lastTakenOrder;
      if (cover < z.firstPfn || cover + size > z.firstPfn + z.frames || this.zoneOfPfn(pfn) !== node * 3 + zone) return false;
      if (this.lastTakenOrder < g.maxOrder && this.mergeableBuddy(cover ^ size, this.lastTakenOrder, node, zone)) return false;
    } else if (this.lastKind === 'free') {
      const top = pfn - (pfn % 2 ** g.maxOrder);
      const last = Math.floor((Math.min(top + 2 ** g.maxOrder, this.dataEnd) - 1) / g.sectionFrames);
      for (let s = Math.floor(Math.max(top, this.dataStart) / g.sectionFrames); s <= last; s++) if (this.section(s) !== SECTION_CURRENT) return false;
    }
    for (let k = 0; k < this.savedSlots.length; k++) {
      const slot = this.savedSlots.at(k);
      if (this.descDirty[slot] && !this.canonicalDescriptor(this.savedDesc, k * DESCRIPTOR_SIZE, this.pfnOf[slot], this.savedLink.at(k * 8) !== 0, node, zone)) return false;
      if (this.linksInPage && this.linkDirty[slot] && !this.linkWasAsWritten(slot, k)) return false;
    }
    return true;
  }

  /**
   * The positions an inverse entry of the operation judgeInverse just judged
   * needs (undoCodec's InverseEntry.after): for an allocation, the block
   * before the one it took off its list; for a free, per order it merged at,
   * the block before the buddy it took off that list. Undefined when every
   * block it took was its list's head (where an inverse puts blocks back).
   */
  inversePositions(): number[] | undefined {
    if (!this.removedMidList) return undefined;
    if (this.lastKind !== 'free') return [this.removedAfter[this.lastTakenOrder]];
    const out: number[] = [];
    for (let o = this.freedOrder; o < this.lastTakenOrder; o++) out.push(this.removedAfter[o]);
    return out;
  }

  /** Whether a free that reached `order` at `buddy`'s buddy would merge on with it (or need buddy.ts to find out). */
  private mergeableBuddy(buddy: number, order: number, node: number, zone: number): boolean {
    const z = this.img.nodes[node].zones[zone];
    const end = buddy + 2 ** order;
    if (buddy < this.dataStart || end > this.dataEnd || buddy < z.firstPfn || end > z.firstPfn + z.frames) return false;
    const state = this.section(Math.floor(buddy / this.img.geometry.sectionFrames));
    if (state === SECTION_NEVER) return false;
    if (state !== SECTION_CURRENT) return true;
    const b = this.slotOf(buddy) * DESCRIPTOR_SIZE;
    return (this.desc[b + DESC.flags] & PG_BUDDY) !== 0 && this.desc[b + DESC.order] === order && this.desc[b + DESC.node] === node && this.desc[b + DESC.zone] === zone;
  }

  /** A descriptor (at `at` in `b`) in a form the allocator writes: a free head, an allocated head or a plain frame of node and zone; its checksum right unless it is to be recomputed anyway. */
  private canonicalDescriptor(b: Uint8Array, at: number, pfn: number, crcRecomputed: boolean, node: number, zone: number): boolean {
    if (!crcRecomputed && u32(b, at + DESC.crc) !== crc32Range(b, at, at + DESC.crc)) return false;
    if (b[at + DESC.coreVersion] !== CORE_VERSION || u64(b, at + DESC.pfn) !== pfn || b[at + DESC.node] !== node || b[at + DESC.zone] !== zone) return false;
    // Stepping back reads every descriptor with the record's boot generation (inverseUndo.ts): this one must have it.
    if (u32(b, at + DESC.initGeneration) !== this.img.bootGeneration) return false;
    const flags = u32(b, at + DESC.flags);
    const refcount = u32(b, at + DESC.refcount);
    // setHead clears the owner; an allocated head's links are zero, a free one's are its list's (in descriptors) or left zero (in pages).
    if (flags === (PG_CORE | PG_ALLOCATED)) return refcount === 1 && zeros(b, at + DESC.next, at + DESC.volatileFlags);
    if (flags === (PG_CORE | PG_BUDDY)) return refcount === 0 && zeros(b, at + DESC.owner, at + (this.linksInPage ? DESC.volatileFlags : DESC.next));
    return flags === PG_CORE && b[at + DESC.order] === 0 && refcount === 0 && zeros(b, at + DESC.owner, at + DESC.volatileFlags);
  }

  /** Whether a slot's link area held, before the operation, what an inverse writing its saved state back would write: a record of this boot, or zeros. */
  private linkWasAsWritten(slot: number, k: number): boolean {
    const was = this.savedLink.at(k * 8 + 1);
    if (was === LINK_WRITTEN || was === LINK_ERASED) return true;
    // As read (and not written since: the device's bytes are still those).
    if (was === LINK_STORED || was === LINK_INVALID) return this.linkPure[slot] === 1;
    return zeros(this.requireTxn().read(this.pfnOf[slot] * PAGE_SIZE, FREE_LINK_SIZE), 0, FREE_LINK_SIZE);
  }

  /** Whether the last judgeInverse found the operation's inverse exact. */
  inverseExact = false;

  private slow(): never {
    throw needsSlowPath;
  }

  // --- lists (buddy.ts's listPush, listRemove, getLinks, setLinks) -------------------

  private listPush(node: number, zone: number, order: number, pfn: number): void {
    const i = this.area(node, zone, order);
    const head = this.areaHead[i];
    const headSlot = head ? this.links(head) : -1; // checked before anything is written, as buddy.ts would throw
    if (this.keepSaved && head && (this.prevOf(headSlot) !== 0 || !this.listedAs(headSlot, order, node, zone))) this.listsIntact = false;
    this.setLinks(pfn, head, 0, order, node, zone);
    if (head) this.setLinks(head, this.nextOf(headSlot), pfn, order, node, zone);
    this.setArea(i, pfn, this.areaCount[i] + 1);
  }

  /** Lists pfn at the head, or right after `after` (a block of the same list: SLOW if it is not). */
  private listPlace(node: number, zone: number, order: number, pfn: number, after: number): void {
    if (!after) return this.listPush(node, zone, order, pfn);
    const i = this.area(node, zone, order);
    const afterSlot = this.links(after);
    if (!this.listedAs(afterSlot, order, node, zone)) this.slow();
    const next = this.nextOf(afterSlot);
    const nextSlot = next ? this.links(next) : -1;
    this.setLinks(pfn, next, after, order, node, zone);
    this.setLinks(after, pfn, this.prevOf(afterSlot), order, node, zone);
    if (next) this.setLinks(next, this.nextOf(nextSlot), pfn, order, node, zone);
    this.setArea(i, this.areaHead[i], this.areaCount[i] + 1);
  }

  /** Whether the block at `slot` (its links read by links()) is a free head of that order, node and zone, as its descriptor and its link record say. */
  private listedAs(slot: number, order: number, node: number, zone: number): boolean {
    const at = slot * DESCRIPTOR_SIZE;
    if (!(this.desc[at + DESC.flags] & PG_BUDDY) || this.desc[at + DESC.order] !== order || this.desc[at + DESC.node] !== node || this.desc[at + DESC.zone] !== zone) return false;
    return !this.linksInPage || (this.linkOrder[slot] === order && this.linkNode[slot] === node && this.linkZone[slot] === zone);
  }


  private listRemove(node: number, zone: number, order: number, pfn: number): void {
    const slot = this.links(pfn);
    const next = this.nextOf(slot);
    const prev = this.prevOf(slot);
    const i = this.area(node, zone, order);
    const prevSlot = prev ? this.links(prev) : -1;
    if (!prev && this.areaHead[i] !== pfn) this.slow();
    const nextSlot = next ? this.links(next) : -1;
    if (this.keepSaved) {
      // judgeInverse: an inverse puts the block back where the list says it stood, so the links around it must say the same.
      if (prev) this.removedMidList = true;
      this.removedAfter[order] = prev;
      if (prev === pfn || next === pfn || !this.listedAs(slot, order, node, zone)) this.listsIntact = false;
      if (prev && (this.nextOf(prevSlot) !== pfn || !this.listedAs(prevSlot, order, node, zone))) this.listsIntact = false;
      if (next && (this.prevOf(nextSlot) !== pfn || !this.listedAs(nextSlot, order, node, zone))) this.listsIntact = false;
    }
    // In buddy.ts's order: the next block's links are read after the previous one's are written (a damaged list may make them one).
    if (prev) this.setLinks(prev, next, this.prevOf(prevSlot), order, node, zone);
    if (next) this.setLinks(next, this.nextOf(nextSlot), prev, order, node, zone);
    this.setArea(i, prev ? this.areaHead[i] : next, this.areaCount[i] - 1);
    this.clearLinks(pfn);
  }

  /** The slot of a free block whose links may be followed (getLinks), else SLOW. */
  private links(pfn: number): number {
    const slot = this.slotOf(pfn);
    let next: number;
    let prev: number;
    if (this.linksInPage) {
      if (this.linkState[slot] === LINK_UNREAD) this.readLink(slot, pfn);
      const state = this.linkState[slot];
      if (state !== LINK_STORED && state !== LINK_WRITTEN) this.slow();
      next = this.linkNext[slot];
      prev = this.linkPrev[slot];
    } else {
      if (this.section(Math.floor(pfn / this.img.geometry.sectionFrames)) !== SECTION_CURRENT) this.slow();
      next = this.u64(slot * DESCRIPTOR_SIZE + DESC.next);
      prev = this.u64(slot * DESCRIPTOR_SIZE + DESC.prev);
    }
    if (!this.linkable(next) || !this.linkable(prev)) this.slow();
    return slot;
  }

  private linkable(to: number): boolean {
    return to === 0 || (Number.isSafeInteger(to) && to >= this.dataStart && to < this.dataEnd);
  }

  private nextOf(slot: number): number {
    return this.linksInPage ? this.linkNext[slot] : this.u64(slot * DESCRIPTOR_SIZE + DESC.next);
  }

  private prevOf(slot: number): number {
    return this.linksInPage ? this.linkPrev[slot] : this.u64(slot * DESCRIPTOR_SIZE + DESC.prev);
  }

  /** A link record as decodeFreeLink reads it (magic, checksum), naming its own pfn; read in place, without objects. */
  private readLink(slot: number, pfn: number): void {
    const l = this.requireTxn().read(pfn * PAGE_SIZE, FREE_LINK_SIZE);
    let valid = u32(l, LINK.crc) === crc32Range(l, 0, LINK.crc);
    for (let i = 0; valid && i < 8; i++) valid = l[LINK.magic + i] === FREE_LINK_MAGIC.charCodeAt(i);
    if (!valid || u64(l, LINK.pfn) !== pfn) {
      this.linkState[slot] = LINK_INVALID;
      this.linkPure[slot] = zeros(l, 0, FREE_LINK_SIZE) ? 1 : 0;
      return;
    }
    this.linkState[slot] = LINK_STORED;
    // As encodeFreeLink would write it now: this boot's generation, its spare bytes zero.
    this.linkPure[slot] = u32(l, LINK.linkedGeneration) === this.img.bootGeneration && l[LINK.zone + 1] === 0 && zeros(l, LINK.linkedGeneration + 4, LINK.crc) ? 1 : 0;
    this.linkNext[slot] = u64(l, LINK.next);
    this.linkPrev[slot] = u64(l, LINK.prev);
    this.linkOrder[slot] = l[LINK.order];
    this.linkNode[slot] = l[LINK.node];
    this.linkZone[slot] = l[LINK.zone];
  }

  private setLinks(pfn: number, next: number, prev: number, order: number, node: number, zone: number): void {
    const slot = this.slotOf(pfn);
    if (!this.linksInPage) {
      this.headReady(pfn);
      this.save(slot);
      const at = slot * DESCRIPTOR_SIZE;
      this.setU64(at + DESC.next, next);
      this.setU64(at + DESC.prev, prev);
      this.touchHead(slot, pfn);
      return;
    }
    this.save(slot);
    this.linkState[slot] = LINK_WRITTEN;
    this.linkNext[slot] = next;
    this.linkPrev[slot] = prev;
    this.linkOrder[slot] = order;
    this.linkNode[slot] = node;
    this.linkZone[slot] = zone;
    this.markLinkDirty(slot);
  }

  private clearLinks(pfn: number): void {
    const slot = this.slotOf(pfn);
    if (!this.linksInPage) {
      this.setLinks(pfn, 0, 0, 0, 0, 0);
      return;
    }
    this.save(slot);
    this.linkState[slot] = LINK_ERASED;
    this.linkNext[slot] = this.linkPrev[slot] = 0;
    this.markLinkDirty(slot);
  }

  // --- heads (buddy.ts's setHead, markPlain) ------------------------------------------

  /** setHead of a free block's head: no owner, no reference, its links as they are (they are set as it is listed). */
  private setFreeHead(pfn: number, order: number, node: number, zone: number): void {
    this.setHead(pfn, PG_CORE | PG_BUDDY, order, node, zone, undefined);
  }

  /** setHead of an allocated block's head: its owner, one reference, no links. */
  private setAllocatedHead(pfn: number, order: number, node: number, zone: number, ownerBytes: Uint8Array): void {
    this.setHead(pfn, PG_CORE | PG_ALLOCATED, order, node, zone, ownerBytes);
  }

  private setHead(pfn: number, flags: number, order: number, node: number, zone: number, ownerBytes: Uint8Array | undefined): void {
    const slot = this.headSlot(pfn);
    const at = slot * DESCRIPTOR_SIZE;
    const d = this.desc;
    this.setU32(at + DESC.flags, flags);
    d[at + DESC.order] = order;
    d[at + DESC.node] = node;
    d[at + DESC.zone] = zone;
    this.setU32(at + DESC.refcount, ownerBytes ? 1 : 0);
    if (ownerBytes) {
      for (let i = 0; i < OWNER_BYTES; i++) d[at + DESC.owner + i] = ownerBytes[i];
      this.setU64(at + DESC.next, 0);
      this.setU64(at + DESC.prev, 0);
    } else {
      for (let i = 0; i < OWNER_BYTES; i++) d[at + DESC.owner + i] = 0;
    }
    this.touchHead(slot, pfn);
  }

  private markPlain(pfn: number): void {
    const slot = this.headSlot(pfn);
    const at = slot * DESCRIPTOR_SIZE;
    const d = this.desc;
    d[at + DESC.flags] &= ~(PG_BUDDY | PG_ALLOCATED | PG_FREEING);
    d[at + DESC.order] = 0;
    d[at + DESC.coreVersion] = CORE_VERSION;
    this.setU32(at + DESC.refcount, 0);
    d.fill(0, at + DESC.owner, at + DESC.volatileFlags);
    this.descDirtyMark(slot);
  }

  /** The slot of a head about to be rewritten, its section ready (headBytes), saved for a roll-back. */
  private headSlot(pfn: number): number {
    this.headReady(pfn);
    const slot = this.slotOf(pfn);
    this.save(slot);
    return slot;
  }

  private headReady(pfn: number): void {
    if (this.section(Math.floor(pfn / this.img.geometry.sectionFrames)) !== SECTION_CURRENT) this.slow();
  }

  /** What patchDescriptor adds to every change: the core version and the pfn. */
  private touchHead(slot: number, pfn: number): void {
    const at = slot * DESCRIPTOR_SIZE;
    this.desc[at + DESC.coreVersion] = CORE_VERSION;
    this.setU64(at + DESC.pfn, pfn);
    this.descDirtyMark(slot);
  }

  /** ensureBlockReady: every section of the block initialised in this boot. */
  private blockReady(pfn: number, order: number): void {
    const g = this.img.geometry;
    for (let s = Math.floor(pfn / g.sectionFrames); s <= Math.floor((pfn + 2 ** order - 1) / g.sectionFrames); s++) {
      if (this.section(s) !== SECTION_CURRENT) this.slow();
    }
  }

  // --- free area and sections --------------------------------------------------------

  private area(node: number, zone: number, order: number): number {
    const i = freeAreaIndex(this.img.geometry.maxOrder, node, zone, order);
    if (!this.areaLoaded[i]) {
      const e = this.requireTxn().area(node, zone, order);
      // A head or count the entry cannot hold (2^53 or more reads as NaN): buddy.ts says what is wrong.
      if (!Number.isSafeInteger(e.head) || !Number.isSafeInteger(e.count)) this.slow();
      this.areaHead[i] = e.head;
      this.areaCount[i] = e.count;
      this.areaLoaded[i] = 1;
    }
    return i;
  }

  private setArea(i: number, head: number, count: number): void {
    // A value the entry cannot hold (a damaged list): buddy.ts says so.
    if (!Number.isSafeInteger(head) || head < 0 || !Number.isSafeInteger(count) || count < 0) this.slow();
    if (this.inOperation) {
      const saved = this.savedAreas;
      saved.push(i);
      saved.push(this.areaHead[i]);
      saved.push(this.areaCount[i]);
      saved.push(this.areaDirty[i]);
    }
    this.areaHead[i] = head;
    this.areaCount[i] = count;
    if (!this.areaDirty[i]) {
      this.areaDirty[i] = 1;
      this.dirtyAreas.push(i);
    }
  }

  private section(s: number): number {
    if (!(s >= 0 && s < this.sectionStates.length)) return SECTION_STALE; // beyond the table (a damaged link or head): buddy.ts says so
    let state = this.sectionStates[s];
    if (state === SECTION_UNKNOWN) {
      const st = this.requireTxn().sectionState(s);
      state = st === 'initialized' ? SECTION_CURRENT : st === 'never' ? SECTION_NEVER : SECTION_STALE;
      this.sectionStates[s] = state;
      this.statesRead.push(s);
    }
    return state;
  }

  /** buddy.ts's account: the block's frames move between free and allocated in each section it covers. */
  private account(pfn: number, order: number, dFree: number, dAlloc: number): void {
    const g = this.img.geometry;
    const frames = 2 ** order;
    const per = Math.min(frames, g.sectionFrames);
    for (let s = Math.floor(pfn / g.sectionFrames); s <= Math.floor((pfn + frames - 1) / g.sectionFrames); s++) {
      const held = this.hasDelta[s];
      if (this.inOperation) {
        this.savedSections.push(s);
        this.savedSections.push(held ? this.deltaFree[s] : Number.NaN);
        this.savedSections.push(held ? this.deltaAlloc[s] : 0);
      }
      if (!held) this.startDelta(s, 0, 0);
      this.deltaFree[s] += dFree * per;
      this.deltaAlloc[s] += dAlloc * per;
    }
  }

  private startDelta(s: number, free: number, alloc: number): void {
    this.hasDelta[s] = 1;
    this.deltaFree[s] = free;
    this.deltaAlloc[s] = alloc;
    if (!this.inDeltaList[s]) {
      this.inDeltaList[s] = 1;
      this.deltaSections.push(s);
    }
  }

  private nodeZoneOf(pfn: number): number {
    const nz = this.zoneOfPfn(pfn);
    if (nz < 0) this.slow();
    return nz;
  }

  /** node * 3 + zone of the zone that holds pfn, or -1. */
  private zoneOfPfn(pfn: number): number {
    for (const n of this.img.nodes) {
      if (pfn < n.firstPfn || pfn >= n.firstPfn + n.frames) continue;
      for (const z of n.zones) if (z.frames > 0 && pfn >= z.firstPfn && pfn < z.firstPfn + z.frames) return n.id * 3 + z.id;
    }
    return -1;
  }

  // --- slots ---------------------------------------------------------------------------

  /** The slot holding pfn's descriptor, read through the transaction the first time. */
  private slotOf(pfn: number): number {
    const page = Math.floor(pfn / (1 << PAGE_BITS));
    let index = page === this.lastPage ? this.lastIndex : this.dir.get(page);
    if (!index) {
      index = (this.pagePool.pop() ?? new Int32Array(1 << PAGE_BITS)).fill(-1);
      this.dir.set(page, index);
    }
    this.lastPage = page;
    this.lastIndex = index;
    const i = pfn & PAGE_MASK;
    let slot = index[i];
    if (slot >= 0) return slot;
    slot = this.newSlot(pfn);
    index[i] = slot;
    return slot;
  }

  private newSlot(pfn: number): number {
    if (this.used === this.capacity) this.grow();
    const slot = this.used++;
    this.pfnOf[slot] = pfn;
    this.desc.set(this.requireTxn().rawDescriptor(pfn), slot * DESCRIPTOR_SIZE);
    this.descDirty[slot] = 0;
    this.linkState[slot] = LINK_UNREAD;
    this.linkDirty[slot] = 0;
    this.savedBy[slot] = 0;
    return slot;
  }

  private grow(): void {
    const n = Math.max(FIRST_SLOTS, this.capacity * 2);
    const grown = <T extends Float64Array | Uint8Array | Uint32Array>(a: T, per = 1): T => {
      const b = new (a.constructor as new (n: number) => T)(n * per);
      b.set(a);
      return b;
    };
    this.pfnOf = grown(this.pfnOf);
    this.desc = grown(this.desc, DESCRIPTOR_SIZE);
    this.desc32 = new Int32Array(this.desc.buffer);
    this.descDirty = grown(this.descDirty);
    this.linkState = grown(this.linkState);
    this.linkNext = grown(this.linkNext);
    this.linkPrev = grown(this.linkPrev);
    this.linkOrder = grown(this.linkOrder);
    this.linkNode = grown(this.linkNode);
    this.linkZone = grown(this.linkZone);
    this.linkDirty = grown(this.linkDirty);
    this.linkPure = grown(this.linkPure);
    this.savedBy = grown(this.savedBy);
    this.capacity = n;
  }

  private descDirtyMark(slot: number): void {
    if (this.descDirty[slot]) return;
    this.descDirty[slot] = 1;
    this.dirtyDescs.push(slot);
  }

  private markLinkDirty(slot: number): void {
    if (this.linkDirty[slot]) return;
    this.linkDirty[slot] = 1;
    this.dirtyLinks.push(slot);
  }

  // --- roll-back of one operation --------------------------------------------------------

  /** Keeps a slot's state as it was before the running operation first changed it. */
  private save(slot: number): void {
    if (!this.inOperation || this.savedBy[slot] === this.operationNumber) return;
    this.savedBy[slot] = this.operationNumber;
    const k = this.savedSlots.length;
    this.savedSlots.push(slot);
    if ((k + 1) * DESCRIPTOR_SIZE > this.savedDesc.length) {
      const bigger = new Uint8Array(this.savedDesc.length * 2);
      bigger.set(this.savedDesc);
      this.savedDesc = bigger;
      this.savedDesc32 = new Int32Array(bigger.buffer);
    }
    copyDescriptor(this.desc32, slot * WORDS, this.savedDesc32, k * WORDS);
    this.keepSlotFlags(this.savedLink, slot);
  }

  /** Pushes a slot's eight numbers besides its descriptor: descDirty, then the link's state, next, prev, order, node, zone and dirty bit. */
  private keepSlotFlags(into: NumberStack, slot: number): void {
    into.push(this.descDirty[slot]);
    into.push(this.linkState[slot]);
    into.push(this.linkNext[slot]);
    into.push(this.linkPrev[slot]);
    into.push(this.linkOrder[slot]);
    into.push(this.linkNode[slot]);
    into.push(this.linkZone[slot]);
    into.push(this.linkDirty[slot]);
  }

  /** Sets a slot's eight numbers from `from` at `l`, as keepSlotFlags pushed them. */
  private putSlotFlags(from: NumberStack, l: number, slot: number): void {
    this.descDirty[slot] = from.at(l);
    this.linkState[slot] = from.at(l + 1);
    this.linkNext[slot] = from.at(l + 2);
    this.linkPrev[slot] = from.at(l + 3);
    this.linkOrder[slot] = from.at(l + 4);
    this.linkNode[slot] = from.at(l + 5);
    this.linkZone[slot] = from.at(l + 6);
    this.linkDirty[slot] = from.at(l + 7);
  }

  private rollBack(): void {
    for (let k = this.savedSlots.length - 1; k >= 0; k--) {
      const slot = this.savedSlots.at(k);
      copyDescriptor(this.savedDesc32, k * WORDS, this.desc32, slot * WORDS);
      this.putSlotFlags(this.savedLink, k * 8, slot);
    }
    const areas = this.savedAreas;
    for (let k = areas.length - 4; k >= 0; k -= 4) {
      const i = areas.at(k);
      this.areaHead[i] = areas.at(k + 1);
      this.areaCount[i] = areas.at(k + 2);
      this.areaDirty[i] = areas.at(k + 3);
    }
    const sections = this.savedSections;
    for (let k = sections.length - 3; k >= 0; k -= 3) {
      const s = sections.at(k);
      const free = sections.at(k + 1);
      // NaN: the section had no change held before the operation.
      if (Number.isNaN(free)) this.hasDelta[s] = 0;
      else this.startDelta(s, free, sections.at(k + 2));
    }
  }

  private forgetSaved(): void {
    this.savedSlots.clear();
    this.savedLink.clear();
    this.savedAreas.clear();
    this.savedSections.clear();
    this.operationNumber = (this.operationNumber + 1) >>> 0 || 1; // 0 marks a slot no operation saved
  }

  // --- bytes -----------------------------------------------------------------------------

  private u64(at: number): number {
    return u64(this.desc, at);
  }

  private setU64(at: number, value: number): void {
    this.setU32(at, value % TWO_32);
    this.setU32(at + 4, Math.floor(value / TWO_32));
  }

  private setU32(at: number, value: number): void {
    const d = this.desc;
    d[at] = value & 255;
    d[at + 1] = (value >>> 8) & 255;
    d[at + 2] = (value >>> 16) & 255;
    d[at + 3] = value >>> 24;
  }

  private requireTxn(): AllocatorTxn {
    if (!this.txn) throw new Error('BuddyState used before a transaction was attached');
    return this.txn;
  }
}

function zeros(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/** Copies one descriptor, a 32-bit word at a time (a subarray per copy costs more than the copy). */
function copyDescriptor(from: Int32Array, at: number, to: Int32Array, into: number): void {
  for (let i = 0; i < WORDS; i++) to[into + i] = from[at + i];
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** A u64 field as readU64 reads it: NaN from 2^53 on (never valid in this format). */
function u64(b: Uint8Array, at: number): number {
  const hi = u32(b, at + 4);
  return hi >= 0x200000 ? Number.NaN : hi * TWO_32 + u32(b, at);
}
