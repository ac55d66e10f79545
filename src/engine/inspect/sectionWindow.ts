/**
 * Section-table entries read a window at a time: a view of a few frames or
 * sections reads only their entries, not the whole table (8 MiB on a 16 TiB
 * image), and a walk that strays outside the window reads more on demand.
 */
import { SECTION_ENTRY_SIZE } from '../format/layout';
import { readSectionGeneration, SectionEntry, sectionEntryAt, sectionEntryOffset } from '../format/sectionTable';
import type { PmemImage } from '../image/imageCore';

/** Entries read at once when a lookup falls outside the window. */
const REFILL = 64;

export class SectionWindow {
  private first = 0;
  private count = 0;
  private dv: DataView = new DataView(new ArrayBuffer(0));

  constructor(private readonly img: PmemImage, from = 0, count = 0) {
    if (count > 0) this.load(from, count);
  }

  /** A window over the sections that frames [from, from + frames) lie in. */
  static forFrames(img: PmemImage, from: number, frames: number): SectionWindow {
    const g = img.geometry;
    const first = Math.floor(Math.max(0, from) / g.sectionFrames);
    const last = Math.floor(Math.min(g.totalFrames - 1, Math.max(from, from + frames - 1)) / g.sectionFrames);
    return new SectionWindow(img, first, last - first + 1);
  }

  private load(from: number, count: number): void {
    const total = this.img.geometry.sectionCount;
    this.first = Math.max(0, Math.min(from, total - 1));
    this.count = Math.max(1, Math.min(count, total - this.first));
    const bytes = this.img.store.read(sectionEntryOffset(this.img.layout, this.first), this.count * SECTION_ENTRY_SIZE);
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private index(s: number): number {
    if (s < this.first || s >= this.first + this.count) this.load(s, REFILL);
    return s - this.first;
  }

  generation(s: number): number {
    const i = this.index(s); // may load another window: read this.dv after it
    return readSectionGeneration(this.dv, i);
  }

  entry(s: number): SectionEntry {
    const i = this.index(s);
    return sectionEntryAt(this.dv, i);
  }
}
