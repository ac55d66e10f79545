/**
 * What one transaction changed, in the terms a view needs: which frames'
 * descriptors or link records, which section-table entries, whether the
 * free-list heads moved. Derived from the byte ranges the commit wrote, so a
 * caller can refresh only what changed instead of rereading the image.
 */
import { DESCRIPTOR_SIZE, MAX_ORDER_LIMIT, PAGE_SIZE } from '../format/constants';
import { DESC, PG_ALLOCATED, PG_BUDDY } from '../format/descriptor';
import { FREE_LINK_SIZE } from '../format/freeLink';
import { Geometry, Layout, SECTION_ENTRY_SIZE } from '../format/layout';
import { ByteRange } from '../format/rangeList';

export interface ChangeSet {
  /**
   * Frames whose descriptor or free-link record changed, or whose block did (a
   * head's change covers its whole block, before and after), as sorted,
   * disjoint [first, end) pfn runs.
   */
  frames: Array<[number, number]>;
  /** Sections whose table entry changed, or whose whole memmap was written (initialisation), sorted. */
  sections: number[];
  /** True when a free-list head or count changed. */
  freeLists: boolean;
}

export function emptyChangeSet(): ChangeSet {
  return { frames: [], sections: [], freeLists: false };
}

/** The part of bytes [from, end) inside the region of `bytes` at `start`, or undefined when they miss it. */
function clip(from: number, end: number, start: number, bytes: number): [number, number] | undefined {
  const a = Math.max(from, start);
  const b = Math.min(end, start + bytes);
  return a < b ? [a, b] : undefined;
}

/** Where the regions a change set looks at lie, in bytes. */
function byteBounds(layout: Layout) {
  return {
    memmapAt: layout.memmap.startPfn * PAGE_SIZE,
    memmapBytes: layout.memmap.frames * PAGE_SIZE,
    tableAt: layout.sectionTable.startPfn * PAGE_SIZE,
    areaAt: layout.freeArea.startPfn * PAGE_SIZE,
    dataAt: layout.data.startPfn * PAGE_SIZE,
    dataEnd: (layout.data.startPfn + layout.data.frames) * PAGE_SIZE,
  };
}

/**
 * Adds the frames of `r` (a memmap range), and the blocks of the block heads
 * among its descriptors where they reach beyond it.
 */
function blocksOf(r: ByteRange, memmapAt: number, runs: Array<[number, number]>): void {
  const first = Math.ceil((r.offset - memmapAt) / DESCRIPTOR_SIZE);
  const span: [number, number] = [Math.floor((r.offset - memmapAt) / DESCRIPTOR_SIZE), Math.ceil((r.offset + r.data.length - memmapAt) / DESCRIPTOR_SIZE)];
  runs.push(span);
  let reach = span[1];
  for (let pfn = first; ; pfn++) {
    const at = memmapAt + pfn * DESCRIPTOR_SIZE - r.offset;
    if (at + DESCRIPTOR_SIZE > r.data.length) break;
    const flags = r.data[at + DESC.flags];
    if (!(flags & (PG_BUDDY | PG_ALLOCATED))) continue;
    const end = pfn + 2 ** Math.min(r.data[at + DESC.order], MAX_ORDER_LIMIT);
    if (end <= reach) continue; // inside what is already added
    runs.push([pfn, end]);
    reach = end;
  }
}

/** The sections whose entries bytes [from, end) of the section table's region cover: none of the padding after the last entry. */
function entriesIn(from: number, end: number, tableAt: number, sectionCount: number, into: Set<number>): void {
  const last = Math.min(sectionCount, Math.ceil((end - tableAt) / SECTION_ENTRY_SIZE));
  for (let s = Math.floor((from - tableAt) / SECTION_ENTRY_SIZE); s < last; s++) into.add(s);
}

/**
 * Collects the change set of `ranges` (device writes, new bytes), `before`
 * (the bytes they replaced, when known) and `ramSections` (descriptors rebuilt in RAM).
 */
export function changeSetOf(layout: Layout, geometry: Pick<Geometry, 'sectionFrames' | 'sectionCount'>, ranges: Iterable<ByteRange>, ramSections: Iterable<number> = [], before: Iterable<ByteRange> = []): ChangeSet {
  const { sectionFrames, sectionCount } = geometry;
  const runs: Array<[number, number]> = [];
  const rebuilt = [...ramSections];
  const sections = new Set<number>(rebuilt);
  let freeLists = false;
  const { memmapAt, memmapBytes, tableAt, areaAt, dataAt, dataEnd } = byteBounds(layout);
  const tableBytes = layout.sectionTable.frames * PAGE_SIZE;
  const areaBytes = layout.freeArea.frames * PAGE_SIZE;
  // A range may cross from one region into the next (the last section entry and the first free-area entry, staged together): each part counts.
  for (const r of ranges) {
    const end = r.offset + r.data.length;
    const memmap = clip(r.offset, end, memmapAt, memmapBytes);
    if (memmap) blocksOf({ offset: memmap[0], data: r.data.subarray(memmap[0] - r.offset, memmap[1] - r.offset) }, memmapAt, runs);
    const table = clip(r.offset, end, tableAt, tableBytes);
    if (table) entriesIn(table[0], table[1], tableAt, sectionCount, sections);
    if (clip(r.offset, end, areaAt, areaBytes)) freeLists = true;
    const data = clip(r.offset, end, dataAt, dataEnd - dataAt);
    if (data) {
      // A free-link record lives at the start of its block's first frame: the frames whose record the range reaches.
      const first = Math.floor(data[0] / PAGE_SIZE) + (data[0] % PAGE_SIZE < FREE_LINK_SIZE ? 0 : 1);
      const last = Math.floor((data[1] - 1) / PAGE_SIZE);
      if (first <= last) runs.push([first, last + 1]);
    }
  }
  // The bytes replaced: their frames changed too (the same ranges), and an old head's block may reach further.
  for (const r of before) {
    const memmap = clip(r.offset, r.offset + r.data.length, memmapAt, memmapBytes);
    if (memmap) blocksOf({ offset: memmap[0], data: r.data.subarray(memmap[0] - r.offset, memmap[1] - r.offset) }, memmapAt, runs);
  }
  // Descriptors in RAM are replaced a section at a time.
  for (const s of rebuilt) runs.push([s * sectionFrames, (s + 1) * sectionFrames]);
  return { frames: mergeRuns(runs), sections: [...sections].sort((a, b) => a - b), freeLists };
}

/**
 * The change set of writes too large to read back (an edit of megabytes):
 * from where they fell alone. Frames are widened to whole blocks of the
 * largest order (blocks are aligned to their size, so every block a write
 * touched lies inside), so it may name more frames than changed, never fewer.
 */
export function coarseChangeSetOf(layout: Layout, geometry: Pick<Geometry, 'maxOrder' | 'sectionFrames' | 'sectionCount'>, writes: Iterable<{ offset: number; length: number }>, ramSections: Iterable<number> = []): ChangeSet {
  const { maxOrder, sectionFrames, sectionCount } = geometry;
  const runs: Array<[number, number]> = [];
  const rebuilt = [...ramSections];
  const sections = new Set<number>(rebuilt);
  let freeLists = false;
  const { memmapAt, memmapBytes, tableAt, areaAt, dataAt, dataEnd } = byteBounds(layout);
  const block = 2 ** maxOrder;
  const widened = (a: number, b: number): [number, number] => [Math.floor(a / block) * block, Math.ceil(b / block) * block];
  const tableBytes = layout.sectionTable.frames * PAGE_SIZE;
  const areaBytes = layout.freeArea.frames * PAGE_SIZE;
  for (const w of writes) {
    const end = w.offset + w.length;
    // Each region a write reaches counts (a recorded piece may run from one region into the next).
    const memmap = clip(w.offset, end, memmapAt, memmapBytes);
    if (memmap) runs.push(widened(Math.floor((memmap[0] - memmapAt) / DESCRIPTOR_SIZE), Math.ceil((memmap[1] - memmapAt) / DESCRIPTOR_SIZE)));
    const table = clip(w.offset, end, tableAt, tableBytes);
    if (table) entriesIn(table[0], table[1], tableAt, sectionCount, sections);
    if (clip(w.offset, end, areaAt, areaBytes)) freeLists = true;
    const data = clip(w.offset, end, dataAt, dataEnd - dataAt);
    if (data) runs.push(widened(Math.floor(data[0] / PAGE_SIZE), Math.ceil(data[1] / PAGE_SIZE)));
  }
  for (const s of rebuilt) runs.push([s * sectionFrames, (s + 1) * sectionFrames]);
  return { frames: mergeRuns(runs), sections: [...sections].sort((a, b) => a - b), freeLists };
}

/** Runs this few are sorted by insertion (an operation's handful): no comparator calls. */
const FEW_RUNS = 16;

function mergeRuns(runs: Array<[number, number]>): Array<[number, number]> {
  if (runs.length > FEW_RUNS) runs.sort((a, b) => a[0] - b[0]);
  else {
    for (let i = 1; i < runs.length; i++) {
      const run = runs[i];
      let k = i;
      for (; k > 0 && runs[k - 1][0] > run[0]; k--) runs[k] = runs[k - 1];
      runs[k] = run;
    }
  }
  const out: Array<[number, number]> = [];
  // Indexed, not destructured: a tuple's destructuring goes through its iterator.
  for (let i = 0; i < runs.length; i++) {
    const a = runs[i][0];
    const b = runs[i][1];
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** The change set of frame runs (in any order, overlapping), sections and free lists known as such (the allocator state's, alloc/buddyState.ts). */
export function changeSetOfRuns(frames: Array<[number, number]>, sections: number[], freeLists: boolean): ChangeSet {
  return { frames: mergeRuns(frames.map((r) => [r[0], r[1]] as [number, number])), sections: [...sections], freeLists };
}

/** Adds `more` to `into` (for an operation made of several transactions). */
export function mergeChangeSets(into: ChangeSet, more: ChangeSet): ChangeSet {
  return {
    frames: mergeRuns([...into.frames.map((r) => [r[0], r[1]] as [number, number]), ...more.frames]),
    sections: [...new Set([...into.sections, ...more.sections])].sort((a, b) => a - b),
    freeLists: into.freeLists || more.freeLists,
  };
}

/**
 * What a change of the image did, for views: a change set, or `all` when it
 * is not known frame by frame (a boot, reboot or crash, a revert, another
 * history step shown), when views reread everything.
 */
export interface ImageChange extends ChangeSet {
  all: boolean;
}

export function everythingChanged(): ImageChange {
  return { all: true, frames: [], sections: [], freeLists: true };
}

export function nothingChanged(): ImageChange {
  return { all: false, ...emptyChangeSet() };
}

/** The sum of changes made one after the other (`all` wins). */
export function combineChanges(a: ImageChange, b: ImageChange): ImageChange {
  if (a.all || b.all) return everythingChanged();
  return { all: false, ...mergeChangeSets(a, b) };
}
