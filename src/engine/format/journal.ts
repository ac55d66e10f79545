/**
 * The journal: a redo log that makes each operation crash-atomic. An operation
 * is staged in memory, then written as (1) header "intent" + payload, (2)
 * header "committed", (3) the payload's ranges in place, (4) header "empty".
 * Recovery at boot rolls a committed transaction forward and discards an
 * intent, so the device holds exactly the state before or after.
 */
import { crc32, readString, readU64, view, writeString, writeU64 } from '../bytes';
import { ImageError, OperationError } from '../errors';
import { PAGE_SIZE } from './constants';
import { Region } from './layout';
import { ByteRange, decodeRanges, encodedSize, encodeRanges } from './rangeList';
import type { Store } from '../store/store';

export const JOURNAL_MAGIC = 'PMEMJRNL';
export const JOURNAL_HEADER_SIZE = 128;
export const JH = { magic: 0, state: 8, payloadBytes: 12, txnSeq: 16, payloadCrc: 24, description: 32, crc: 124 } as const;
const DESCRIPTION_BYTES = 64;

export const JOURNAL_EMPTY = 0;
export const JOURNAL_INTENT = 1;
export const JOURNAL_COMMITTED = 2;

export interface JournalHeader {
  state: number;
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
  const desc = new TextEncoder().encode(h.description).subarray(0, DESCRIPTION_BYTES);
  out.set(desc, JH.description);
  dv.setUint32(JH.crc, crc32(out.subarray(0, JH.crc)), true);
  return out;
}

export function decodeJournalHeader(bytes: Uint8Array, offset: number, file?: string): JournalHeader {
  const dv = view(bytes);
  if (readString(bytes, JH.magic, 8) !== JOURNAL_MAGIC) throw new ImageError('journal header has no magic', { file, field: 'journal.magic', offset });
  if (dv.getUint32(JH.crc, true) !== crc32(bytes.subarray(0, JH.crc))) throw new ImageError('journal header checksum mismatch', { file, field: 'journal.crc', offset: offset + JH.crc });
  const state = dv.getUint32(JH.state, true);
  if (state > JOURNAL_COMMITTED) throw new ImageError(`journal state ${state} unknown`, { file, field: 'journal.state', offset: offset + JH.state });
  const txnSeq = readU64(dv, JH.txnSeq);
  if (Number.isNaN(txnSeq)) throw new ImageError('journal transaction number is 2^53 or more', { file, field: 'journal.txnSeq', offset: offset + JH.txnSeq });
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

/** Writes a transaction through the journal. Every store.write here is one persistence point. */
export function commitThroughJournal(store: Store, region: Region, ranges: ByteRange[], description: string, txnSeq: number): void {
  const start = region.startPfn * PAGE_SIZE;
  const payloadBytes = encodedSize(ranges);
  if (payloadBytes > journalCapacity(region)) {
    throw new OperationError(`operation too large for the journal (${payloadBytes} bytes, capacity ${journalCapacity(region)}); try a smaller count`);
  }
  const record = new Uint8Array(JOURNAL_HEADER_SIZE + payloadBytes);
  encodeRanges(ranges, record, JOURNAL_HEADER_SIZE);
  const payloadCrc = crc32(record.subarray(JOURNAL_HEADER_SIZE));
  const header = { state: JOURNAL_INTENT, payloadBytes, txnSeq, payloadCrc, description };
  record.set(encodeJournalHeader(header), 0);
  store.write(start, record);
  store.flush();
  store.write(start, encodeJournalHeader({ ...header, state: JOURNAL_COMMITTED }));
  store.flush();
  for (const r of ranges) store.write(r.offset, r.data);
  store.flush();
  store.write(start, encodeJournalHeader({ ...header, state: JOURNAL_EMPTY, payloadBytes: 0, payloadCrc: 0 }));
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
  const cleared = encodeJournalHeader({ ...header, state: JOURNAL_EMPTY, payloadBytes: 0, payloadCrc: 0 });
  if (header.state === JOURNAL_INTENT) {
    store.write(start, cleared);
    store.flush();
    return { action: 'rolled-back', description: header.description, txnSeq: header.txnSeq };
  }
  if (header.payloadBytes > journalCapacity(region)) throw new ImageError(`journal payload length ${header.payloadBytes} exceeds the journal`, { file, field: 'journal.payloadBytes', offset: start + JH.payloadBytes });
  const payload = store.read(start + JOURNAL_HEADER_SIZE, header.payloadBytes);
  if (crc32(payload) !== header.payloadCrc) throw new ImageError('committed journal payload is corrupt (checksum mismatch)', { file, field: 'journal.payloadCrc', offset: start + JH.payloadCrc });
  const ranges = decodeRanges(payload, 0, payload.length, store.size);
  if (!ranges) throw new ImageError('committed journal payload is malformed', { file, field: 'journal.payload', offset: start + JOURNAL_HEADER_SIZE });
  for (const r of ranges) store.write(r.offset, r.data);
  store.flush();
  store.write(start, cleared);
  store.flush();
  return { action: 'rolled-forward', description: header.description, txnSeq: header.txnSeq };
}

/** Reads the journal header without changing anything (for read-only opens and the checker). */
export function peekJournal(store: Store, region: Region, file?: string): JournalHeader {
  const start = region.startPfn * PAGE_SIZE;
  return decodeJournalHeader(store.read(start, JOURNAL_HEADER_SIZE), start, file);
}
