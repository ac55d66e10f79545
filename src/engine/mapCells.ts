/**
 * The page-frame map's data: for a window of cells (each `framesPerCell`
 * frames), how much of each cell is metadata, memmap, free, allocated or
 * never initialised, how much is stale, and, where one block fills a cell,
 * its order or owner. Zoomed out it reads the section table only (never the
 * memmap); zoomed in it walks the block heads of the window and nothing else.
 */
import { coveringHead } from './alloc/buddy';
import { sectionOf } from './alloc/sectionInit';
import { decodeDescriptor, PG_ALLOCATED, PG_BUDDY } from './format/descriptor';
import { REGION_NAMES, RegionName } from './format/layout';
import type { PmemImage } from './imageCore';
import { readSectionTable } from './ops';
import { viewDescriptor } from './views';
import { DETAIL_FRAMES_PER_CELL, MIX_STRIDE, OWNER_TAG } from '../shared/mapCodes';

export { MIX_CHANNELS, MIX_STRIDE, OWNER_TAG, DETAIL_FRAMES_PER_CELL } from '../shared/mapCodes';
const METADATA = 0, MEMMAP = 1, FREE = 2, ALLOCATED = 3, NEVER = 4, STALE = 5;

export interface MapWindow {
  firstPfn: number;
  framesPerCell: number;
  cells: number;
}

export interface MapCells extends MapWindow {
  /** True when drawn from descriptors; false when from the section table alone. */
  detailed: boolean;
  /** MIX_STRIDE bytes per cell: the share (0 to 255) of the cell's frames in each channel. */
  mix: Uint8Array;
  tag: Uint16Array;
  owners: string[];
  /** Block heads in the window, when detailed and one frame per cell: pfn, order (for outlines). */
  blocks: number[];
}

export function mapCells(img: PmemImage, window: MapWindow): MapCells {
  const g = img.geometry;
  const L = img.layout;
  const { framesPerCell: fpc } = window;
  if (!Number.isSafeInteger(fpc) || fpc < 1 || !Number.isSafeInteger(window.firstPfn) || window.firstPfn < 0 || !Number.isSafeInteger(window.cells) || window.cells < 0 || window.cells > 1 << 24) {
    throw new RangeError(`bad map window ${JSON.stringify(window)}`);
  }
  const first = window.firstPfn;
  const end = Math.min(g.totalFrames, first + window.cells * fpc);
  const counts = new Float64Array(window.cells * MIX_STRIDE);
  const tag = new Uint16Array(window.cells);
  const owners: string[] = [];
  const ownerIndex = new Map<string, number>();
  const blocks: number[] = [];

  /** Adds `share` of every frame in [a, b) to `channel` of the cells it covers. */
  const add = (channel: number, a: number, b: number, share = 1) => {
    a = Math.max(a, first);
    b = Math.min(b, end);
    if (a >= b) return;
    for (let c = Math.floor((a - first) / fpc); c * fpc + first < b; c++) {
      const lo = Math.max(a, first + c * fpc);
      const hi = Math.min(b, first + (c + 1) * fpc);
      counts[c * MIX_STRIDE + channel] += (hi - lo) * share;
    }
  };
  /** Tags the cells wholly inside [a, b). */
  const tagWhole = (a: number, b: number, value: number) => {
    for (let c = Math.max(0, Math.ceil((a - first) / fpc)); first + (c + 1) * fpc <= Math.min(b, end) && c < window.cells; c++) tag[c] = value;
  };

  // Reserved regions are exact at every zoom: they come from the layout.
  const regions = REGION_NAMES.filter((n): n is Exclude<RegionName, 'data'> => n !== 'data');
  for (const name of regions) add(name === 'memmap' ? MEMMAP : METADATA, L[name].startPfn, L[name].startPfn + L[name].frames);
  const dataStart = L.data.startPfn;
  const dataEnd = L.data.startPfn + L.data.frames;

  const table = readSectionTable(img);
  const detailed = fpc <= DETAIL_FRAMES_PER_CELL;
  const firstSection = sectionOf(g, Math.max(first, dataStart));
  for (let s = firstSection; s * g.sectionFrames < Math.min(end, dataEnd); s++) {
    const a = Math.max(s * g.sectionFrames, dataStart, first);
    const b = Math.min((s + 1) * g.sectionFrames, dataEnd, end);
    if (a >= b) continue;
    const gen = table.getUint32(s * 16, true);
    if (gen === 0) {
      add(NEVER, a, b);
      continue;
    }
    if (gen !== img.bootGeneration) add(STALE, a, b);
    if (!detailed) {
      // The section's data frames split by its summary counts, spread evenly over its cells.
      const data = Math.min((s + 1) * g.sectionFrames, dataEnd) - Math.max(s * g.sectionFrames, dataStart);
      const free = table.getUint32(s * 16 + 4, true);
      const allocated = table.getUint32(s * 16 + 8, true);
      add(FREE, a, b, free / data);
      add(ALLOCATED, a, b, allocated / data);
      add(NEVER, a, b, Math.max(0, data - free - allocated) / data);
      continue;
    }
    // Walk block heads: one descriptor read per block, skipping each block's frames.
    const desc = (pfn: number) => decodeDescriptor(viewDescriptor(img, pfn, table).bytes);
    let pfn = a;
    while (pfn < b) {
      const d = desc(pfn);
      const head = d.flags & (PG_BUDDY | PG_ALLOCATED) ? d : coveringHead(desc, g.maxOrder, pfn);
      if (!head) {
        add(NEVER, pfn, pfn + 1); // no block covers it: not (yet) in the allocator
        pfn++;
        continue;
      }
      const size = 2 ** head.order;
      const free = (head.flags & PG_BUDDY) !== 0;
      add(free ? FREE : ALLOCATED, pfn, Math.min(b, head.pfn + size));
      let value = 1 + head.order;
      if (!free) {
        let i = ownerIndex.get(head.owner);
        if (i === undefined) ownerIndex.set(head.owner, (i = owners.push(head.owner) - 1));
        value = OWNER_TAG + i;
      }
      tagWhole(head.pfn, head.pfn + size, value);
      if (fpc === 1 && head.pfn >= pfn) blocks.push(head.pfn, head.order);
      pfn = head.pfn + size;
    }
  }

  const mix = new Uint8Array(counts.length);
  for (let c = 0; c < window.cells; c++) {
    const frames = Math.max(0, Math.min(fpc, end - (first + c * fpc)));
    if (!frames) continue;
    for (let k = 0; k < MIX_STRIDE; k++) mix[c * MIX_STRIDE + k] = Math.round((counts[c * MIX_STRIDE + k] / frames) * 255);
  }
  return { ...window, detailed, mix, tag, owners, blocks };
}
