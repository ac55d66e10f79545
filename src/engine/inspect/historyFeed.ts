/**
 * The history steps a view shows, followed change by change: after an edit
 * only the records appended are decoded and only the steps added or dropped
 * are told, instead of the whole ring each time. The feed remembers where
 * each known record lies and a fingerprint of it; when the ring no longer
 * matches what it knows (a revert, a reload), it starts over.
 */
import { HistoryRing, RingScan, SCAN_UNDO } from '../format/history';
import type { PmemImage } from '../image/imageCore';
import { MAX_STEP_TEXTS, Step, StepsUpdate } from './steps';

export { applyStepsUpdate, fillStepTexts, MAX_STEP_TEXTS } from './steps';
export type { Step, StepsUpdate } from './steps';

/** FNV-1a of a record's first bytes: enough to tell another record now lies where a known one was. */
function fingerprint(bytes: Uint8Array, at: number, n: number): number {
  let h = 0x811c9dc5;
  for (let i = at; i < at + n; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}
const PRINT_BYTES = 48;

/**
 * Where each known record lies and its fingerprint, oldest first. Steps
 * dropped at the front only move `start` (a full ring drops one per step);
 * steps put back at the front use the room left there.
 */
class KnownRecords {
  /** The step of the record at index `start`. */
  first = 0;
  private start = 0;
  private pos: number[] = [];
  private total: number[] = [];
  private prints: number[] = [];
  /** The known steps without undo data, ascending (few: the image's creation, steps whose undo was too large). */
  noUndo: number[] = [];

  get count(): number {
    return this.pos.length - this.start;
  }

  /** Ring offset, length and fingerprint of step `seq`. */
  posOf(seq: number): number {
    return this.pos[this.start + seq - this.first];
  }

  endOf(seq: number): number {
    const i = this.start + seq - this.first;
    return this.pos[i] + this.total[i];
  }

  totalOf(seq: number): number {
    return this.total[this.start + seq - this.first];
  }

  printOf(seq: number): number {
    return this.prints[this.start + seq - this.first];
  }

  clear(first: number): void {
    this.first = first;
    this.start = 0;
    this.pos = [];
    this.total = [];
    this.prints = [];
    this.noUndo = [];
  }

  /** Forgets the steps after `last`. */
  truncate(last: number): void {
    const length = this.start + Math.max(0, last - this.first + 1);
    this.pos.length = this.total.length = this.prints.length = length;
    while (this.noUndo.length && this.noUndo[this.noUndo.length - 1] > last) this.noUndo.pop();
  }

  /** Forgets the steps before `seq`. */
  dropBefore(seq: number): void {
    this.start += seq - this.first;
    this.first = seq;
    while (this.noUndo.length && this.noUndo[0] < seq) this.noUndo.shift();
    if (this.start > 4096 && this.start * 2 > this.pos.length) this.reserve(0);
  }

  /** Moves the records to leave `room` free indices before the first. */
  private reserve(room: number): void {
    const move = (list: number[]) => new Array<number>(room).fill(0).concat(list.slice(this.start));
    this.pos = move(this.pos);
    this.total = move(this.total);
    this.prints = move(this.prints);
    this.start = room;
  }

  append(scan: RingScan): void {
    const first = scan.header.firstSeq;
    for (let k = 0; k < scan.count; k++) {
      this.pos.push(scan.pos[k]);
      this.total.push(scan.total[k]);
      this.prints.push(fingerprint(scan.bytes, scan.pos[k] - scan.base, Math.min(PRINT_BYTES, scan.total[k])));
      if (!(scan.bits[k] & SCAN_UNDO)) this.noUndo.push(first + k);
    }
  }

  /** Puts the records of `scan` (the steps just before the first known) in front. */
  prepend(scan: RingScan): void {
    if (this.start < scan.count) this.reserve(scan.count + 1024);
    this.start -= scan.count;
    this.first -= scan.count;
    const missing: number[] = [];
    for (let k = 0; k < scan.count; k++) {
      const i = this.start + k;
      this.pos[i] = scan.pos[k];
      this.total[i] = scan.total[k];
      this.prints[i] = fingerprint(scan.bytes, scan.pos[k] - scan.base, Math.min(PRINT_BYTES, scan.total[k]));
      if (!(scan.bits[k] & SCAN_UNDO)) missing.push(this.first + k);
    }
    this.noUndo = missing.concat(this.noUndo);
  }
}

export class HistoryFeed {
  private readonly known = new KnownRecords();
  /** The steps the view was last told of. */
  private sent?: { first: number; last: number };

  /** Forgets everything: the next update resets the view's list (call when the view starts afresh). */
  reset(): void {
    this.sent = undefined;
    this.known.clear(0);
  }

  /** What changed in the history of `img` since the last update. */
  update(img: PmemImage): StepsUpdate {
    const ring = img.history;
    const io = img.store;
    const known = this.known;
    const h = ring.readHeader(io);
    const lastSeq = h.nextSeq - 1;
    // The newest step known and still kept, checked against the ring.
    let common = Math.min(known.first + known.count - 1, lastSeq);
    let fresh = !this.sent || common < Math.max(known.first, h.firstSeq) || !this.matches(ring, io, common);
    if (!fresh) {
      known.truncate(common); // steps undone at the end
      if (h.firstSeq > known.first) known.dropBefore(h.firstSeq); // dropped by the ring
      else if (h.firstSeq < known.first) fresh = !this.putBack(ring, io, h.firstSeq, h.head); // put back by an undo
    }
    if (fresh) {
      known.clear(h.firstSeq);
      common = h.firstSeq - 1;
    }
    // Records appended since: scanned and fingerprinted from just after the newest common one.
    if (lastSeq > common) known.append(ring.scanFrom(io, common + 1, fresh ? h.head : known.endOf(common), lastSeq - common, false));
    // The earliest step shown: the newest one without undo data, or the oldest kept.
    const last = known.count ? lastSeq : 0;
    const first = known.count ? (known.noUndo[known.noUndo.length - 1] ?? known.first) : 0;
    // What the view lacks: everything after a reset, else the steps before those it has and after the common one.
    const has = fresh ? { first: last + 1, last } : { first: this.sent!.first, last: common };
    // Texts of the newest steps the view lacks (the top of its list), within MAX_STEP_TEXTS; it asks for the others when they come into view.
    const newer = this.texts(ring, io, Math.max(first, has.last + 1, last - MAX_STEP_TEXTS + 1), last);
    const olderTo = Math.min(last, has.first - 1);
    const older = this.texts(ring, io, Math.max(first, olderTo - (MAX_STEP_TEXTS - newer.length) + 1), olderTo);
    const added = [...older, ...newer];
    this.sent = { first, last };
    return { reset: fresh, first, last, added };
  }

  /** Records from step `seq` at ring offset `head` up to the oldest known one; false when they do not lead to it. */
  private putBack(ring: HistoryRing, io: PmemImage['store'], seq: number, head: number): boolean {
    const known = this.known;
    const scan = ring.scanFrom(io, seq, head, known.first - seq, false);
    const last = scan.count - 1;
    let next = scan.pos[last] + scan.total[last];
    const oldest = known.posOf(known.first);
    if (next >= ring.ringBytes || ring.ringBytes - next < 4 || (oldest === 0 && next !== 0)) next = 0; // a record that does not fit starts the ring again
    if (next !== oldest) return false;
    known.prepend(scan);
    return true;
  }

  /**
   * The texts of steps `from` to `to` the view asked for, within the steps
   * it was last told of and at most MAX_STEP_TEXTS of them.
   */
  stepTexts(img: PmemImage, from: number, to: number): Step[] {
    if (!this.sent) return [];
    from = Math.max(from, this.sent.first);
    to = Math.min(to, this.sent.last, from + MAX_STEP_TEXTS - 1);
    return this.texts(img.history, img.store, from, to);
  }

  /** The texts of steps `from` to `to` (none when to < from), decoded from one scan. */
  private texts(ring: HistoryRing, io: PmemImage['store'], from: number, to: number): Step[] {
    if (to < from || !this.known.count) return [];
    const scan = ring.scanFrom(io, from, this.known.posOf(from), to - from + 1, false);
    const out: Step[] = [];
    for (let seq = from; seq <= to; seq++) out.push({ seq, text: ring.decode(scan, seq - from).summary.text });
    return out;
  }

  private matches(ring: HistoryRing, io: PmemImage['store'], seq: number): boolean {
    const n = Math.min(PRINT_BYTES, this.known.totalOf(seq));
    const at = this.known.posOf(seq);
    if (at + n > ring.ringBytes) return false;
    return fingerprint(io.read(ring.ringStart + at, n), 0, n) === this.known.printOf(seq);
  }
}
