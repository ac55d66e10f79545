/**
 * The operation history: a ring of records in its own region. Each record
 * names an operation (its summary) and says how to undo it, so the state at
 * any retained step is rebuilt by undoing later records, newest first, on a
 * copy-on-write overlay. When the ring is full the oldest records are
 * dropped, and the earliest reachable step moves forward.
 *
 * Records are compact (docs/FORMAT.md, *History*): a short header, a binary
 * summary for the common operations, and undo entries encoded per structure
 * (undoCodec.ts). Records of the first format ("HREC": a 40-byte header, a
 * JSON summary, the old bytes whole) are still read.
 */
import { crc32, readString, readU64, view, writeString, writeU64 } from '../core/bytes';
import { ImageError } from '../core/errors';
import { ByteReader, ByteWriter, CodecError, crc32Range, crc32U64, crc32Zeros, varintAt, varintEnd, varintSize } from './compact';
import { PAGE_SIZE } from './constants';
import { Region } from './layout';
import { journalCapacity } from './journal';
import { ByteRange, decodeRanges, encodedSize } from './rangeList';
import { decodeBinarySummary, encodeBinarySummary, OneBlock, skipBinarySummary, Summary, summaryEnd as binarySummaryEnd, writeOneBlockSummary } from './summaryCodec';
import type { Superblock } from './superblock';
import { decodeUndo, encodeInverse, encodeUndo, InverseEntry, UNDO_INVERSE, SpanCheck, UndoContext, undoContext, UndoState, UndoTarget } from './undoCodec';
import { PatchStore } from '../store/patchStore';
import { CheckpointAccumulator } from './checkpointAccumulator';
import { ReadWindow } from './readWindow';

export const HISTORY_MAGIC = 'PMEMHIST';
/** 2: records may be compact and start at any byte; 1: first-format records only, 8-byte aligned. */
export const HISTORY_VERSION = 2;
export const HISTORY_HEADER_SIZE = 128;
export const HH = { magic: 0, version: 8, firstSeq: 16, nextSeq: 24, head: 32, tail: 40, ringBytes: 48, crc: 124 } as const;
export const WRAP_MAGIC = 0x50525748; // "HWRP": the rest of the ring is unused, continue at 0

/** First-format record ("HREC"), read but no longer written. */
export const RECORD_MAGIC = 0x43455248;
export const RECORD_HEADER_SIZE = 40;
export const HR = { magic: 0, totalBytes: 4, seq: 8, kind: 16, bootGeneration: 20, summaryBytes: 24, undoBytes: 28, flags: 32, crc: 36 } as const;
export const RECORD_UNDO_DROPPED = 1 << 0;

/** Compact record: fixed fields, then varints (totalBytes, bootGeneration), the summary and the undo entries. */
export const CR = { tag: 0, crc: 1, totalBytes: 5 } as const;
export const CR_MARK = 0xc0; // bits 7-6 of the tag: never the first byte of "HREC", "HWRP" or unwritten space
export const CR_UNDO_DROPPED = 0x20;
export const CR_JSON_SUMMARY = 0x10;
/** The record also undoes, in one set of entries, the records before it up to its span (a checkpoint). */
export const CR_CHECKPOINT = 0x08;
export const CR_KIND = 0x07;
/** The fewest bytes a record takes: a compact record's fixed fields and three more (a first-format one takes more). */
export const MIN_RECORD_BYTES = CR.totalBytes + 3;
/**
 * Every this many steps, a record carries a checkpoint: the undo entries of
 * its last CHECKPOINT_SPAN steps taken together, so stepping far back decodes
 * a few checkpoints instead of every record. (Readers take the span from the
 * record; tests write shorter ones through HistoryRing.checkpointSpan.)
 */
export const CHECKPOINT_SPAN = 2048;

import { HISTORY_KINDS, HistoryKind } from './historyKind';
export { HISTORY_KINDS };
export type { HistoryKind };

export interface HistoryHeader {
  firstSeq: number;
  nextSeq: number;
  head: number;
  tail: number;
  ringBytes: number;
}

/** What one undo entry restores; `data` are the old bytes when the record keeps them whole. */
export interface UndoEntry {
  offset: number;
  length: number;
  data?: Uint8Array;
}

export interface HistoryRecord {
  seq: number;
  kind: HistoryKind;
  bootGeneration: number;
  /** Operation details; always has `text`, a one-line description. */
  summary: Summary;
  /** False when the undo entries were too large to keep: steps before this one are unreachable. */
  undoAvailable: boolean;
  /** Filled when records are read with their undo entries. */
  undo: UndoEntry[];
  /** Kept as its operation's inverse (read with the undo entries): what it restores is known only by running it, and `undo` lists none of it. */
  undoByInverse?: boolean;
}

/** The minimal I/O a ring needs: a transaction in the engine, or a plain store. */
export interface ByteIO {
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
}

/** Where a retained record lies in the ring, and what its header says. */
export interface RecordInfo {
  seq: number;
  kind: HistoryKind;
  bootGeneration: number;
  undoAvailable: boolean;
  compact: boolean;
  /** Ring offset of the record. */
  pos: number;
  totalBytes: number;
  /** Ring offsets of the summary and the undo entries. */
  summaryAt: number;
  summaryEnd: number;
  jsonSummary: boolean;
  /** Steps the record's checkpoint undoes, itself included (0: none), and where its entries lie. */
  checkpointSpan: number;
  checkpointAt: number;
  checkpointEnd: number;
  undoAt: number;
  undoEnd: number;
}

/**
 * The retained records of a ring, read in one pass: per record, oldest
 * first (record i is step header.firstSeq + i), its ring offset, length and
 * SCAN_* bits.
 */
export interface RingScan {
  header: HistoryHeader;
  count: number;
  pos: Float64Array;
  total: Float64Array;
  bits: Uint8Array;
  /** Bytes of the ring from ring offset `base`. */
  bytes: Uint8Array;
  base: number;
}
export const SCAN_UNDO = 1;
export const SCAN_COMPACT = 2;
export const SCAN_CHECKPOINT = 4;

const pad8 = (n: number) => (n + 7) & ~7;
const u32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
const MAX_JSON_SUMMARY = 4096;

export function encodeHistoryHeader(h: HistoryHeader): Uint8Array {
  const out = new Uint8Array(HISTORY_HEADER_SIZE);
  const dv = view(out);
  writeString(out, HH.magic, 8, HISTORY_MAGIC);
  dv.setUint32(HH.version, HISTORY_VERSION, true);
  writeU64(dv, HH.firstSeq, h.firstSeq);
  writeU64(dv, HH.nextSeq, h.nextSeq);
  writeU64(dv, HH.head, h.head);
  writeU64(dv, HH.tail, h.tail);
  writeU64(dv, HH.ringBytes, h.ringBytes);
  dv.setUint32(HH.crc, crc32(out.subarray(0, HH.crc)), true);
  return out;
}

/** CRC of a compact record at `at` in `b`: the step number (u64, little-endian), then the record with its crc field as zero. */
export function compactRecordCrc(seq: number, b: Uint8Array, at = 0, total = b.length): number {
  let c = crc32U64(seq);
  c = crc32Range(b, at, at + CR.crc, c);
  c = crc32Zeros(4, c);
  return crc32Range(b, at + CR.crc + 4, at + total, c);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A compact record from its tag and the bytes after its length: the length inserted, the checksum computed. */
function sealRecord(seq: number, tag: number, rest: Uint8Array): Uint8Array {
  const fixed = CR.totalBytes + rest.length;
  let total = fixed + 1;
  while (fixed + varintSize(total) !== total) total = fixed + varintSize(total);
  const record = new Uint8Array(total);
  record[CR.tag] = tag;
  let at = CR.totalBytes;
  for (let v = total; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      record[at++] = v;
      break;
    }
    record[at++] = (v % 128) | 128;
  }
  record.set(rest, at);
  view(record).setUint32(CR.crc, compactRecordCrc(seq, record), true);
  return record;
}

/** Where appendDeferred writes a record's body (one at a time, copied into the record). */
const deferredBody = new ByteWriter();

export class HistoryRing {
  /** Steps a checkpoint spans (and how often one is written). */
  static checkpointSpan = CHECKPOINT_SPAN;
  readonly start: number;
  readonly ringStart: number;
  readonly ringBytes: number;
  /** Where the image's structures are; without it undo entries are written as plain bytes. */
  readonly context?: UndoContext;

  constructor(region: Region, private readonly file?: string, sb?: Superblock) {
    this.start = region.startPfn * PAGE_SIZE;
    this.ringStart = this.start + PAGE_SIZE;
    this.ringBytes = (region.frames - 1) * PAGE_SIZE;
    this.context = sb ? undoContext(sb) : undefined;
  }

  emptyHeader(): HistoryHeader {
    return { firstSeq: 1, nextSeq: 1, head: 0, tail: 0, ringBytes: this.ringBytes };
  }

  /** The header last read or written, and its bytes: the same bytes read again need no second check. */
  private known?: { bytes: Uint8Array; header: HistoryHeader };

  readHeader(io: ByteIO): HistoryHeader {
    const bytes = io.read(this.start, HISTORY_HEADER_SIZE);
    const known = this.known;
    if (known && sameBytes(known.bytes, bytes)) return { ...known.header };
    const dv = view(bytes);
    const at = (f: keyof typeof HH) => ({ file: this.file, field: `history.${f}`, offset: this.start + HH[f] });
    if (readString(bytes, HH.magic, 8) !== HISTORY_MAGIC) throw new ImageError('history header has no magic', at('magic'));
    if (dv.getUint32(HH.crc, true) !== crc32(bytes.subarray(0, HH.crc))) throw new ImageError('history header checksum mismatch', at('crc'));
    const h = {
      firstSeq: readU64(dv, HH.firstSeq), nextSeq: readU64(dv, HH.nextSeq),
      head: readU64(dv, HH.head), tail: readU64(dv, HH.tail), ringBytes: readU64(dv, HH.ringBytes),
    };
    const align = dv.getUint32(HH.version, true) === 1 ? 8 : 1;
    if (h.ringBytes !== this.ringBytes) throw new ImageError(`history ring size ${h.ringBytes} disagrees with the layout (${this.ringBytes})`, at('ringBytes'));
    if (!(h.firstSeq >= 1 && h.firstSeq <= h.nextSeq)) throw new ImageError(`history sequence range ${h.firstSeq}..${h.nextSeq} is invalid`, at('firstSeq'));
    // A record takes at least MIN_RECORD_BYTES: a count beyond what the ring can hold is damage, not history.
    if (h.nextSeq - h.firstSeq > this.ringBytes / MIN_RECORD_BYTES) throw new ImageError(`history sequence range ${h.firstSeq}..${h.nextSeq} holds more steps than its ring can (${Math.floor(this.ringBytes / MIN_RECORD_BYTES)})`, at('nextSeq'));
    if (!Number.isSafeInteger(h.head) || !Number.isSafeInteger(h.tail) || h.head % align || h.tail % align || h.head >= this.ringBytes || h.tail > this.ringBytes) throw new ImageError(`history ring positions ${h.head}/${h.tail} are invalid`, at('head'));
    this.known = { bytes, header: { ...h } };
    return h;
  }

  /** The old bytes of the records appended since the last checkpoint, while every one of them kept its undo. */
  private gathered?: CheckpointAccumulator;
  /** Checkpoints only from gathered bytes (see OpenOptions.gatheredCheckpointsOnly). */
  gatheredCheckpointsOnly = false;

  /** The accumulator a record of step `seq` continues: the running one, or a new one at a span's start. */
  private accumulatorFor(seq: number, span: number): CheckpointAccumulator | undefined {
    if (this.gathered && this.gathered.lastSeq === seq - 1) return this.gathered;
    return (seq - 1) % span === 0 ? new CheckpointAccumulator(seq) : undefined;
  }

  /** Undo entries larger than this are dropped (the record stays, marked) so one operation cannot flush the ring. */
  get maxUndoBytes(): number {
    return Math.floor(this.ringBytes / 4);
  }

  /** Appends a record; returns its sequence number. All writes go through `io` (a transaction). */
  append(io: ByteIO, kind: HistoryKind, bootGeneration: number, summary: HistoryRecord['summary'], undo: ByteRange[], dropUndo = false, inverse?: InverseEntry): number {
    if (this.deferred) throw new Error('a record appended before the deferred records were written back');
    const h = this.readHeader(io);
    const seq = h.nextSeq;
    const body = new ByteWriter();
    body.varint(bootGeneration);
    let tag = CR_MARK | HISTORY_KINDS.indexOf(kind);
    const binary = encodeBinarySummary(kind, bootGeneration, summary);
    let pfn = 0;
    if (binary) {
      body.bytes(binary);
      pfn = skipBinarySummary(kind, binary, 0, binary.length);
    } else {
      let json = new TextEncoder().encode(JSON.stringify(summary));
      if (json.length > MAX_JSON_SUMMARY) json = new TextEncoder().encode(JSON.stringify({ text: summary.text }));
      body.varint(json.length);
      body.bytes(json);
      tag |= CR_JSON_SUMMARY;
    }
    const span = HistoryRing.checkpointSpan;
    let gathered = kind === 'create' ? undefined : this.accumulatorFor(seq, span);
    let ranges: ByteRange[] = [];
    if (kind !== 'create') {
      ranges = this.outsideRegion(undo);
      const own = new ByteWriter();
      // The operation's inverse, which its writer checked gives back every byte `undo` holds, stands for them.
      if (!dropUndo && inverse) encodeInverse(own, pfn, inverse);
      else if (!dropUndo) encodeUndo(this.context, ranges, (offset, length) => io.read(offset, length), { pfn, generation: bootGeneration }, own);
      if (dropUndo || own.length > this.maxUndoBytes) {
        tag |= CR_UNDO_DROPPED;
        gathered = undefined;
      } else {
        let checkpoint = seq % span === 0 ? this.checkpoint(io, h, seq, span, bootGeneration, ranges, gathered, inverse !== undefined) : undefined;
        // The record is part of the operation's transaction: a checkpoint must never be what makes it too large.
        if (checkpoint && this.context && encodedSize(ranges) + 2 * (own.length + checkpoint.length) > journalCapacity(this.context.sb.layout.journal) / 4) checkpoint = undefined;
        if (checkpoint) {
          tag |= CR_CHECKPOINT;
          body.varint(span);
          body.varint(checkpoint.length);
          body.bytes(checkpoint);
        }
        body.bytes(own.result());
      }
    }
    const record = sealRecord(seq, tag, body.result());
    const total = record.length;

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
    const headerBytes = encodeHistoryHeader(h);
    io.write(this.start, headerBytes);
    this.known = { bytes: headerBytes, header: { ...h } };
    if (gathered && seq % span !== 0) {
      gathered.add(ranges);
      gathered.recordBytes += total;
      if (inverse) gathered.inverses++;
      gathered.lastSeq = seq;
      this.gathered = gathered;
    } else this.gathered = undefined;
    return seq;
  }

  /**
   * The header as it will be once the records appended by appendDeferred are
   * written back: the header on the device lags behind them until then.
   */
  private deferred?: HistoryHeader;

  /** The step the next record will have, counting deferred records. */
  nextSeq(io: ByteIO): number {
    return this.deferred ? this.deferred.nextSeq : this.readHeader(io).nextSeq;
  }

  /**
   * Appends the record of an operation kept as its inverse without
   * rewriting the header: written straight to `io` in the ring's free space,
   * after the tail the device header names, where the next boot finds it
   * (deferredRecords). Returns undefined, writing nothing, when the record
   * would carry a checkpoint, would need a retained record evicted, or the
   * ring is empty: the caller writes back and appends as usual.
   */
  appendDeferred(io: ByteIO, kind: 'alloc' | 'free', bootGeneration: number, block: OneBlock, inverse: InverseEntry): number | undefined {
    const h = this.deferred ? { ...this.deferred } : this.readHeader(io);
    const seq = h.nextSeq;
    const span = HistoryRing.checkpointSpan;
    if (seq % span === 0 || h.firstSeq === h.nextSeq) return undefined;
    const body = deferredBody;
    body.truncate(0);
    body.varint(bootGeneration);
    writeOneBlockSummary(body, kind, block);
    encodeInverse(body, block.pfn, inverse);
    const record = sealRecord(seq, CR_MARK | HISTORY_KINDS.indexOf(kind), body.written());
    const at = this.placeWithoutEviction(io, h, record.length);
    if (at < 0) return undefined;
    io.write(this.ringStart + at, record);
    h.tail = at + record.length;
    h.nextSeq++;
    this.deferred = h;
    // The running checkpoint counts the record now; the bytes it replaced are added when written back (takeDeferred).
    const gathered = this.accumulatorFor(seq, span);
    if (gathered) {
      gathered.recordBytes += record.length;
      gathered.inverses++;
      gathered.lastSeq = seq;
    }
    this.gathered = gathered;
    return seq;
  }

  /** Whether a record of `bytes` bytes would need an eviction: too little room after the tail. */
  lacksRoomAfterTail(io: ByteIO, bytes: number): boolean {
    return this.roomAfterTail(this.deferred ?? this.readHeader(io)) < bytes;
  }

  /** Whether appendDeferred would take a record of up to `bytes` bytes now. */
  canAppendDeferred(io: ByteIO, bytes: number): boolean {
    const h = this.deferred ?? this.readHeader(io);
    if (h.nextSeq % HistoryRing.checkpointSpan === 0 || h.firstSeq === h.nextSeq) return false;
    return this.roomAfterTail(h) >= bytes;
  }

  /**
   * Where a record of `total` bytes goes in `h` without evicting a retained
   * record (-1: nowhere); moves `h.tail` to the ring's start, writing the wrap
   * marker, when it goes there.
   */
  private placeWithoutEviction(io: ByteIO, h: HistoryHeader, total: number): number {
    const wrapped = h.head > h.tail || h.head === h.tail;
    if (wrapped) return h.head - h.tail >= total ? h.tail : -1;
    if (this.ringBytes - h.tail >= total) return h.tail;
    if (h.head < total) return -1;
    if (this.ringBytes - h.tail >= 4) {
      const marker = new Uint8Array(4);
      view(marker).setUint32(0, WRAP_MAGIC, true);
      io.write(this.ringStart + h.tail, marker);
    }
    h.tail = 0;
    return 0;
  }

  /**
   * Makes the deferred records part of the ring, in the write-back's
   * transaction `io`: evicts the oldest records until `room` bytes follow
   * the tail (so that the next records need no write-back to find space),
   * writes the header, and adds what `replaced` gives (the bytes the
   * write-back overwrites, as they were when the records began; asked for
   * only when a checkpoint is being gathered) to the running checkpoint.
   */
  takeDeferred(io: ByteIO, replaced: () => ByteRange[], room: number): void {
    const h = this.deferred ? { ...this.deferred } : this.readHeader(io);
    const gathering = this.gathered !== undefined && this.gathered.lastSeq === h.nextSeq - 1;
    if (!gathering) this.gathered = undefined;
    const probe = { ...h };
    // Hundreds of records may go: their first bytes read in windows, not one small read each (nothing writes the ring meanwhile).
    const ring = new ReadWindow(io, this.ringStart + this.ringBytes);
    while (probe.firstSeq < probe.nextSeq - 1 && this.roomAfterTail(probe) < room) {
      this.evictOldest(ring, probe);
      h.firstSeq = probe.firstSeq;
      h.head = probe.head;
    }
    const headerBytes = encodeHistoryHeader(h);
    io.write(this.start, headerBytes);
    // Asked for after the header's writes, which it may hold too: they are in the history's region, which gathering leaves out.
    if (gathering) this.gathered!.add(this.outsideRegion(replaced()));
    this.known = { bytes: headerBytes, header: { ...h } };
    this.deferred = undefined;
  }

  /** Forgets the deferred records (the RAM state is lost: a crash). The next boot finds them. */
  dropDeferred(): void {
    this.deferred = undefined;
    this.gathered = undefined;
  }

  /** The most a record may take after the tail without an eviction. */
  private roomAfterTail(h: HistoryHeader): number {
    if (h.head > h.tail || h.head === h.tail) return h.head - h.tail;
    return Math.max(this.ringBytes - h.tail, h.head);
  }

  /**
   * The records a boot finds after the device header's tail: written by
   * appendDeferred, their header never rewritten (a crash came first). Each
   * is the step after the one before, in `bootGeneration`, whole (its
   * checksum, which covers its step number, holds); the first that is not
   * ends them.
   */
  deferredRecords(io: ByteIO, bootGeneration: number): { records: HistoryRecord[]; offsets: number[]; header: HistoryHeader } {
    const h = this.readHeader(io);
    const found: HistoryRecord[] = [];
    const offsets: number[] = [];
    const after = { ...h };
    if (h.firstSeq === h.nextSeq) return { records: found, offsets, header: after };
    let pos = h.tail;
    let wrapped = h.head > h.tail || h.head === h.tail;
    for (let seq = h.nextSeq; ; seq++) {
      if (!wrapped && (this.ringBytes - pos < MIN_RECORD_BYTES || u32(io.read(this.ringStart + pos, 4), 0) === WRAP_MAGIC)) {
        pos = 0;
        wrapped = true;
      }
      const limit = wrapped ? h.head : this.ringBytes;
      if (limit - pos < MIN_RECORD_BYTES) break;
      try {
        const n = Math.min(16, limit - pos);
        const total = this.parseLength(io.read(this.ringStart + pos, n), 0, n, pos);
        if (pos + total > limit) break;
        const scan = this.walk(io, { ...h, firstSeq: seq, nextSeq: seq + 1, tail: pos + total }, seq, pos, 1, true);
        if (!(scan.bits[0] & SCAN_COMPACT)) break;
        const record = this.decodeRecord(scan, this.recordInfo(scan, 0), true);
        if (record.bootGeneration !== bootGeneration || !record.undoByInverse) break;
        found.push(record);
        offsets.push(this.ringStart + pos);
        pos += scan.total[0];
        after.tail = pos;
        after.nextSeq = seq + 1;
      } catch (e) {
        if (e instanceof ImageError || e instanceof RangeError) break;
        throw e;
      }
    }
    return { records: found, offsets, header: after };
  }

  /** Takes the records deferredRecords found as deferred ones (their operations redone), to be written back by takeDeferred. */
  adoptDeferred(header: HistoryHeader): void {
    this.deferred = { ...header };
    this.gathered = undefined;
  }

  /**
   * The undo entries that take the state after step `seq` (the transaction's
   * view, `io`) back to the state after step seq − span, from the
   * records in between and this one's overwritten bytes (`own`); undefined when
   * not all of them are kept with their undo, or the entries would save little.
   */
  private checkpoint(io: ByteIO, h: HistoryHeader, seq: number, span: number, generation: number, own: ByteRange[], gathered: CheckpointAccumulator | undefined, ownInverse: boolean): Uint8Array | undefined {
    try {
      if (gathered && gathered.firstSeq === seq - span + 1 && gathered.firstSeq >= h.firstSeq && this.context) return this.checkpointFromGathered(io, gathered, own, generation, this.context, ownInverse || gathered.inverses > 0);
      return this.gatheredCheckpointsOnly ? undefined : this.buildCheckpoint(io, h, seq, span, generation, own, ownInverse);
    } catch (e) {
      // A damaged record among those it would stand for: no checkpoint (the operation itself goes on; check reports the record).
      if (e instanceof ImageError) return undefined;
      throw e;
    }
  }

  /** The checkpoint from the bytes gathered while its span's records were appended (the same bytes buildCheckpoint restores). */
  private checkpointFromGathered(io: ByteIO, gathered: CheckpointAccumulator, own: ByteRange[], generation: number, ctx: UndoContext, inverses: boolean): Uint8Array | undefined {
    gathered.add(own);
    const w = new ByteWriter();
    const limit = this.checkpointLimit(gathered.recordBytes, inverses);
    return encodeUndo(ctx, gathered.rangesInOrder(), (offset, length) => io.read(offset, length), { pfn: 0, generation }, w, limit) && w.length <= limit ? w.result() : undefined;
  }

  /**
   * The most a checkpoint may take: a quarter of the records it stands for,
   * or, when some of them keep their operation as its inverse (run, not
   * decoded, when stepping back: far slower a byte), all the ring allows.
   */
  private checkpointLimit(recordBytes: number, inverses: boolean): number {
    return inverses ? this.maxUndoBytes : Math.min(recordBytes / 4, this.maxUndoBytes);
  }

  private buildCheckpoint(io: ByteIO, h: HistoryHeader, seq: number, span: number, generation: number, own: ByteRange[], ownInverse: boolean): Uint8Array | undefined {
    const ctx = this.context;
    const first = seq - span + 1;
    if (!ctx || first < h.firstSeq) return undefined;
    const scan = this.scan(io);
    const from = first - h.firstSeq;
    let covered = 0;
    let inverses = ownInverse;
    for (let i = from; i < scan.count; i++) {
      if ((scan.bits[i] & (SCAN_UNDO | SCAN_COMPACT)) !== (SCAN_UNDO | SCAN_COMPACT)) return undefined;
      covered += scan.total[i];
      const info = this.recordInfo(scan, i);
      if (info.undoEnd > info.undoAt && (scan.bytes[info.undoAt - scan.base] & 7) === UNDO_INVERSE) inverses = true;
    }
    const lines = new PatchStore({ size: ctx.size, read: (offset, length) => io.read(offset, length), write: () => {}, flush: () => {}, close: () => {} });
    const target = new UndoTarget(lines, true);
    const spans: Array<[number, number]> = [];
    for (const r of own) {
      target.write(r.offset, r.data);
      spans.push([r.offset, r.offset + r.data.length]);
    }
    this.undoRecords(scan, scan.count - 1, from, target, (offset, length) => void spans.push([offset, offset + length]), false);
    target.finish();
    spans.sort((a, b) => a[0] - b[0]);
    const old: ByteRange[] = [];
    for (const [a, b] of spans) {
      const last = old[old.length - 1];
      if (last && a <= last.offset + last.data.length) {
        const end = Math.max(b, last.offset + last.data.length);
        if (end > last.offset + last.data.length) last.data = lines.read(last.offset, end - last.offset);
      } else old.push({ offset: a, data: lines.read(a, b - a) });
    }
    const w = new ByteWriter();
    // Worth keeping only when much smaller than the records it stands for (or faster to apply).
    const limit = this.checkpointLimit(covered, inverses);
    return encodeUndo(ctx, old, (offset, length) => io.read(offset, length), { pfn: 0, generation }, w, limit) && w.length <= limit ? w.result() : undefined;
  }

  /** The ranges without their parts in the history region (the operation intent): stepping shows the history as it is. */
  private outsideRegion(ranges: ByteRange[]): ByteRange[] {
    const [a, b] = [this.start, this.ringStart + this.ringBytes];
    const out: ByteRange[] = [];
    for (const r of ranges) {
      const end = r.offset + r.data.length;
      if (end <= a || r.offset >= b) out.push(r);
      else {
        if (r.offset < a) out.push({ offset: r.offset, data: r.data.subarray(0, a - r.offset) });
        if (end > b) out.push({ offset: b, data: r.data.subarray(b - r.offset) });
      }
    }
    return out;
  }

  private evictOldest(io: ByteIO, h: HistoryHeader): void {
    h.head += this.recordLength(io, h.head);
    h.firstSeq++;
    if (h.firstSeq === h.nextSeq) {
      h.head = 0;
      h.tail = 0;
    } else {
      h.head = this.normalise(io, h.head);
    }
  }

  /** Skips the unused end of the ring: a wrap marker, or less room than a marker needs. */
  private normalise(io: ByteIO, pos: number): number {
    if (pos >= this.ringBytes || this.ringBytes - pos < 4) return 0;
    if (u32(io.read(this.ringStart + pos, 4), 0) === WRAP_MAGIC) return 0;
    return pos;
  }

  private recordLength(io: ByteIO, pos: number): number {
    const n = Math.min(16, this.ringBytes - pos);
    const b = io.read(this.ringStart + pos, n);
    return this.parseLength(b, 0, n, pos);
  }

  /** A record's length from its first bytes (`n` of them available at `at`), checked against the ring. */
  private parseLength(b: Uint8Array, at: number, n: number, pos: number): number {
    const offset = this.ringStart + pos;
    const fail = (msg: string, field: string, delta: number) => new ImageError(msg, { file: this.file, field: `historyRecord.${field}`, offset: offset + delta });
    if (n >= 8 && u32(b, at) === RECORD_MAGIC) {
      const total = u32(b, at + HR.totalBytes);
      if (total < RECORD_HEADER_SIZE || total % 8 || pos + total > this.ringBytes) throw fail(`history record length ${total} is invalid`, 'totalBytes', HR.totalBytes);
      return total;
    }
    if (n > CR.totalBytes && (b[at] & CR_MARK) === CR_MARK) {
      let total: number;
      try {
        total = new ByteReader(b, at + CR.totalBytes, at + n).varint();
      } catch {
        throw fail('history record length is unreadable', 'totalBytes', CR.totalBytes);
      }
      if (total < MIN_RECORD_BYTES || pos + total > this.ringBytes) throw fail(`history record length ${total} is invalid`, 'totalBytes', CR.totalBytes);
      return total;
    }
    throw fail('history record has no magic', 'magic', 0);
  }

  /**
   * Reads the retained records' headers in one pass over the ring, checking
   * each record's checksum and step number (`verify` false leaves the
   * checksums to whoever decodes the record: see undoAfter).
   */
  scan(io: ByteIO, verify = true): RingScan {
    const header = this.readHeader(io);
    const count = header.nextSeq - header.firstSeq;
    return this.walk(io, header, header.firstSeq, count ? header.head : 0, count, verify);
  }

  /**
   * As scan, for the `count` records from step `seq` only, the first at ring
   * offset `pos` (where an earlier scan found it, or just after the record
   * before it): record i of the result is step seq + i.
   */
  scanFrom(io: ByteIO, seq: number, pos: number, count: number, verify = true): RingScan {
    const header = this.readHeader(io);
    if (seq < header.firstSeq || seq + count > header.nextSeq) throw new RangeError(`steps ${seq} to ${seq + count - 1} are not all kept (${header.firstSeq} to ${header.nextSeq - 1})`);
    return this.walk(io, { ...header, firstSeq: seq }, seq, pos, count, verify);
  }

  private walk(io: ByteIO, header: HistoryHeader, firstSeq: number, start: number, count: number, verify: boolean): RingScan {
    const h = header;
    const ring = new RingBytes(io, this, count ? start : 0, count === 0 ? 0 : start < h.tail ? h.tail : this.ringBytes);
    const scan: RingScan = { header, count, pos: new Float64Array(count), total: new Float64Array(count), bits: new Uint8Array(count), bytes: ring.bytes, base: ring.base };
    let pos = start;
    for (let i = 0; i < count; i++) {
      const seq = firstSeq + i;
      // ring.at may read the whole ring: take ring.bytes after it.
      if (pos >= this.ringBytes || this.ringBytes - pos < 4) pos = 0;
      else {
        const i = ring.at(pos, 4);
        if (u32(ring.bytes, i) === WRAP_MAGIC) pos = 0;
      }
      const n = Math.min(16, this.ringBytes - pos);
      const first = ring.at(pos, n);
      const total = this.parseLength(ring.bytes, first, n, pos);
      const at = ring.at(pos, total);
      scan.pos[i] = pos;
      scan.total[i] = total;
      scan.bits[i] = this.checkRecord(ring.bytes, at, pos, total, seq, verify);
      pos += total;
    }
    scan.bytes = ring.bytes;
    scan.base = ring.base;
    return scan;
  }

  /** Record i of a scan, decoded without its undo entries. */
  decode(scan: RingScan, i: number): HistoryRecord {
    return this.decodeRecord(scan, this.recordInfo(scan, i), false);
  }

  private recordError(message: string, field: string, offset: number): ImageError {
    return new ImageError(message, { file: this.file, field: `historyRecord.${field}`, offset });
  }

  /** Checks a record's checksum (with `verify`), step number and kind; returns its SCAN_* bits. */
  private checkRecord(b: Uint8Array, at: number, pos: number, total: number, seq: number, verify = true): number {
    const offset = this.ringStart + pos;
    if (u32(b, at) === RECORD_MAGIC) {
      const crc = u32(b, at + HR.crc);
      if (verify && crc32Range(b, at + HR.crc + 4, at + total, crc32Zeros(4, crc32Range(b, at, at + HR.crc))) !== crc) throw this.recordError('history record checksum mismatch', 'crc', offset + HR.crc);
      const hi = u32(b, at + HR.seq + 4);
      const got = hi >= 0x200000 ? Number.NaN : hi * 0x1_0000_0000 + u32(b, at + HR.seq);
      if (got !== seq) throw this.recordError(`history record sequence ${got}, expected ${seq}`, 'seq', offset + HR.seq);
      const kind = u32(b, at + HR.kind);
      if (kind >= HISTORY_KINDS.length) throw this.recordError(`history record kind ${kind} unknown`, 'kind', offset + HR.kind);
      return kind !== 0 && (u32(b, at + HR.flags) & RECORD_UNDO_DROPPED) === 0 ? SCAN_UNDO : 0;
    }
    if (verify && u32(b, at + CR.crc) !== compactRecordCrc(seq, b, at, total)) throw this.recordError(`history record checksum mismatch (or not step ${seq})`, 'crc', offset + CR.crc);
    const tag = b[at + CR.tag];
    if ((tag & CR_KIND) >= HISTORY_KINDS.length) throw this.recordError(`history record kind ${tag & CR_KIND} unknown`, 'kind', offset);
    const undo = (tag & CR_KIND) !== 0 && (tag & CR_UNDO_DROPPED) === 0;
    return SCAN_COMPACT | (undo ? SCAN_UNDO : 0) | (undo && tag & CR_CHECKPOINT ? SCAN_CHECKPOINT : 0);
  }

  /** The header fields of record `i` of a scan, and where its summary and undo entries lie. */
  recordInfo(scan: RingScan, i: number): RecordInfo {
    const b = scan.bytes;
    const pos = scan.pos[i];
    const total = scan.total[i];
    const at = pos - scan.base;
    const seq = scan.header.firstSeq + i;
    const undoAvailable = (scan.bits[i] & SCAN_UNDO) !== 0;
    const offset = this.ringStart + pos;
    if (!(scan.bits[i] & SCAN_COMPACT)) {
      const kind = HISTORY_KINDS[u32(b, at + HR.kind)];
      const summaryLen = u32(b, at + HR.summaryBytes);
      const undoLen = u32(b, at + HR.undoBytes);
      if (RECORD_HEADER_SIZE + pad8(summaryLen) + undoLen > total) throw this.recordError('history record lengths overrun the record', 'summaryBytes', offset + HR.summaryBytes);
      const undoAt = pos + RECORD_HEADER_SIZE + pad8(summaryLen);
      return {
        seq, kind, bootGeneration: u32(b, at + HR.bootGeneration), compact: false, pos, totalBytes: total, undoAvailable,
        summaryAt: pos + RECORD_HEADER_SIZE, summaryEnd: pos + RECORD_HEADER_SIZE + summaryLen, jsonSummary: true,
        checkpointSpan: 0, checkpointAt: undoAt, checkpointEnd: undoAt, undoAt, undoEnd: undoAt + undoLen,
      };
    }
    const tag = b[at + CR.tag];
    const kind = HISTORY_KINDS[tag & CR_KIND];
    const r = new ByteReader(b, at + CR.totalBytes + varintSize(total), at + total);
    let bootGeneration: number;
    let summaryAt: number;
    let summaryEnd: number;
    let checkpointSpan = 0;
    let checkpointAt: number;
    try {
      bootGeneration = r.varint();
      if (bootGeneration > 0xffff_ffff) throw new CodecError(`boot generation ${bootGeneration} is out of range`, at + CR.totalBytes);
      summaryAt = r.pos;
      if (tag & CR_JSON_SUMMARY) {
        const n = r.varint();
        summaryAt = r.pos;
        r.skip(n);
      } else if (kind === 'create') throw new CodecError('a create record has no binary summary', r.pos);
      else {
        skipBinarySummary(kind, b, r.pos, r.end);
        r.pos = binarySummaryEnd;
      }
      summaryEnd = r.pos;
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      throw this.recordError(`history record summary is invalid: ${e.message}`, 'summary', offset + e.at - at);
    }
    checkpointAt = r.pos;
    if (tag & CR_CHECKPOINT) {
      try {
        checkpointSpan = r.varint();
        const n = r.varint();
        if (checkpointSpan < 2 || !undoAvailable) throw new CodecError(`checkpoint of ${checkpointSpan} steps${undoAvailable ? '' : ' in a record without undo'}`, checkpointAt);
        checkpointAt = r.pos;
        r.skip(n);
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        throw this.recordError(`history record checkpoint is invalid: ${e.message}`, 'checkpoint', offset + e.at - at);
      }
    }
    return {
      seq, kind, bootGeneration, compact: true, pos, totalBytes: total, undoAvailable,
      summaryAt: pos + summaryAt - at, summaryEnd: pos + summaryEnd - at, jsonSummary: (tag & CR_JSON_SUMMARY) !== 0,
      checkpointSpan, checkpointAt: pos + checkpointAt - at, checkpointEnd: pos + r.pos - at,
      undoAt: pos + r.pos - at, undoEnd: pos + total,
    };
  }

  /** Reads records from oldest to newest; `withUndo` false skips decoding the undo entries. */
  records(io: ByteIO, withUndo = false): HistoryRecord[] {
    return [...this.recordsOf(this.scan(io), withUndo)];
  }

  /** The records of a scan one at a time, oldest first, so a long history can be read in slices. */
  *recordsOf(scan: RingScan, withUndo = false): Generator<HistoryRecord> {
    for (let i = 0; i < scan.count; i++) yield this.decodeRecord(scan, this.recordInfo(scan, i), withUndo);
  }

  private decodeRecord(scan: RingScan, info: RecordInfo, withUndo: boolean): HistoryRecord {
    const b = scan.bytes;
    const at = (pos: number) => pos - scan.base;
    const offset = (pos: number) => this.ringStart + pos;
    let summary: Summary;
    let pfn = 0;
    if (info.jsonSummary) {
      try {
        summary = JSON.parse(new TextDecoder().decode(b.subarray(at(info.summaryAt), at(info.summaryEnd))));
        if (typeof summary?.text !== 'string') throw new Error('no text');
      } catch {
        throw new ImageError('history record summary is not valid JSON', { file: this.file, field: info.compact ? 'historyRecord.summary' : 'historyRecord.summaryBytes', offset: offset(info.compact ? info.summaryAt : info.pos + HR.summaryBytes) });
      }
    } else {
      try {
        ({ summary, pfn } = decodeBinarySummary(info.kind, info.bootGeneration, new ByteReader(b, at(info.summaryAt), at(info.summaryEnd))));
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        throw new ImageError(`history record summary is invalid: ${e.message}`, { file: this.file, field: 'historyRecord.summary', offset: offset(e.at + scan.base) });
      }
    }
    const undo: UndoEntry[] = [];
    let inverse = false;
    if (withUndo && info.undoEnd > info.undoAt) {
      if (!info.compact) {
        const ranges = decodeRanges(b, at(info.undoAt), info.undoEnd - info.undoAt, Number.MAX_SAFE_INTEGER);
        if (!ranges) throw new ImageError('history record undo ranges are malformed', { file: this.file, field: 'historyRecord.undoBytes', offset: offset(info.pos + HR.undoBytes) });
        for (const r of ranges) undo.push({ offset: r.offset, length: r.data.length, data: r.data });
      } else {
        inverse = this.walkUndo(scan, info, pfn, (o, length) => undo.push({ offset: o, length }));
      }
    }
    return { seq: info.seq, kind: info.kind, bootGeneration: info.bootGeneration, summary, undoAvailable: info.undoAvailable, undo, ...(inverse ? { undoByInverse: true } : {}) };
  }

  /**
   * Undoes, on `target` (which holds the current state), every record of the
   * scan after step `step`, newest first: it then holds the state right after
   * that step. Checkpoints stand for the records they cover when they all
   * lie after `step`. Each record decoded has its checksum checked first (a
   * scan made without). `onSpan` sees each entry's place before it is written
   * (`at`: where the entry is encoded, in the image).
   */
  undoAfter(scan: RingScan, step: number, target: UndoTarget | undefined, onSpan: SpanCheck | undefined): void {
    this.undoBetween(scan, scan.header.firstSeq + scan.count - 1, step, target, onSpan);
  }

  /**
   * As undoAfter, for the records of steps `newer` down to `older` + 1 only:
   * `target` holds the state right after step `newer` and is left holding the
   * state right after step `older`. A walk back through history in stages
   * (a chart's samples) undoes each record once.
   */
  undoBetween(scan: RingScan, newer: number, older: number, target: UndoTarget | undefined, onSpan: SpanCheck | undefined): void {
    const from = Math.min(scan.count - 1, newer - scan.header.firstSeq);
    const to = Math.max(0, older - scan.header.firstSeq + 1);
    if (from >= to) this.undoRecords(scan, from, to, target, onSpan, true);
  }

  /** Undoes records `from` down to `to` (indexes in the scan, newest first); see undoAfter. */
  private undoRecords(scan: RingScan, from: number, to: number, target: UndoTarget | undefined, onSpan: SpanCheck | undefined, checkpoints: boolean): void {
    const b = scan.bytes;
    const toImage = this.ringStart + scan.base;
    const state: UndoState = { pfn: 0, generation: 0 };
    const check: SpanCheck | undefined = onSpan && ((offset, length, at) => onSpan(offset, length, toImage + at));
    const firstSeq = scan.header.firstSeq;
    let i = from;
    try {
      while (i >= to) {
        const at = scan.pos[i] - scan.base;
        const end = at + scan.total[i];
        if (!(scan.bits[i] & SCAN_COMPACT)) {
          this.checkRecord(b, at, scan.pos[i], scan.total[i], firstSeq + i);
          const info = this.recordInfo(scan, i);
          const ranges = decodeRanges(b, info.undoAt - scan.base, info.undoEnd - info.undoAt, Number.MAX_SAFE_INTEGER);
          if (!ranges) throw this.recordError('history record undo ranges are malformed', 'undoBytes', this.ringStart + info.pos + HR.undoBytes);
          for (const u of ranges) {
            onSpan?.(u.offset, u.data.length, this.ringStart + info.undoAt);
            target?.write(u.offset, u.data);
          }
          i--;
          continue;
        }
        if (u32(b, at + CR.crc) !== compactRecordCrc(firstSeq + i, b, at, scan.total[i])) throw this.recordError(`history record checksum mismatch (or not step ${firstSeq + i})`, 'crc', this.ringStart + scan.pos[i] + CR.crc);
        const tag = b[at];
        state.generation = varintAt(b, at + CR.totalBytes + varintSize(scan.total[i]), end);
        let p = varintEnd;
        state.superblock = undefined;
        if (tag & CR_JSON_SUMMARY) {
          const n = varintAt(b, p, end);
          p = varintEnd + n;
          if (p > end) throw new CodecError('summary runs past the record', at);
          state.pfn = 0;
        } else {
          state.pfn = skipBinarySummary(HISTORY_KINDS[tag & CR_KIND], b, p, end);
          p = binarySummaryEnd;
        }
        if (tag & CR_CHECKPOINT) {
          const span = varintAt(b, p, end);
          const n = varintAt(b, varintEnd, end);
          const entries = varintEnd;
          p = entries + n;
          if (p > end || span < 2) throw new CodecError('checkpoint is invalid', at);
          // Its records all after the target and still kept: one set of entries undoes them all.
          if (checkpoints && i - span + 1 >= to) {
            decodeUndo(b, entries, p, this.context, { pfn: 0, generation: state.generation }, check, target);
            i -= span;
            continue;
          }
        }
        decodeUndo(b, p, end, this.context, state, check, target);
        i--;
      }
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      throw new ImageError(`history step ${firstSeq + i}: undo entry is invalid: ${e.message}`, { file: this.file, field: 'historyRecord.undo', offset: toImage + e.at });
    }
  }

  /** Checks a record's checkpoint entries (if it has one), reporting the place of each. */
  checkCheckpoint(scan: RingScan, info: RecordInfo, onSpan: SpanCheck): void {
    if (!info.checkpointSpan) return;
    const base = this.ringStart + scan.base;
    try {
      decodeUndo(scan.bytes, info.checkpointAt - scan.base, info.checkpointEnd - scan.base, this.context, { pfn: 0, generation: info.bootGeneration }, (offset, length, at) => onSpan(offset, length, base + at), undefined);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      throw new ImageError(`history step ${info.seq}: checkpoint entry is invalid: ${e.message}`, { file: this.file, field: 'historyRecord.checkpoint', offset: base + e.at });
    }
  }

  /** Checks a compact record's undo entries, reporting the place of each. */
  private walkUndo(scan: RingScan, info: RecordInfo, pfn: number, onSpan: SpanCheck): boolean {
    const r = new ByteReader(scan.bytes, info.undoAt - scan.base, info.undoEnd - scan.base);
    const state: UndoState = { pfn, generation: info.bootGeneration };
    const base = this.ringStart + scan.base;
    try {
      decodeUndo(r.bytes, r.pos, r.end, this.context, state, (offset, length, at) => onSpan(offset, length, base + at), undefined);
      return state.inverse === true;
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      throw new ImageError(`history step ${info.seq}: undo entry is invalid: ${e.message}`, { file: this.file, field: 'historyRecord.undo', offset: base + e.at });
    }
  }
}

/** The ring's used bytes, read once; a position outside them makes it read the whole ring. */
class RingBytes {
  bytes: Uint8Array;
  base: number;

  constructor(private readonly io: ByteIO, private readonly ring: HistoryRing, from: number, to: number) {
    this.base = from;
    this.bytes = to > from ? io.read(ring.ringStart + from, to - from) : new Uint8Array(0);
  }

  /** Index in `bytes` of ring offset `pos`, with `n` bytes there. */
  at(pos: number, n: number): number {
    if (pos < this.base || pos + n > this.base + this.bytes.length) {
      this.base = 0;
      this.bytes = this.io.read(this.ring.ringStart, this.ring.ringBytes);
    }
    return pos - this.base;
  }
}
