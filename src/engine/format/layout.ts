/**
 * Geometry and layout: how a device of a given size is cut into regions,
 * NUMA nodes and zones. The layout is a pure function of the creation options,
 * so an opener recomputes it and rejects a superblock that disagrees.
 */
import { memdescPoolFrames, memdescWordFrames } from './memdesc';
import { UsageError } from '../core/errors';
import {
  DEFAULT_MAX_ORDER, DESCRIPTOR_SIZE, DMA32_LIMIT_PFN, MAX_IMAGE_BYTES, MAX_NODES, MAX_ORDER_LIMIT,
  MIN_IMAGE_BYTES, PAGE_SIZE, SECTION_SIZES, ZONE_COUNT, ZONE_DMA32, ZONE_MOVABLE, ZONE_NORMAL,
} from './constants';
import { findProfile, PROFILES } from './profiles';

export type MemmapPlacement = 'device' | 'ram';
export type LinksPlacement = 'page' | 'descriptor';

export interface Geometry {
  sizeBytes: number;
  totalFrames: number;
  sectionFrames: number;
  sectionCount: number;
  nodeCount: number;
  maxOrder: number;
  memmap: MemmapPlacement;
  links: LinksPlacement;
  /** Percentage of each node (rounded down to whole sections, from its top) in ZONE_MOVABLE. */
  movablePercent: number;
  /** Frames of the history region (its header frame and the ring), chosen at creation. */
  historyFrames: number;
  /**
   * 'none': the design keeps no descriptors (pfn-only): free-page state lives
   * only in the free pages' link records, and what the engine holds in RAM is
   * just its index of them; an allocated frame carries no owner and no order.
   * 'pool': none either, but a fixed pool of descriptors in RAM is attached
   * to frames while they are under I/O (the dynamic design, image/ioPool.ts).
   * 'unit2m': one descriptor per 2 MiB unit on the device, in the memmap
   * region (the 2m design, alloc/units2m.ts); the engine's index in RAM keeps
   * each block's head, as ram64's does.
   */
  descriptors?: 'none' | 'pool' | 'unit2m' | 'twoWord' | 'memdesc';
}

/** Whether the image knows each allocated block's order and owner (core64, ram64, 2m): pfn-only and dynamic keep no descriptors. */
export const keepsDescriptors = (g: Pick<Geometry, 'descriptors'>): boolean => g.descriptors === undefined || g.descriptors === 'unit2m' || g.descriptors === 'twoWord' || g.descriptors === 'memdesc';

/** Whether the design's descriptors are on the device (core64's 64 bytes a frame, 2m's a 2 MiB unit, two-word's 16 bytes a frame); the engine's RAM index then counts only their extended fields. */
export const descriptorsOnDevice = (g: Pick<Geometry, 'memmap' | 'descriptors'>): boolean => g.memmap === 'device' || g.descriptors === 'unit2m' || g.descriptors === 'twoWord' || g.descriptors === 'memdesc';

/** Frames of a 2m image's memmap region: one 64-byte descriptor per 2 MiB (512 frames). */
export const unitMemmapFrames = (totalFrames: number): number => Math.ceil((Math.ceil(totalFrames / 512) * DESCRIPTOR_SIZE) / PAGE_SIZE);

export interface Region {
  startPfn: number;
  frames: number;
}

/** Regions in on-media order; `data` is what the allocator manages. */
export interface Layout {
  superblock: Region;
  sectionTable: Region;
  freeArea: Region;
  journal: Region;
  history: Region;
  memmap: Region;
  data: Region;
  backupSuperblock: Region;
}

export const REGION_NAMES = ['superblock', 'sectionTable', 'freeArea', 'journal', 'history', 'memmap', 'data', 'backupSuperblock'] as const;
export type RegionName = (typeof REGION_NAMES)[number];
/** Plain words for each region, for people rather than code. */
export const REGION_LABELS: Record<RegionName, string> = {
  superblock: 'superblock', sectionTable: 'section table', freeArea: 'free-list heads', journal: 'journal',
  history: 'history', memmap: 'memmap (descriptors)', data: 'data', backupSuperblock: 'backup superblock',
};

export interface Zone {
  id: number;
  firstPfn: number;
  frames: number;
}

export interface NodeInfo {
  id: number;
  firstPfn: number;
  frames: number;
  /** Indexed by zone id; a zone with 0 frames is absent. */
  zones: Zone[];
}

export const SECTION_ENTRY_SIZE = 16;
export const FREE_AREA_ENTRY_SIZE = 16;

const pagesFor = (bytes: number) => Math.ceil(bytes / PAGE_SIZE);
const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/** Bounds of the history region: 64 KiB (the first format's smallest) to 256 MiB. */
export const MIN_HISTORY_FRAMES = 16;
export const MAX_HISTORY_FRAMES = 65536;

/**
 * History frames of a new image unless chosen: a twelfth of the device, at
 * most 5 MiB (from 64 MiB up: well over 100,000 allocations and frees in
 * compact records).
 */
export function defaultHistoryFrames(totalFrames: number): number {
  return clamp(Math.floor(totalFrames / 12), MIN_HISTORY_FRAMES, 1280);
}

/** History frames of images created before the size was a choice (format version 1 and early version 2). */
export function firstFormatHistoryFrames(totalFrames: number): number {
  return clamp(Math.floor(totalFrames / 256), MIN_HISTORY_FRAMES, 1024);
}

export function freeAreaEntries(g: Pick<Geometry, 'nodeCount' | 'maxOrder'>): number {
  return g.nodeCount * ZONE_COUNT * (g.maxOrder + 1);
}

export function computeLayout(g: Geometry): Layout {
  let next = 0;
  const take = (frames: number): Region => {
    const r = { startPfn: next, frames };
    next += frames;
    return r;
  };
  const superblock = take(1);
  const sectionTable = take(pagesFor(g.sectionCount * SECTION_ENTRY_SIZE));
  const freeArea = take(pagesFor(freeAreaEntries(g) * FREE_AREA_ENTRY_SIZE));
  // The journal must hold the largest single transaction: it scales with the
  // device within fixed bounds. The history ring's size is chosen at creation.
  const journal = take(clamp(Math.floor(g.totalFrames / 512), 16, 256));
  const history = take(g.historyFrames);
  const memmap = g.memmap === 'device' ? take(pagesFor(g.totalFrames * DESCRIPTOR_SIZE)) : g.descriptors === 'unit2m' ? take(unitMemmapFrames(g.totalFrames))
    : g.descriptors === 'twoWord' ? take(pagesFor(g.totalFrames * 16))
    : g.descriptors === 'memdesc' ? take(memdescWordFrames(g.totalFrames) + memdescPoolFrames(g.totalFrames)) : { startPfn: next, frames: 0 };
  const backupSuperblock = { startPfn: g.totalFrames - 1, frames: 1 };
  const data = { startPfn: next, frames: backupSuperblock.startPfn - next };
  return { superblock, sectionTable, freeArea, journal, history, memmap, data, backupSuperblock };
}

/** Reserved (metadata, memmap, backup superblock) frames inside a section. */
export function reservedFramesIn(layout: Layout, sectionFrames: number, s: number): number {
  const a = s * sectionFrames;
  const b = a + sectionFrames;
  const overlap = (x: number, y: number) => Math.max(0, Math.min(b, y) - Math.max(a, x));
  return overlap(0, layout.data.startPfn) + overlap(layout.backupSuperblock.startPfn, layout.backupSuperblock.startPfn + 1);
}

/** Nodes split the device into contiguous ranges of whole sections; zones split each node. */
export function computeNodes(g: Geometry): NodeInfo[] {
  const perNode = Math.floor(g.sectionCount / g.nodeCount);
  const nodes: NodeInfo[] = [];
  let firstSection = 0;
  for (let id = 0; id < g.nodeCount; id++) {
    const sections = id === g.nodeCount - 1 ? g.sectionCount - firstSection : perNode;
    const firstPfn = firstSection * g.sectionFrames;
    const frames = sections * g.sectionFrames;
    const end = firstPfn + frames;
    const movableSections = Math.floor((sections * g.movablePercent) / 100);
    const movableStart = end - movableSections * g.sectionFrames;
    const dmaEnd = clamp(DMA32_LIMIT_PFN, firstPfn, movableStart);
    const zones: Zone[] = [];
    zones[ZONE_DMA32] = { id: ZONE_DMA32, firstPfn, frames: dmaEnd - firstPfn };
    zones[ZONE_NORMAL] = { id: ZONE_NORMAL, firstPfn: dmaEnd, frames: movableStart - dmaEnd };
    zones[ZONE_MOVABLE] = { id: ZONE_MOVABLE, firstPfn: movableStart, frames: end - movableStart };
    nodes.push({ id, firstPfn, frames, zones });
    firstSection += sections;
  }
  return nodes;
}

export interface GeometryOptions {
  sizeBytes: number;
  sectionBytes?: number;
  nodes?: number;
  maxOrder?: number;
  memmap?: MemmapPlacement;
  links?: LinksPlacement;
  movablePercent?: number;
  profile?: string;
  /** Bytes of the history region, a multiple of 4 KiB; default defaultHistoryFrames. */
  historyBytes?: number;
  /** 'none': no descriptors at all (pfn-only); 'pool': only a pool attached during I/O (dynamic); 'unit2m': one per 2 MiB on the device (2m). All need the memmap in RAM (the engine's index) and the links in the pages. */
  descriptors?: 'none' | 'pool' | 'unit2m' | 'twoWord' | 'memdesc';
}

/** Validates creation options and derives the geometry, with a clear UsageError for each mistake. */
export function makeGeometry(o: GeometryOptions): Geometry {
  const sectionBytes = o.sectionBytes ?? SECTION_SIZES[0];
  if (!(SECTION_SIZES as readonly number[]).includes(sectionBytes)) throw new UsageError(`section size must be 2M or 1G, not ${sectionBytes} bytes`);
  if (!Number.isSafeInteger(o.sizeBytes) || o.sizeBytes < MIN_IMAGE_BYTES) throw new UsageError(`size must be at least 4M (got ${o.sizeBytes} bytes)`);
  if (o.sizeBytes > MAX_IMAGE_BYTES) throw new UsageError(`size must be at most 16T (got ${o.sizeBytes} bytes)`);
  if (o.sizeBytes % sectionBytes !== 0) throw new UsageError(`size ${o.sizeBytes} is not a multiple of the section size (${sectionBytes} bytes)`);
  const nodeCount = o.nodes ?? 1;
  const sectionCount = o.sizeBytes / sectionBytes;
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > MAX_NODES) throw new UsageError(`nodes must be 1 to ${MAX_NODES}, not ${o.nodes}`);
  if (nodeCount > sectionCount) throw new UsageError(`${nodeCount} nodes need at least ${nodeCount} sections; the image has ${sectionCount}`);
  const maxOrder = o.maxOrder ?? DEFAULT_MAX_ORDER;
  if (!Number.isInteger(maxOrder) || maxOrder < 0 || maxOrder > MAX_ORDER_LIMIT) throw new UsageError(`max order must be 0 to ${MAX_ORDER_LIMIT}, not ${o.maxOrder}`);
  const memmap = o.memmap ?? 'device';
  if (memmap !== 'device' && memmap !== 'ram') throw new UsageError(`memmap placement must be "device" or "ram", not "${memmap}"`);
  const links = o.links ?? 'page';
  if (links !== 'page' && links !== 'descriptor') throw new UsageError(`links placement must be "page" or "descriptor", not "${links}"`);
  if (memmap === 'ram' && links === 'descriptor') {
    throw new UsageError('links in the descriptor need a persistent memmap: with --memmap ram the free lists would not survive a reboot (use --links page)');
  }
  if (o.descriptors !== undefined && o.descriptors !== 'none' && o.descriptors !== 'pool' && o.descriptors !== 'unit2m' && o.descriptors !== 'twoWord' && o.descriptors !== 'memdesc') throw new UsageError(`descriptors must be "none", "pool", "unit2m", "twoWord", "memdesc" or left out, not "${o.descriptors}"`);
  if (o.descriptors === 'unit2m' && maxOrder < 9) throw new UsageError(`a 2m image allocates 2 MiB units (order 9): its max order must be 9 or more, not ${maxOrder}`);
  if (o.descriptors !== undefined && memmap !== 'ram') throw new UsageError('without descriptors there is no memmap on the device: the free blocks are indexed in RAM (memmap "ram")');
  const movablePercent = o.movablePercent ?? 0;
  if (!Number.isInteger(movablePercent) || movablePercent < 0 || movablePercent > 90) throw new UsageError(`movable percentage must be 0 to 90, not ${o.movablePercent}`);
  const totalFrames = o.sizeBytes / PAGE_SIZE;
  const historyBytes = o.historyBytes ?? defaultHistoryFrames(totalFrames) * PAGE_SIZE;
  if (!Number.isSafeInteger(historyBytes) || historyBytes < MIN_HISTORY_FRAMES * PAGE_SIZE || historyBytes > MAX_HISTORY_FRAMES * PAGE_SIZE) {
    throw new UsageError(`history size must be 64K to 256M (got ${o.historyBytes} bytes)`);
  }
  if (historyBytes % PAGE_SIZE !== 0) throw new UsageError(`history size ${historyBytes} is not a multiple of 4K`);
  if (o.profile !== undefined && !findProfile(o.profile)) {
    throw new UsageError(`unknown kernel profile "${o.profile}" (known: ${PROFILES.map((p) => p.name).join(', ')})`);
  }
  const g: Geometry = {
    sizeBytes: o.sizeBytes, totalFrames, sectionFrames: sectionBytes / PAGE_SIZE,
    sectionCount, nodeCount, maxOrder, memmap, links, movablePercent, historyFrames: historyBytes / PAGE_SIZE,
    ...(o.descriptors !== undefined ? { descriptors: o.descriptors } : {}),
  };
  const layout = computeLayout(g);
  if (layout.data.frames < g.sectionFrames / 4) {
    throw new UsageError(`size ${o.sizeBytes} leaves too little room for data after the metadata${o.historyBytes !== undefined ? ' and the history' : ''}; use a larger image${o.historyBytes !== undefined ? ' or a smaller history' : ''}`);
  }
  return g;
}

/** Which node and zone a frame belongs to. Nodes and zones are few, so a scan is fine. */
export function nodeZoneOf(nodes: NodeInfo[], pfn: number): { node: number; zone: number } {
  for (const n of nodes) {
    if (pfn >= n.firstPfn && pfn < n.firstPfn + n.frames) {
      for (const z of n.zones) if (z.frames > 0 && pfn >= z.firstPfn && pfn < z.firstPfn + z.frames) return { node: n.id, zone: z.id };
    }
  }
  throw new RangeError(`pfn ${pfn} is outside every node`);
}

