/** Finding sections by state from the section table alone (never the memmap), for views that skip or jump. */
import type { PmemImage } from '../image/imageCore';
import { sectionState, SectionState } from '../format/sectionTable';
import { SectionWindow } from './sectionWindow';

export const SECTION_STATES: readonly SectionState[] = ['never', 'initialized', 'stale'];

/** Sections read at a time: 1 MiB of the section table. */
const CHUNK = 65536;

/** Calls `visit` for sections [from, to) in order with each one's state, a chunk of the table at a time, until it returns true. */
function scan(img: PmemImage, from: number, to: number, visit: (s: number, state: SectionState) => boolean | void): number | undefined {
  for (let c = from; c < to; c += CHUNK) {
    const end = Math.min(to, c + CHUNK);
    const table = new SectionWindow(img, c, end - c);
    for (let s = c; s < end; s++) if (visit(s, sectionState(table.generation(s), img.bootGeneration))) return s;
  }
  return undefined;
}

/** Per group of `groupSize` sections, how many are in each state: 3 counts per group, in SECTION_STATES order. */
export function sectionStateCounts(img: PmemImage, groupSize: number): Uint32Array {
  const counts = new Uint32Array(Math.ceil(img.geometry.sectionCount / groupSize) * 3);
  scan(img, 0, img.geometry.sectionCount, (s, state) => {
    counts[Math.floor(s / groupSize) * 3 + SECTION_STATES.indexOf(state)]++;
  });
  return counts;
}

/** The first section after `after` in `state`, going round past the last section; undefined when there is none. */
export function nextSectionIn(img: PmemImage, state: SectionState, after: number): number | undefined {
  const total = img.geometry.sectionCount;
  const start = Math.min(Math.max(after + 1, 0), total);
  return scan(img, start, total, (_, st) => st === state) ?? scan(img, 0, start, (_, st) => st === state);
}
