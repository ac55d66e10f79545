/**
 * Classifies every page of a namespace from its struct page, cell by cell,
 * in time slices: a 1 GiB namespace has 16 MiB of struct pages and a 1 TiB
 * one 16 GiB, so the extension host gives up the thread between reads and
 * hands each finished run of cells to `emit` as it goes.
 */
import { classifyPages, type DecodeContext, type NamespaceMemmap } from '../../engine/format/linux/structPage';
import { runInSlices, type Steps } from '../../engine/core/timeSlice';
import { CLASS_COUNT, countInto } from '../../shared/pageClassCells';
import type { MapSlice, NamespaceMapShape } from '../../shared/namespaceProtocol';

/** Pages classified per step: 1 MiB of struct pages, a few milliseconds of reading. */
const STEP_PAGES = 16384;

export type ReadAt = (offset: number, length: number) => Uint8Array;

function* mapSteps(read: ReadAt, m: NamespaceMemmap, shape: NamespaceMapShape, ctx: DecodeContext, emit: (s: MapSlice) => void): Steps<void> {
  const { pagesPerCell, cells, pages } = shape;
  // A run of whole cells is sent at once; it covers at least one step of pages.
  const cellsPerRun = Math.max(1, Math.floor(STEP_PAGES / pagesPerCell));
  for (let firstCell = 0; firstCell < cells; firstCell += cellsPerRun) {
    const runCells = Math.min(cellsPerRun, cells - firstCell);
    const counts = new Uint32Array(runCells * CLASS_COUNT);
    const from = firstCell * pagesPerCell;
    const to = Math.min(pages, (firstCell + runCells) * pagesPerCell);
    for (let p = from; p < to; p += STEP_PAGES) {
      const n = Math.min(STEP_PAGES, to - p);
      countInto(counts, firstCell, pagesPerCell, p, classifyPages(read, m, p, n, ctx));
      yield;
    }
    emit({ firstCell, classes: CLASS_COUNT, counts, done: to });
  }
}

/** Runs the whole map; resolves false when `stopped()` ended it early (the editor closed, or the map was asked again). */
export async function computePageMap(read: ReadAt, m: NamespaceMemmap, shape: NamespaceMapShape, ctx: DecodeContext, emit: (s: MapSlice) => void, stopped: () => boolean): Promise<boolean> {
  await runInSlices(mapSteps(read, m, shape, ctx, emit), { stopped });
  return !stopped();
}
