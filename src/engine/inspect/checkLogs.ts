/**
 * The checker's part for the journal and the history: what their checksums
 * cannot show (a transaction left unfinished, fields that must be zero,
 * a ring tail that disagrees with the records, boot generations out of step).
 */
import { readU64, view } from '../core/bytes';
import { PAGE_SIZE } from '../format/constants';
import { CR, CR_UNDO_DROPPED, HH, HISTORY_HEADER_SIZE, HISTORY_VERSION, HistoryRecord, HR, RECORD_UNDO_DROPPED, SCAN_COMPACT } from '../format/history';
import { JH, JOURNAL_EMPTY, JOURNAL_HEADER_SIZE, journalCapacity, peekJournal } from '../format/journal';
import type { PmemImage } from '../image/imageCore';
import { ImageError } from '../core/errors';
import { misplacedSpan, misplacedUndo } from './timeline';

export interface LogProblem {
  structure: 'journal' | 'history';
  message: string;
  offset: number;
}

const nonZero = (bytes: Uint8Array, from: number, to: number) => bytes.subarray(from, to).some((b) => b !== 0);

export function checkJournal(img: PmemImage): LogProblem[] {
  const at = img.layout.journal.startPfn * PAGE_SIZE;
  const out: LogProblem[] = [];
  try {
    if (peekJournal(img.store, img.layout.journal).state !== JOURNAL_EMPTY) out.push({ structure: 'journal', offset: at, message: 'journal holds an unfinished transaction' });
  } catch (e) {
    out.push({ structure: 'journal', offset: at, message: (e as Error).message });
    return out;
  }
  const h = img.store.read(at, JOURNAL_HEADER_SIZE);
  const dv = view(h);
  // An empty journal keeps the last transaction's payloadBytes and payloadCrc (clearing rewrites only the state word).
  if (dv.getUint32(JH.payloadBytes, true) > journalCapacity(img.layout.journal)) {
    out.push({ structure: 'journal', offset: at + JH.payloadBytes, message: `journal payload length ${dv.getUint32(JH.payloadBytes, true)} exceeds the journal` });
  }
  if (nonZero(h, JH.payloadCrc + 4, JH.description) || nonZero(h, JH.description + 64, JH.crc)) {
    out.push({ structure: 'journal', offset: at, message: 'journal header reserved bytes are not 0' });
  }
  return out;
}

/** Records decoded between pauses of checkHistorySteps. */
const PAUSE_EVERY = 256;

export function checkHistory(img: PmemImage): LogProblem[] {
  const steps = checkHistorySteps(img);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** As checkHistory, pausing (yielding) every few hundred records, where a caller may give up the thread. */
export function* checkHistorySteps(img: PmemImage): Generator<void, LogProblem[]> {
  const start = img.history.start;
  const out: LogProblem[] = [];
  const records: HistoryRecord[] = [];
  let scan;
  try {
    scan = img.history.scan(img.store);
    for (const r of img.history.recordsOf(scan, true)) {
      records.push(r);
      if (records.length % PAUSE_EVERY === 0) yield;
    }
  } catch (e) {
    return [{ structure: 'history', offset: start, message: (e as Error).message }];
  }
  const h = img.store.read(start, HISTORY_HEADER_SIZE);
  const dv = view(h);
  const version = dv.getUint32(HH.version, true);
  if (version !== 1 && version !== HISTORY_VERSION) out.push({ structure: 'history', offset: start + HH.version, message: `history version ${version} unknown` });
  if (nonZero(h, HH.version + 4, HH.firstSeq) || nonZero(h, HH.ringBytes + 8, HH.crc)) out.push({ structure: 'history', offset: start, message: 'history header reserved bytes are not 0' });

  // The records must end exactly at the tail, as the writer laid them.
  const ringStart = img.history.ringStart;
  for (let i = 0; i < scan.count; i++) {
    if (i % PAUSE_EVERY === 0) yield;
    if (scan.bits[i] & SCAN_COMPACT) {
      // A writer keeps no undo entry in a record it marks as without them (a create, or undo dropped).
      const info = img.history.recordInfo(scan, i);
      if (!info.undoAvailable && info.undoEnd > info.undoAt) out.push({ structure: 'history', offset: ringStart + info.pos, message: `history step ${info.seq} (${info.kind}) is marked as kept without undo entries, but holds ${info.undoEnd - info.undoAt} bytes of them` });
      if (info.checkpointSpan) {
        const spans: Array<[number, number]> = [];
        try {
          img.history.checkCheckpoint(scan, info, (offset, length, at) => {
            const bad = misplacedSpan(img, offset, length);
            if (bad) throw new ImageError(`history step ${info.seq}: checkpoint ${bad}`, { field: 'historyRecord.checkpoint', offset: at });
            spans.push([offset, offset + length]);
          });
          const bad = checkpointMismatch(info.seq, info.checkpointSpan, spans, records);
          if (bad) out.push({ structure: 'history', offset: ringStart + info.pos, message: `history step ${info.seq}: ${bad}` });
        } catch (e) {
          if (!(e instanceof ImageError)) throw e;
          out.push({ structure: 'history', offset: ringStart + info.pos, message: e.message });
        }
      }
      const tag = scan.bytes[info.pos - scan.base + CR.tag];
      if (info.kind === 'create' && tag & CR_UNDO_DROPPED) out.push({ structure: 'history', offset: ringStart + info.pos, message: `history step ${info.seq} is a create, which has no undo to drop, but is marked so` });
      continue;
    }
    const flags = view(img.store.read(ringStart + scan.pos[i] + HR.flags, 4)).getUint32(0, true);
    if (flags & ~RECORD_UNDO_DROPPED) out.push({ structure: 'history', offset: ringStart + scan.pos[i] + HR.flags, message: `history step ${scan.header.firstSeq + i}: unknown flag bits 0x${(flags & ~RECORD_UNDO_DROPPED).toString(16)}` });
  }
  const tail = readU64(dv, HH.tail);
  const end = scan.count ? scan.pos[scan.count - 1] + scan.total[scan.count - 1] : tail;
  if (end !== tail) out.push({ structure: 'history', offset: start + HH.tail, message: `history tail is ${tail} but the records end at ${end}` });

  // Only a boot moves the generation on, by one; the newest record has the image's generation.
  for (let i = 1; i < records.length; i++) {
    const [a, b] = [records[i - 1], records[i]];
    const expected = b.kind === 'boot' ? a.bootGeneration + 1 : a.bootGeneration;
    if (b.bootGeneration !== expected) out.push({ structure: 'history', offset: start, message: `history step ${b.seq} (${b.kind}) has boot generation ${b.bootGeneration}, expected ${expected} after step ${a.seq}` });
    if (b.kind === 'create') out.push({ structure: 'history', offset: start, message: `history step ${b.seq} is a create, which only the first step can be` });
  }
  for (const r of records) {
    if (r.seq % PAUSE_EVERY === 0) yield;
    const bad = misplacedUndo(img, r);
    if (bad) out.push({ structure: 'history', offset: start, message: `history step ${r.seq}: ${bad}` });
  }
  const newest = records[records.length - 1];
  if (newest && newest.bootGeneration !== img.bootGeneration) out.push({ structure: 'history', offset: start, message: `the newest history step ${newest.seq} has boot generation ${newest.bootGeneration}, the image ${img.bootGeneration}` });
  return out;
}

/**
 * What is wrong with a checkpoint of `span` steps ending at step `seq`, or
 * undefined: a writer puts one only on a multiple of its span, over records
 * kept with their undo entries, and it restores no byte they do not.
 */
function checkpointMismatch(seq: number, span: number, spans: Array<[number, number]>, records: HistoryRecord[]): string | undefined {
  if (seq % span !== 0) return `a checkpoint of ${span} steps, which only a step that is a multiple of it carries`;
  const first = records[0]?.seq ?? seq;
  if (seq - span + 1 < first) return undefined; // some of its records were dropped: it is never used
  const covered = records.slice(seq - span + 1 - first, seq - first + 1); // records hold consecutive steps
  if (covered.some((r) => !r.undoAvailable)) return 'a checkpoint over a step whose undo entries were not kept';
  if (covered.some((r) => r.undoByInverse)) return undefined; // what an inverse restores is known only by running it: stepping checks it
  const union = mergeSpans(covered.flatMap((r) => r.undo.map((u): [number, number] => [u.offset, u.offset + u.length])));
  for (const [a, b] of spans) {
    const k = union.findIndex(([x, y]) => a >= x && b <= y);
    if (k < 0) return `a checkpoint restores bytes ${a}..${b}, which none of its ${span} steps restores`;
  }
  return undefined;
}

function mergeSpans(spans: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [a, b] of [...spans].sort((x, y) => x[0] - y[0])) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}
