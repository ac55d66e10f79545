/**
 * The page-frame map's data: for a window of cells (each `framesPerCell`
 * frames), how much of each cell is metadata, memmap, free, allocated or
 * never initialised, how much is stale, and, where one block fills a cell,
 * its order or owner. Zoomed out it reads the section table only (never the
 * memmap); zoomed in it walks the block heads of the window and nothing else.
 */
import { coveringHead } from '../alloc/buddy';
import { sectionOf } from '../alloc/sectionInit';
import { DESC, decodeDescriptor, PG_ALLOCATED, PG_BUDDY } from '../format/descriptor';
import { DESCRIPTOR_SIZE } from '../format/constants';
import { REGION_NAMES, RegionName } from '../format/layout';
import type { PmemImage } from '../image/imageCore';
import { descriptorSlice, viewDescriptor } from './views';
import { SectionWindow } from './sectionWindow';
import { DETAIL_FRAMES_PER_CELL, MIX_STRIDE, OWNER_TAG } from './mapCodes';
import { runInSlices, runToEnd, Steps } from '../core/timeSlice';

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

/** Units of work (sections, block heads) between the points where mapCellsSteps may give up the thread. */
const WORK_PER_PAUSE = 1024;

export function mapCells(img: PmemImage, window: MapWindow): MapCells {
  return runToEnd(mapCellsSteps(img, window));
}

/**
 * As mapCells, in slices that give up the thread (a window of a million
 * frames of single blocks walks a million heads), stopping when `stopped()`
 * says so: undefined then.
 */
export function mapCellsAsync(img: PmemImage, window: MapWindow, options: { sliceMs?: number; stopped?: () => boolean } = {}): Promise<MapCells | undefined> {
  return runInSlices(mapCellsSteps(img, window), options);
}

/** The map's cells, pausing (yielding) every WORK_PER_PAUSE sections or block heads. */
export function* mapCellsSteps(img: PmemImage, window: MapWindow): Steps<MapCells> {
  return (yield* tallySteps(img, window)).cells;
}

/**
 * The exact number of frames in each channel (MIX_CHANNELS order) of the
 * `frames` frames from `firstPfn` (one aligned cell), for a tooltip: a cell
 * inside one section walks its block heads (the section's summary says
 * nothing of where in it they are), a cell of whole sections adds their
 * summaries.
 */
export function cellMix(img: PmemImage, firstPfn: number, frames: number): number[] {
  const detailed = frames <= Math.max(DETAIL_FRAMES_PER_CELL, img.geometry.sectionFrames);
  const { cells, counts } = runToEnd(tallySteps(img, { firstPfn, framesPerCell: frames, cells: 1 }, detailed));
  const inCell = Math.max(0, Math.min(frames, img.geometry.totalFrames - firstPfn));
  return Array.from({ length: MIX_STRIDE }, (_, k) => (counts ? Math.round(counts[k]) : (cells.mix[k] / 255) * inCell));
}

/** A share of a cell (0 to 255) that never rounds a minority away: some frames are at least 1, not all are at most 254. */
export function shareOf(count: number, frames: number): number {
  if (count <= 0) return 0;
  if (count >= frames) return 255;
  return Math.min(254, Math.max(1, Math.round((count / frames) * 255)));
}

function* tallySteps(img: PmemImage, window: MapWindow, forceDetailed?: boolean): Steps<{ cells: MapCells; counts?: Float64Array }> {
  const g = img.geometry;
  const L = img.layout;
  const { framesPerCell: fpc } = window;
  if (!Number.isSafeInteger(fpc) || fpc < 1 || !Number.isSafeInteger(window.firstPfn) || window.firstPfn < 0 || !Number.isSafeInteger(window.cells) || window.cells < 0 || window.cells > 1 << 24) {
    throw new RangeError(`bad map window ${JSON.stringify(window)}`);
  }
  const first = window.firstPfn;
  const end = Math.min(g.totalFrames, first + window.cells * fpc);
  const tag = new Uint16Array(window.cells);
  const owners: string[] = [];
  const ownerIndex = new Map<string, number>();
  const blocks: number[] = [];
  // One frame per cell: every share is all or nothing, written straight into the result.
  // Several frames per cell: frame counts per channel, turned into shares at the end.
  const single = fpc === 1;
  const mix = new Uint8Array(window.cells * MIX_STRIDE);
  const counts = single ? undefined : new Float64Array(window.cells * MIX_STRIDE);

  /** Adds `share` of every frame in [a, b) to `channel` of the cells it covers. */
  const add = (channel: number, a: number, b: number, share = 1) => {
    a = Math.max(a, first);
    b = Math.min(b, end);
    if (a >= b) return;
    if (!counts) {
      for (let c = a - first; c < b - first; c++) mix[c * MIX_STRIDE + channel] = 255;
      return;
    }
    for (let c = Math.floor((a - first) / fpc); c * fpc + first < b; c++) {
      const lo = Math.max(a, first + c * fpc);
      const hi = Math.min(b, first + (c + 1) * fpc);
      counts[c * MIX_STRIDE + channel] += (hi - lo) * share;
    }
  };
  /** Tags the cells wholly inside [a, b). */
  const tagWhole = (a: number, b: number, value: number) => {
    const from = Math.max(0, Math.ceil((a - first) / fpc));
    const to = Math.min(window.cells, Math.floor((Math.min(b, end) - first) / fpc));
    if (to > from) tag.fill(value, from, to);
  };
  /** Owner tags are decoded once per distinct 16 bytes; neighbouring blocks mostly share an owner. */
  const rawOwners = new Map<string, number>();
  const last = { w0: -1, w1: -1, w2: -1, w3: -1, index: 0 };
  const ownerTag = (dv: DataView, bytes: Uint8Array, at: number) => {
    const o = at + DESC.owner;
    const w0 = dv.getUint32(o, true), w1 = dv.getUint32(o + 4, true), w2 = dv.getUint32(o + 8, true), w3 = dv.getUint32(o + 12, true);
    if (w0 === last.w0 && w1 === last.w1 && w2 === last.w2 && w3 === last.w3) return OWNER_TAG + last.index;
    const raw = `${w0},${w1},${w2},${w3}`;
    let i = rawOwners.get(raw);
    if (i === undefined) {
      const owner = decodeDescriptor(bytes, at).owner;
      i = ownerIndex.get(owner);
      if (i === undefined) ownerIndex.set(owner, (i = owners.push(owner) - 1));
      rawOwners.set(raw, i);
    }
    Object.assign(last, { w0, w1, w2, w3, index: i });
    return OWNER_TAG + i;
  };

  // Reserved regions are exact at every zoom: they come from the layout.
  const regions = REGION_NAMES.filter((n): n is Exclude<RegionName, 'data'> => n !== 'data');
  for (const name of regions) add(name === 'memmap' ? MEMMAP : METADATA, L[name].startPfn, L[name].startPfn + L[name].frames);
  const dataStart = L.data.startPfn;
  const dataEnd = L.data.startPfn + L.data.frames;

  // Only the window's section entries are read: a patch of a few cells costs a few entries, not the table.
  const table = SectionWindow.forFrames(img, first, Math.max(1, end - first));
  const detailed = forceDetailed ?? fpc <= DETAIL_FRAMES_PER_CELL;
  const firstSection = sectionOf(g, Math.max(first, dataStart));
  let work = 0;
  for (let s = firstSection; s * g.sectionFrames < Math.min(end, dataEnd); s++) {
    if (++work >= WORK_PER_PAUSE) {
      work = 0;
      yield;
    }
    const a = Math.max(s * g.sectionFrames, dataStart, first);
    const b = Math.min((s + 1) * g.sectionFrames, dataEnd, end);
    if (a >= b) continue;
    const gen = table.generation(s);
    if (gen === 0) {
      add(NEVER, a, b);
      continue;
    }
    if (gen !== img.bootGeneration) add(STALE, a, b);
    if (!detailed) {
      // The section's data frames split by its summary counts, spread evenly over its cells.
      const data = Math.min((s + 1) * g.sectionFrames, dataEnd) - Math.max(s * g.sectionFrames, dataStart);
      const { freeFrames: free, allocatedFrames: allocated } = table.entry(s);
      add(FREE, a, b, free / data);
      add(ALLOCATED, a, b, allocated / data);
      add(NEVER, a, b, Math.max(0, data - free - allocated) / data);
      continue;
    }
    // Walk block heads: one 64-byte read per block (a RAM memmap is already in memory), skipping its frames.
    const inRam = g.memmap === 'ram' ? descriptorSlice(img, s, gen, a, b).bytes : undefined;
    const desc = (pfn: number) => decodeDescriptor(viewDescriptor(img, pfn, table).bytes);
    let pfn = a;
    while (pfn < b) {
      if (++work >= WORK_PER_PAUSE) {
        work = 0;
        yield;
      }
      const bytes = inRam ?? img.store.read(img.memmapOffset(pfn), DESCRIPTOR_SIZE);
      const at = inRam ? (pfn - a) * DESCRIPTOR_SIZE : 0;
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const flags = dv.getUint32(at + DESC.flags, true);
      let headPfn = pfn;
      let order: number;
      let free: boolean;
      let value: number;
      if (flags & (PG_BUDDY | PG_ALLOCATED)) {
        order = dv.getUint8(at + DESC.order);
        free = (flags & PG_BUDDY) !== 0;
        value = free ? 1 + order : ownerTag(dv, bytes, at);
      } else {
        const head = coveringHead(desc, g.maxOrder, pfn); // a block that began before this slice
        if (!head) {
          add(NEVER, pfn, pfn + 1); // no block covers it: not (yet) in the allocator
          pfn++;
          continue;
        }
        headPfn = head.pfn;
        order = head.order;
        free = (head.flags & PG_BUDDY) !== 0;
        if (free) value = 1 + order;
        else {
          let i = ownerIndex.get(head.owner);
          if (i === undefined) ownerIndex.set(head.owner, (i = owners.push(head.owner) - 1));
          value = OWNER_TAG + i;
        }
      }
      const size = 2 ** order;
      add(free ? FREE : ALLOCATED, pfn, Math.min(b, headPfn + size));
      tagWhole(headPfn, headPfn + size, value);
      if (single && headPfn >= pfn) blocks.push(headPfn, order);
      pfn = headPfn + size;
    }
  }

  if (!counts) return { cells: { ...window, detailed, mix, tag, owners, blocks } };
  for (let c = 0; c < window.cells; c++) {
    if ((c & 0xffff) === 0xffff) yield;
    const frames = Math.max(0, Math.min(fpc, end - (first + c * fpc)));
    if (!frames) continue;
    for (let k = 0; k < MIX_STRIDE; k++) mix[c * MIX_STRIDE + k] = shareOf(counts[c * MIX_STRIDE + k], frames);
  }
  return { cells: { ...window, detailed, mix, tag, owners, blocks }, counts };
}
