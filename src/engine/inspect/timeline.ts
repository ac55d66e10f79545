/**
 * Stepping through history: the state after step N is the current image with
 * the undo entries of every later record applied, newest first, on a
 * copy-on-write overlay. The file is never written.
 */
import { ImageError, UsageError } from '../core/errors';
import { PAGE_SIZE } from '../format/constants';
import { HistoryRecord, RingScan, SCAN_UNDO } from '../format/history';
import { PmemImage } from '../image/imageCore';
import { UndoTarget } from '../format/undoCodec';
import { PatchStore } from '../store/patchStore';

export interface StepRange {
  /** Earliest step that can be shown (older records were dropped or lack undo data). */
  first: number;
  last: number;
}

export function stepRange(records: ReadonlyArray<{ seq: number; undoAvailable: boolean }>): StepRange {
  if (records.length === 0) return { first: 0, last: 0 };
  let first = records[0].seq;
  for (const r of records) if (!r.undoAvailable) first = Math.max(first, r.seq);
  return { first, last: records[records.length - 1].seq };
}

/** The steps of an image that can be shown, from a scan of its history ring: no record is decoded. */
export function historyStepRange(img: PmemImage): StepRange {
  return scanStepRange(img.history.scan(img.store, false));
}

/** As stepRange, from a scan of the ring (no record decoded). */
export function scanStepRange(scan: RingScan): StepRange {
  if (scan.count === 0) return { first: 0, last: 0 };
  const firstSeq = scan.header.firstSeq;
  let first = firstSeq;
  for (let i = 0; i < scan.count; i++) if (!(scan.bits[i] & SCAN_UNDO)) first = firstSeq + i;
  return { first, last: firstSeq + scan.count - 1 };
}

/** Why an undo entry cannot be applied (outside the image, or over the history itself), or undefined. */
export function misplacedSpan(img: PmemImage, offset: number, length: number): string | undefined {
  const history = img.layout.history;
  const [hStart, hEnd] = [history.startPfn * PAGE_SIZE, (history.startPfn + history.frames) * PAGE_SIZE];
  const end = offset + length;
  if (end > img.store.size) return `undo range at byte ${offset} (${length} bytes) runs past the end of the image`;
  if (offset < hEnd && end > hStart) return `undo range at byte ${offset} (${length} bytes) covers the history region`;
  return undefined;
}

/** Why a record's undo entries cannot be applied, or undefined. */
export function misplacedUndo(img: PmemImage, record: HistoryRecord): string | undefined {
  for (const u of record.undo) {
    const bad = misplacedSpan(img, u.offset, u.length);
    if (bad) return bad;
  }
  return undefined;
}

/** A read-only image showing the state right after history step `step`. */
export function stateAt(img: PmemImage, step: number): PmemImage {
  const ring = img.history;
  // Checksums are checked as records are decoded: a record a checkpoint stands for is not read at all.
  const scan = ring.scan(img.store, false);
  const range = scanStepRange(scan);
  if (!Number.isInteger(step) || step < range.first || step > range.last) {
    throw new UsageError(`step ${step} is not available: steps ${range.first} to ${range.last} can be shown`);
  }
  const patch = new PatchStore(img.store);
  const target = new UndoTarget(patch, true);
  ring.undoAfter(scan, step, target, undoSpanCheck(img, scan));
  target.finish();
  return PmemImage.open(patch, { readOnly: true, file: img.file });
}

/** Refuses an undo entry outside the image or over the history itself, naming the step it belongs to. */
export function undoSpanCheck(img: PmemImage, scan: RingScan): (offset: number, length: number, at: number) => void {
  const ring = img.history;
  const history = img.layout.history;
  const [hStart, hEnd, size] = [history.startPfn * PAGE_SIZE, (history.startPfn + history.frames) * PAGE_SIZE, img.store.size];
  // Which record an entry at image byte `at` belongs to (only for a message).
  const stepAt = (at: number) => {
    const pos = at - ring.ringStart;
    for (let i = scan.count - 1; i >= 0; i--) if (pos >= scan.pos[i] && pos < scan.pos[i] + scan.total[i]) return scan.header.firstSeq + i;
    return '?';
  };
  return (offset, length, at) => {
    if (offset + length <= size && (offset >= hEnd || offset + length <= hStart)) return;
    throw new ImageError(`history step ${stepAt(at)}: ${misplacedSpan(img, offset, length)}`, { file: img.file, field: 'historyRecord.undo', offset: at });
  };
}
