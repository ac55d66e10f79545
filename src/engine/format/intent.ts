/**
 * The operation intent: a 64-byte slot in the history region's first frame,
 * after the history header. An operation too large for one journal
 * transaction runs as several; the slot says what the whole operation is and
 * how far it got, and is written by each of those transactions, so it is
 * always in step with the state. A boot that finds it set completes the
 * operation (roll forward), so a crash leaves it either not begun or done.
 */
import { crc32, readString, readU64, view, writeString, writeU64 } from '../core/bytes';
import { ImageError } from '../core/errors';
import { PAGE_SIZE } from './constants';
import { HISTORY_HEADER_SIZE } from './history';
import { Region } from './layout';

export const INTENT_SIZE = 64;
export const INTENT_MAGIC = 0x4e544e49; // "INTN"
export const INTENT = { magic: 0, kind: 4, order: 5, zone: 6, flags: 7, node: 8, count: 16, done: 24, owner: 32, lo: 32, hi: 40, crc: 60 } as const;
export const INTENT_OWNER_BYTES = 16;
export const INTENT_STRICT = 1 << 0;
/** Kind 3: its blocks are still being marked (PG_freeing); a crash then rolls the operation back. */
export const INTENT_MARKING = 1 << 1;

/**
 * kind 1: allocate `count` blocks; kind 2: free every allocated block whose
 * owner is `owner`; kind 3: free the allocated heads marked PG_freeing in
 * [lo, hi) (`count` of them when it began).
 */
export const INTENT_KINDS = ['alloc', 'free-owner', 'free-listed'] as const;
export type IntentKind = (typeof INTENT_KINDS)[number];

export interface Intent {
  kind: IntentKind;
  order: number;
  /** Highest zone allowed (alloc), as a zone id. */
  zone: number;
  node: number;
  strict: boolean;
  /** Blocks asked for (alloc); blocks found at the start (free-owner). */
  count: number;
  /** Blocks done by the transactions committed so far. */
  done: number;
  owner: string;
  /** Kind 3: the marks are still being set (else the marked blocks are being freed). */
  marking?: boolean;
  /** Kind 3: the listed heads lie in [lo, hi) (bytes 32..47, where the other kinds keep the owner). */
  lo?: number;
  hi?: number;
}

export function intentOffset(history: Region): number {
  return history.startPfn * PAGE_SIZE + HISTORY_HEADER_SIZE;
}

/** An all-zero slot: no operation in progress. */
export const NO_INTENT = new Uint8Array(INTENT_SIZE);

export function encodeIntent(i: Intent): Uint8Array {
  const out = new Uint8Array(INTENT_SIZE);
  const dv = view(out);
  dv.setUint32(INTENT.magic, INTENT_MAGIC, true);
  dv.setUint8(INTENT.kind, INTENT_KINDS.indexOf(i.kind) + 1);
  dv.setUint8(INTENT.order, i.order);
  dv.setUint8(INTENT.zone, i.zone);
  dv.setUint8(INTENT.flags, (i.strict ? INTENT_STRICT : 0) | (i.marking ? INTENT_MARKING : 0));
  dv.setUint32(INTENT.node, i.node, true);
  writeU64(dv, INTENT.count, i.count);
  writeU64(dv, INTENT.done, i.done);
  if (i.kind === 'free-listed') {
    writeU64(dv, INTENT.lo, i.lo ?? 0);
    writeU64(dv, INTENT.hi, i.hi ?? 0);
  } else {
    writeString(out, INTENT.owner, INTENT_OWNER_BYTES, i.owner);
  }
  dv.setUint32(INTENT.crc, crc32(out.subarray(0, INTENT.crc)), true);
  return out;
}

/** The intent in the slot, or undefined when none; a damaged slot is an error (the operation cannot be finished). */
export function decodeIntent(bytes: Uint8Array, offset: number, file?: string): Intent | undefined {
  const dv = view(bytes);
  const at = (field: keyof typeof INTENT) => ({ file, field: `intent.${field}`, offset: offset + INTENT[field] });
  const magic = dv.getUint32(INTENT.magic, true);
  if (magic === 0) {
    if (bytes.some((b) => b !== 0)) throw new ImageError('operation intent slot is not empty but has no magic', at('magic'));
    return undefined;
  }
  if (magic !== INTENT_MAGIC) throw new ImageError(`operation intent has magic 0x${magic.toString(16)}, expected 0x${INTENT_MAGIC.toString(16)}`, at('magic'));
  if (dv.getUint32(INTENT.crc, true) !== crc32(bytes.subarray(0, INTENT.crc))) throw new ImageError('operation intent checksum mismatch', at('crc'));
  const kind = INTENT_KINDS[dv.getUint8(INTENT.kind) - 1];
  if (!kind) throw new ImageError(`operation intent kind ${dv.getUint8(INTENT.kind)} unknown`, at('kind'));
  const count = readU64(dv, INTENT.count);
  const done = readU64(dv, INTENT.done);
  if (!(done <= count)) throw new ImageError(`operation intent says ${done} of ${count} blocks done`, at('done'));
  const flags = dv.getUint8(INTENT.flags);
  const base = { kind, order: dv.getUint8(INTENT.order), zone: dv.getUint8(INTENT.zone), node: dv.getUint32(INTENT.node, true), strict: (flags & INTENT_STRICT) !== 0, count, done };
  if (kind !== 'free-listed') return { ...base, owner: readString(bytes, INTENT.owner, INTENT_OWNER_BYTES) };
  const lo = readU64(dv, INTENT.lo);
  const hi = readU64(dv, INTENT.hi);
  if (!(lo < hi)) throw new ImageError(`operation intent's pfn range [${lo}, ${hi}) is empty or too large`, at('lo'));
  const marking = (flags & INTENT_MARKING) !== 0;
  if (marking && done !== 0) throw new ImageError(`operation intent says ${done} blocks freed while they are still being marked`, at('done'));
  return { ...base, owner: '', marking, lo, hi };
}
