/**
 * The section table: one 16-byte entry per lazy-init section. A section's
 * state is derived, not stored: initGeneration 0 means never initialised,
 * equal to the boot generation means initialised in this boot, anything lower
 * means stale. So a boot marks every section stale by bumping one counter.
 */
import { dataView, type LEView, view } from '../core/bytes';
import { PAGE_SIZE } from './constants';
import { Layout, SECTION_ENTRY_SIZE } from './layout';

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

/** Byte offset of section s's entry in the image. */
export function sectionEntryOffset(layout: Pick<Layout, 'sectionTable'>, s: number): number {
  return layout.sectionTable.startPfn * PAGE_SIZE + s * SECTION_ENTRY_SIZE;
}

/** Entry s of a section table read whole into `dv` (entry 0 at byte 0): for loops over many sections, no copy. */
export function sectionEntryAt(dv: LEView, s: number): SectionEntry {
  const at = s * SECTION_ENTRY_SIZE;
  return {
    initGeneration: dv.getUint32(at + SECTION.initGeneration, true),
    freeFrames: dv.getUint32(at + SECTION.freeFrames, true),
    allocatedFrames: dv.getUint32(at + SECTION.allocatedFrames, true),
    reservedFrames: dv.getUint32(at + SECTION.reservedFrames, true),
  };
}

/** One field of entry s (an offset from SECTION), without building the entry: measurably faster in loops over every section. */
export function readSectionField(dv: LEView, s: number, field: (typeof SECTION)[keyof typeof SECTION]): number {
  return dv.getUint32(s * SECTION_ENTRY_SIZE + field, true);
}

/** The initGeneration of entry s: all that most per-section loops need. */
export function readSectionGeneration(dv: LEView, s: number): number {
  return readSectionField(dv, s, SECTION.initGeneration);
}

/** Entry `s` of a table read whole: the checker's name for sectionEntryAt. */
export const readSectionEntry = sectionEntryAt;

/** Section `s`'s initGeneration alone, from a table read whole (0 = never initialised). */
export function sectionInitGeneration(table: LEView, s: number): number {
  return readSectionGeneration(table, s);
}

/** What the section table says in sum: frames by state, sections by state. */
export interface SectionTotals {
  free: number;
  allocated: number;
  reserved: number;
  /** Sections by state; `reservedOnly` are sections of metadata alone, counted in no other. */
  untouched: number;
  initialized: number;
  stale: number;
  reservedOnly: number;
}

/**
 * Sums a whole section table read as bytes in one pass over its words (a
 * TiB image has half a million entries: the per-field reader would take a
 * good part of a second).
 */
export function sectionTotals(table: Uint8Array, count: number, sectionFrames: number, bootGeneration: number): SectionTotals {
  const t: SectionTotals = { free: 0, allocated: 0, reserved: 0, untouched: 0, initialized: 0, stale: 0, reservedOnly: 0 };
  const aligned = table.byteOffset % 4 === 0 && LITTLE_ENDIAN;
  const dv = dataView(table);
  const w = aligned ? new Uint32Array(table.buffer, table.byteOffset, count * (SECTION_ENTRY_SIZE / 4)) : undefined;
  const stride = SECTION_ENTRY_SIZE / 4;
  const [gi, fi, ai, ri] = [SECTION.initGeneration / 4, SECTION.freeFrames / 4, SECTION.allocatedFrames / 4, SECTION.reservedFrames / 4];
  for (let s = 0; s < count; s++) {
    const b = s * stride;
    const gen = w ? w[b + gi] : dv.getUint32((b + gi) * 4, true);
    const reserved = w ? w[b + ri] : dv.getUint32((b + ri) * 4, true);
    t.free += w ? w[b + fi] : dv.getUint32((b + fi) * 4, true);
    t.allocated += w ? w[b + ai] : dv.getUint32((b + ai) * 4, true);
    t.reserved += reserved;
    if (reserved === sectionFrames) t.reservedOnly++;
    else if (gen === 0) t.untouched++;
    else if (gen === bootGeneration) t.initialized++;
    else t.stale++;
  }
  return t;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
