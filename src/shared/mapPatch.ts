/**
 * Updating a map window in proportion to a change: which of its cells a
 * change touches (as a few runs of cells to fetch again), and writing the
 * fetched cells into the window in place. Browser-safe: the webview uses it.
 */
import { DETAIL_FRAMES_PER_CELL, MIX_STRIDE, OWNER_TAG } from '../engine/inspect/mapCodes';

export interface CellWindow {
  firstPfn: number;
  framesPerCell: number;
  cells: number;
}

export interface CellData extends CellWindow {
  mix: Uint8Array;
  tag: Uint16Array;
  owners: string[];
  /** Block heads (pfn, order), in pfn order. */
  blocks: number[];
}

/** What changed since the last state, as the host tells the map: pfn runs [first, end) and sections, or everything. */
export interface MapChange {
  all: boolean;
  frames: Array<[number, number]>;
  sections: number[];
}

export interface PatchLimits {
  /** More runs than this, and the whole window is fetched again. */
  maxRuns: number;
  /** Runs this close (in cells) are fetched as one. */
  gap: number;
  /** More than this share of the window, and the whole window is fetched again. */
  maxShare: number;
}

export const PATCH_LIMITS: PatchLimits = { maxRuns: 32, gap: 64, maxShare: 0.25 };

/**
 * The runs [from, to) of cells of `w` that `change` touches, in order; []
 * when none does; undefined when fetching the whole window is simpler.
 * Cells drawn from the section table (zoomed out) change with their
 * sections' entries; cells drawn from descriptors with their frames.
 */
export function changedCellRuns(w: CellWindow, change: MapChange, sectionFrames: number, limits: PatchLimits = PATCH_LIMITS): Array<[number, number]> | undefined {
  if (change.all) return undefined;
  const fpc = w.framesPerCell;
  const start = w.firstPfn;
  const end = start + w.cells * fpc;
  const runs: Array<[number, number]> = [];
  const add = (a: number, b: number) => {
    if (b <= start || a >= end) return;
    runs.push([Math.floor((Math.max(a, start) - start) / fpc), Math.ceil((Math.min(b, end) - start) / fpc)]);
  };
  for (const [a, b] of change.frames) add(a, b);
  if (fpc > DETAIL_FRAMES_PER_CELL) for (const s of change.sections) add(s * sectionFrames, (s + 1) * sectionFrames);
  if (!runs.length) return [];
  runs.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const r of runs) {
    const last = merged[merged.length - 1];
    if (last && r[0] - last[1] <= limits.gap) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  const cells = merged.reduce((n, [a, b]) => n + b - a, 0);
  if (merged.length > limits.maxRuns || cells > w.cells * limits.maxShare) return undefined;
  return merged;
}

/** The window of cells [from, to) of `w`, to ask the host for. */
export function subWindow(w: CellWindow, [from, to]: [number, number]): CellWindow {
  return { firstPfn: w.firstPfn + from * w.framesPerCell, framesPerCell: w.framesPerCell, cells: to - from };
}

/** First index (even) of the block list whose head is at or after `pfn`. */
function blockIndex(blocks: number[], pfn: number): number {
  let lo = 0;
  let hi = blocks.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (blocks[mid * 2] < pfn) lo = mid + 1;
    else hi = mid;
  }
  return lo * 2;
}

/**
 * Writes `patch` (cells of the same grid, inside `into`) into `into` in
 * place: mixes, tags (owners renumbered into `into`'s list) and the block
 * heads of its frames. Returns the indices (in `into`) of the cells that
 * differ now; undefined when the patch does not fit `into`.
 */
export function patchCells(into: CellData, patch: CellData): number[] | undefined {
  const fpc = into.framesPerCell;
  const offset = (patch.firstPfn - into.firstPfn) / fpc;
  if (patch.framesPerCell !== fpc || !Number.isInteger(offset) || offset < 0 || offset + patch.cells > into.cells) return undefined;
  const ownerIndex = new Map(into.owners.map((o, i) => [o, i]));
  const owner = (o: string) => {
    let i = ownerIndex.get(o);
    if (i === undefined) ownerIndex.set(o, (i = into.owners.push(o) - 1));
    return i;
  };
  const renumbered = patch.owners.map(owner);
  const changed: number[] = [];
  for (let c = 0; c < patch.cells; c++) {
    const at = offset + c;
    const t = patch.tag[c];
    const tag = t >= OWNER_TAG ? OWNER_TAG + renumbered[t - OWNER_TAG] : t;
    let differs = into.tag[at] !== tag;
    into.tag[at] = tag;
    for (let k = 0; k < MIX_STRIDE; k++) {
      const v = patch.mix[c * MIX_STRIDE + k];
      if (into.mix[at * MIX_STRIDE + k] !== v) {
        differs = true;
        into.mix[at * MIX_STRIDE + k] = v;
      }
    }
    if (differs) changed.push(at);
  }
  // The patch's frames hold exactly the heads it lists: those of the window there are replaced.
  const from = blockIndex(into.blocks, patch.firstPfn);
  const to = blockIndex(into.blocks, patch.firstPfn + patch.cells * fpc);
  if (patch.blocks.length < 8192) into.blocks.splice(from, to - from, ...patch.blocks);
  else into.blocks = into.blocks.slice(0, from).concat(patch.blocks, into.blocks.slice(to)); // too many to spread as arguments
  return changed;
}
