/**
 * Stepping through history: the state after step N is the current image with
 * the undo ranges of every later record applied, newest first, on a
 * copy-on-write overlay. The file is never written.
 */
import { UsageError } from './errors';
import type { HistoryRecord } from './format/history';
import { PmemImage } from './imageCore';
import { OverlayStore } from './store/overlayStore';

export interface StepRange {
  /** Earliest step that can be shown (older records were dropped or lack undo data). */
  first: number;
  last: number;
}

export function stepRange(records: HistoryRecord[]): StepRange {
  if (records.length === 0) return { first: 0, last: 0 };
  let first = records[0].seq;
  for (const r of records) if (!r.undoAvailable) first = Math.max(first, r.seq);
  return { first, last: records[records.length - 1].seq };
}

/** A read-only image showing the state right after history step `step`. */
export function stateAt(img: PmemImage, step: number): PmemImage {
  const records = img.historyRecords(true);
  const range = stepRange(records);
  if (!Number.isInteger(step) || step < range.first || step > range.last) {
    throw new UsageError(`step ${step} is not available: steps ${range.first} to ${range.last} can be shown`);
  }
  const overlay = new OverlayStore(img.store);
  for (let i = records.length - 1; i >= 0 && records[i].seq > step; i--) {
    for (const u of records[i].undo) overlay.write(u.offset, u.data);
  }
  return PmemImage.open(overlay, { readOnly: true, file: img.file });
}
