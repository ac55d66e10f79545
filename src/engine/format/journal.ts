/**
 * The journal: a redo log that makes each operation crash-atomic. An operation
 * is staged in memory, then written as (1) header "intent" + payload, (2)
 * header "committed", (3) the payload's ranges in place, (4) header "empty".
 * Recovery at boot rolls a committed transaction forward and discards an
 * intent, so the device holds exactly the state before or after.
 *
 * Torn writes: steps (2) and (4) rewrite only the aligned 8-byte state word,
 * which pmem stores atomically, and the header checksum reads the state as
 * zero, so they never tear the header. Only step (1) rewrites the whole
 * header; a header torn there fails its checksum and means a transaction that
 * never committed (the one before it was applied and flushed already).
 */
import { crc32, readString, readU64, utf8Prefix, view, writeString, writeU64 } from '../core/bytes';
import { ImageError, OperationError } from '../core/errors';
import { crc32Range, crc32Zeros } from './compact';
import { PAGE_SIZE } from './constants';
import { Region } from './layout';
import { ByteRange, decodeRanges, encodedSize, encodeRanges } from './rangeList';
import type { Store } from '../store/store';

export const JOURNAL_MAGIC = 'PMEMJRNL';
export const JOURNAL_HEADER_SIZE = 128;
export const JH = { magic: 0, state: 8, payloadBytes: 12, txnSeq: 16, payloadCrc: 24, description: 32, crc: 124 } as const;
/** The aligned 8-byte word holding state and payloadBytes: a commit or clear rewrites only it. */
export const JOURNAL_STATE_WORD = 8;
const DESCRIPTION_BYTES = 64;

export const JOURNAL_EMPTY = 0;
export const JOURNAL_INTENT = 1;
export const JOURNAL_COMMITTED = 2;

export interface JournalHeader {
  state: number;
  /** True when the header failed its checksum: a step-(1) write cut short (treated as an uncommitted intent). */
  torn?: boolean;
  payloadBytes: number;
  txnSeq: number;
  payloadCrc: number;
  description: string;
}

export function encodeJournalHeader(h: JournalHeader): Uint8Array {
  const out = new Uint8Array(JOURNAL_HEADER_SIZE);
  const dv = view(out);
  writeString(out, JH.magic, 8, JOURNAL_MAGIC);
  dv.setUint32(JH.state, h.state, true);
  dv.setUint32(JH.payloadBytes, h.payloadBytes, true);
  writeU64(dv, JH.txnSeq, h.txnSeq);
  dv.setUint32(JH.payloadCrc, h.payloadCrc, true);
  out.set(utf8Prefix(h.description, DESCRIPTION_BYTES), JH.description); // a long description is cut between characters
  dv.setUint32(JH.crc, headerCrc(out), true);
  return out;
}

/** CRC-32 of bytes 0..123 with the state field read as zero, so the state word can change alone. */
function headerCrc(bytes: Uint8Array): number {
  const c = crc32Zeros(4, crc32Range(bytes, 0, JH.state));
  return crc32Range(bytes, JH.state + 4, JH.crc, c);
}

/** The 8-byte state word (state, payloadBytes) that commits or clears a transaction in one atomic store. */
export function encodeStateWord(state: number, payloadBytes: number): Uint8Array {
  const out = new Uint8Array(8);
  view(out).setUint32(0, state, true);
  view(out).setUint32(4, payloadBytes, true);
  return out;
}

/**
 * Decodes the header. One whose checksum fails is returned as a torn intent:
 * only an interrupted step-(1) write leaves one (see above). Images written
 * before the state word was left out of the checksum are accepted too.
 */
export function decodeJournalHeader(bytes: Uint8Array, offset: number, file?: string): JournalHeader {
  const dv = view(bytes);
  if (readString(bytes, JH.magic, 8) !== JOURNAL_MAGIC) throw new ImageError('journal header has no magic', { file, field: 'journal.magic', offset });
  const crc = dv.getUint32(JH.crc, true);
  // The transaction number is one aligned 8-byte store: a torn header still holds the old one or the new one, never one past 2^53.
  const txnSeq = readU64(dv, JH.txnSeq);
  if (Number.isNaN(txnSeq)) throw new ImageError('journal transaction number is 2^53 or more', { file, field: 'journal.txnSeq', offset: offset + JH.txnSeq });
  if (crc !== headerCrc(bytes) && crc !== crc32(bytes.subarray(0, JH.crc))) {
    return { state: JOURNAL_INTENT, torn: true, payloadBytes: 0, txnSeq, payloadCrc: 0, description: '' };
  }
  const state = dv.getUint32(JH.state, true);
  if (state > JOURNAL_COMMITTED) throw new ImageError(`journal state ${state} unknown`, { file, field: 'journal.state', offset: offset + JH.state });
  return {
    state,
    payloadBytes: dv.getUint32(JH.payloadBytes, true),
    txnSeq,
    payloadCrc: dv.getUint32(JH.payloadCrc, true),
    description: readString(bytes, JH.description, DESCRIPTION_BYTES),
  };
}

export function journalCapacity(region: Region): number {
  return region.frames * PAGE_SIZE - JOURNAL_HEADER_SIZE;
}

let scratch = new Uint8Array(0);

/**
 * Room for a journal record, reused from one transaction to the next (a store
 * copies what it is given, and records of up to a MiB would otherwise be new
 * memory each time). Every byte of it is written before it is used.
 */
function recordBuffer(bytes: number): Uint8Array {
  if (scratch.length < bytes) scratch = new Uint8Array(Math.max(bytes, 2 * scratch.length));
  return scratch.subarray(0, bytes);
}

/** Writes a transaction through the journal. Every store.write here is one persistence point. */
export function commitThroughJournal(store: Store, region: Region, ranges: ByteRange[], description: string, txnSeq: number): void {
  const start = region.startPfn * PAGE_SIZE;
  const payloadBytes = encodedSize(ranges);
  if (payloadBytes > journalCapacity(region)) {
    throw new OperationError(`operation too large for the journal (${payloadBytes} bytes, capacity ${journalCapacity(region)}); try a smaller count`);
  }
  const record = recordBuffer(JOURNAL_HEADER_SIZE + payloadBytes);
  encodeRanges(ranges, record, JOURNAL_HEADER_SIZE);
  const payloadCrc = crc32(record.subarray(JOURNAL_HEADER_SIZE));
  const header = { state: JOURNAL_INTENT, payloadBytes, txnSeq, payloadCrc, description };
  record.set(encodeJournalHeader(header), 0);
  store.write(start, record);
  store.flush();
  store.write(start + JOURNAL_STATE_WORD, encodeStateWord(JOURNAL_COMMITTED, payloadBytes));
  store.flush();
  applyInPlace(store, ranges);
  store.write(start + JOURNAL_STATE_WORD, encodeStateWord(JOURNAL_EMPTY, payloadBytes));
  // The next transaction overwrites the payload: "committed" must not outlive it.
  store.flush();
}

/**
 * Writes a transaction's ranges in place and flushes. The last frame (the
 * backup superblock) goes after a barrier of its own, so the two superblock
 * copies are never in flight together: a torn primary always has an intact
 * backup to find the journal by, and the other way round.
 */
function applyInPlace(store: Store, ranges: ByteRange[]): void {
  const barrier = store.size - PAGE_SIZE;
  const late: ByteRange[] = [];
  for (const r of ranges) {
    const end = r.offset + r.data.length;
    if (end <= barrier) store.write(r.offset, r.data);
    else if (r.offset >= barrier) late.push(r);
    else {
      store.write(r.offset, r.data.subarray(0, barrier - r.offset));
      late.push({ offset: barrier, data: r.data.subarray(barrier - r.offset) });
    }
  }
  if (late.length) {
    store.flush();
    for (const r of late) store.write(r.offset, r.data);
  }
  store.flush();
}

/**
 * Splits ranges into groups whose payload fits the journal, each group to be
 * its own transaction. A range is cut only at a multiple of `record` bytes of
 * the image (a descriptor), so no record is ever half in one transaction and
 * half in the next.
 */
export function journalChunks(ranges: ByteRange[], capacity: number, record = 8): ByteRange[][] {
  const ENTRY_HEADER = 16; // u64 offset, u32 length, u32 0
  const out: ByteRange[][] = [];
  let part: ByteRange[] = [];
  let used = 0;
  for (const r of ranges) {
    for (let done = 0; done < r.data.length; ) {
      const at = r.offset + done;
      const left = r.data.length - done;
      const room = (capacity - used - ENTRY_HEADER) & ~7;
      // The most that fits, cut back to a record boundary unless the rest fits whole.
      let n = left <= room ? left : Math.floor((at + room) / record) * record - at;
      if (n <= 0) {
        if (part.length === 0) throw new OperationError(`a ${record}-byte record does not fit the journal (${capacity} bytes)`);
        out.push(part);
        part = [];
        used = 0;
        continue;
      }
      n = Math.min(n, left);
      part.push({ offset: at, data: r.data.subarray(done, done + n) });
      used += ENTRY_HEADER + ((n + 7) & ~7);
      done += n;
    }
  }
  if (part.length) out.push(part);
  return out;
}

export interface RecoveryResult {
  action: 'none' | 'rolled-forward' | 'rolled-back';
  description: string;
  txnSeq: number;
}

/** Brings the device to a transaction boundary. Idempotent: safe to crash during recovery too. */
export function recoverJournal(store: Store, region: Region, file?: string): RecoveryResult {
  const start = region.startPfn * PAGE_SIZE;
  const header = decodeJournalHeader(store.read(start, JOURNAL_HEADER_SIZE), start, file);
  if (header.state === JOURNAL_EMPTY) return { action: 'none', description: '', txnSeq: header.txnSeq };
  const cleared = encodeStateWord(JOURNAL_EMPTY, header.payloadBytes);
  if (header.torn) {
    // A whole new header: the torn one has no checksum a state word could restore.
    store.write(start, encodeJournalHeader({ state: JOURNAL_EMPTY, payloadBytes: 0, txnSeq: header.txnSeq, payloadCrc: 0, description: '' }));
    store.flush();
    return { action: 'rolled-back', description: 'a transaction whose journal header was torn', txnSeq: header.txnSeq };
  }
  if (header.state === JOURNAL_INTENT) {
    store.write(start + JOURNAL_STATE_WORD, cleared);
    store.flush();
    return { action: 'rolled-back', description: header.description, txnSeq: header.txnSeq };
  }
  if (header.payloadBytes > journalCapacity(region)) throw new ImageError(`journal payload length ${header.payloadBytes} exceeds the journal`, { file, field: 'journal.payloadBytes', offset: start + JH.payloadBytes });
  const payload = store.read(start + JOURNAL_HEADER_SIZE, header.payloadBytes);
  if (crc32(payload) !== header.payloadCrc) throw new ImageError('committed journal payload is corrupt (checksum mismatch)', { file, field: 'journal.payloadCrc', offset: start + JH.payloadCrc });
  const ranges = decodeRanges(payload, 0, payload.length, store.size);
  if (!ranges) throw new ImageError('committed journal payload is malformed', { file, field: 'journal.payload', offset: start + JOURNAL_HEADER_SIZE });
  applyInPlace(store, ranges);
  store.write(start + JOURNAL_STATE_WORD, cleared);
  store.flush();
  return { action: 'rolled-forward', description: header.description, txnSeq: header.txnSeq };
}

/** Reads the journal header without changing anything (for read-only opens and the checker). */
export function peekJournal(store: Store, region: Region, file?: string): JournalHeader {
  const start = region.startPfn * PAGE_SIZE;
  return decodeJournalHeader(store.read(start, JOURNAL_HEADER_SIZE), start, file);
}
