/**
 * What each persistence point of an operation writes, in words: the journal
 * intent (header and payload), the commit record, each home write (a
 * descriptor range, a section entry, a free-list head, a link record, the
 * history, a superblock copy), the clear. The writes come from a dry run
 * (see PointLog); each store write is one persistence point, as CrashingStore
 * counts them.
 */
import { readString, view } from '../core/bytes';
import { DESCRIPTOR_SIZE, PAGE_SIZE, ZONE_NAMES } from '../format/constants';
import { FREE_LINK_MAGIC, FREE_LINK_SIZE } from '../format/freeLink';
import { JH, JOURNAL_COMMITTED, JOURNAL_EMPTY, JOURNAL_HEADER_SIZE, JOURNAL_INTENT, JOURNAL_STATE_WORD } from '../format/journal';
import { intentOffset } from '../format/intent';
import { FREE_AREA_ENTRY_SIZE, SECTION_ENTRY_SIZE } from '../format/layout';
import type { PmemImage } from '../image/imageCore';
import type { Store } from '../store/store';
import { StoreWrapper } from '../store/storeWrapper';

export interface PointWrite {
  offset: number;
  bytes: Uint8Array;
}

/** Passes every write through and keeps a copy of it: one entry per persistence point. */
export class PointLog extends StoreWrapper {
  readonly writes: PointWrite[] = [];

  constructor(base: Store) {
    super(base);
  }

  override write(offset: number, data: Uint8Array): void {
    this.writes.push({ offset, bytes: data.slice() });
    this.base.write(offset, data);
  }
}

const range = (a: number, b: number, what: string) => (a === b ? `${what} ${a}` : `${what}s ${a}–${b}`);

/** One write in words, by where it lands in the image. */
export function describePoint(img: PmemImage, w: PointWrite): string {
  const L = img.layout;
  const g = img.geometry;
  const { offset } = w;
  const len = w.bytes.length;
  const startOf = (r: { startPfn: number }) => r.startPfn * PAGE_SIZE;
  const within = (r: { startPfn: number; frames: number }) => offset >= startOf(r) && offset < startOf(r) + r.frames * PAGE_SIZE;
  if (within(L.journal)) {
    const j = startOf(L.journal);
    if (offset === j + JOURNAL_STATE_WORD && len === 8) {
      const state = view(w.bytes).getUint32(0, true);
      if (state === JOURNAL_COMMITTED) return 'commit record: the journal says committed (from here recovery rolls forward)';
      if (state === JOURNAL_EMPTY) return 'clear: the journal says empty (the transaction is done)';
      return `journal state word ${state}`;
    }
    if (offset === j && len >= JOURNAL_HEADER_SIZE) {
      const dv = view(w.bytes);
      const state = dv.getUint32(JH.state, true);
      const description = readString(w.bytes, JH.description, 64);
      if (state === JOURNAL_INTENT) return `journal intent "${description}": header and ${entriesOf(w.bytes)} entries (${len} bytes); recovery would roll it back`;
      if (state === JOURNAL_EMPTY) return 'journal header (empty)';
    }
    return `journal bytes ${offset - j}–${offset - j + len - 1}`;
  }
  if (within(L.superblock)) return 'superblock (primary copy)';
  if (within(L.backupSuperblock)) return 'superblock (backup copy, in the last frame)';
  if (within(L.sectionTable)) {
    const first = Math.floor((offset - startOf(L.sectionTable)) / SECTION_ENTRY_SIZE);
    const last = Math.floor((offset + len - 1 - startOf(L.sectionTable)) / SECTION_ENTRY_SIZE);
    return `section table: ${range(first, last, 'section')}`;
  }
  if (within(L.freeArea)) {
    const first = Math.floor((offset - startOf(L.freeArea)) / FREE_AREA_ENTRY_SIZE);
    const last = Math.floor((offset + len - 1 - startOf(L.freeArea)) / FREE_AREA_ENTRY_SIZE);
    const name = (i: number) => {
      const order = i % (g.maxOrder + 1);
      const list = Math.floor(i / (g.maxOrder + 1));
      return `node ${Math.floor(list / 3)} ${ZONE_NAMES[list % 3]} order ${order}`;
    };
    return first === last ? `free-list head and count: ${name(first)}` : `free-list heads and counts: ${name(first)} to ${name(last)}`;
  }
  if (within(L.history)) {
    if (offset === startOf(L.history)) return 'history: ring header (the new step counted)';
    if (offset === intentOffset(L.history)) return 'history: operation intent (an operation running as several transactions)';
    return 'history: the record that undoes the operation';
  }
  if (within(L.memmap)) {
    const first = Math.floor((offset - startOf(L.memmap)) / DESCRIPTOR_SIZE);
    const last = Math.floor((offset + len - 1 - startOf(L.memmap)) / DESCRIPTOR_SIZE);
    return `descriptors: ${range(first, last, 'pfn')}`;
  }
  const pfn = Math.floor(offset / PAGE_SIZE);
  if (offset % PAGE_SIZE === 0 && len === FREE_LINK_SIZE) {
    return readString(w.bytes, 0, 8) === FREE_LINK_MAGIC ? `free-list link record of block ${pfn} (in its free page)` : `free-list link record of block ${pfn} erased`;
  }
  return `data of pfn ${pfn}`;
}

/** Entries in a journal intent's payload (after the header): u64 offset, u32 length, u32 0, bytes padded to 8. */
function entriesOf(bytes: Uint8Array): number {
  const dv = view(bytes);
  const payloadBytes = dv.getUint32(JH.payloadBytes, true);
  let at = JOURNAL_HEADER_SIZE;
  const end = Math.min(bytes.length, JOURNAL_HEADER_SIZE + payloadBytes);
  let n = 0;
  while (at + 16 <= end) {
    const length = dv.getUint32(at + 8, true);
    at += 16 + Math.ceil(length / 8) * 8;
    n++;
  }
  return n;
}

/** Each point's words with its phase: before the transaction (initialisation in place), the journal steps, home writes. */
export function describePoints(img: PmemImage, writes: PointWrite[]): string[] {
  const words = writes.map((w) => describePoint(img, w));
  const intent = words.findIndex((w) => w.startsWith('journal intent'));
  let committed = false;
  return words.map((w, i) => {
    if (w.startsWith('journal intent')) committed = false;
    if (w.startsWith('commit record')) {
      committed = true;
      return w;
    }
    if (w.startsWith('clear')) {
      committed = false;
      return w;
    }
    if (intent < 0 || i < intent) return `before the transaction, in place: ${w}`;
    return committed ? `home write: ${w}` : w;
  });
}
