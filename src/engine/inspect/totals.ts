/**
 * Frame and section counts of a whole image (what info reports), and the
 * share of one section entry in them, so kept counts can follow an edit.
 */
import { SECTION_ENTRY_SIZE } from '../format/layout';
import { SectionEntry, sectionEntryOffset, sectionTotals } from '../format/sectionTable';
import type { PmemImage } from '../image/imageCore';

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

/** The totals of every section: one pass over the section table's words (see ImageSession.totals for the kept ones). */
export function imageTotals(img: PmemImage): ImageTotals {
  const g = img.geometry;
  const table = img.store.read(sectionEntryOffset(img.layout, 0), g.sectionCount * SECTION_ENTRY_SIZE);
  const t = sectionTotals(table, g.sectionCount, g.sectionFrames, img.bootGeneration);
  return {
    frames: { free: t.free, allocated: t.allocated, reserved: t.reserved, uninitialized: g.totalFrames - t.free - t.allocated - t.reserved },
    sections: { untouched: t.untouched, initialized: t.initialized, stale: t.stale, reservedOnly: t.reservedOnly },
  };
}
