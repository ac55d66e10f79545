/**
 * The fast lane of the buddy allocator: one block allocated, or one block
 * freed, when everything it touches is already initialised in this boot
 * (device memmap). It stages the same writes, in the same lines, as the
 * general allocator (buddy.ts) on a Txn, so the commit, the journal and the
 * history record come out byte for byte the same (test/unit/fastLane.test.ts
 * compares them), without the transaction's maps, objects and copies. Anything
 * else (lazy initialisation, a stale section, a damaged structure, an error
 * to report) hands the operation to the general path, which has written
 * nothing meanwhile.
 */
import { crc32Range } from '../format/compact';
import { DESCRIPTOR_SIZE, PAGE_SIZE } from '../format/constants';
import { writeString } from '../core/bytes';
import { CORE_VERSION, DESC, OWNER_BYTES, patchPlain, PG_ALLOCATED, PG_BUDDY, PG_CORE } from '../format/descriptor';
import { FREE_AREA, freeAreaIndex } from '../format/freeArea';
import { encodeFreeLink, FREE_LINK_MAGIC, FREE_LINK_SIZE, LINK } from '../format/freeLink';
import { FREE_AREA_ENTRY_SIZE, nodeZoneOf, SECTION_ENTRY_SIZE } from '../format/layout';
import { SECTION } from '../format/sectionTable';
import type { FastTxn } from '../image/fastTxn';
import type { AllocatedBlock, AllocRequest, FreedBlock } from './buddy';
import { validateAllocRequest, zonelist } from './buddy';

/** The fast lane cannot take this operation: the general path will (nothing was written). */
export class NotFast extends Error {}

const EMPTY_LINK = new Uint8Array(FREE_LINK_SIZE);

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** A u64 field below 2^53, else NotFast (the general path reports it). */
function u64(b: Uint8Array, at: number): number {
  const hi = u32(b, at + 4);
  if (hi >= 0x200000) throw new NotFast();
  return hi * 0x1_0000_0000 + u32(b, at);
}

function setU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

function setU64(b: Uint8Array, at: number, v: number): void {
  setU32(b, at, v % 0x1_0000_0000);
  setU32(b, at + 4, Math.floor(v / 0x1_0000_0000));
}

interface HeadChange {
  flags?: number;
  order?: number;
  node?: number;
  zone?: number;
  owner?: string;
  refcount?: number;
  next?: number;
  prev?: number;
}

interface Links {
  next: number;
  prev: number;
}

class Lane {
  private readonly img: FastTxn['img'];
  private readonly sectionAt: number;
  private readonly areaAt: number;
  private readonly linksInPages: boolean;

  constructor(private readonly t: FastTxn) {
    this.img = t.img;
    this.sectionAt = this.img.layout.sectionTable.startPfn * PAGE_SIZE;
    this.areaAt = this.img.layout.freeArea.startPfn * PAGE_SIZE;
    this.linksInPages = this.img.geometry.links === 'page';
  }

  // --- sections ---------------------------------------------------------------

  private sectionOf(pfn: number): number {
    return Math.floor(pfn / this.img.geometry.sectionFrames);
  }

  /** As ensureSectionReady, for sections that need no work: true when initialised in this boot, false when never. */
  private ready(s: number): boolean {
    const gen = u32(this.t.read(this.sectionAt + s * SECTION_ENTRY_SIZE + SECTION.initGeneration, 4), 0);
    if (gen === this.img.bootGeneration) return true;
    if (gen === 0) return false;
    throw new NotFast(); // stale: re-initialisation is the general path's
  }

  private blockReady(pfn: number, order: number): void {
    for (let s = this.sectionOf(pfn); s <= this.sectionOf(pfn + 2 ** order - 1); s++) if (!this.ready(s)) throw new NotFast();
  }

  /** As buddy.account: the frames of the block move between free and allocated in each section it covers. */
  private account(pfn: number, order: number, dFree: number, dAlloc: number): void {
    const frames = 2 ** order;
    const per = Math.min(frames, this.img.geometry.sectionFrames);
    for (let s = this.sectionOf(pfn); s <= this.sectionOf(pfn + frames - 1); s++) {
      const at = this.sectionAt + s * SECTION_ENTRY_SIZE;
      const e = this.t.read(at, SECTION_ENTRY_SIZE);
      setU32(e, SECTION.freeFrames, u32(e, SECTION.freeFrames) + dFree * per);
      setU32(e, SECTION.allocatedFrames, u32(e, SECTION.allocatedFrames) + dAlloc * per);
      this.t.write(at, e);
    }
  }

  // --- descriptors ------------------------------------------------------------

  /** A head's descriptor as staged (a copy), after checking its section needs nothing and its bytes are sound. */
  private head(pfn: number): Uint8Array {
    if (!this.ready(this.sectionOf(pfn))) throw new NotFast();
    const d = this.t.read(this.img.memmapOffset(pfn), DESCRIPTOR_SIZE);
    if (d[DESC.coreVersion] !== CORE_VERSION || u32(d, DESC.crc) !== crc32Range(d, 0, DESC.crc)) throw new NotFast();
    return d;
  }

  /** As buddy's setHead (patchDescriptor): the given fields set, coreVersion and pfn restated, the checksum resealed. */
  private setHead(pfn: number, change: HeadChange): void {
    const d = this.head(pfn);
    if (change.flags !== undefined) setU32(d, DESC.flags, change.flags);
    if (change.order !== undefined) d[DESC.order] = change.order;
    if (change.node !== undefined) d[DESC.node] = change.node;
    if (change.zone !== undefined) d[DESC.zone] = change.zone;
    d[DESC.coreVersion] = CORE_VERSION;
    setU64(d, DESC.pfn, pfn);
    if (change.refcount !== undefined) setU32(d, DESC.refcount, change.refcount);
    if (change.owner !== undefined) writeString(d, DESC.owner, OWNER_BYTES, change.owner);
    if (change.next !== undefined) setU64(d, DESC.next, change.next);
    if (change.prev !== undefined) setU64(d, DESC.prev, change.prev);
    setU32(d, DESC.crc, crc32Range(d, 0, DESC.crc));
    this.t.write(this.img.memmapOffset(pfn), d);
  }

  private markPlain(pfn: number): void {
    const d = this.head(pfn);
    patchPlain(d, 0);
    this.t.write(this.img.memmapOffset(pfn), d);
  }

  // --- free lists ---------------------------------------------------------------

  private areaOffset(node: number, zone: number, order: number): number {
    return this.areaAt + freeAreaIndex(this.img.geometry.maxOrder, node, zone, order) * FREE_AREA_ENTRY_SIZE;
  }

  private area(node: number, zone: number, order: number): { head: number; count: number } {
    const e = this.t.read(this.areaOffset(node, zone, order), FREE_AREA_ENTRY_SIZE);
    return { head: u64(e, FREE_AREA.head), count: u64(e, FREE_AREA.count) };
  }

  private setArea(node: number, zone: number, order: number, head: number, count: number): void {
    if (!Number.isSafeInteger(head) || head < 0 || !Number.isSafeInteger(count) || count < 0) throw new NotFast(); // a damaged list: the general path reports it
    const e = new Uint8Array(FREE_AREA_ENTRY_SIZE);
    setU64(e, FREE_AREA.head, head);
    setU64(e, FREE_AREA.count, count);
    this.t.write(this.areaOffset(node, zone, order), e);
  }

  /** As getLinks: the block's links, checked (else the general path reports the corruption). */
  private links(pfn: number): Links {
    let next: number;
    let prev: number;
    if (!this.linksInPages) {
      const d = this.head(pfn);
      next = u64(d, DESC.next);
      prev = u64(d, DESC.prev);
    } else {
      const l = this.t.read(pfn * PAGE_SIZE, FREE_LINK_SIZE);
      for (let i = 0; i < 8; i++) if (l[LINK.magic + i] !== FREE_LINK_MAGIC.charCodeAt(i)) throw new NotFast();
      if (u32(l, LINK.crc) !== crc32Range(l, 0, LINK.crc) || u64(l, LINK.pfn) !== pfn) throw new NotFast();
      next = u64(l, LINK.next);
      prev = u64(l, LINK.prev);
    }
    const data = this.img.layout.data;
    for (const to of [next, prev]) if (to !== 0 && !(to >= data.startPfn && to < data.startPfn + data.frames)) throw new NotFast();
    return { next, prev };
  }

  private setLinks(pfn: number, links: Links, order: number, node: number, zone: number): void {
    if (!this.linksInPages) {
      this.setHead(pfn, links);
      return;
    }
    this.t.write(pfn * PAGE_SIZE, encodeFreeLink({ pfn, next: links.next, prev: links.prev, order, node, zone, linkedGeneration: this.img.bootGeneration }));
  }

  private clearLinks(pfn: number): void {
    if (!this.linksInPages) this.setHead(pfn, { next: 0, prev: 0 });
    else this.t.write(pfn * PAGE_SIZE, EMPTY_LINK);
  }

  private push(node: number, zone: number, order: number, pfn: number): void {
    const area = this.area(node, zone, order);
    this.setLinks(pfn, { next: area.head, prev: 0 }, order, node, zone);
    if (area.head) {
      const old = this.links(area.head);
      this.setLinks(area.head, { next: old.next, prev: pfn }, order, node, zone);
    }
    this.setArea(node, zone, order, pfn, area.count + 1);
  }

  private remove(node: number, zone: number, order: number, pfn: number): void {
    const links = this.links(pfn);
    const area = this.area(node, zone, order);
    if (links.prev) {
      const p = this.links(links.prev);
      this.setLinks(links.prev, { next: links.next, prev: p.prev }, order, node, zone);
    } else if (area.head !== pfn) throw new NotFast();
    if (links.next) {
      const n = this.links(links.next);
      this.setLinks(links.next, { next: n.next, prev: links.prev }, order, node, zone);
    }
    this.setArea(node, zone, order, links.prev ? area.head : links.next, area.count - 1);
    this.clearLinks(pfn);
  }

  // --- the two operations ---------------------------------------------------------

  /** As buddy.allocate for one block, taken from the free lists of the first zone that has one. */
  alloc(request: AllocRequest): AllocatedBlock {
    const req = validateAllocRequest(this.t, request);
    if (req.count !== 1) throw new NotFast();
    const g = this.img.geometry;
    const { node, zone } = zonelist(this.t, req)[0] ?? {};
    if (node === undefined) throw new NotFast();
    for (let o = req.order; o <= g.maxOrder; o++) {
      const pfn = this.area(node, zone, o).head;
      if (!pfn) continue;
      const d = this.head(pfn);
      if (!(u32(d, DESC.flags) & PG_BUDDY) || d[DESC.order] !== o) throw new NotFast();
      this.blockReady(pfn, o);
      this.remove(node, zone, o, pfn);
      while (o > req.order) {
        o--;
        const half = pfn + 2 ** o;
        this.setHead(half, { flags: PG_CORE | PG_BUDDY, order: o, node, zone, owner: '', refcount: 0 });
        this.push(node, zone, o, half);
      }
      this.setHead(pfn, { flags: PG_CORE | PG_ALLOCATED, order: req.order, owner: req.owner, refcount: 1, next: 0, prev: 0, node, zone });
      this.account(pfn, req.order, -1, +1);
      return { pfn, order: req.order, node, zone };
    }
    throw new NotFast(); // the zone's lists are empty: lazy initialisation, or the next zone
  }

  /** As buddy.freeAllocated for an allocated head whose sections (and its buddies') need nothing. */
  free(pfn: number): FreedBlock {
    const { layout, geometry: g, nodes } = this.img;
    if (!Number.isSafeInteger(pfn) || pfn < layout.data.startPfn || pfn >= layout.data.startPfn + layout.data.frames) throw new NotFast();
    const d = this.head(pfn);
    if (!(u32(d, DESC.flags) & PG_ALLOCATED)) throw new NotFast();
    let order = d[DESC.order];
    let ownerLength = 0;
    while (ownerLength < OWNER_BYTES && d[DESC.owner + ownerLength] !== 0) ownerLength++;
    const owner = new TextDecoder().decode(d.subarray(DESC.owner, DESC.owner + ownerLength));
    const freed = { pfn, order, owner };
    this.blockReady(pfn, order);
    this.markPlain(pfn);
    this.account(pfn, order, +1, -1);
    const { node, zone } = nodeZoneOf(nodes, pfn);
    const z = nodes[node].zones[zone];
    let head = pfn;
    while (order < g.maxOrder) {
      const buddy = head ^ (2 ** order);
      const end = buddy + 2 ** order;
      if (buddy < layout.data.startPfn || end > layout.data.startPfn + layout.data.frames || buddy < z.firstPfn || end > z.firstPfn + z.frames) break;
      if (!this.ready(this.sectionOf(buddy))) break;
      const b = this.head(buddy);
      if (!(u32(b, DESC.flags) & PG_BUDDY) || b[DESC.order] !== order || b[DESC.node] !== node || b[DESC.zone] !== zone) break;
      this.blockReady(buddy, order);
      this.remove(node, zone, order, buddy);
      this.markPlain(buddy);
      head = Math.min(head, buddy);
      order++;
    }
    this.setHead(head, { flags: PG_CORE | PG_BUDDY, order, node, zone, owner: '', refcount: 0 });
    this.push(node, zone, order, head);
    return freed;
  }
}

/** Stages one block's allocation on `t`; throws NotFast when the general path must take it. */
export function fastAllocate(t: FastTxn, req: AllocRequest): AllocatedBlock {
  return new Lane(t).alloc(req);
}

/** Stages the free of the allocated block whose head is pfn; throws NotFast when the general path must take it. */
export function fastFree(t: FastTxn, pfn: number): FreedBlock {
  return new Lane(t).free(pfn);
}
