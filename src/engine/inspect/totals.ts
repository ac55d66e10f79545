/**
 * Frame and section counts of a whole image (what info reports), and the
 * share of one section entry in them, so kept counts can follow an edit.
 */
import { readSectionField, readSectionGeneration, SECTION, SectionEntry } from '../format/sectionTable';
import type { PmemImage } from '../image/imageCore';
import { readSectionTable } from '../image/ops';

/** Frame and section counts of the whole image, as info reports them. */
export interface ImageTotals {
  frames: { free: number; allocated: number; uninitialized: number; reserved: number };
  sections: { untouched: number; initialized: number; stale: number; reservedOnly: number };
}

export function emptyTotals(): ImageTotals {
  return { frames: { free: 0, allocated: 0, uninitialized: 0, reserved: 0 }, sections: { untouched: 0, initialized: 0, stale: 0, reservedOnly: 0 } };
}

/**
 * Adds `sign` (1 or -1) times one section entry's share to `t`; the
 * uninitialised frames are the section's frames left after the others.
 */
export function addSectionToTotals(t: ImageTotals, entry: SectionEntry, bootGeneration: number, sectionFrames: number, sign = 1): void {
  t.frames.free += sign * entry.freeFrames;
  t.frames.allocated += sign * entry.allocatedFrames;
  t.frames.reserved += sign * entry.reservedFrames;
  t.frames.uninitialized += sign * (sectionFrames - entry.freeFrames - entry.allocatedFrames - entry.reservedFrames);
  const c = t.sections;
  if (entry.reservedFrames === sectionFrames) c.reservedOnly += sign;
  else if (entry.initGeneration === 0) c.untouched += sign;
  else if (entry.initGeneration === bootGeneration) c.initialized += sign;
  else c.stale += sign;
}

/** The totals of every section: one pass over the section table (see ImageSession.totals for the kept ones). */
export function imageTotals(img: PmemImage): ImageTotals {
  const g = img.geometry;
  const table = readSectionTable(img);
  const t = emptyTotals();
  const counts = t.sections;
  const frames = t.frames;
  for (let s = 0; s < g.sectionCount; s++) {
    const gen = readSectionGeneration(table, s);
    const free = readSectionField(table, s, SECTION.freeFrames);
    const alloc = readSectionField(table, s, SECTION.allocatedFrames);
    const reserved = readSectionField(table, s, SECTION.reservedFrames);
    frames.free += free;
    frames.allocated += alloc;
    frames.reserved += reserved;
    if (reserved === g.sectionFrames) counts.reservedOnly++;
    else if (gen === 0) counts.untouched++;
    else if (gen === img.bootGeneration) counts.initialized++;
    else counts.stale++;
  }
  frames.uninitialized = g.totalFrames - frames.free - frames.allocated - frames.reserved;
  return t;
}

