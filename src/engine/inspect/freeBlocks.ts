/**
 * Every block on the free lists, and from it the largest free order in each
 * cell of a map window: the overlay that shows fragmentation at any zoom (the
 * section table's counts say how much is free, not in what sizes).
 */
import { dataView } from '../core/bytes';
import { PAGE_SIZE, ZONE_NAMES } from '../format/constants';
import { freeAreaEntryAt, freeAreaIndex } from '../format/freeArea';
import type { PmemImage } from '../image/imageCore';
import { runInSlices, runToEnd, Steps } from '../core/timeSlice';
import { nextLink } from './views';
import { SectionWindow } from './sectionWindow';
import type { MapWindow } from './mapCells';

/**
 * The free blocks as two pictures: per UNIT_FRAMES frames, the largest order
 * of a free block with a frame there (bounded memory: a byte per 16 frames,
 * 16 MiB for 1 TiB), and, while there are at most MAX_LISTED of them, every
 * block by pfn, exact at one frame per cell.
 */
export interface FreeBlockIndex {
  units: Uint8Array;
  /** pfn × 64 + order of every free block, by pfn; undefined when there are more than MAX_LISTED. */
  packed?: Float64Array;
  maxOrder: number;
  /** Free blocks walked. */
  blocks: number;
  /** Lists whose walk stopped early (a link out of range, fewer blocks than counted): their names. */
  cut: string[];
}

/** A cell (or unit) with no free frame. */
export const NO_FREE_BLOCK = 0xff;
/** Frames per unit of the coarse picture: the map draws cells of at least this many frames from it. */
export const UNIT_FRAMES = 16;
/** The most blocks kept one by one (32 MiB). */
export const MAX_LISTED = 1 << 22;

const ORDER_SLOTS = 64;
/** Blocks walked between the points where the walk may give up the thread. */
const WORK_PER_PAUSE = 4096;

export function freeBlockIndex(img: PmemImage): FreeBlockIndex {
  return runToEnd(freeBlockIndexSteps(img));
}

export function freeBlockIndexAsync(img: PmemImage, options: { sliceMs?: number; stopped?: () => boolean } = {}): Promise<FreeBlockIndex | undefined> {
  return runInSlices(freeBlockIndexSteps(img), options);
}

/** Marks units [a, b) with `order` where it is larger than what they hold. */
function markUnits(units: Uint8Array, first: number, last: number, order: number): void {
  for (let u = first; u <= last; u++) if (units[u] === NO_FREE_BLOCK || units[u] < order) units[u] = order;
}

/** Walks every free list from its head, at most its count of blocks (a damaged list cannot loop it). */
export function* freeBlockIndexSteps(img: PmemImage): Steps<FreeBlockIndex> {
  const g = img.geometry;
  const data = img.layout.data;
  const area = img.store.read(img.layout.freeArea.startPfn * PAGE_SIZE, img.layout.freeArea.frames * PAGE_SIZE);
  const dv = dataView(area);
  const table = new SectionWindow(img);
  const units = new Uint8Array(Math.ceil(g.totalFrames / UNIT_FRAMES)).fill(NO_FREE_BLOCK);
  let listed: number[] | undefined = [];
  const cut: string[] = [];
  let blocks = 0;
  let work = 0;
  for (const n of img.nodes) {
    for (const z of n.zones) {
      if (z.frames === 0) continue;
      for (let order = 0; order <= g.maxOrder; order++) {
        const { head, count } = freeAreaEntryAt(dv, freeAreaIndex(g.maxOrder, n.id, z.id, order));
        // A count beyond the blocks the zone could hold is damage: walk no further than those.
        const bound = Math.min(count, Math.floor(z.frames / 2 ** order));
        let p = head;
        let walked = 0;
        while (p && walked < bound) {
          if (!Number.isSafeInteger(p) || p < data.startPfn || p + 2 ** order > data.startPfn + data.frames) break;
          markUnits(units, Math.floor(p / UNIT_FRAMES), Math.floor((p + 2 ** order - 1) / UNIT_FRAMES), order);
          if (listed) {
            listed.push(p * ORDER_SLOTS + order);
            if (listed.length > MAX_LISTED) listed = undefined; // the units alone from here on
          }
          walked++;
          if (++work >= WORK_PER_PAUSE) {
            work = 0;
            yield;
          }
          p = nextLink(img, p, table);
        }
        blocks += walked;
        if (walked < count) cut.push(`node ${n.id} zone ${ZONE_NAMES[z.id]} order ${order}`);
      }
    }
  }
  return { units, packed: listed && Float64Array.from(listed).sort(), maxOrder: g.maxOrder, blocks, cut };
}

/** First index of `packed` whose pfn is at least `pfn`. */
function lowerBound(packed: Float64Array, pfn: number): number {
  let lo = 0;
  let hi = packed.length;
  const key = pfn * ORDER_SLOTS;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (packed[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * For each cell of `window`, the largest order of a free block with a frame
 * in it, or NO_FREE_BLOCK. Cells of UNIT_FRAMES frames or more come from the
 * units (exact: cells are aligned to their size); smaller cells from the
 * blocks themselves, or, past MAX_LISTED blocks, from the unit they lie in.
 */
export function largestFreeOrders(index: FreeBlockIndex, window: MapWindow): Uint8Array {
  const { firstPfn: first, framesPerCell: fpc, cells } = window;
  const out = new Uint8Array(cells).fill(NO_FREE_BLOCK);
  const { units, packed } = index;
  if (fpc >= UNIT_FRAMES || !packed) {
    for (let c = 0; c < cells; c++) {
      const a = Math.floor((first + c * fpc) / UNIT_FRAMES);
      const b = Math.min(units.length, Math.ceil((first + (c + 1) * fpc) / UNIT_FRAMES));
      let best = NO_FREE_BLOCK;
      for (let u = a; u < b; u++) if (units[u] !== NO_FREE_BLOCK && (best === NO_FREE_BLOCK || units[u] > best)) best = units[u];
      out[c] = best;
    }
    return out;
  }
  const end = first + cells * fpc;
  // A block that starts before the window may reach into it: start the search one largest block earlier.
  for (let i = lowerBound(packed, Math.max(0, first - 2 ** index.maxOrder)); i < packed.length; i++) {
    const pfn = Math.floor(packed[i] / ORDER_SLOTS);
    if (pfn >= end) break;
    const order = packed[i] - pfn * ORDER_SLOTS;
    const a = Math.max(pfn, first);
    const b = Math.min(pfn + 2 ** order, end);
    if (a >= b) continue;
    for (let c = Math.floor((a - first) / fpc), last = Math.floor((b - 1 - first) / fpc); c <= last; c++) {
      if (out[c] === NO_FREE_BLOCK || out[c] < order) out[c] = order;
    }
  }
  return out;
}
