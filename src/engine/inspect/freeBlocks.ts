/**
 * Every block on the free lists, by pfn, and from it the largest free order
 * in each cell of a map window: the overlay that shows fragmentation at any
 * zoom (the section table's counts say how much is free, not in what sizes).
 */
import { PAGE_SIZE, ZONE_NAMES } from '../format/constants';
import { freeAreaEntryAt, freeAreaIndex } from '../format/freeArea';
import type { PmemImage } from '../image/imageCore';
import { runInSlices, runToEnd, Steps } from '../core/timeSlice';
import { nextLink } from './views';
import { SectionWindow } from './sectionWindow';
import type { MapWindow } from './mapCells';

/** Free blocks sorted by pfn, each packed as pfn × 64 + order (exact: pfns stay below 2^47). */
export interface FreeBlockIndex {
  packed: Float64Array;
  maxOrder: number;
  /** Lists whose walk stopped early (a link out of range, fewer blocks than counted): their names. */
  cut: string[];
}

/** A cell with no free frame in the overlay. */
export const NO_FREE_BLOCK = 0xff;

const ORDER_SLOTS = 64;
/** Blocks walked between the points where the walk may give up the thread. */
const WORK_PER_PAUSE = 4096;

export function freeBlockIndex(img: PmemImage): FreeBlockIndex {
  return runToEnd(freeBlockIndexSteps(img));
}

export function freeBlockIndexAsync(img: PmemImage, options: { sliceMs?: number; stopped?: () => boolean } = {}): Promise<FreeBlockIndex | undefined> {
  return runInSlices(freeBlockIndexSteps(img), options);
}

/** Walks every free list from its head, at most its count of blocks (a damaged list cannot loop it). */
export function* freeBlockIndexSteps(img: PmemImage): Steps<FreeBlockIndex> {
  const g = img.geometry;
  const data = img.layout.data;
  const area = img.store.read(img.layout.freeArea.startPfn * PAGE_SIZE, img.layout.freeArea.frames * PAGE_SIZE);
  const dv = new DataView(area.buffer, area.byteOffset, area.byteLength);
  const table = new SectionWindow(img);
  let total = 0;
  const lists: Array<{ node: number; zone: number; order: number; head: number; count: number }> = [];
  for (const n of img.nodes) {
    for (const z of n.zones) {
      if (z.frames === 0) continue;
      for (let order = 0; order <= g.maxOrder; order++) {
        const { head, count } = freeAreaEntryAt(dv, freeAreaIndex(g.maxOrder, n.id, z.id, order));
        // A count beyond the frames that could hold such blocks is damage: walk no further than those.
        const bound = Math.min(count, Math.floor(z.frames / 2 ** order));
        lists.push({ node: n.id, zone: z.id, order, head, count: bound });
        total += bound;
      }
    }
  }
  const packed = new Float64Array(total);
  const cut: string[] = [];
  let k = 0;
  let work = 0;
  for (const l of lists) {
    let p = l.head;
    let walked = 0;
    while (p && walked < l.count) {
      if (!Number.isSafeInteger(p) || p < data.startPfn || p + 2 ** l.order > data.startPfn + data.frames) break;
      packed[k++] = p * ORDER_SLOTS + l.order;
      walked++;
      if (++work >= WORK_PER_PAUSE) {
        work = 0;
        yield;
      }
      p = nextLink(img, p, table);
    }
    if (walked < l.count) cut.push(`node ${l.node} zone ${ZONE_NAMES[l.zone]} order ${l.order}`);
  }
  const out = packed.subarray(0, k).sort();
  return { packed: out, maxOrder: g.maxOrder, cut };
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

/** For each cell of `window`, the largest order of a free block with a frame in it, or NO_FREE_BLOCK. */
export function largestFreeOrders(index: FreeBlockIndex, window: MapWindow): Uint8Array {
  const { firstPfn: first, framesPerCell: fpc, cells } = window;
  const out = new Uint8Array(cells).fill(NO_FREE_BLOCK);
  const end = first + cells * fpc;
  const { packed } = index;
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
