/**
 * The section table: one 16-byte entry per lazy-init section. A section's
 * state is derived, not stored: initGeneration 0 means never initialised,
 * equal to the boot generation means initialised in this boot, anything lower
 * means stale. So a boot marks every section stale by bumping one counter.
 */
import { view } from '../core/bytes';
import { SECTION_ENTRY_SIZE } from './layout';

export const SECTION = { initGeneration: 0, freeFrames: 4, allocatedFrames: 8, reservedFrames: 12 } as const;

export type SectionState = 'never' | 'initialized' | 'stale';

export interface SectionEntry {
  initGeneration: number;
  freeFrames: number;
  allocatedFrames: number;
  reservedFrames: number;
}

export function sectionState(initGeneration: number, bootGeneration: number): SectionState {
  if (initGeneration === 0) return 'never';
  return initGeneration === bootGeneration ? 'initialized' : 'stale';
}

export function encodeSectionEntry(e: SectionEntry): Uint8Array {
  const out = new Uint8Array(SECTION_ENTRY_SIZE);
  const dv = view(out);
  dv.setUint32(SECTION.initGeneration, e.initGeneration, true);
  dv.setUint32(SECTION.freeFrames, e.freeFrames, true);
  dv.setUint32(SECTION.allocatedFrames, e.allocatedFrames, true);
  dv.setUint32(SECTION.reservedFrames, e.reservedFrames, true);
  return out;
}

export function decodeSectionEntry(bytes: Uint8Array, at = 0): SectionEntry {
  const dv = view(bytes);
  return {
    initGeneration: dv.getUint32(at + SECTION.initGeneration, true),
    freeFrames: dv.getUint32(at + SECTION.freeFrames, true),
    allocatedFrames: dv.getUint32(at + SECTION.allocatedFrames, true),
    reservedFrames: dv.getUint32(at + SECTION.reservedFrames, true),
  };
}

/** Byte offset of section `s`'s entry from the start of the table. */
export function sectionEntryOffset(s: number): number {
  return s * SECTION_ENTRY_SIZE;
}

/** Entry `s` of a table read whole (no copy, unlike decodeSectionEntry of a slice). */
export function readSectionEntry(table: DataView, s: number): SectionEntry {
  const at = sectionEntryOffset(s);
  return {
    initGeneration: table.getUint32(at + SECTION.initGeneration, true),
    freeFrames: table.getUint32(at + SECTION.freeFrames, true),
    allocatedFrames: table.getUint32(at + SECTION.allocatedFrames, true),
    reservedFrames: table.getUint32(at + SECTION.reservedFrames, true),
  };
}

/** Section `s`'s initGeneration alone, from a table read whole (0 = never initialised). */
export function sectionInitGeneration(table: DataView, s: number): number {
  return table.getUint32(sectionEntryOffset(s) + SECTION.initGeneration, true);
}
