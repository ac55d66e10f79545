/**
 * The history steps a view shows, followed change by change: after an edit
 * only the records appended are decoded and only the steps added or dropped
 * are told, instead of the whole ring each time. The feed remembers where
 * each known record lies and a fingerprint of it; when the ring no longer
 * matches what it knows (a revert, a reload), it starts over.
 */
import { HistoryRing, RingScan, SCAN_UNDO } from '../format/history';
import type { PmemImage } from '../image/imageCore';
import type { Step, StepsUpdate } from './steps';

export { applyStepsUpdate } from './steps';
export type { Step, StepsUpdate } from './steps';

/** FNV-1a of a record's first bytes: enough to tell another record now lies where a known one was. */
function fingerprint(bytes: Uint8Array, at: number, n: number): number {
  let h = 0x811c9dc5;
  for (let i = at; i < at + n; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}
const PRINT_BYTES = 48;

export class HistoryFeed {
  /** Known records, oldest first: record i is step firstSeq + i. */
  private firstSeq = 0;
  private pos: number[] = [];
  private total: number[] = [];
  private prints: number[] = [];
  private undo: boolean[] = [];
  /** The steps the view was last told of. */
  private sent?: { first: number; last: number };

  /** Forgets everything: the next update resets the view's list (call when the view starts afresh). */
  reset(): void {
    this.sent = undefined;
    this.pos = [];
    this.total = [];
    this.prints = [];
    this.undo = [];
  }

  /** What changed in the history of `img` since the last update. */
  update(img: PmemImage): StepsUpdate {
    const ring = img.history;
    const io = img.store;
    const h = ring.readHeader(io);
    const lastSeq = h.nextSeq - 1;
    const knownEnd = this.firstSeq + this.pos.length; // one past the last known step
    // The newest step known and still kept, checked against the ring.
    let common = Math.min(knownEnd - 1, lastSeq);
    let fresh = !this.sent || common < Math.max(this.firstSeq, h.firstSeq) || !this.matches(ring, io, common);
    if (!fresh) {
      this.lists.forEach((list) => (list.length = common - this.firstSeq + 1)); // steps undone at the end
      if (h.firstSeq > this.firstSeq) this.lists.forEach((list) => list.splice(0, h.firstSeq - this.firstSeq)); // dropped by the ring
      else if (h.firstSeq < this.firstSeq) fresh = !this.prepend(ring, io, h.firstSeq, h.head); // put back by an undo
      this.firstSeq = h.firstSeq;
    }
    if (fresh) {
      this.lists.forEach((list) => (list.length = 0));
      this.firstSeq = h.firstSeq;
      common = h.firstSeq - 1;
    }
    // Records appended since: scanned and fingerprinted from just after the newest common one.
    if (lastSeq > common) {
      const i = common - this.firstSeq;
      this.record(ring.scanFrom(io, common + 1, fresh ? h.head : this.pos[i] + this.total[i], lastSeq - common, false));
    }
    // The earliest step shown: the newest one without undo data, or the oldest kept.
    let first = this.pos.length ? this.firstSeq : 0;
    for (let k = this.undo.length - 1; k >= 0; k--) {
      if (!this.undo[k]) {
        first = this.firstSeq + k;
        break;
      }
    }
    const last = this.pos.length ? lastSeq : 0;
    // What the view lacks: everything after a reset, else the steps before those it has and after the common one.
    const has = fresh ? { first: last + 1, last: last } : { first: this.sent!.first, last: common };
    const added = [...this.texts(ring, io, first, Math.min(last, has.first - 1)), ...this.texts(ring, io, Math.max(first, has.last + 1), last)];
    this.sent = { first, last };
    return { reset: fresh, first, last, added };
  }

  private get lists(): unknown[][] {
    return [this.pos, this.total, this.prints, this.undo];
  }

  private record(scan: RingScan): void {
    for (let k = 0; k < scan.count; k++) {
      this.pos.push(scan.pos[k]);
      this.total.push(scan.total[k]);
      this.prints.push(fingerprint(scan.bytes, scan.pos[k] - scan.base, Math.min(PRINT_BYTES, scan.total[k])));
      this.undo.push((scan.bits[k] & SCAN_UNDO) !== 0);
    }
  }

  /** Records from step `seq` at ring offset `head` up to the oldest known one; false when they do not lead to it. */
  private prepend(ring: HistoryRing, io: PmemImage['store'], seq: number, head: number): boolean {
    const scan = ring.scanFrom(io, seq, head, this.firstSeq - seq, false);
    const last = scan.count - 1;
    let next = scan.pos[last] + scan.total[last];
    if (next >= ring.ringBytes || ring.ringBytes - next < 4 || (this.pos[0] === 0 && next !== 0)) next = 0; // a record that does not fit starts the ring again
    if (this.pos.length && next !== this.pos[0]) return false;
    const known = this.lists.map((list) => list.splice(0));
    this.record(scan);
    this.lists.forEach((list, i) => list.push(...known[i]));
    return true;
  }

  /** The texts of steps `from` to `to` (none when to < from), decoded from one scan. */
  private texts(ring: HistoryRing, io: PmemImage['store'], from: number, to: number): Step[] {
    if (to < from || !this.pos.length) return [];
    const scan = ring.scanFrom(io, from, this.pos[from - this.firstSeq], to - from + 1, false);
    const out: Step[] = [];
    for (let seq = from; seq <= to; seq++) out.push({ seq, text: ring.decode(scan, seq - from).summary.text });
    return out;
  }

  private matches(ring: HistoryRing, io: PmemImage['store'], seq: number): boolean {
    const i = seq - this.firstSeq;
    const n = Math.min(PRINT_BYTES, this.total[i]);
    if (this.pos[i] + n > ring.ringBytes) return false;
    return fingerprint(io.read(ring.ringStart + this.pos[i], n), 0, n) === this.prints[i];
  }
}
