/**
 * What an edit changed, from the writes it recorded (new and replaced bytes):
 * the change set a view refreshes from, and how the image's totals moved.
 * Both come from the bytes written alone, so they cost in proportion to the
 * edit, not to the image.
 */
import { SECTION_ENTRY_SIZE } from '../format/layout';
import { decodeSectionEntry, sectionEntryOffset } from '../format/sectionTable';
import { addSectionToTotals, emptyTotals, ImageTotals } from '../inspect/totals';
import type { RecordedWrite } from '../store/recordingStore';
import { changeSetOf, coarseChangeSetOf, ImageChange } from './changeSet';
import type { PmemImage } from './imageCore';

/** Above this many bytes written, an edit's frames are told from where its writes fell, not read back byte by byte. */
export const LARGE_EDIT_BYTES = 1 << 20;

export interface EditChange {
  /** Never `all`: an edit whose change is not known has none. */
  change: ImageChange;
  /** The totals after the edit less those before it (its undo takes them away again). */
  totals: ImageTotals;
  /** The session's version once the edit was made (set by the session). */
  version?: number;
}

/**
 * The change of `writes` (oldest first) on `img` as it is right after them;
 * `ramBefore` and `ramAfter` are the RAM memmap's sections before and after
 * (a section rebuilt in RAM is a new buffer).
 */
export function changeOfWrites(img: PmemImage, writes: readonly RecordedWrite[], ramBefore: ReadonlyMap<number, Uint8Array>, ramAfter: ReadonlyMap<number, Uint8Array>): EditChange {
  const g = img.geometry;
  const ram: number[] = [];
  if (g.memmap === 'ram') {
    for (const [s, buf] of ramAfter) if (ramBefore.get(s) !== buf) ram.push(s);
    for (const s of ramBefore.keys()) if (!ramAfter.has(s)) ram.push(s);
  }
  // Called right after the writes: the store holds what they wrote (the last of overlapping ones), each write what it replaced.
  // A large edit reads the replaced bytes of section entries only: most of its writes replaced zeros, each made anew when asked.
  const large = writes.reduce((n, w) => n + w.length, 0) > LARGE_EDIT_BYTES;
  const set = large
    ? coarseChangeSetOf(img.layout, g, writes, ram)
    : changeSetOf(img.layout, g, writes.map((w) => ({ offset: w.offset, data: img.store.read(w.offset, w.length) })), ram, writes.map((w) => ({ offset: w.offset, data: w.replaced() })));

  // Each touched section entry as it was: today's bytes with the replaced bytes put back, newest write first.
  const tableAt = sectionEntryOffset(img.layout, 0);
  const tableEnd = tableAt + g.sectionCount * SECTION_ENTRY_SIZE;
  const before = new Map<number, Uint8Array>();
  for (let i = writes.length - 1; i >= 0; i--) {
    const w = writes[i];
    const from = Math.max(w.offset, tableAt);
    const to = Math.min(w.offset + w.length, tableEnd);
    if (from >= to) continue;
    const replaced = w.replaced();
    for (let s = Math.floor((from - tableAt) / SECTION_ENTRY_SIZE); tableAt + s * SECTION_ENTRY_SIZE < to; s++) {
      const at = tableAt + s * SECTION_ENTRY_SIZE;
      let entry = before.get(s);
      if (!entry) before.set(s, (entry = img.store.read(at, SECTION_ENTRY_SIZE).slice()));
      const a = Math.max(from, at);
      const b = Math.min(to, at + SECTION_ENTRY_SIZE);
      entry.set(replaced.subarray(a - w.offset, b - w.offset), a - at);
    }
  }
  const totals = emptyTotals();
  for (const [s, old] of before) {
    addSectionToTotals(totals, decodeSectionEntry(old), img.bootGeneration, g.sectionFrames, -1);
    addSectionToTotals(totals, decodeSectionEntry(img.store.read(tableAt + s * SECTION_ENTRY_SIZE, SECTION_ENTRY_SIZE)), img.bootGeneration, g.sectionFrames, 1);
  }
  return { change: { all: false, ...set }, totals };
}

/** Adds `sign` times `delta` to `t`. */
export function addTotals(t: ImageTotals, delta: ImageTotals, sign: 1 | -1): void {
  for (const group of ['frames', 'sections'] as const) {
    const into = t[group] as Record<string, number>;
    const by = delta[group] as Record<string, number>;
    for (const k of Object.keys(by)) into[k] += sign * by[k];
  }
}
