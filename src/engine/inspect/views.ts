/**
 * Read-only views of an open image: what `info`, `sections`, `descriptors` and
 * `freelists` print and what the editor draws. They never change the image;
 * descriptors are read on demand for the range asked, never the whole memmap.
 */
import { storedRecord, type StoredRecord } from './storedRecord';
import { memdescPoolSlots } from '../format/memdesc';
import { unitCount } from '../alloc/units2m';
import { designOf, DesignName } from '../designs/designs';
import { coveringHead } from '../alloc/buddy';
import { formatBuddyinfo, ZoneFragmentation, zoneFragmentation, ZoneFreeCounts } from './frag';
import { isReservedPfn, rebuildRamSection, sectionOf } from '../alloc/sectionInit';
import { readU64Loose, view } from '../core/bytes';
import { DESCRIPTOR_SIZE, PAGE_SIZE, ZONE_NAMES } from '../format/constants';
import { writeRefusal } from '../format/superblock';
import { DESC, decodeDescriptor, Descriptor, isBlank, PG_ALLOCATED, PG_BUDDY } from '../format/descriptor';
import { freeAreaEntryAt, freeAreaIndex } from '../format/freeArea';
import type { Store } from '../store/store';
import { decodeFreeLink, FREE_LINK_SIZE, LINK } from '../format/freeLink';
import { flightAt, hasIoPool, IO_POOL_DESCRIPTORS, ioPoolBytes } from '../image/ioPool';
import { keepsDescriptors, REGION_NAMES, RegionName, SECTION_ENTRY_SIZE } from '../format/layout';
import { ALL_EXTENDED_FIELDS, descriptorBytesInRam } from '../format/profiles';
import {
  decodeSectionEntry, readSectionGeneration, SectionEntry, sectionEntryOffset, sectionState, SectionState,
} from '../format/sectionTable';
import type { PmemImage } from '../image/imageCore';
import { SectionWindow } from './sectionWindow';
import { imageTotals, ImageTotals } from './totals';

export type FrameKind = 'metadata' | 'memmap' | 'free' | 'allocated' | 'uninitialized' | 'unknown';

export interface FrameInfo {
  pfn: number;
  physAddr: number;
  kind: FrameKind;
  /** For metadata frames: the region (superblock, sectionTable, ...). */
  region?: RegionName;
  /** The block the frame belongs to (free or allocated). */
  blockPfn?: number;
  order?: number;
  owner?: string;
  node: number;
  zone: string;
  section: number;
  sectionState: SectionState;
  /** False when the descriptor does not exist now (never initialised, or a RAM memmap from an earlier boot). */
  descriptorPresent: boolean;
  flags: number;
  refcount: number;
  initGeneration: number;
  /** Extended fields of the running profile (absent fields read 0). */
  extended: Record<string, number>;
  /** A free block's list links (on its head frame), from where the image keeps them. */
  links?: BlockLinks;
  /** A dynamic image: the I/O in flight whose descriptor from the pool is attached to the frame. */
  io?: number;
  /** What the image's design keeps of the frame, in its own terms (absent on core64 and ram64: the descriptor above is it). */
  stored?: StoredRecord;
}

/** A free block's free-list links and the list they say it is on. */
export interface BlockLinks {
  /** Where the image keeps them: the link record in the free page, or the head's descriptor. */
  place: 'page' | 'descriptor';
  /** Next and previous block on the list; 0 = none. */
  next: number;
  prev: number;
  node: number;
  zone: string;
  order: number;
  /** Why the links could not be read (no link record, or a damaged one); next and prev then read 0. */
  problem?: string;
}

/**
 * The links of the free block whose head is `pfn`: from its link record (links
 * in pages) or its head descriptor (links in descriptors, given as `head`).
 */
export function blockLinks(img: PmemImage, pfn: number, head?: Descriptor): BlockLinks {
  if (img.geometry.links === 'descriptor' || pfn >= img.geometry.totalFrames) {
    const d = head ?? decodeDescriptor(viewDescriptor(img, Math.min(pfn, img.geometry.totalFrames - 1)).bytes);
    return { place: 'descriptor', next: d.next, prev: d.prev, node: d.node, zone: ZONE_NAMES[d.zone] ?? `zone ${d.zone}`, order: d.order };
  }
  const l = decodeFreeLink(img.store.read(pfn * PAGE_SIZE, FREE_LINK_SIZE));
  if (!l.ok) {
    const d = head ?? decodeDescriptor(viewDescriptor(img, pfn).bytes);
    return { place: 'page', next: 0, prev: 0, node: d.node, zone: ZONE_NAMES[d.zone] ?? `zone ${d.zone}`, order: d.order, problem: l.reason };
  }
  const r = l.link;
  const problem = r.pfn !== pfn ? `the link record names pfn ${r.pfn}` : undefined;
  return { place: 'page', next: r.next, prev: r.prev, node: r.node, zone: ZONE_NAMES[r.zone] ?? `zone ${r.zone}`, order: r.order, ...(problem ? { problem } : {}) };
}

export interface SectionSummary {
  index: number;
  firstPfn: number;
  frames: number;
  state: SectionState;
  initGeneration: number;
  freeFrames: number;
  allocatedFrames: number;
  reservedFrames: number;
  /** Data frames not yet handed to the allocator. */
  uninitializedFrames: number;
  node: number;
  zone: string;
}

function regionOf(img: PmemImage, pfn: number): RegionName | undefined {
  for (const name of REGION_NAMES) {
    if (name === 'data') continue;
    const r = img.layout[name];
    if (pfn >= r.startPfn && pfn < r.startPfn + r.frames) return name;
  }
  return undefined;
}

/** Per-image cache of RAM memmaps rebuilt for viewing (never committed). */
const viewRebuilds = new WeakMap<PmemImage, Map<number, Uint8Array>>();

/** Descriptor bytes for viewing, and whether that descriptor exists in this boot. */
export function viewDescriptor(img: PmemImage, pfn: number, table?: SectionWindow | DataView): { bytes: Uint8Array; present: boolean } {
  const g = img.geometry;
  const s = sectionOf(g, pfn);
  const gen = table instanceof DataView ? readSectionGeneration(table, s) : (table ?? new SectionWindow(img, s, 1)).generation(s);
  if (g.memmap === 'device') {
    const bytes = img.store.read(img.memmapOffset(pfn), DESCRIPTOR_SIZE);
    return { bytes, present: !isBlank(bytes) };
  }
  const at = (pfn - s * g.sectionFrames) * DESCRIPTOR_SIZE;
  const live = img.ram.get(s);
  if (live && gen === img.bootGeneration) return { bytes: live.subarray(at, at + DESCRIPTOR_SIZE), present: true };
  if (gen === 0) return { bytes: new Uint8Array(DESCRIPTOR_SIZE), present: false };
  let cache = viewRebuilds.get(img);
  if (!cache) viewRebuilds.set(img, (cache = new Map()));
  let rebuilt = cache.get(s);
  if (!rebuilt) {
    if (cache.size > 64) cache.clear();
    rebuilt = rebuildRamSection(img, (o, l) => img.store.read(o, l), s, gen);
    cache.set(s, rebuilt);
  }
  return { bytes: rebuilt.subarray(at, at + DESCRIPTOR_SIZE), present: false };
}

export function sectionSummary(img: PmemImage, s: number): SectionSummary {
  return summaryFrom(img, decodeSectionEntry(img.store.read(sectionEntryOffset(img.layout, s), SECTION_ENTRY_SIZE)), s);
}

function summaryFrom(img: PmemImage, entry: SectionEntry, s: number): SectionSummary {
  const g = img.geometry;
  const { initGeneration, freeFrames, allocatedFrames, reservedFrames } = entry;
  const state = sectionState(initGeneration, img.bootGeneration);
  const firstPfn = s * g.sectionFrames;
  const { node, zone } = nodeZone(img, firstPfn);
  return {
    index: s, firstPfn, frames: g.sectionFrames, state, initGeneration, freeFrames, allocatedFrames, reservedFrames,
    uninitializedFrames: state === 'never' ? g.sectionFrames - reservedFrames : 0, node, zone: ZONE_NAMES[zone],
  };
}

function nodeZone(img: PmemImage, pfn: number): { node: number; zone: number } {
  for (const n of img.nodes) {
    if (pfn < n.firstPfn || pfn >= n.firstPfn + n.frames) continue;
    for (const z of n.zones) if (z.frames > 0 && pfn >= z.firstPfn && pfn < z.firstPfn + z.frames) return { node: n.id, zone: z.id };
  }
  return { node: 0, zone: 0 };
}

/** All section summaries (or a range), from the section table alone. */
export function sections(img: PmemImage, from = 0, count = img.geometry.sectionCount): SectionSummary[] {
  const start = Math.max(0, from);
  const end = Math.min(img.geometry.sectionCount, from + count);
  if (end <= start) return [];
  const table = new SectionWindow(img, start, end - start);
  const out: SectionSummary[] = [];
  for (let s = start; s < end; s++) out.push(summaryFrom(img, table.entry(s), s));
  return out;
}

export interface ImageInfo {
  formatVersion: number;
  formatRevision: number;
  /** Why this build must not write the image, if it must not. */
  writeRefusal?: string;
  uuid: string;
  sizeBytes: number;
  pageSize: number;
  totalFrames: number;
  dataFrames: number;
  overheadPercent: number;
  memmapPercent: number;
  /** The descriptor design the image runs (designs/designs.ts). */
  design: DesignName;
  memmap: { placement: 'device' | 'ram'; offsetBytes: number; bytes: number; descriptorSize: number; ramBytes: number };
  /** A dynamic image: its pool of descriptors attached during I/O (RAM only). */
  ioPool?: { descriptors: number; bytes: number; attached: number; peak: number; inFlight: number };
  links: 'page' | 'descriptor';
  maxOrder: number;
  sections: { sizeBytes: number; count: number; untouched: number; initialized: number; stale: number; reservedOnly: number };
  nodes: Array<{ id: number; firstPfn: number; frames: number; zones: Array<{ name: string; firstPfn: number; frames: number }> }>;
  regions: Record<RegionName, { startPfn: number; frames: number; offsetBytes: number; bytes: number }>;
  frames: { free: number; allocated: number; uninitialized: number; reserved: number };
  bootGeneration: number;
  clean: boolean;
  profile: string;
  profileExtendedFields: string[];
  /** Steps kept (the oldest may be unreachable: see stepRange), and the history region's size. */
  history: { firstStep: number; lastStep: number; bytes: number };
}

export function info(img: PmemImage, totals: ImageTotals = imageTotals(img)): ImageInfo {
  const g = img.geometry;
  const L = img.layout;
  const counts = totals.sections;
  const frames = { ...totals.frames };
  const h = img.history.readHeader(img.store);
  const regions = {} as ImageInfo['regions'];
  for (const name of REGION_NAMES) {
    const r = L[name];
    regions[name] = { startPfn: r.startPfn, frames: r.frames, offsetBytes: r.startPfn * PAGE_SIZE, bytes: r.frames * PAGE_SIZE };
  }
  return {
    formatVersion: img.sb.formatVersion,
    formatRevision: img.sb.formatRevision,
    writeRefusal: writeRefusal(img.sb),
    uuid: img.sb.uuid,
    sizeBytes: g.sizeBytes,
    pageSize: PAGE_SIZE,
    totalFrames: g.totalFrames,
    dataFrames: L.data.frames,
    overheadPercent: ((g.totalFrames - L.data.frames) / g.totalFrames) * 100,
    memmapPercent: (L.memmap.frames / g.totalFrames) * 100,
    design: designOf(g),
    memmap: {
      placement: g.memmap, offsetBytes: L.memmap.startPfn * PAGE_SIZE, bytes: L.memmap.frames * PAGE_SIZE, descriptorSize: DESCRIPTOR_SIZE,
      ramBytes: g.descriptors === 'unit2m' ? unitCount(g) * (descriptorBytesInRam(img.profile) - DESCRIPTOR_SIZE)
        : g.descriptors === 'twoWord' ? g.totalFrames * (descriptorBytesInRam(img.profile) - DESCRIPTOR_SIZE)
        : g.descriptors === 'memdesc' ? memdescPoolSlots(g.totalFrames) * (descriptorBytesInRam(img.profile) - DESCRIPTOR_SIZE)
        : g.memmap === 'ram' && keepsDescriptors(g) ? g.totalFrames * descriptorBytesInRam(img.profile) : hasIoPool(g) ? ioPoolBytes() : 0,
    },
    ...(hasIoPool(g) ? { ioPool: { descriptors: IO_POOL_DESCRIPTORS, bytes: ioPoolBytes(), attached: img.io.attached, peak: img.io.peak, inFlight: img.io.flights.length } } : {}),
    links: g.links,
    maxOrder: g.maxOrder,
    sections: { sizeBytes: g.sectionFrames * PAGE_SIZE, count: g.sectionCount, ...counts },
    nodes: img.nodes.map((n) => ({ id: n.id, firstPfn: n.firstPfn, frames: n.frames, zones: n.zones.filter((z) => z.frames > 0).map((z) => ({ name: ZONE_NAMES[z.id], firstPfn: z.firstPfn, frames: z.frames })) })),
    regions,
    frames,
    bootGeneration: img.bootGeneration,
    clean: img.sb.clean,
    profile: img.sb.profile,
    profileExtendedFields: img.profile.extended.map((f) => f.name),
    history: { firstStep: h.firstSeq, lastStep: h.nextSeq - 1, bytes: L.history.frames * PAGE_SIZE },
  };
}

/** Descriptor bytes of a whole section for viewing (one read), as viewDescriptor would give frame by frame. */
export function sectionDescriptors(img: PmemImage, s: number, gen: number): { bytes: Uint8Array; present: boolean } {
  const g = img.geometry;
  const first = s * g.sectionFrames;
  if (g.memmap === 'device') return { bytes: img.store.read(img.memmapOffset(first), g.sectionFrames * DESCRIPTOR_SIZE), present: gen !== 0 };
  const live = img.ram.get(s);
  if (live && gen === img.bootGeneration) return { bytes: live, present: true };
  if (gen === 0) return { bytes: new Uint8Array(g.sectionFrames * DESCRIPTOR_SIZE), present: false };
  const one = viewDescriptor(img, first); // fills the rebuild cache for the section
  return { bytes: new Uint8Array(one.bytes.buffer, one.bytes.byteOffset, g.sectionFrames * DESCRIPTOR_SIZE), present: false };
}

/**
 * Descriptor bytes for [from, to) within section s: only that slice is read
 * from a device memmap (a 1 GiB section's descriptors are 16 MiB).
 */
export function descriptorSlice(img: PmemImage, s: number, gen: number, from: number, to: number): { bytes: Uint8Array; present: boolean } {
  const g = img.geometry;
  if (g.memmap === 'device') return { bytes: img.store.read(img.memmapOffset(from), (to - from) * DESCRIPTOR_SIZE), present: gen !== 0 };
  const whole = sectionDescriptors(img, s, gen);
  const at = (from - s * g.sectionFrames) * DESCRIPTOR_SIZE;
  return { bytes: whole.bytes.subarray(at, at + (to - from) * DESCRIPTOR_SIZE), present: whole.present };
}

/** Frame views for [from, from+count): each frame's block found from the heads, a section at a time. */
export function frames(img: PmemImage, from: number, count: number): FrameInfo[] {
  const g = img.geometry;
  const end = Math.min(g.totalFrames, from + count);
  const table = SectionWindow.forFrames(img, from, count);
  const desc = (pfn: number): Descriptor => decodeDescriptor(viewDescriptor(img, pfn, table).bytes);
  const extendedFields = ALL_EXTENDED_FIELDS.filter((f) => img.profile.extended.includes(f));
  const out: FrameInfo[] = [];
  let block: Descriptor | undefined;
  let links: BlockLinks | undefined;
  let pfn = Math.max(0, from);
  while (pfn < end) {
    const s = sectionOf(g, pfn);
    const first = s * g.sectionFrames;
    const sectionEnd = Math.min(end, first + g.sectionFrames);
    const gen = table.generation(s);
    const state = sectionState(gen, img.bootGeneration);
    const nz = nodeZone(img, first);
    const zone = ZONE_NAMES[nz.zone];
    const sliceStart = pfn;
    const { bytes, present: sectionPresent } = descriptorSlice(img, s, gen, sliceStart, sectionEnd);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (; pfn < sectionEnd; pfn++) {
      const at = (pfn - sliceStart) * DESCRIPTOR_SIZE;
      const flags = dv.getUint32(at + DESC.flags, true);
      const present = g.memmap === 'device' ? flags !== 0 || !isBlank(bytes, at) : sectionPresent;
      const base = {
        pfn, physAddr: pfn * PAGE_SIZE, node: nz.node, zone, section: s, sectionState: state, descriptorPresent: present,
        flags, refcount: dv.getUint32(at + DESC.refcount, true), initGeneration: dv.getUint32(at + DESC.initGeneration, true),
        extended: extendedFields.length ? Object.fromEntries(extendedFields.map((f) => [f.name, img.extendedField(pfn, f.name)])) : {},
      };
      if (isReservedPfn(img.layout, pfn)) {
        const region = regionOf(img, pfn);
        out.push({ ...base, kind: region === 'memmap' ? 'memmap' : 'metadata', region });
        continue;
      }
      if (state === 'never') {
        out.push({ ...base, kind: 'uninitialized' });
        continue;
      }
      if (!block || pfn >= block.pfn + 2 ** block.order || pfn < block.pfn) {
        block = flags & (PG_BUDDY | PG_ALLOCATED) ? decodeDescriptor(bytes, at) : coveringHead(desc, g.maxOrder, pfn);
        links = undefined;
      }
      if (!block) {
        out.push({ ...base, kind: 'unknown' });
        continue;
      }
      const free = (block.flags & PG_BUDDY) !== 0;
      // On the head only: a change to a block's links writes its head (record or descriptor), so a view that refreshes changed frames stays true.
      const head = free && pfn === block.pfn;
      if (head) links ??= blockLinks(img, block.pfn, block);
      const io = img.io.attached ? flightAt(img.io, pfn)?.id : undefined;
      out.push({ ...base, kind: free ? 'free' : 'allocated', blockPfn: block.pfn, order: block.order, owner: free ? undefined : block.owner, ...(head ? { links } : {}), ...(io ? { io } : {}) });
    }
  }
  if (g.descriptors) {
    const reads = new Map<number, Uint8Array>();
    for (const f of out) {
      const stored = storedRecord(img, f.pfn, f.kind, reads);
      if (stored) f.stored = stored;
    }
  }
  return out;
}

export interface BlockInfo {
  pfn: number;
  order: number;
  free: boolean;
  owner: string;
}

/**
 * Block heads (free and allocated) whose head lies in [from, from+count), in
 * pfn order, from the descriptors alone: the cheap view for outlines and tests.
 */
export function blocks(img: PmemImage, from: number, count: number): BlockInfo[] {
  const g = img.geometry;
  const end = Math.min(g.totalFrames, from + count);
  const table = SectionWindow.forFrames(img, from, count);
  const out: BlockInfo[] = [];
  for (let s = sectionOf(g, Math.max(0, from)); s * g.sectionFrames < end; s++) {
    const gen = table.generation(s);
    if (gen === 0) continue;
    const first = s * g.sectionFrames;
    const { bytes } = sectionDescriptors(img, s, gen);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let pfn = Math.max(first, from); pfn < Math.min(end, first + g.sectionFrames); pfn++) {
      const at = (pfn - first) * DESCRIPTOR_SIZE;
      const flags = dv.getUint32(at + DESC.flags, true);
      if (!(flags & (PG_BUDDY | PG_ALLOCATED))) continue;
      const free = (flags & PG_BUDDY) !== 0;
      out.push({ pfn, order: dv.getUint8(at + DESC.order), free, owner: free ? '' : decodeDescriptor(bytes, at).owner });
    }
  }
  return out;
}

export interface FreeListView {
  node: number;
  zone: string;
  order: number;
  count: number;
  /** Block head pfns, walked from the list head (at most `limit`). */
  blocks: number[];
}

/** Free lists per node, zone (present zones only) and order, walking at most `limit` blocks per list. */
export function freeLists(img: PmemImage, limit = 64): FreeListView[] {
  const g = img.geometry;
  const out: FreeListView[] = [];
  const area = img.store.read(img.layout.freeArea.startPfn * PAGE_SIZE, img.layout.freeArea.frames * PAGE_SIZE);
  const dv = new DataView(area.buffer, area.byteOffset, area.byteLength);
  const table = new SectionWindow(img);
  for (const n of img.nodes) {
    for (const z of n.zones) {
      if (z.frames === 0) continue;
      for (let order = 0; order <= g.maxOrder; order++) {
        const { head, count } = freeAreaEntryAt(dv, freeAreaIndex(g.maxOrder, n.id, z.id, order));
        const blocks: number[] = [];
        let p = head;
        while (p && blocks.length < Math.min(limit, count)) {
          blocks.push(p);
          p = nextLink(img, p, table);
        }
        out.push({ node: n.id, zone: ZONE_NAMES[z.id], order, count, blocks });
      }
    }
  }
  return out;
}

/** The next block on the free list after block `pfn` (0: none), read from where this image keeps links. */
export function nextLink(img: PmemImage, pfn: number, table: SectionWindow): number {
  if (pfn >= img.geometry.totalFrames) return 0;
  if (img.geometry.links === 'descriptor') return decodeDescriptor(viewDescriptor(img, pfn, table).bytes).next;
  return readU64Loose(view(img.store.read(pfn * PAGE_SIZE + LINK.next, 8)), 0);
}

/** Free blocks per order of every present zone, node by node (what /proc/buddyinfo lists). */
export function zoneFreeCounts(img: PmemImage): ZoneFreeCounts[] {
  return zoneFreeCountsIn(img, img.store);
}

/** As zoneFreeCounts, from the free-area table as `store` holds it (the image at an earlier step). */
export function zoneFreeCountsIn(img: PmemImage, store: Store): ZoneFreeCounts[] {
  const g = img.geometry;
  const area = store.read(img.layout.freeArea.startPfn * PAGE_SIZE, img.layout.freeArea.frames * PAGE_SIZE);
  const dv = new DataView(area.buffer, area.byteOffset, area.byteLength);
  const out: ZoneFreeCounts[] = [];
  for (const n of img.nodes) {
    for (const z of n.zones) {
      if (z.frames === 0) continue;
      const free: number[] = [];
      for (let order = 0; order <= g.maxOrder; order++) free.push(freeAreaEntryAt(dv, freeAreaIndex(g.maxOrder, n.id, z.id, order)).count);
      out.push({ node: n.id, zone: ZONE_NAMES[z.id], free });
    }
  }
  return out;
}

/** The free-list counts in exactly the format of Linux's /proc/buddyinfo. */
export function buddyinfo(img: PmemImage): string {
  return formatBuddyinfo(zoneFreeCounts(img));
}

/** Linux's fragmentation figures of every present zone (inspect/frag.ts). */
export function fragmentation(img: PmemImage): ZoneFragmentation[] {
  return zoneFreeCounts(img).map(zoneFragmentation);
}

/** One block of a free list as walked, and whether its link to the next holds. */
export interface ChainBlock {
  pfn: number;
  /** The next block its link names (0: none, or not known when its links are unreadable). */
  next: number;
  /** Why the link to `next` is broken, as check would say it; absent when it holds. */
  broken?: string;
}

export interface FreeListChain {
  node: number;
  zone: string;
  order: number;
  count: number;
  /** The blocks in list order, from the head, at most `limit`; the walk stops at the first broken link. */
  blocks: ChainBlock[];
}

/**
 * Walks one free list from its head, checking each link as `check` does: the
 * block linked to must be a free head of the list's order whose prev link
 * points back. The walk stops at a broken link (a block that does not point
 * back, a frame that is not a free block of the order, an unreadable record,
 * a cycle) or after `limit` blocks.
 */
export function freeListChain(img: PmemImage, node: number, zone: string, order: number, limit = 4096): FreeListChain | undefined {
  const g = img.geometry;
  const z = ZONE_NAMES.indexOf(zone as (typeof ZONE_NAMES)[number]);
  if (z < 0 || !img.nodes.some((n) => n.id === node) || order < 0 || order > g.maxOrder) return undefined;
  const { head, count } = freeAreaEntryAt(view(img.store.read(img.layout.freeArea.startPfn * PAGE_SIZE, img.layout.freeArea.frames * PAGE_SIZE)), freeAreaIndex(g.maxOrder, node, z, order));
  const out: ChainBlock[] = [];
  const isListed = (pfn: number) => {
    if (!Number.isSafeInteger(pfn) || pfn < img.layout.data.startPfn || pfn + 2 ** order > img.layout.data.startPfn + img.layout.data.frames) return 'lies outside the data area';
    const d = decodeDescriptor(viewDescriptor(img, pfn).bytes);
    if (!(d.flags & PG_BUDDY)) return d.flags & PG_ALLOCATED ? 'is an allocated block' : 'is not the head of a free block';
    if (d.order !== order) return `is a free block of order ${d.order}`;
    return undefined;
  };
  const seen = new Set<number>();
  let p = head;
  let prev = 0;
  let why = p ? isListed(p) : undefined;
  if (why) return { node, zone, order, count, blocks: [{ pfn: p, next: 0, broken: `the list head names pfn ${p}, which ${why}` }] };
  while (p && out.length < limit) {
    seen.add(p);
    const l = blockLinks(img, p);
    const entry: ChainBlock = { pfn: p, next: l.problem ? 0 : l.next };
    out.push(entry);
    if (l.problem) {
      entry.broken = `block ${p}'s links are unreadable: ${l.problem}`;
      break;
    }
    if (l.prev !== prev) {
      // The link into this block is the broken one: mark it on the block before.
      const before = out[out.length - 2];
      if (before) before.broken = `block ${p}'s prev link is ${l.prev}, not ${prev}`;
      else entry.broken = `the list head ${p} has prev link ${l.prev}`;
      break;
    }
    if (!l.next) break;
    if (seen.has(l.next)) {
      entry.broken = `a cycle: block ${p} links back to block ${l.next}`;
      break;
    }
    why = isListed(l.next);
    if (why) {
      entry.broken = `block ${p} links to pfn ${l.next}, which ${why}`;
      break;
    }
    prev = p;
    p = l.next;
  }
  return { node, zone, order, count, blocks: out };
}
