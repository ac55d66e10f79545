/**
 * Undo entries of compact history records: the bytes an operation overwrote,
 * encoded per structure, keeping only what cannot be derived (docs/FORMAT.md,
 * *History*). Entries are decoded newest record first, on the state right
 * after their record, which is what "newer" means below:
 *
 * - section-table and free-area entries, and free-list link records, are
 *   stored as differences from the newer bytes: only journaled operations,
 *   all recorded, write them;
 * - descriptors and superblocks are stored whole, as their fields' differences
 *   from what can be predicted (a plain descriptor of this pfn, the image's
 *   fixed superblock fields), checksums recomputed: descriptor initialisation
 *   and clean shutdowns rewrite them outside the history;
 * - anything else is stored as bytes, zero runs skipped.
 *
 * The encoder decodes every entry it writes and keeps it only if it gives the
 * old bytes back exactly; otherwise it writes the bytes.
 */
import { readString } from '../core/bytes';
import { ByteReader, ByteWriter, CodecError, crc32Range, unzigzag, varintAt as rv, varintEnd } from './compact';
import { DESCRIPTOR_SIZE, PAGE_SIZE } from './constants';
import { CORE_VERSION, DESC, OWNER_BYTES, PG_ALLOCATED, PG_CORE, PG_RESERVED } from './descriptor';
import { FREE_LINK_MAGIC, FREE_LINK_SIZE, FreeLink, LINK } from './freeLink';
import { FREE_AREA_ENTRY_SIZE, freeAreaEntries, NodeInfo, nodeZoneOf, SECTION_ENTRY_SIZE } from './layout';
import { ByteRange } from './rangeList';
import { decodeSuperblock, encodeSuperblock, Superblock, SUPERBLOCK_SIZE } from './superblock';

/** Entry types: the low 3 bits of an entry's first byte. */
export const UNDO_SECTION = 1;
export const UNDO_AREA = 2;
export const UNDO_DESCRIPTOR = 3;
export const UNDO_LINK = 4;
export const UNDO_SUPERBLOCK = 5;
export const UNDO_RAW = 6;
/** The operation's inverse, run by the allocator (revision 2): tag bit 3 clear frees the block, set allocates it again. */
export const UNDO_INVERSE = 7;
export const UNDO_TYPE_NAMES = ['', 'section', 'free-area', 'descriptor', 'free-link', 'superblock', 'bytes', 'inverse'] as const;
const INVERSE_ALLOCATES = 8;
/** Revision 4: the entry says where in their lists the blocks it puts back stood. */
const INVERSE_PLACED = 16;
/** The most positions an entry may name (one per order a free merged at). */
const MOST_POSITIONS = 64;

/**
 * An inverse entry's operation: free the block (the inverse of an
 * allocation), or allocate it again exactly, with its owner (the inverse of
 * a free).
 */
export interface InverseEntry {
  kind: 'free' | 'allocate';
  pfn: number;
  order: number;
  /** The owner tag's 16 bytes (allocate only). */
  ownerBytes: Uint8Array;
  /**
   * Where the blocks it puts back stood in their lists (revision 4), each the
   * block before it, 0 for the head; none: every one at the head. Free: the
   * block its merges end with. Allocate: the half split off at order + k,
   * for each k.
   */
  after?: readonly number[];
}

/**
 * Runs an inverse entry on `target` (the state right after its record, whose
 * boot generation is `generation`), reporting each place it writes to
 * `onSpan`; throws a CodecError when the allocator cannot. Installed by the
 * allocator (alloc/inverseUndo.ts), which this layer does not import.
 */
export type InverseRunner = (ctx: UndoContext, target: UndoTarget, generation: number, entry: InverseEntry, onSpan: ((offset: number, length: number) => void) | undefined) => void;

let inverseRunner: InverseRunner | undefined;

export function installInverseRunner(run: InverseRunner): void {
  inverseRunner = run;
}

/** Writes an inverse entry for a record whose summary's first pfn is `summaryPfn`. */
export function encodeInverse(w: ByteWriter, summaryPfn: number, entry: InverseEntry): void {
  const allocates = entry.kind === 'allocate';
  const placed = entry.after?.some((q) => q !== 0) ?? false;
  w.u8(UNDO_INVERSE | (allocates ? INVERSE_ALLOCATES : 0) | (placed ? INVERSE_PLACED : 0));
  w.zigzag(entry.pfn - summaryPfn);
  w.varint(entry.order);
  if (allocates) {
    let n = 16;
    while (n > 0 && entry.ownerBytes[n - 1] === 0) n--;
    w.varint(n);
    w.bytes(entry.ownerBytes.subarray(0, n));
  }
  if (!placed) return;
  const after = entry.after!;
  w.varint(after.length);
  for (const q of after) writePfnField(w, q, entry.pfn); // 0: the head
}

const LINE = 64;

/** What decoding needs to know about the image: where its structures are, and its fixed superblock fields. */
export interface UndoContext {
  readonly sb: Superblock;
  readonly size: number;
  readonly totalFrames: number;
  readonly sectionTableAt: number;
  readonly sectionCount: number;
  readonly freeAreaAt: number;
  readonly freeAreaCount: number;
  readonly memmapAt: number;
  readonly memmapDevice: boolean;
  readonly dataStart: number;
  readonly dataEnd: number;
  readonly linksInPages: boolean;
  readonly historyAt: number;
  readonly historyEnd: number;
  readonly backupAt: number;
  readonly nodes: NodeInfo[];
  /** Per zone with frames: first pfn, end pfn, node, zone (flattened, for a quick lookup). */
  readonly zones: Float64Array;
}

export function undoContext(sb: Superblock): UndoContext {
  const g = sb.geometry;
  const L = sb.layout;
  return {
    sb, size: g.sizeBytes, totalFrames: g.totalFrames,
    sectionTableAt: L.sectionTable.startPfn * PAGE_SIZE, sectionCount: g.sectionCount,
    freeAreaAt: L.freeArea.startPfn * PAGE_SIZE, freeAreaCount: freeAreaEntries(g),
    memmapAt: L.memmap.startPfn * PAGE_SIZE, memmapDevice: g.memmap === 'device',
    dataStart: L.data.startPfn, dataEnd: L.data.startPfn + L.data.frames, linksInPages: g.links === 'page',
    historyAt: L.history.startPfn * PAGE_SIZE, historyEnd: (L.history.startPfn + L.history.frames) * PAGE_SIZE,
    backupAt: L.backupSuperblock.startPfn * PAGE_SIZE, nodes: sb.nodes,
    zones: Float64Array.from(sb.nodes.flatMap((n) => n.zones.filter((z) => z.frames > 0).flatMap((z) => [z.firstPfn, z.firstPfn + z.frames, n.id, z.id]))),
  };
}

/** Node × 256 + zone of a pfn (as layout.nodeZoneOf, without an object per call). */
function nodeZone(ctx: UndoContext, pfn: number): number {
  const z = ctx.zones;
  for (let i = 0; i < z.length; i += 4) if (pfn >= z[i] && pfn < z[i + 1]) return z[i + 2] * 256 + z[i + 3];
  const { node, zone } = nodeZoneOf(ctx.nodes, pfn); // throws: outside every node
  return node * 256 + zone;
}

/** Bytes decoding works on: 64-byte lines of the image (each structure but the superblock lies in one), or whole writes. */
export interface LineStore {
  /** The line holding bytes index × 64 .. + 63, with the newer bytes; changes made to it are kept. */
  line(index: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
}

/** A line being decoded: its bytes, and where its checksum goes once decoding is done (-1: none pending). */
interface Line {
  b: Uint8Array;
  crcAt: number;
}

/**
 * Where decoded entries go. A descriptor or link record decoded over
 * another is rewritten whole, so its checksum is computed once, by `finish`,
 * for the oldest state only.
 */
export class UndoTarget {
  private readonly lines = new Map<number, Line>();
  // A small direct-mapped cache in front of the map, for targets that take many records (stepping):
  // the same few lines (free-list heads, section counts, busy descriptors) come back entry after entry.
  private readonly cacheIndex?: Float64Array;
  private readonly cacheLine?: Line[];

  constructor(private readonly store: LineStore, cached = false) {
    if (cached) {
      this.cacheIndex = new Float64Array(256).fill(-1);
      this.cacheLine = new Array<Line>(256);
    }
  }

  line(index: number): Line {
    const slot = index & 255;
    if (this.cacheIndex && this.cacheIndex[slot] === index) return this.cacheLine![slot];
    let l = this.lines.get(index);
    if (!l) {
      l = { b: this.store.line(index), crcAt: -1 };
      this.lines.set(index, l);
    }
    if (this.cacheIndex) {
      this.cacheIndex[slot] = index;
      this.cacheLine![slot] = l;
    }
    return l;
  }

  write(offset: number, data: Uint8Array): void {
    for (let i = Math.floor(offset / LINE); i * LINE < offset + data.length; i++) {
      const l = this.lines.get(i);
      if (l) l.crcAt = -1;
    }
    this.store.write(offset, data);
  }

  /** A line's bytes with its checksum computed, for a reader that checks it (the allocator, running an inverse entry). */
  settled(index: number): Uint8Array {
    const l = this.line(index);
    if (l.crcAt >= 0) {
      setU32(l.b, l.crcAt, crc32Range(l.b, 0, l.crcAt));
      l.crcAt = -1;
    }
    return l.b;
  }

  finish(): void {
    for (const l of this.lines.values()) {
      if (l.crcAt >= 0) setU32(l.b, l.crcAt, crc32Range(l.b, 0, l.crcAt));
      l.crcAt = -1;
    }
  }
}

/** Running state of a record's entries: pfns are coded relative to the previous one. */
export interface UndoState {
  pfn: number;
  /** The record's boot generation, from which descriptor and link generations are predicted. */
  generation: number;
  /** Old bytes of the last superblock entry (a backup copy usually repeats the primary). */
  superblock?: Uint8Array;
  /** Set by an inverse entry: the record restores what its inverse writes, known only by running it. */
  inverse?: boolean;
}

// --- little-endian fields on plain arrays ---------------------------------------------------

const u32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
function setU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >>> 8;
  b[at + 2] = v >>> 16;
  b[at + 3] = v >>> 24;
}
/** A u64 field; NaN at 2^53 or more (never valid in this format). */
function u64(b: Uint8Array, at: number): number {
  const hi = u32(b, at + 4);
  return hi >= 0x200000 ? Number.NaN : hi * 0x1_0000_0000 + u32(b, at);
}
function setU64(b: Uint8Array, at: number, v: number): void {
  if (v <= 0xffff_ffff) {
    setU32(b, at, v);
    setU32(b, at + 4, 0);
    return;
  }
  setU32(b, at, v % 0x1_0000_0000);
  setU32(b, at + 4, Math.floor(v / 0x1_0000_0000));
}

const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;
const allZero = (b: Uint8Array, from = 0, to = b.length) => {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
};
function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A pfn-valued field: 0 (none) as 0, else its distance from `base`, zigzagged, plus 1. */
function writePfnField(w: ByteWriter, v: number, base: number): void {
  w.varint(v === 0 ? 0 : (v >= base ? 2 * (v - base) : 2 * (base - v) - 1) + 1);
}

// --- predictions ------------------------------------------------------------------------------

function plainFlags(ctx: UndoContext, pfn: number): number {
  return PG_CORE | (pfn < ctx.dataStart || pfn >= ctx.dataEnd ? PG_RESERVED : 0);
}

// Descriptor entry: bit 3 set = fields follow (else all zero); bits 4-6 = flags, order, owner differ
// from the prediction; bit 7 = a second mask byte follows (node and zone, refcount, initGeneration,
// next, prev, volatileFlags).
const D_FIELDS = 0x08;
const D_FLAGS = 0x10;
const D_ORDER = 0x20;
const D_OWNER = 0x40;
const D_MORE = 0x80;
const DX_NODEZONE = 0x01;
const DX_REFCOUNT = 0x02;
const DX_INITGEN = 0x04;
const DX_NEXT = 0x08;
const DX_PREV = 0x10;
const DX_VOLATILE = 0x20;

// Link entry: bits 3-4 = 0 all zero, 1 fields against a prediction, 2 fields against the newer
// record; bits 5-6 = next, prev differ; bit 7 = a second mask byte (order, node, zone, generation).
const L_PREDICTED = 1;
const L_NEWER = 2;
const L_NEXT = 0x20;
const L_PREV = 0x40;
const L_MORE = 0x80;
const LX_ORDER = 0x01;
const LX_NODE = 0x02;
const LX_ZONE = 0x04;
const LX_GEN = 0x08;

// Superblock entry: bit 3 = the backup copy (else the primary); bit 4 = the same old bytes as the
// record's previous superblock entry; bit 5 = CLEAN.
const S_BACKUP = 0x08;
const S_SAME = 0x10;
const S_CLEAN = 0x20;

// --- encoding ---------------------------------------------------------------------------------

/**
 * Encodes the undo ranges of one record. `readNewer` gives the bytes the
 * operation leaves (its transaction's view). Ranges inside the history region
 * are left out: stepping shows the history as it is.
 */
export function encodeUndo(ctx: UndoContext | undefined, ranges: Iterable<ByteRange>, readNewer: (offset: number, length: number) => Uint8Array, state: UndoState, w: ByteWriter, maxBytes = Infinity): boolean {
  for (const r of ranges) {
    if (r.data.length === 0) continue; // nothing to restore (and no zone holds nothing)
    const end = r.offset + r.data.length;
    // Most ranges lie in one region (a descriptor, a link record, an entry): no cutting.
    const zone = ctx ? zoneHolding(ctx, r.offset, end) : undefined;
    if (zone) {
      if (zone === 'history') continue;
      encodePiece(ctx, { zone, from: r.offset, to: end }, r.data, zone === 'memmap' ? NOT_READ : readNewer(r.offset, r.data.length), state, w);
      if (w.length > maxBytes) return false;
      continue;
    }
    for (const piece of cutAtRegions(ctx, r.offset, end)) {
      const old = r.data.subarray(piece.from - r.offset, piece.to - r.offset);
      if (piece.zone === 'history') continue;
      // A descriptor's entry is coded from its old bytes alone: the newer ones are not read for it.
      encodePiece(ctx, piece, old, piece.zone === 'memmap' ? NOT_READ : readNewer(piece.from, piece.to - piece.from), state, w);
      // Past `maxBytes` the entries would not be kept (a checkpoint worth less than the records it stands for): stop.
      if (w.length > maxBytes) return false;
    }
  }
  return true;
}

/** Stands for the newer bytes of a memmap piece, which its entries never look at. */
const NOT_READ = new Uint8Array(0);

type Zone = 'superblock' | 'backup' | 'section' | 'area' | 'memmap' | 'history' | 'data' | 'other';

const zoneTables = new WeakMap<UndoContext, Array<[Zone, number, number]>>();

function zonesOf(ctx: UndoContext): Array<[Zone, number, number]> {
  let zones = zoneTables.get(ctx);
  if (!zones) {
    zones = [
      ['superblock', 0, SUPERBLOCK_SIZE],
      ['section', ctx.sectionTableAt, ctx.sectionTableAt + ctx.sectionCount * SECTION_ENTRY_SIZE],
      ['area', ctx.freeAreaAt, ctx.freeAreaAt + ctx.freeAreaCount * FREE_AREA_ENTRY_SIZE],
      ['history', ctx.historyAt, ctx.historyEnd],
      ['memmap', ctx.memmapAt, ctx.memmapDevice ? ctx.memmapAt + ctx.totalFrames * DESCRIPTOR_SIZE : ctx.memmapAt],
      ['data', ctx.dataStart * PAGE_SIZE, ctx.dataEnd * PAGE_SIZE],
      ['backup', ctx.backupAt, ctx.backupAt + SUPERBLOCK_SIZE],
    ];
    zoneTables.set(ctx, zones);
  }
  return zones;
}

/** The zone that holds all of [from, to), or undefined when it reaches beyond one. */
function zoneHolding(ctx: UndoContext, from: number, to: number): Zone | undefined {
  const zones = zonesOf(ctx);
  for (let i = 0; i < zones.length; i++) {
    const z = zones[i];
    if (from >= z[1] && from < z[2]) return to <= z[2] ? z[0] : undefined;
  }
  return undefined;
}

function cutAtRegions(ctx: UndoContext | undefined, from: number, to: number): Array<{ zone: Zone; from: number; to: number }> {
  if (!ctx) return [{ zone: 'other', from, to }];
  const zones = zonesOf(ctx);
  const out: Array<{ zone: Zone; from: number; to: number }> = [];
  let pos = from;
  while (pos < to) {
    const hit = zones.find(([, a, b]) => pos >= a && pos < b);
    if (hit) {
      const end = Math.min(to, hit[2]);
      out.push({ zone: hit[0], from: pos, to: end });
      pos = end;
    } else {
      // Up to the next zone that starts inside the range.
      const next = Math.min(to, ...zones.map(([, a]) => a).filter((a) => a > pos));
      out.push({ zone: 'other', from: pos, to: next });
      pos = next;
    }
  }
  return out;
}

function encodePiece(ctx: UndoContext | undefined, piece: { zone: Zone; from: number; to: number }, old: Uint8Array, newer: Uint8Array, state: UndoState, w: ByteWriter): void {
  const { zone, from, to } = piece;
  const units = (base: number, size: number, each: (index: number, o: Uint8Array, n: Uint8Array, at: number) => void) => {
    if ((from - base) % size !== 0 || (to - from) % size !== 0) return false;
    for (let at = from; at < to; at += size) each((at - base) / size, old.subarray(at - from, at - from + size), newer.subarray(at - from, at - from + size), at);
    return true;
  };
  const c = ctx!;
  let done = false;
  // Section and free-area entries are differences of every field that changed: exact by construction, no probe needed.
  if (zone === 'section') done = units(c.sectionTableAt, SECTION_ENTRY_SIZE, (s, o, n, at) => exactEntry(w, o, at, () => encodeFields(w, UNDO_SECTION, s, o, n, 4, 4)));
  else if (zone === 'area') done = units(c.freeAreaAt, FREE_AREA_ENTRY_SIZE, (i, o, n, at) => exactEntry(w, o, at, () => encodeFields(w, UNDO_AREA, i, o, n, 2, 8)));
  // Descriptor and link entries are written only for records whose every byte the decoder rebuilds
  // (checksum valid, reserved bytes 0, values in range): exact by construction too.
  else if (zone === 'memmap') {
    // As units() and exactEntry() would, without a closure per descriptor (the commonest entry).
    if ((from - c.memmapAt) % DESCRIPTOR_SIZE === 0 && (to - from) % DESCRIPTOR_SIZE === 0) {
      for (let at = from; at < to; at += DESCRIPTOR_SIZE) {
        const o = old.subarray(at - from, at - from + DESCRIPTOR_SIZE);
        const mark = w.length;
        if (encodeDescriptor(c, w, state, (at - c.memmapAt) / DESCRIPTOR_SIZE, o)) continue;
        w.truncate(mark);
        writeRaw(w, at, o);
      }
      done = true;
    }
  }
  else if (zone === 'data' && c.linksInPages && from % PAGE_SIZE === 0 && to - from === FREE_LINK_SIZE) {
    exactEntry(w, old, from, () => encodeLink(c, w, state, from / PAGE_SIZE, old, newer));
    done = true;
  } else if ((zone === 'superblock' || zone === 'backup') && to - from === SUPERBLOCK_SIZE) {
    tryEntry(c, w, state, old, newer, from, () => encodeSuperblockEntry(w, state, zone === 'backup', old));
    done = true;
  }
  if (!done) writeRaw(w, from, old);
}

/**
 * Writes one structured entry with `encode` (which returns false when the old
 * bytes do not fit its form, or undefined when nothing needs undoing), keeps
 * it only if decoding it over the newer bytes gives the old bytes, else
 * writes the old bytes.
 */
/** An entry whose encoding restores the old bytes whenever it is written (else the raw bytes). */
function exactEntry(w: ByteWriter, old: Uint8Array, at: number, encode: () => boolean | undefined): void {
  const mark = w.length;
  const ok = encode();
  if (ok === undefined || ok) return;
  w.truncate(mark);
  writeRaw(w, at, old);
}

function tryEntry(ctx: UndoContext, w: ByteWriter, state: UndoState, old: Uint8Array, newer: Uint8Array, at: number, encode: () => boolean | undefined): void {
  const mark = w.length;
  const before = { ...state };
  const ok = encode();
  if (ok === undefined) return;
  if (ok) {
    const bytes = w.result().subarray(mark);
    const probe = new ProbeLines(at, newer);
    const check = { ...before };
    try {
      const target = new UndoTarget(probe);
      decodeUndo(bytes, 0, bytes.length, ctx, check, undefined, target);
      target.finish();
      if (probe.matches(old)) {
        Object.assign(state, check);
        return;
      }
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
    }
  }
  w.truncate(mark);
  Object.assign(state, before);
  writeRaw(w, at, old);
}

/** Lines holding one structure's bytes, to check an entry just encoded. */
class ProbeLines implements LineStore {
  private readonly lines = new Map<number, Uint8Array>();
  private readonly written: ByteRange[] = [];

  constructor(private readonly at: number, private readonly bytes: Uint8Array) {}

  line(index: number): Uint8Array {
    let l = this.lines.get(index);
    if (!l) {
      l = new Uint8Array(LINE);
      const start = index * LINE;
      for (let i = 0; i < LINE; i++) {
        const k = start + i - this.at;
        if (k >= 0 && k < this.bytes.length) l[i] = this.bytes[k];
      }
      this.lines.set(index, l);
    }
    return l;
  }

  write(offset: number, data: Uint8Array): void {
    this.written.push({ offset, data: data.slice() });
  }

  matches(old: Uint8Array): boolean {
    const got = this.bytes.slice();
    for (const [index, l] of this.lines) {
      for (let i = 0; i < LINE; i++) {
        const k = index * LINE + i - this.at;
        if (k >= 0 && k < got.length) got[k] = l[i];
      }
    }
    for (const wr of this.written) {
      for (let i = 0; i < wr.data.length; i++) {
        const k = wr.offset + i - this.at;
        if (k >= 0 && k < got.length) got[k] = wr.data[i];
      }
    }
    return same(got, old);
  }
}

/** Section-table (four u32) or free-area (two u64) entry: the fields that differ, as old − newer. */
function encodeFields(w: ByteWriter, type: number, index: number, old: Uint8Array, newer: Uint8Array, fields: number, size: 4 | 8): boolean | undefined {
  const read = size === 4 ? u32 : u64;
  let mask = 0;
  const deltas: number[] = [];
  for (let f = 0; f < fields; f++) {
    const o = read(old, f * size);
    const n = read(newer, f * size);
    if (Number.isNaN(o) || Number.isNaN(n)) return false;
    // Its zigzag form must stay below 2^53.
    if (Math.abs(o - n) >= 2 ** 51) return false;
    if (o !== n) {
      mask |= 1 << f;
      deltas.push(o - n);
    }
  }
  if (mask === 0) return undefined;
  w.u8(type | (mask << 3));
  w.varint(index);
  for (const d of deltas) w.zigzag(d);
  return true;
}

function encodeDescriptor(ctx: UndoContext, w: ByteWriter, state: UndoState, pfn: number, old: Uint8Array): boolean {
  if (allZero(old)) {
    w.u8(UNDO_DESCRIPTOR);
    w.zigzag(pfn - state.pfn);
    state.pfn = pfn;
    return true;
  }
  if (u32(old, DESC.crc) !== crc32Range(old, 0, DESC.crc) || old[DESC.coreVersion] !== CORE_VERSION || u64(old, DESC.pfn) !== pfn) return false;
  const nz = nodeZone(ctx, pfn);
  const [node, zone] = [nz >> 8, nz & 255];
  const flags = u32(old, DESC.flags);
  const ownerLength = trimmedLength(old, DESC.owner, OWNER_BYTES);
  const next = u64(old, DESC.next);
  const prev = u64(old, DESC.prev);
  if (Number.isNaN(next) || Number.isNaN(prev)) return false;
  let tag = UNDO_DESCRIPTOR | D_FIELDS;
  if (flags !== plainFlags(ctx, pfn)) tag |= D_FLAGS;
  if (old[DESC.order] !== 0) tag |= D_ORDER;
  if (ownerLength) tag |= D_OWNER;
  let more = 0;
  if (old[DESC.node] !== node || old[DESC.zone] !== zone) more |= DX_NODEZONE;
  if (u32(old, DESC.refcount) !== (flags & PG_ALLOCATED ? 1 : 0)) more |= DX_REFCOUNT;
  if (u32(old, DESC.initGeneration) !== state.generation) more |= DX_INITGEN;
  if (next !== 0) more |= DX_NEXT;
  if (prev !== 0) more |= DX_PREV;
  if (u32(old, DESC.volatileFlags) !== 0) more |= DX_VOLATILE;
  if (more) tag |= D_MORE;
  w.u8(tag);
  w.zigzag(pfn - state.pfn);
  if (more) w.u8(more);
  if (tag & D_FLAGS) w.varint(flags);
  if (tag & D_ORDER) w.varint(old[DESC.order]);
  if (tag & D_OWNER) {
    w.varint(ownerLength);
    w.bytes(old.subarray(DESC.owner, DESC.owner + ownerLength));
  }
  if (more & DX_NODEZONE) {
    w.varint(old[DESC.node]);
    w.varint(old[DESC.zone]);
  }
  if (more & DX_REFCOUNT) w.varint(u32(old, DESC.refcount));
  if (more & DX_INITGEN) w.zigzag(u32(old, DESC.initGeneration) - state.generation);
  if (more & DX_NEXT) writePfnField(w, next, pfn);
  if (more & DX_PREV) writePfnField(w, prev, pfn);
  if (more & DX_VOLATILE) w.varint(u32(old, DESC.volatileFlags));
  state.pfn = pfn;
  return true;
}

function trimmedLength(b: Uint8Array, at: number, length: number): number {
  let n = length;
  while (n > 0 && b[at + n - 1] === 0) n--;
  return n;
}

const LINK_MAGIC = new TextEncoder().encode(FREE_LINK_MAGIC);

/** The fields of a valid link record of block `pfn` at `at` (its reserved bytes zero), or undefined. */
function linkFields(b: Uint8Array, at: number, pfn: number): FreeLink | undefined {
  for (let i = 0; i < 8; i++) if (b[at + i] !== LINK_MAGIC[i]) return undefined;
  if (u32(b, at + LINK.crc) !== crc32Range(b, at, at + LINK.crc)) return undefined;
  if (u64(b, at + LINK.pfn) !== pfn || b[at + 35] !== 0 || u32(b, at + 40) !== 0) return undefined;
  const next = u64(b, at + LINK.next);
  const prev = u64(b, at + LINK.prev);
  if (Number.isNaN(next) || Number.isNaN(prev)) return undefined;
  return { pfn, next, prev, order: b[at + LINK.order], node: b[at + LINK.node], zone: b[at + LINK.zone], linkedGeneration: u32(b, at + LINK.linkedGeneration) };
}

function encodeLink(ctx: UndoContext, w: ByteWriter, state: UndoState, pfn: number, old: Uint8Array, newer: Uint8Array): boolean | undefined {
  if (same(old, newer)) return undefined;
  if (allZero(old)) {
    w.u8(UNDO_LINK);
    w.zigzag(pfn - state.pfn);
    state.pfn = pfn;
    return true;
  }
  const o = linkFields(old, 0, pfn);
  if (!o) return false;
  const n = linkFields(newer, 0, pfn);
  const ref = n ?? predictedLink(ctx, pfn, state.generation);
  let tag = UNDO_LINK | ((n ? L_NEWER : L_PREDICTED) << 3);
  if (o.next !== ref.next) tag |= L_NEXT;
  if (o.prev !== ref.prev) tag |= L_PREV;
  let more = 0;
  if (o.order !== ref.order) more |= LX_ORDER;
  if (o.node !== ref.node) more |= LX_NODE;
  if (o.zone !== ref.zone) more |= LX_ZONE;
  if (o.linkedGeneration !== ref.linkedGeneration) more |= LX_GEN;
  if (more) tag |= L_MORE;
  w.u8(tag);
  w.zigzag(pfn - state.pfn);
  if (more) w.u8(more);
  if (tag & L_NEXT) writePfnField(w, o.next, pfn);
  if (tag & L_PREV) writePfnField(w, o.prev, pfn);
  if (more & LX_ORDER) w.varint(o.order);
  if (more & LX_NODE) w.varint(o.node);
  if (more & LX_ZONE) w.varint(o.zone);
  if (more & LX_GEN) w.zigzag(o.linkedGeneration - ref.linkedGeneration);
  state.pfn = pfn;
  return true;
}

function predictedLink(ctx: UndoContext, pfn: number, generation: number): FreeLink {
  const nz = nodeZone(ctx, pfn);
  return { pfn, next: 0, prev: 0, order: 0, node: nz >> 8, zone: nz & 255, linkedGeneration: generation };
}

function encodeSuperblockEntry(w: ByteWriter, state: UndoState, backup: boolean, old: Uint8Array): boolean {
  let sb: Superblock;
  try {
    sb = decodeSuperblock(old, 0);
  } catch {
    return false;
  }
  // A field of 2^53 or more (a damaged copy) reads as NaN, which no varint holds: the bytes are kept instead.
  if (![sb.formatVersion, sb.formatRevision, sb.updateSeq, sb.bootGeneration].every(Number.isSafeInteger)) return false;
  const tag = UNDO_SUPERBLOCK | (backup ? S_BACKUP : 0) | (sb.clean ? S_CLEAN : 0);
  if (state.superblock && same(state.superblock, old)) {
    w.u8(tag | S_SAME);
    return true;
  }
  const profile = new TextEncoder().encode(sb.profile);
  w.u8(tag);
  w.varint(sb.formatVersion);
  w.varint(sb.formatRevision);
  w.varint(sb.updateSeq);
  w.varint(sb.bootGeneration);
  w.varint(profile.length);
  w.bytes(profile);
  return true;
}

/** Old bytes as they are, zero runs skipped: (zeros, count, count bytes) until the length is covered. */
function writeRaw(w: ByteWriter, offset: number, old: Uint8Array): void {
  w.u8(UNDO_RAW);
  w.varint(offset);
  w.varint(old.length);
  let i = 0;
  while (i < old.length) {
    const zerosAt = i;
    while (i < old.length && old[i] === 0) i++;
    const litAt = i;
    // A literal run ends at three zeros in a row (a shorter gap costs less kept than skipped).
    while (i < old.length && !(old[i] === 0 && old[i + 1] === 0 && old[i + 2] === 0)) i++;
    w.varint(litAt - zerosAt);
    w.varint(i - litAt);
    w.bytes(old.subarray(litAt, i));
  }
}

// --- decoding ---------------------------------------------------------------------------------

/** Sees where an entry applies (`length` bytes at image byte `offset`; `at`: where it is encoded) before it is written. */
export type SpanCheck = (offset: number, length: number, at: number) => void;

/** A pfn-valued field (see writePfnField). */
function rpfn(b: Uint8Array, p: number, end: number, base: number): number {
  const z = rv(b, p, end);
  if (z === 0) return 0;
  const v = base + unzigzag(z - 1);
  if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER)) throw new CodecError(`pfn field ${v} is out of range`, p);
  return v;
}

/**
 * Decodes the entries in bytes [p, end) of `b`. With a target, writes their
 * old bytes there (it must hold the newer ones); without, only checks them.
 * `onSpan` sees each entry's place before it is written.
 */
export function decodeUndo(b: Uint8Array, p: number, end: number, ctx: UndoContext | undefined, state: UndoState, onSpan: SpanCheck | undefined, target: UndoTarget | undefined): void {
  let pfn = state.pfn;
  while (p < end) {
    const at = p;
    const tag = b[p++];
    const type = tag & 7;
    if (type === UNDO_RAW || type === UNDO_SUPERBLOCK) {
      p = type === UNDO_RAW ? decodeRaw(b, p, end, at, onSpan, target) : decodeSuperblockEntry(b, p, end, ctx, state, tag, at, onSpan, target);
      continue;
    }
    if (type === 0) throw new CodecError(`undo entry type ${type} unknown`, at);
    if (!ctx) throw new CodecError(`a ${UNDO_TYPE_NAMES[type]} undo entry needs the image's layout`, at);
    if (type === UNDO_INVERSE) {
      p = decodeInverse(b, p, end, ctx, state, tag, at, onSpan, target);
      continue;
    }

    if (type === UNDO_SECTION || type === UNDO_AREA) {
      const section = type === UNDO_SECTION;
      const index = rv(b, p, end);
      p = varintEnd;
      const count = section ? ctx.sectionCount : ctx.freeAreaCount;
      if (index >= count || tag >> (section ? 7 : 5)) throw new CodecError(`${section ? `section undo entry for section ${index}` : `free-area undo entry for list ${index}`} is invalid (${count} exist)`, at);
      const offset = (section ? ctx.sectionTableAt : ctx.freeAreaAt) + index * 16;
      if (onSpan) onSpan(offset, 16, at);
      // The section table and free area lie far below 2^32 (16 TiB has 8 Mi sections): 32-bit arithmetic is exact.
      const l = target ? target.line(offset >>> 6).b : undefined;
      const within = offset & 63;
      for (let f = 0; f < (section ? 4 : 2); f++) {
        if (!(tag & (8 << f))) continue;
        const d = unzigzag(rv(b, p, end));
        p = varintEnd;
        if (!l) continue;
        if (section) {
          const v = u32(l, within + f * 4) + d;
          if (v < 0 || v > 0xffff_ffff) throw new CodecError(`section undo entry gives field ${f} the value ${v}, out of range`, at);
          setU32(l, within + f * 4, v);
        } else {
          const v = u64(l, within + f * 8) + d;
          if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER)) throw new CodecError(`free-area undo entry gives field ${f} the value ${v}, out of range`, at);
          setU64(l, within + f * 8, v);
        }
      }
      continue;
    }

    pfn += unzigzag(rv(b, p, end));
    p = varintEnd;
    state.pfn = pfn;
    if (type === UNDO_DESCRIPTOR) {
      if (!ctx.memmapDevice || !(pfn >= 0 && pfn < ctx.totalFrames)) throw new CodecError(`descriptor undo entry for pfn ${pfn}, which has no descriptor on the device`, at);
      const offset = ctx.memmapAt + pfn * DESCRIPTOR_SIZE;
      if (onSpan) onSpan(offset, DESCRIPTOR_SIZE, at);
      p = decodeDescriptor(b, p, end, ctx, state.generation, tag, pfn, at, target ? target.line(offset / LINE) : undefined);
      continue;
    }
    if (!ctx.linksInPages || !(pfn >= ctx.dataStart && pfn < ctx.dataEnd)) throw new CodecError(`free-link undo entry for pfn ${pfn}, which holds no link record`, at);
    if (onSpan) onSpan(pfn * PAGE_SIZE, FREE_LINK_SIZE, at);
    p = decodeLink(b, p, end, ctx, state.generation, tag, pfn, at, target ? target.line(pfn * (PAGE_SIZE / LINE)) : undefined);
  }
  if (p !== end) throw new CodecError('undo entries run past the record', end);
}

function decodeInverse(b: Uint8Array, p: number, end: number, ctx: UndoContext, state: UndoState, tag: number, at: number, onSpan: SpanCheck | undefined, target: UndoTarget | undefined): number {
  if (tag >> 5) throw new CodecError(`inverse undo entry has unknown tag bits 0x${(tag & 0xe0).toString(16)}`, at);
  const pfn = state.pfn + unzigzag(rv(b, p, end));
  p = varintEnd;
  const order = rv(b, p, end);
  p = varintEnd;
  const ownerBytes = new Uint8Array(16);
  const allocates = (tag & INVERSE_ALLOCATES) !== 0;
  if (allocates) {
    const n = rv(b, p, end);
    p = varintEnd;
    if (n > 16 || p + n > end) throw new CodecError(`inverse undo entry's owner of ${n} bytes is invalid`, at);
    ownerBytes.set(b.subarray(p, p + n));
    p += n;
  }
  if (!(pfn >= ctx.dataStart && pfn < ctx.dataEnd) || order > 63 || pfn % 2 ** order !== 0 || pfn + 2 ** order > ctx.dataEnd) {
    throw new CodecError(`inverse undo entry names block ${pfn} of order ${order}, which is not a block of the data region`, at);
  }
  let after: number[] | undefined;
  if (tag & INVERSE_PLACED) {
    const n = rv(b, p, end);
    p = varintEnd;
    if (n === 0 || n > MOST_POSITIONS) throw new CodecError(`inverse undo entry names ${n} list positions (1 to ${MOST_POSITIONS} may be)`, at);
    after = [];
    for (let k = 0; k < n; k++) {
      const q = rpfn(b, p, end, pfn);
      p = varintEnd;
      if (q !== 0 && !(q >= ctx.dataStart && q < ctx.dataEnd)) throw new CodecError(`inverse undo entry puts a block back after pfn ${q}, outside the data region`, at);
      after.push(q);
    }
  }
  state.inverse = true;
  if (!target) return p;
  if (!inverseRunner) throw new CodecError('an inverse undo entry needs the allocator, which is not loaded', at);
  try {
    inverseRunner(ctx, target, state.generation, { kind: allocates ? 'allocate' : 'free', pfn, order, ownerBytes, after }, onSpan && ((offset, length) => onSpan(offset, length, at)));
  } catch (e) {
    if (e instanceof CodecError) throw new CodecError(e.message, at); // the runner knows no place in the record
    throw e;
  }
  return p;
}

function decodeRaw(b: Uint8Array, p: number, end: number, at: number, onSpan: SpanCheck | undefined, target: UndoTarget | undefined): number {
  const offset = rv(b, p, end);
  const length = rv(b, varintEnd, end);
  p = varintEnd;
  if (length === 0 || length > 16 * 1024 * 1024) throw new CodecError(`bytes undo entry of ${length} bytes is invalid`, at);
  if (onSpan) onSpan(offset, length, at);
  const out = target ? new Uint8Array(length) : undefined;
  let i = 0;
  while (i < length) {
    const zeros = rv(b, p, end);
    const count = rv(b, varintEnd, end);
    p = varintEnd;
    if (zeros + count === 0 || zeros + count > length - i) throw new CodecError(`bytes undo entry runs past its ${length} bytes`, at);
    if (count > end - p) throw new CodecError('bytes undo entry ends too early', at);
    if (out) out.set(b.subarray(p, p + count), i + zeros);
    p += count;
    i += zeros + count;
  }
  if (out) target!.write(offset, out);
  return p;
}

function decodeDescriptor(b: Uint8Array, p: number, end: number, ctx: UndoContext, generation: number, tag: number, pfn: number, at: number, l: Line | undefined): number {
  if (!(tag & D_FIELDS)) {
    if (tag & ~7) throw new CodecError('descriptor undo entry has flags but no fields', at);
    if (l) {
      l.b.fill(0);
      l.crcAt = -1;
    }
    return p;
  }
  let more = 0;
  if (tag & D_MORE) {
    if (p >= end) throw new CodecError('ends too early', p);
    more = b[p++];
    if (more & ~0x3f) throw new CodecError(`descriptor undo entry has unknown mask bits 0x${(more & ~0x3f).toString(16)}`, at);
  }
  let flags: number;
  if (tag & D_FLAGS) {
    flags = rv(b, p, end);
    p = varintEnd;
  } else flags = plainFlags(ctx, pfn);
  let order = 0;
  if (tag & D_ORDER) {
    order = rv(b, p, end);
    p = varintEnd;
  }
  let ownerAt = 0;
  let ownerLength = 0;
  if (tag & D_OWNER) {
    ownerLength = rv(b, p, end);
    p = varintEnd;
    if (ownerLength > OWNER_BYTES || ownerLength > end - p) throw new CodecError(`descriptor undo entry has an owner of ${ownerLength} bytes`, at);
    ownerAt = p;
    p += ownerLength;
  }
  let node: number;
  let zone: number;
  if (more & DX_NODEZONE) {
    node = rv(b, p, end);
    zone = rv(b, varintEnd, end);
    p = varintEnd;
  } else {
    const nz = nodeZone(ctx, pfn);
    node = nz >> 8;
    zone = nz & 255;
  }
  let refcount = flags & PG_ALLOCATED ? 1 : 0;
  if (more & DX_REFCOUNT) {
    refcount = rv(b, p, end);
    p = varintEnd;
  }
  let initGeneration = generation;
  if (more & DX_INITGEN) {
    initGeneration += unzigzag(rv(b, p, end));
    p = varintEnd;
  }
  let next = 0;
  if (more & DX_NEXT) {
    next = rpfn(b, p, end, pfn);
    p = varintEnd;
  }
  let prev = 0;
  if (more & DX_PREV) {
    prev = rpfn(b, p, end, pfn);
    p = varintEnd;
  }
  let volatileFlags = 0;
  if (more & DX_VOLATILE) {
    volatileFlags = rv(b, p, end);
    p = varintEnd;
  }
  if (flags > 0xffff_ffff || order > 255 || node > 255 || zone > 255 || refcount > 0xffff_ffff || !(initGeneration >= 0 && initGeneration <= 0xffff_ffff) || volatileFlags > 0xffff_ffff) {
    throw new CodecError(`descriptor undo entry for pfn ${pfn} has a field out of range`, at);
  }
  if (!l) return p;
  const d = l.b;
  setU32(d, DESC.flags, flags);
  d[DESC.order] = order;
  d[DESC.node] = node;
  d[DESC.zone] = zone;
  d[DESC.coreVersion] = CORE_VERSION;
  setU64(d, DESC.pfn, pfn);
  setU32(d, DESC.refcount, refcount);
  setU32(d, DESC.initGeneration, initGeneration);
  for (let i = 0; i < OWNER_BYTES; i++) d[DESC.owner + i] = i < ownerLength ? b[ownerAt + i] : 0;
  setU64(d, DESC.next, next);
  setU64(d, DESC.prev, prev);
  setU32(d, DESC.volatileFlags, volatileFlags);
  l.crcAt = DESC.crc;
  return p;
}

function decodeLink(b: Uint8Array, p: number, end: number, ctx: UndoContext, generation: number, tag: number, pfn: number, at: number, l: Line | undefined): number {
  const variant = (tag >> 3) & 3;
  if (variant === 0) {
    if (tag & ~7) throw new CodecError('free-link undo entry has flags but no fields', at);
    if (l) {
      l.b.fill(0, 0, FREE_LINK_SIZE);
      l.crcAt = -1;
    }
    return p;
  }
  if (variant !== L_PREDICTED && variant !== L_NEWER) throw new CodecError(`free-link undo entry form ${variant} unknown`, at);
  let more = 0;
  if (tag & L_MORE) {
    if (p >= end) throw new CodecError('ends too early', p);
    more = b[p++];
    if (more & ~0x0f) throw new CodecError(`free-link undo entry has unknown mask bits 0x${(more & ~0x0f).toString(16)}`, at);
  }
  const d = l ? l.b : undefined;
  let next = 0;
  let prev = 0;
  let order = 0;
  let node: number;
  let zone: number;
  let linkedGeneration = generation;
  if (variant === L_NEWER && d) {
    // The newer record: one this target wrote (its checksum still to come), or one that must be whole.
    if (l!.crcAt !== LINK.crc && !linkFields(d, 0, pfn)) throw new CodecError(`free-link undo entry for pfn ${pfn} expects a link record there in the newer state`, at);
    next = u64(d, LINK.next);
    prev = u64(d, LINK.prev);
    order = d[LINK.order];
    node = d[LINK.node];
    zone = d[LINK.zone];
    linkedGeneration = u32(d, LINK.linkedGeneration);
  } else {
    const nz = nodeZone(ctx, pfn);
    node = nz >> 8;
    zone = nz & 255;
  }
  if (tag & L_NEXT) {
    next = rpfn(b, p, end, pfn);
    p = varintEnd;
  }
  if (tag & L_PREV) {
    prev = rpfn(b, p, end, pfn);
    p = varintEnd;
  }
  if (more & LX_ORDER) {
    order = rv(b, p, end);
    p = varintEnd;
  }
  if (more & LX_NODE) {
    node = rv(b, p, end);
    p = varintEnd;
  }
  if (more & LX_ZONE) {
    zone = rv(b, p, end);
    p = varintEnd;
  }
  if (more & LX_GEN) {
    linkedGeneration += unzigzag(rv(b, p, end));
    p = varintEnd;
  }
  if (order > 255 || node > 255 || zone > 255 || !(linkedGeneration >= 0 && linkedGeneration <= 0xffff_ffff)) throw new CodecError(`free-link undo entry for pfn ${pfn} has a field out of range`, at);
  if (!d) return p;
  for (let i = 0; i < 8; i++) d[i] = LINK_MAGIC[i];
  setU64(d, LINK.pfn, pfn);
  setU64(d, LINK.next, next);
  setU64(d, LINK.prev, prev);
  d[LINK.order] = order;
  d[LINK.node] = node;
  d[LINK.zone] = zone;
  d[35] = 0;
  setU32(d, LINK.linkedGeneration, linkedGeneration);
  setU32(d, 40, 0);
  l!.crcAt = LINK.crc;
  return p;
}

function decodeSuperblockEntry(b: Uint8Array, p: number, end: number, ctx: UndoContext | undefined, state: UndoState, tag: number, at: number, onSpan: SpanCheck | undefined, target: UndoTarget | undefined): number {
  if (!ctx) throw new CodecError('a superblock undo entry needs the image\'s layout', at);
  if (tag & 0xc0) throw new CodecError(`superblock undo entry has unknown flag bits 0x${(tag & 0xc0).toString(16)}`, at);
  const offset = tag & S_BACKUP ? ctx.backupAt : 0;
  if (onSpan) onSpan(offset, SUPERBLOCK_SIZE, at);
  let bytes: Uint8Array;
  if (tag & S_SAME) {
    if (!state.superblock) throw new CodecError('superblock undo entry repeats a superblock entry that is not there', at);
    bytes = state.superblock;
  } else {
    const r = new ByteReader(b, p, end);
    const formatVersion = r.varint();
    const formatRevision = r.varint();
    const updateSeq = r.varint();
    const bootGeneration = r.varint();
    const profileBytes = r.take(r.varint());
    p = r.pos;
    if (formatVersion > 0xffff || formatRevision > 0xffff || !isU32(bootGeneration) || profileBytes.length > 16) throw new CodecError('superblock undo entry has a field out of range', at);
    const profile = readString(profileBytes, 0, profileBytes.length);
    // Bytes that are not UTF-8 read as replacement characters, which would not fit the field again.
    if (new TextEncoder().encode(profile).length > profileBytes.length) throw new CodecError('superblock undo entry\'s profile name is not UTF-8', at);
    // The entry keeps the fields a step changes; the others come from the image's superblock, which must be writable again.
    if (!Number.isSafeInteger(ctx.sb.createdAtMs)) throw new CodecError('superblock undo entry cannot be rebuilt: the image\'s superblock creation time is 2^53 or more', at);
    try {
      bytes = encodeSuperblock({ ...ctx.sb, formatVersion, formatRevision, updateSeq, bootGeneration, profile, clean: (tag & S_CLEAN) !== 0 });
    } catch (e) {
      if (e instanceof RangeError) throw new CodecError(`superblock undo entry cannot be rebuilt on the image's superblock (${e.message})`, at);
      throw e;
    }
  }
  state.superblock = bytes;
  if (target) target.write(offset, bytes);
  return p;
}
