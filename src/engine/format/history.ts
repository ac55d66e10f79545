/**
 * The operation history: a ring of records in its own region. Each record
 * names an operation (a JSON summary) and carries the bytes it overwrote (its
 * undo ranges), so the state at any retained step is rebuilt by undoing later
 * records on a copy-on-write overlay. When the ring is full the oldest
 * records are dropped, and the earliest reachable step moves forward.
 */
import { crc32, readString, readU64, view, writeString, writeU64 } from '../core/bytes';
import { ImageError } from '../core/errors';
import { PAGE_SIZE } from './constants';
import { Region } from './layout';
import { ByteRange, decodeRanges, encodedSize, encodeRanges } from './rangeList';

export const HISTORY_MAGIC = 'PMEMHIST';
export const HISTORY_HEADER_SIZE = 128;
export const HH = { magic: 0, version: 8, firstSeq: 16, nextSeq: 24, head: 32, tail: 40, ringBytes: 48, crc: 124 } as const;
export const RECORD_MAGIC = 0x43455248; // "HREC"
export const WRAP_MAGIC = 0x50525748; // "HWRP": the rest of the ring is unused, continue at 0
export const RECORD_HEADER_SIZE = 40;
export const HR = { magic: 0, totalBytes: 4, seq: 8, kind: 16, bootGeneration: 20, summaryBytes: 24, undoBytes: 28, flags: 32, crc: 36 } as const;
export const RECORD_UNDO_DROPPED = 1 << 0;

export const HISTORY_KINDS = ['create', 'boot', 'alloc', 'free', 'init'] as const;
export type HistoryKind = (typeof HISTORY_KINDS)[number];

export interface HistoryHeader {
  firstSeq: number;
  nextSeq: number;
  head: number;
  tail: number;
  ringBytes: number;
}

export interface HistoryRecord {
  seq: number;
  kind: HistoryKind;
  bootGeneration: number;
  /** Operation details; always has `text`, a one-line description. */
  summary: { text: string; [key: string]: unknown };
  /** False when the undo ranges were too large to keep: steps before this one are unreachable. */
  undoAvailable: boolean;
  undo: ByteRange[];
}

/** The minimal I/O a ring needs: a transaction in the engine, or a plain store. */
export interface ByteIO {
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
}

const pad8 = (n: number) => (n + 7) & ~7;

export function encodeHistoryHeader(h: HistoryHeader): Uint8Array {
  const out = new Uint8Array(HISTORY_HEADER_SIZE);
  const dv = view(out);
  writeString(out, HH.magic, 8, HISTORY_MAGIC);
  dv.setUint32(HH.version, 1, true);
  writeU64(dv, HH.firstSeq, h.firstSeq);
  writeU64(dv, HH.nextSeq, h.nextSeq);
  writeU64(dv, HH.head, h.head);
  writeU64(dv, HH.tail, h.tail);
  writeU64(dv, HH.ringBytes, h.ringBytes);
  dv.setUint32(HH.crc, crc32(out.subarray(0, HH.crc)), true);
  return out;
}

export class HistoryRing {
  readonly start: number;
  readonly ringStart: number;
  readonly ringBytes: number;

  constructor(region: Region, private readonly file?: string) {
    this.start = region.startPfn * PAGE_SIZE;
    this.ringStart = this.start + PAGE_SIZE;
    this.ringBytes = (region.frames - 1) * PAGE_SIZE;
  }

  emptyHeader(): HistoryHeader {
    return { firstSeq: 1, nextSeq: 1, head: 0, tail: 0, ringBytes: this.ringBytes };
  }

  readHeader(io: ByteIO): HistoryHeader {
    const bytes = io.read(this.start, HISTORY_HEADER_SIZE);
    const dv = view(bytes);
    const at = (f: keyof typeof HH) => ({ file: this.file, field: `history.${f}`, offset: this.start + HH[f] });
    if (readString(bytes, HH.magic, 8) !== HISTORY_MAGIC) throw new ImageError('history header has no magic', at('magic'));
    if (dv.getUint32(HH.crc, true) !== crc32(bytes.subarray(0, HH.crc))) throw new ImageError('history header checksum mismatch', at('crc'));
    const h = {
      firstSeq: readU64(dv, HH.firstSeq), nextSeq: readU64(dv, HH.nextSeq),
      head: readU64(dv, HH.head), tail: readU64(dv, HH.tail), ringBytes: readU64(dv, HH.ringBytes),
    };
    if (h.ringBytes !== this.ringBytes) throw new ImageError(`history ring size ${h.ringBytes} disagrees with the layout (${this.ringBytes})`, at('ringBytes'));
    if (!(h.firstSeq >= 1 && h.firstSeq <= h.nextSeq)) throw new ImageError(`history sequence range ${h.firstSeq}..${h.nextSeq} is invalid`, at('firstSeq'));
    if (!Number.isSafeInteger(h.head) || !Number.isSafeInteger(h.tail) || h.head % 8 || h.tail % 8 || h.head >= this.ringBytes || h.tail > this.ringBytes) throw new ImageError(`history ring positions ${h.head}/${h.tail} are invalid`, at('head'));
    return h;
  }

  /** Undo ranges larger than this are dropped (the record stays, marked) so one operation cannot flush the ring. */
  get maxUndoBytes(): number {
    return Math.floor(this.ringBytes / 4);
  }

  /** Appends a record; returns its sequence number. All writes go through `io` (a transaction). */
  append(io: ByteIO, kind: HistoryKind, bootGeneration: number, summary: HistoryRecord['summary'], undo: ByteRange[], dropUndo = false): number {
    const h = this.readHeader(io);
    let summaryBytes = new TextEncoder().encode(JSON.stringify(summary));
    if (summaryBytes.length > 4096) summaryBytes = new TextEncoder().encode(JSON.stringify({ text: summary.text }));
    let undoBytes = encodedSize(undo);
    let flags = 0;
    if (dropUndo || undoBytes > this.maxUndoBytes || kind === 'create') {
      if (kind !== 'create') flags |= RECORD_UNDO_DROPPED;
      undo = [];
      undoBytes = 0;
    }
    const total = RECORD_HEADER_SIZE + pad8(summaryBytes.length) + undoBytes;
    const record = new Uint8Array(total);
    const dv = view(record);
    const seq = h.nextSeq;
    dv.setUint32(HR.magic, RECORD_MAGIC, true);
    dv.setUint32(HR.totalBytes, total, true);
    writeU64(dv, HR.seq, seq);
    dv.setUint32(HR.kind, HISTORY_KINDS.indexOf(kind), true);
    dv.setUint32(HR.bootGeneration, bootGeneration, true);
    dv.setUint32(HR.summaryBytes, summaryBytes.length, true);
    dv.setUint32(HR.undoBytes, undoBytes, true);
    dv.setUint32(HR.flags, flags, true);
    record.set(summaryBytes, RECORD_HEADER_SIZE);
    encodeRanges(undo, record, RECORD_HEADER_SIZE + pad8(summaryBytes.length));
    dv.setUint32(HR.crc, crc32(record), true);

    const empty = () => h.firstSeq === h.nextSeq;
    const wrapped = () => h.head > h.tail || (h.head === h.tail && !empty());
    for (;;) {
      if (empty()) {
        h.head = 0;
        h.tail = 0;
        break;
      }
      if (!wrapped()) {
        if (this.ringBytes - h.tail >= total) break;
        if (this.ringBytes - h.tail >= 4) {
          const marker = new Uint8Array(4);
          view(marker).setUint32(0, WRAP_MAGIC, true);
          io.write(this.ringStart + h.tail, marker);
        }
        h.tail = 0;
        continue;
      }
      if (h.head - h.tail >= total) break;
      this.evictOldest(io, h);
    }
    io.write(this.ringStart + h.tail, record);
    h.tail += total;
    h.nextSeq++;
    io.write(this.start, encodeHistoryHeader(h));
    return seq;
  }

  private evictOldest(io: ByteIO, h: HistoryHeader): void {
    const head = this.readRecordHeader(io, h.head);
    h.head += head.totalBytes;
    h.firstSeq++;
    if (h.firstSeq === h.nextSeq) {
      h.head = 0;
      h.tail = 0;
    } else {
      h.head = this.normalise(io, h.head);
    }
  }

  /** Skips the unused end of the ring. */
  private normalise(io: ByteIO, pos: number): number {
    if (pos >= this.ringBytes) return 0;
    if (view(io.read(this.ringStart + pos, 4)).getUint32(0, true) === WRAP_MAGIC) return 0;
    return pos;
  }

  private readRecordHeader(io: ByteIO, pos: number): { totalBytes: number; seq: number } {
    const bytes = io.read(this.ringStart + pos, RECORD_HEADER_SIZE);
    const dv = view(bytes);
    const offset = this.ringStart + pos;
    if (dv.getUint32(HR.magic, true) !== RECORD_MAGIC) throw new ImageError('history record has no magic', { file: this.file, field: 'historyRecord.magic', offset });
    const totalBytes = dv.getUint32(HR.totalBytes, true);
    if (totalBytes < RECORD_HEADER_SIZE || totalBytes % 8 || pos + totalBytes > this.ringBytes) {
      throw new ImageError(`history record length ${totalBytes} is invalid`, { file: this.file, field: 'historyRecord.totalBytes', offset: offset + HR.totalBytes });
    }
    return { totalBytes, seq: readU64(dv, HR.seq) };
  }

  /** Reads records from oldest to newest; `withUndo` false skips decoding the undo bytes. */
  records(io: ByteIO, withUndo = false): HistoryRecord[] {
    const h = this.readHeader(io);
    const out: HistoryRecord[] = [];
    let pos = h.head;
    for (let seq = h.firstSeq; seq < h.nextSeq; seq++) {
      pos = this.normalise(io, pos);
      const { totalBytes } = this.readRecordHeader(io, pos);
      const offset = this.ringStart + pos;
      const bytes = io.read(offset, totalBytes);
      out.push(this.decodeRecord(bytes, offset, seq, withUndo));
      pos += totalBytes;
    }
    return out;
  }

  private decodeRecord(bytes: Uint8Array, offset: number, expectedSeq: number, withUndo: boolean): HistoryRecord {
    const dv = view(bytes);
    const fail = (msg: string, field: keyof typeof HR) => new ImageError(msg, { file: this.file, field: `historyRecord.${field}`, offset: offset + HR[field] });
    const crc = dv.getUint32(HR.crc, true);
    const copy = bytes.slice();
    view(copy).setUint32(HR.crc, 0, true);
    if (crc32(copy) !== crc) throw fail('history record checksum mismatch', 'crc');
    const seq = readU64(dv, HR.seq);
    if (seq !== expectedSeq) throw fail(`history record sequence ${seq}, expected ${expectedSeq}`, 'seq');
    const kindIndex = dv.getUint32(HR.kind, true);
    const kind = HISTORY_KINDS[kindIndex];
    if (!kind) throw fail(`history record kind ${kindIndex} unknown`, 'kind');
    const summaryLen = dv.getUint32(HR.summaryBytes, true);
    const undoLen = dv.getUint32(HR.undoBytes, true);
    if (RECORD_HEADER_SIZE + pad8(summaryLen) + undoLen > bytes.length) throw fail('history record lengths overrun the record', 'summaryBytes');
    let summary: HistoryRecord['summary'];
    try {
      summary = JSON.parse(new TextDecoder().decode(bytes.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + summaryLen)));
      if (typeof summary?.text !== 'string') throw new Error('no text');
    } catch {
      throw fail('history record summary is not valid JSON', 'summaryBytes');
    }
    const flags = dv.getUint32(HR.flags, true);
    let undo: ByteRange[] = [];
    if (withUndo && undoLen > 0) {
      const decoded = decodeRanges(bytes, RECORD_HEADER_SIZE + pad8(summaryLen), undoLen, Number.MAX_SAFE_INTEGER);
      if (!decoded) throw fail('history record undo ranges are malformed', 'undoBytes');
      undo = decoded;
    }
    return {
      seq, kind, bootGeneration: dv.getUint32(HR.bootGeneration, true), summary,
      undoAvailable: kind !== 'create' && (flags & RECORD_UNDO_DROPPED) === 0, undo,
    };
  }
}
