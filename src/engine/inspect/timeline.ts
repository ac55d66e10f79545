/**
 * Stepping through history: the state after step N is the current image with
 * the undo ranges of every later record applied, newest first, on a
 * copy-on-write overlay. The file is never written.
 */
import { ImageError, UsageError } from '../core/errors';
import { PAGE_SIZE } from '../format/constants';
import type { HistoryRecord } from '../format/history';
import { PmemImage } from '../image/imageCore';
import { OverlayStore } from '../store/overlayStore';

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

/** Why a record's undo ranges cannot be applied (outside the image, or over the history itself), or undefined. */
export function misplacedUndo(img: PmemImage, record: HistoryRecord): string | undefined {
  const history = img.layout.history;
  const [hStart, hEnd] = [history.startPfn * PAGE_SIZE, (history.startPfn + history.frames) * PAGE_SIZE];
  for (const u of record.undo) {
    const end = u.offset + u.data.length;
    if (end > img.store.size) return `undo range at byte ${u.offset} (${u.data.length} bytes) runs past the end of the image`;
    if (u.offset < hEnd && end > hStart) return `undo range at byte ${u.offset} (${u.data.length} bytes) covers the history region`;
  }
  return undefined;
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
    const bad = misplacedUndo(img, records[i]);
    if (bad) throw new ImageError(`history step ${records[i].seq}: ${bad}`, { file: img.file, field: 'historyRecord.undo', offset: img.history.start });
    for (const u of records[i].undo) overlay.write(u.offset, u.data);
  }
  return PmemImage.open(overlay, { readOnly: true, file: img.file });
}
