/**
 * Binary summaries of compact history records. The operations' JSON summaries
 * (with their one-line `text`) are rebuilt from a few fields when read, and a
 * summary is stored in binary only when the rebuilt one is identical to what
 * the operation gave, key order included; otherwise it is stored as JSON.
 */
import { ByteReader, ByteWriter, CodecError, varintAt, varintEnd } from './compact';
import { ZONE_NAMES } from './constants';
import type { HistoryKind } from './historyKind';

export type Summary = { text: string; [key: string]: unknown };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The first pfns and how many there are, as the operations' texts show them. */
function listPfns(pfns: number[], count: number): string {
  return count <= 4 ? pfns.slice(0, count).join(', ') : `${pfns.slice(0, 3).join(', ')}, ... (${count} blocks)`;
}

/** Summaries built here: their binary form gives them back exactly, by construction. */
const canonical = new WeakSet<Summary>();

/** An allocation's summary, as operations give it and as its binary form is read back. */
export function allocSummary(order: number, count: number, owner: string, pfns: number[], node: number, zone: number, initialisedSections: number[]): Summary {
  const text = `alloc order ${order}${count > 1 ? ` x${count}` : ''}${owner ? ` for ${owner}` : ''} → pfn ${listPfns(pfns, count)}, node ${node} ${ZONE_NAMES[zone]}`;
  const s = { text, order, count, owner, pfns: pfns.slice(0, 256), node, zone, initialisedSections };
  canonical.add(s);
  return s;
}

/** A free's summary (pfns and their orders, the first 256 kept), as operations give it and as it is read back. */
export function freeSummary(pfns: number[], orders: number[], count: number, initialisedSections: number[]): Summary {
  const kept = orders.slice(0, 256);
  const text = `free pfn ${listPfns(pfns, count)} (order ${[...new Set(kept)].join('/')})`;
  const s = { text, pfns: pfns.slice(0, 256), orders: kept, initialisedSections };
  // The binary form holds no count beyond the pfns it lists: a longer free's text would come back wrong.
  if (count === s.pfns.length) canonical.add(s);
  return s;
}

/** A block one operation took or gave back: what its one-block summary holds. */
export interface OneBlock {
  pfn: number;
  order: number;
  /** The owner tag (an allocation's; a free's summary holds none). */
  owner: string;
  node: number;
  zone: number;
}

/**
 * Writes the binary summary of a one-block allocation or free that
 * initialised no section: the bytes encodeBinarySummary gives for
 * allocSummary or freeSummary of it, without making either (one operation at
 * a time writes one of these each).
 */
export function writeOneBlockSummary(w: ByteWriter, kind: 'alloc' | 'free', b: OneBlock): void {
  if (!isCount(b.order) || b.order > 31) throw new RangeError(`a one-block summary's order must be 0 to 31, not ${b.order}`);
  if (kind === 'alloc') {
    if (!isCount(b.node) || !isCount(b.zone) || b.zone > 2) throw new RangeError(`a one-block summary's node and zone are out of range (${b.node}, ${b.zone})`);
    w.u8(b.order | 0x20 | 0x40 | (b.owner === '' ? 0x80 : 0));
    if (b.owner !== '') writeString(w, b.owner);
    w.varint(b.node * 3 + b.zone);
  } else {
    w.u8(b.order | 0x20 | 0x40 | 0x80);
  }
  w.varint(b.pfn);
}

function writeString(w: ByteWriter, s: string): void {
  const b = encoder.encode(s);
  w.varint(b.length);
  w.bytes(b);
}

function readString(r: ByteReader): string {
  const at = r.pos;
  const n = r.varint();
  try {
    return decoder.decode(r.take(n));
  } catch (e) {
    if (e instanceof CodecError) throw e;
    throw new CodecError('summary text is not UTF-8', at);
  }
}

/** Ascending or not, as first value then signed differences. */
function writeList(w: ByteWriter, xs: number[]): void {
  w.varint(xs[0]);
  for (let i = 1; i < xs.length; i++) w.zigzag(xs[i] - xs[i - 1]);
}

function readList(r: ByteReader, n: number): number[] {
  const out: number[] = [];
  const at = r.pos;
  for (let i = 0; i < n; i++) {
    const v = i === 0 ? r.varint() : out[i - 1] + r.zigzag();
    if (!Number.isSafeInteger(v) || v < 0) throw new CodecError(`summary number ${v} is out of range`, at);
    out.push(v);
  }
  return out;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isList = (v: unknown): v is number[] => Array.isArray(v) && v.every(isCount);

// Alloc: byte A = order (bits 0-4), count is 1 (bit 5), no initialised sections (bit 6), no owner (bit 7).
// Free: byte A = the orders when all equal (bits 0-4), they are (bit 5), no sections (bit 6), one pfn (bit 7).
// Boot: byte A = wasClean (bit 0), previousProfile = profile (bit 1), recovery action (bits 2-3).
const RECOVERY_ACTIONS = ['none', 'rolled-forward', 'rolled-back'] as const;

function writeSections(w: ByteWriter, sections: number[]): void {
  w.varint(sections.length);
  if (sections.length) writeList(w, sections);
}

function readSections(r: ByteReader): number[] {
  const n = r.varint();
  if (n > 256) throw new CodecError(`summary lists ${n} sections`, r.pos);
  return readList(r, n);
}

/** Tries the binary form; returns it only when it reads back as the same summary. */
/** True when a and b are the same JSON data (same keys in the same order, same values): what JSON.stringify would say, without building the strings. */
function samePlainData(a: unknown, b: unknown): boolean {
  if (a === b) return typeof a !== 'number' || Number.isFinite(a);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const y = b as unknown[];
    if (a.length !== y.length) return false;
    for (let i = 0; i < a.length; i++) if (!samePlainData(a[i], y[i])) return false;
    return true;
  }
  const [x, y] = [a as Record<string, unknown>, b as Record<string, unknown>];
  const keys = Object.keys(x);
  const other = Object.keys(y);
  if (keys.length !== other.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== other[i] || !samePlainData(x[keys[i]], y[keys[i]])) return false;
  return true;
}

export function encodeBinarySummary(kind: HistoryKind, generation: number, s: Summary): Uint8Array | undefined {
  const w = new ByteWriter();
  try {
    if (!writeFields(w, kind, s)) return undefined;
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
  const bytes = w.result();
  if (canonical.has(s)) return bytes;
  try {
    const r = new ByteReader(bytes, 0, bytes.length);
    const back = decodeBinarySummary(kind, generation, r);
    if (!r.done || !samePlainData(back.summary, s)) return undefined;
  } catch (e) {
    if (e instanceof CodecError) return undefined;
    throw e;
  }
  return bytes;
}

function writeFields(w: ByteWriter, kind: HistoryKind, s: Summary): boolean {
  if (kind === 'alloc') {
    const { order, count, owner, pfns, node, zone, initialisedSections: secs } = s;
    if (!isCount(order) || order > 31 || !isCount(count) || count < 1 || typeof owner !== 'string' || !isList(pfns) || pfns.length !== Math.min(count, 256) || !isCount(node) || !isCount(zone) || zone > 2 || !isList(secs)) return false;
    w.u8(order | (count === 1 ? 0x20 : 0) | (secs.length === 0 ? 0x40 : 0) | (owner === '' ? 0x80 : 0));
    if (count !== 1) w.varint(count);
    if (owner !== '') writeString(w, owner);
    w.varint(node * 3 + zone);
    writeList(w, pfns);
    if (secs.length) writeSections(w, secs);
    return true;
  }
  if (kind === 'free') {
    const { pfns, orders, initialisedSections: secs } = s;
    if (!isList(pfns) || pfns.length === 0 || !isList(orders) || orders.length !== pfns.length || !isList(secs)) return false;
    const sameOrder = orders.every((o) => o === orders[0]) && orders[0] <= 31;
    w.u8((sameOrder ? orders[0] | 0x20 : 0) | (secs.length === 0 ? 0x40 : 0) | (pfns.length === 1 ? 0x80 : 0));
    if (pfns.length !== 1) w.varint(pfns.length);
    writeList(w, pfns);
    if (!sameOrder) for (const o of orders) w.varint(o);
    if (secs.length) writeSections(w, secs);
    return true;
  }
  if (kind === 'boot') {
    const { wasClean, profile, previousProfile, recovery } = s;
    const rec = recovery as { action?: unknown; description?: unknown; txnSeq?: unknown } | undefined;
    const action = RECOVERY_ACTIONS.indexOf(rec?.action as (typeof RECOVERY_ACTIONS)[number]);
    if (typeof wasClean !== 'boolean' || typeof profile !== 'string' || typeof previousProfile !== 'string' || action < 0 || typeof rec?.description !== 'string' || !isCount(rec.txnSeq)) return false;
    w.u8((wasClean ? 1 : 0) | (previousProfile === profile ? 2 : 0) | (action << 2));
    writeString(w, profile);
    if (previousProfile !== profile) writeString(w, previousProfile);
    w.varint(rec.txnSeq);
    if (action !== 0) writeString(w, rec.description);
    return true;
  }
  if (kind === 'init') {
    const { sections, handedOver, reinitialised } = s;
    if (!isList(sections) || sections.length === 0 || sections.length > 256 || !isCount(handedOver) || !isCount(reinitialised)) return false;
    writeSections(w, sections);
    w.varint(handedOver);
    w.varint(reinitialised);
    return true;
  }
  return false;
}

/** Reads a binary summary; `pfn` is its first pfn (0 when it has none), the base of the undo entries' pfns. */
export function decodeBinarySummary(kind: HistoryKind, generation: number, r: ByteReader): { summary: Summary; pfn: number } {
  const at = r.pos;
  if (kind === 'alloc') {
    const a = r.u8();
    const order = a & 0x1f;
    const count = a & 0x20 ? 1 : r.varint();
    if (count < 1) throw new CodecError('alloc summary counts 0 blocks', at);
    const owner = a & 0x80 ? '' : readString(r);
    const nz = r.varint();
    const node = Math.floor(nz / 3);
    const zone = nz % 3;
    const pfns = readList(r, Math.min(count, 256));
    const initialisedSections = a & 0x40 ? [] : readSections(r);
    return { summary: allocSummary(order, count, owner, pfns, node, zone, initialisedSections), pfn: pfns[0] };
  }
  if (kind === 'free') {
    const a = r.u8();
    const count = a & 0x80 ? 1 : r.varint();
    if (count < 1 || count > 256) throw new CodecError(`free summary lists ${count} pfns`, at);
    const pfns = readList(r, count);
    const orders = a & 0x20 ? pfns.map(() => a & 0x1f) : pfns.map(() => r.varint());
    const initialisedSections = a & 0x40 ? [] : readSections(r);
    return { summary: freeSummary(pfns, orders, count, initialisedSections), pfn: pfns[0] };
  }
  if (kind === 'boot') {
    const a = r.u8();
    const action = RECOVERY_ACTIONS[(a >> 2) & 3];
    if (!action || a & 0xf0) throw new CodecError(`boot summary flags 0x${a.toString(16)} are invalid`, at);
    const wasClean = (a & 1) !== 0;
    const profile = readString(r);
    const previousProfile = a & 2 ? profile : readString(r);
    const txnSeq = r.varint();
    const description = action === 'none' ? '' : readString(r);
    const recoveryText = action === 'rolled-forward' ? `; recovery rolled forward "${description}"` : action === 'rolled-back' ? `; recovery rolled back "${description}"` : '';
    const text = `boot ${generation} (${wasClean ? 'clean' : 'after crash'}, profile ${profile})${recoveryText}`;
    return { summary: { text, wasClean, profile, previousProfile, recovery: { action, description, txnSeq } }, pfn: 0 };
  }
  if (kind === 'init') {
    const sections = readSections(r);
    if (sections.length === 0) throw new CodecError('init summary lists no section', at);
    const handedOver = r.varint();
    const reinitialised = r.varint();
    const text = sections.length === 1 ? `init section ${sections[0]}` : `init sections ${sections[0]}..${sections[sections.length - 1]}`;
    return { summary: { text, sections, handedOver, reinitialised }, pfn: 0 };
  }
  throw new CodecError(`a ${kind} record has no binary summary`, at);
}

/**
 * Steps over a binary summary at `p` without building it (its decoder checks
 * it when it is read); returns its first pfn (0 when it has none), the base
 * of the undo entries' pfns, and leaves the position after it in `summaryEnd`.
 */
export function skipBinarySummary(kind: HistoryKind, b: Uint8Array, p: number, end: number): number {
  let pfn = 0;
  const skip = (n: number) => {
    if (n > end - p) throw new CodecError('summary ends too early', p);
    p += n;
  };
  const num = () => {
    const v = varintAt(b, p, end);
    p = varintEnd;
    return v;
  };
  const byte = () => {
    if (p >= end) throw new CodecError('summary ends too early', p);
    return b[p++];
  };
  const skipSections = () => {
    for (let n = num(); n > 0; n--) num();
  };
  if (kind === 'alloc') {
    const a = byte();
    const count = a & 0x20 ? 1 : num();
    if (!(a & 0x80)) skip(num());
    num();
    pfn = num();
    for (let i = Math.min(count, 256) - 1; i > 0; i--) num();
    if (!(a & 0x40)) skipSections();
  } else if (kind === 'free') {
    const a = byte();
    const count = a & 0x80 ? 1 : num();
    pfn = num();
    for (let i = 1; i < count; i++) num();
    if (!(a & 0x20)) for (let i = 0; i < count; i++) num();
    if (!(a & 0x40)) skipSections();
  } else if (kind === 'boot') {
    const a = byte();
    skip(num());
    if (!(a & 2)) skip(num());
    num();
    if ((a >> 2) & 3) skip(num());
  } else if (kind === 'init') {
    skipSections();
    num();
    num();
  } else throw new CodecError(`a ${kind} record has no binary summary`, p);
  summaryEnd = p;
  return pfn;
}

/** Position after the summary the last skipBinarySummary stepped over. */
export let summaryEnd = 0;
