/**
 * What one transaction changed, in the terms a view needs: which frames'
 * descriptors or link records, which section-table entries, whether the
 * free-list heads moved. Derived from the byte ranges the commit wrote, so a
 * caller can refresh only what changed instead of rereading the image.
 */
import { DESCRIPTOR_SIZE, MAX_ORDER_LIMIT, PAGE_SIZE } from '../format/constants';
import { DESC, PG_ALLOCATED, PG_BUDDY } from '../format/descriptor';
import { FREE_LINK_SIZE } from '../format/freeLink';
import { Layout, SECTION_ENTRY_SIZE } from '../format/layout';
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

const within = (offset: number, start: number, bytes: number) => offset >= start && offset < start + bytes;

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

/**
 * Collects the change set of `ranges` (device writes, new bytes), `before`
 * (the bytes they replaced, when known) and `ramSections` (descriptors rebuilt in RAM).
 */
export function changeSetOf(layout: Layout, sectionFrames: number, ranges: Iterable<ByteRange>, ramSections: Iterable<number> = [], before: Iterable<ByteRange> = []): ChangeSet {
  const runs: Array<[number, number]> = [];
  const rebuilt = [...ramSections];
  const sections = new Set<number>(rebuilt);
  let freeLists = false;
  const { memmapAt, memmapBytes, tableAt, areaAt, dataAt, dataEnd } = byteBounds(layout);
  for (const r of ranges) {
    const end = r.offset + r.data.length;
    if (within(r.offset, memmapAt, memmapBytes)) {
      blocksOf(r, memmapAt, runs);
    } else if (within(r.offset, tableAt, layout.sectionTable.frames * PAGE_SIZE)) {
      for (let s = Math.floor((r.offset - tableAt) / SECTION_ENTRY_SIZE); s * SECTION_ENTRY_SIZE + tableAt < end; s++) sections.add(s);
    } else if (within(r.offset, areaAt, layout.freeArea.frames * PAGE_SIZE)) {
      freeLists = true;
    } else if (r.offset >= dataAt && r.offset < dataEnd && r.offset % PAGE_SIZE < FREE_LINK_SIZE) {
      // A free-link record lives at the start of its block's first frame.
      runs.push([Math.floor(r.offset / PAGE_SIZE), Math.floor((end - 1) / PAGE_SIZE) + 1]);
    }
  }
  // The bytes replaced: their frames changed too (the same ranges), and an old head's block may reach further.
  for (const r of before) if (within(r.offset, memmapAt, memmapBytes)) blocksOf(r, memmapAt, runs);
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
export function coarseChangeSetOf(layout: Layout, maxOrder: number, writes: Iterable<{ offset: number; length: number }>, ramSections: Iterable<number> = [], sectionFrames = 1): ChangeSet {
  const runs: Array<[number, number]> = [];
  const rebuilt = [...ramSections];
  const sections = new Set<number>(rebuilt);
  let freeLists = false;
  const { memmapAt, memmapBytes, tableAt, areaAt, dataAt, dataEnd } = byteBounds(layout);
  const block = 2 ** maxOrder;
  const widened = (a: number, b: number): [number, number] => [Math.floor(a / block) * block, Math.ceil(b / block) * block];
  for (const w of writes) {
    const end = w.offset + w.length;
    if (within(w.offset, memmapAt, memmapBytes)) {
      runs.push(widened(Math.floor((w.offset - memmapAt) / DESCRIPTOR_SIZE), Math.ceil((end - memmapAt) / DESCRIPTOR_SIZE)));
    } else if (within(w.offset, tableAt, layout.sectionTable.frames * PAGE_SIZE)) {
      for (let s = Math.floor((w.offset - tableAt) / SECTION_ENTRY_SIZE); s * SECTION_ENTRY_SIZE + tableAt < end; s++) sections.add(s);
    } else if (within(w.offset, areaAt, layout.freeArea.frames * PAGE_SIZE)) {
      freeLists = true;
    } else if (w.offset < dataEnd && end > dataAt) {
      runs.push(widened(Math.floor(Math.max(w.offset, dataAt) / PAGE_SIZE), Math.ceil(Math.min(end, dataEnd) / PAGE_SIZE)));
    }
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
