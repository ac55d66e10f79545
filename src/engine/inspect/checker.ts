/**
 * The checker: verifies every invariant of an image and reports each problem
 * with where it is. It reads only; it never repairs.
 *
 * The memmap is read in chunks of consecutive initialised sections and checked
 * on raw words (format/descriptor.ts, scanDescriptorRun; its common case in
 * WebAssembly, format/descriptorWasm.ts): only descriptors that head a block
 * or fail a test are looked at one by one, with the same tests and messages
 * as a descriptor-by-descriptor reading. Memory stays bounded:
 * one chunk and one section's block heads at a time, and the problems waiting
 * for the scan (at most maxProblems, and a bounded number of free-list heads).
 * A Node host may hand the chunk scans to worker threads
 * (engine/node/checkWorkers.ts); the report is the same either way.
 */
import { isReservedPfn, sectionDataRange, sectionOf } from '../alloc/sectionInit';
import { crc32, view, type LEView } from '../core/bytes';
import { TimeSlice } from '../core/timeSlice';
import { DESCRIPTOR_SIZE, PAGE_SIZE, ZONE_NAMES } from '../format/constants';
import {
  checkDescriptorBytes, collectHeads, CORE_VERSION, decodeDescriptor, DESC, descriptorCrcTable, DescriptorRun, DescriptorScan, descriptorWords, HEAD, HEAD_STRIDE,
  isBlank, KNOWN_FLAGS, newDescriptorScan, PG_ALLOCATED, PG_BUDDY, PG_CORE, PG_FREEING, PG_RESERVED, scanDescriptorRun, scanDescriptors, storedLinks, WORDS_ARE_LITTLE_ENDIAN,
} from '../format/descriptor';
import { descriptorScanModule, newWasmScan, scanRunWasm, WASM_LAYOUT, type WasmScan } from '../format/descriptorWasm';
import { FREE_AREA, freeAreaEntryOffset, freeAreaIndex, readFreeAreaEntry } from '../format/freeArea';
import { decodeFreeLink, FREE_LINK_SIZE, LINK } from '../format/freeLink';
import { nodeZoneOf, reservedFramesIn } from '../format/layout';
import { readSectionField, SECTION, sectionEntryOffset, sectionInitGeneration } from '../format/sectionTable';
import { decodeSuperblock, SUPERBLOCK_SIZE } from '../format/superblock';
import type { PmemImage } from '../image/imageCore';
import { readSectionTable } from '../image/ops';
import { checkHistorySteps, checkJournal } from './checkLogs';
import { sectionDescriptors, viewDescriptor } from './views';
import { DesignStructureCheck } from './designCheck';

export interface Problem {
  /** The structure at fault: superblock, journal, history, freeList, descriptor, section, block; a design's own: two-word descriptor, memdesc, unit descriptor. */
  structure: string;
  message: string;
  pfn?: number;
  section?: number;
  offset?: number;
}

export interface CheckReport {
  ok: boolean;
  problems: Problem[];
  /** True when the problem list was cut at maxProblems. */
  truncated: boolean;
  framesChecked: number;
  sectionsChecked: number;
  freeBlocks: number;
  allocatedBlocks: number;
  /** False when cancelled: the counts say how far it got. */
  complete: boolean;
}

export interface CheckOptions {
  maxProblems?: number;
  onProgress?: (sectionsDone: number, sectionsTotal: number) => void;
  cancelled?: () => boolean;
  /** Scans memmap chunks elsewhere (worker threads); undefined from the factory means here. */
  memmapScanner?: (img: PmemImage, ctx: ScanContext) => MemmapScanner | undefined;
}

/** What the chunk scans need to know of an image, as plain data (worker threads get a copy). */
export interface ScanContext {
  sectionFrames: number;
  /** Frames per chunk: a multiple or a divisor of sectionFrames. */
  chunkFrames: number;
  totalFrames: number;
  /** First data frame; frames below it are reserved. */
  dataStart: number;
  /** The backup superblock's frame; frames from it on are reserved. */
  backupStart: number;
  bootGeneration: number;
  linksInDescriptor: boolean;
  /** initGeneration of every section (0 = never initialised: not read). */
  generations: Uint32Array;
  /** Present zones in node order, four numbers each: firstPfn, frames, node, zone. */
  zones: number[];
  /** Byte offset of pfn 0's descriptor. */
  memmapStart: number;
}

/** The runs of one chunk, and the frames [firstPfn, firstPfn + frames) to read for them. */
export interface ChunkPlan {
  firstPfn: number;
  frames: number;
  runs: DescriptorRun[];
}

export interface ChunkScan {
  scan: DescriptorScan;
  /** The descriptors scanned, when kept (else they are read again for the descriptors to check in full). */
  bytes?: Uint8Array;
  firstPfn: number;
  frames: number;
}

/** Gives the scan of each chunk, asked in increasing order; a result may be reused once the next chunk is asked for. */
export interface MemmapScanner {
  chunk(k: number): ChunkScan;
  /** Bytes of the image, in a buffer the next call reuses, when this reads them faster than the store (undefined: read the store). */
  readSmall?(offset: number, length: number): Uint8Array | undefined;
  close(): void;
}

const CHUNK_FRAMES = 16384; // 1 MiB of descriptors per read
/** Free-list heads whose flags wait for the scan; beyond, they are read one by one. */
const MAX_DEFERRED = 1 << 20;

/**
 * The runs of chunk k: the initialised sections' frames in it, cut where the
 * reserved frames begin and end. Self-contained (worker threads run its source).
 */
export function planChunk(ctx: ScanContext, k: number): ChunkPlan | undefined {
  const sf = ctx.sectionFrames;
  const from = k * ctx.chunkFrames;
  const to = Math.min(from + ctx.chunkFrames, ctx.totalFrames);
  const runs: DescriptorRun[] = [];
  let readFrom = -1;
  let readTo = -1;
  for (let s = Math.floor(from / sf); s * sf < to; s++) {
    const gen = ctx.generations[s];
    if (gen === 0) continue;
    const a = Math.max(from, s * sf);
    const b = Math.min(to, (s + 1) * sf);
    let node = 0;
    let zone = 0;
    for (let z = 0; z < ctx.zones.length; z += 4) {
      if (s * sf >= ctx.zones[z] && s * sf < ctx.zones[z] + ctx.zones[z + 1]) {
        node = ctx.zones[z + 2];
        zone = ctx.zones[z + 3];
        break;
      }
    }
    if (readFrom < 0) readFrom = a;
    readTo = b;
    const cuts = [a, Math.min(Math.max(ctx.dataStart, a), b), Math.min(Math.max(ctx.backupStart, a), b), b];
    for (let i = 0; i < 3; i++) {
      if (cuts[i + 1] <= cuts[i]) continue;
      const reserved = cuts[i] < ctx.dataStart || cuts[i] >= ctx.backupStart;
      // Consecutive sections that expect the same of their descriptors make one run.
      const last = runs[runs.length - 1];
      if (last && last.at + last.count === cuts[i] - readFrom && last.reserved === reserved && last.node === node && last.zone === zone && last.minGeneration === gen) {
        last.count += cuts[i + 1] - cuts[i];
        continue;
      }
      runs.push({
        at: cuts[i] - readFrom, count: cuts[i + 1] - cuts[i], firstPfn: cuts[i], reserved,
        node, zone, minGeneration: gen, maxGeneration: ctx.bootGeneration, linksInDescriptor: ctx.linksInDescriptor,
      });
    }
  }
  return runs.length ? { firstPfn: readFrom, frames: readTo - readFrom, runs } : undefined;
}

export function scanContext(img: PmemImage, table: DataView): ScanContext {
  const g = img.geometry;
  const generations = new Uint32Array(g.sectionCount);
  for (let s = 0; s < g.sectionCount; s++) generations[s] = sectionInitGeneration(table, s);
  const chunkFrames = CHUNK_FRAMES % g.sectionFrames === 0 || g.sectionFrames % CHUNK_FRAMES === 0 ? CHUNK_FRAMES : g.sectionFrames;
  return {
    sectionFrames: g.sectionFrames, chunkFrames, totalFrames: g.totalFrames, dataStart: img.layout.data.startPfn,
    backupStart: img.layout.backupSuperblock.startPfn, bootGeneration: img.bootGeneration, linksInDescriptor: g.links === 'descriptor',
    generations, zones: img.nodes.flatMap((n) => n.zones.filter((z) => z.frames > 0).flatMap((z) => [z.firstPfn, z.frames, n.id, z.id])),
    memmapStart: img.memmapOffset(0),
  };
}

/** Reads and scans each chunk on this thread, keeping its bytes for the full checks (the scan is reused: the checker is done with a chunk when it asks for the next). */
function localScanner(img: PmemImage, ctx: ScanContext): MemmapScanner {
  const scan = newDescriptorScan(0);
  let wasm: WasmScan | false | undefined; // made for the first chunk with descriptors to scan
  return {
    chunk(k) {
      const plan = planChunk(ctx, k);
      scan.oddCount = scan.headCount = 0;
      if (!plan) return { scan, firstPfn: k * ctx.chunkFrames, frames: 0 };
      scan.base = plan.firstPfn;
      const bytes = img.store.read(img.memmapOffset(plan.firstPfn), plan.frames * DESCRIPTOR_SIZE);
      if (wasm === undefined) {
        const mod = WORDS_ARE_LITTLE_ENDIAN ? descriptorScanModule() : undefined;
        wasm = mod ? newWasmScan(mod, ctx.chunkFrames, descriptorCrcTable(), WASM_LAYOUT) : false;
      }
      if (wasm) {
        // Copied into the scanner's memory, where its loop reads faster than this thread's would from the bytes in place.
        wasm.dataBytes.set(bytes);
        for (const run of plan.runs) scanRunWasm(wasm.dataWords, run, descriptorCrcTable(), scan, wasm, scanDescriptorRun);
      } else {
        const words = descriptorWords(bytes);
        for (const run of plan.runs) scanDescriptors(bytes, run, scan, words);
      }
      return { scan, bytes, firstPfn: plan.firstPfn, frames: plan.frames };
    },
    close() {},
  };
}

/** Block heads of one section, in pfn order: arrays kept from section to section, `n` of them in use. */
class Heads {
  n = 0;
  pfn = new Float64Array(64);
  flags = new Int32Array(64);
  order = new Int32Array(64);
  node = new Int32Array(64);
  zone = new Int32Array(64);

  push(pfn: number, flags: number, order: number, node: number, zone: number): void {
    if (this.n === this.pfn.length) {
      const grow = <A extends Float64Array | Int32Array>(a: A): A => {
        const b = new (a.constructor as new (n: number) => A)(a.length * 2);
        b.set(a);
        return b;
      };
      this.pfn = grow(this.pfn);
      this.flags = grow(this.flags);
      this.order = grow(this.order);
      this.node = grow(this.node);
      this.zone = grow(this.zone);
    }
    const i = this.n++;
    this.pfn[i] = pfn;
    this.flags[i] = flags;
    this.order[i] = order;
    this.node[i] = node;
    this.zone[i] = zone;
  }

  /** Index of the first head not below pfn `v`. */
  lowerBound(v: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.pfn[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Walks the chunk scans in pfn order: for each section, the descriptors to
 * check in full (with their bytes) and the block heads.
 */
class ChunkCursor {
  private k = -1;
  private cur: ChunkScan | undefined;
  private oddAt = 0;
  private headAt = 0;

  constructor(private readonly img: PmemImage, private readonly scanner: MemmapScanner, private readonly chunkFrames: number) {}

  visit(from: number, to: number, onOdd: (pfn: number, bytes: Uint8Array, at: number) => void, heads: Heads): void {
    for (let k = Math.floor(from / this.chunkFrames); k * this.chunkFrames < to; k++) {
      if (k !== this.k) {
        this.k = k;
        this.cur = this.scanner.chunk(k);
        this.oddAt = 0;
        this.headAt = 0;
      }
      const c = this.cur!;
      const { scan } = c;
      while (this.oddAt < scan.oddCount && scan.base + scan.odd[this.oddAt] < to) {
        const pfn = scan.base + scan.odd[this.oddAt++];
        if (pfn < from) continue;
        // A worker's scan comes without its bytes: read them once, for the first descriptor to check in full.
        c.bytes ??= this.img.store.read(this.img.memmapOffset(c.firstPfn), c.frames * DESCRIPTOR_SIZE);
        onOdd(pfn, c.bytes, (pfn - c.firstPfn) * DESCRIPTOR_SIZE);
      }
      this.headAt = appendHeads(scan, this.headAt, from, to, heads);
    }
  }
}

/** Appends the heads of `scan` in [from, to), starting at head `i`; returns where it stopped. */
function appendHeads(scan: DescriptorScan, i: number, from: number, to: number, heads: Heads): number {
  const h = scan.heads;
  for (; i < scan.headCount; i++) {
    const at = i * HEAD_STRIDE;
    const pfn = scan.base + h[at + HEAD.pfn];
    if (pfn >= to) break;
    if (pfn < from) continue;
    heads.push(pfn, h[at + HEAD.flags], h[at + HEAD.order], h[at + HEAD.node], h[at + HEAD.zone]);
  }
  return i;
}

/** The pfn range of a free of listed blocks under way (intent kind 3), whose heads may carry PG_freeing; undefined when none (or the slot is damaged). */
export function listedFreeUnderWay(img: PmemImage): { lo: number; hi: number } | undefined {
  try {
    const i = img.pendingIntent();
    return i?.kind === 'free-listed' ? { lo: i.lo!, hi: i.hi! } : undefined;
  } catch {
    return undefined;
  }
}

/** What is wrong with a PG_freeing mark: it belongs only on an allocated head within a listed free under way. */
export function freeingMarkProblem(flags: number, pfn: number, under: { lo: number; hi: number } | undefined): string | undefined {
  if (!(flags & PG_FREEING)) return undefined;
  if (!(flags & PG_ALLOCATED)) return 'PG_freeing is set on a frame that heads no allocated block';
  if (!under) return 'PG_freeing is set but no free of listed blocks is under way (the intent slot holds none)';
  if (pfn < under.lo || pfn >= under.hi) return `PG_freeing is set outside the pfns [${under.lo}, ${under.hi}) of the free of listed blocks under way`;
  return undefined;
}

export function check(img: PmemImage, options: CheckOptions = {}): CheckReport {
  const table = readSectionTable(img);
  // Started first, so that worker threads get going while the superblocks, logs and free lists are checked here.
  const ctx = img.geometry.memmap === 'device' ? scanContext(img, table) : undefined;
  const scanner = ctx ? (options.memmapScanner?.(img, ctx) ?? localScanner(img, ctx)) : undefined;
  try {
    const steps = checkSteps(img, options, table, ctx, scanner);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  } finally {
    scanner?.close();
  }
}

/**
 * As check, giving up the thread whenever it has held it for `sliceMs`
 * (between sections, and every few thousand free-list blocks), so that an
 * editor stays responsive while a large image is checked.
 */
export async function checkAsync(img: PmemImage, options: CheckOptions & { sliceMs?: number } = {}): Promise<CheckReport> {
  const table = readSectionTable(img);
  const ctx = img.geometry.memmap === 'device' ? scanContext(img, table) : undefined;
  const scanner = ctx ? (options.memmapScanner?.(img, ctx) ?? localScanner(img, ctx)) : undefined;
  const slice = new TimeSlice(options.sliceMs);
  try {
    const steps = checkSteps(img, options, table, ctx, scanner);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
      if (slice.over()) await slice.yieldTurn();
    }
  } finally {
    scanner?.close();
  }
}

/** The check itself; it pauses (yields) where a driver may give up the thread. */
function* checkSteps(img: PmemImage, options: CheckOptions, table: DataView, ctx: ScanContext | undefined, scanner: MemmapScanner | undefined): Generator<void, CheckReport> {
  const g = img.geometry;
  const L = img.layout;
  const maxProblems = options.maxProblems ?? 1000;
  const report: CheckReport = { ok: true, problems: [], truncated: false, framesChecked: 0, sectionsChecked: 0, freeBlocks: 0, allocatedBlocks: 0, complete: true };
  const problem = (p: Problem) => {
    report.ok = false;
    if (report.problems.length < maxProblems) report.problems.push(p);
    else report.truncated = true;
  };
  const dataEnd = L.data.startPfn + L.data.frames;

  // Superblock copies: both valid and identical.
  const copies = [0, L.backupSuperblock.startPfn * PAGE_SIZE].map((offset) => {
    const bytes = img.store.read(offset, SUPERBLOCK_SIZE);
    try {
      decodeSuperblock(bytes, offset);
      return { offset, bytes, ok: true };
    } catch (e) {
      problem({ structure: 'superblock', message: (e as Error).message, offset });
      return { offset, bytes, ok: false };
    }
  });
  if (copies[0].ok && copies[1].ok && !copies[0].bytes.every((b, i) => b === copies[1].bytes[i])) {
    problem({ structure: 'superblock', message: 'primary and backup superblocks differ', offset: copies[1].offset });
  }

  checkJournal(img).forEach(problem);
  (yield* checkHistorySteps(img)).forEach(problem);

  const listedFree = listedFreeUnderWay(img);
  const sectionGen = (s: number) => sectionInitGeneration(table, s);
  const descBytes = (pfn: number) => viewDescriptor(img, pfn, table).bytes;
  const listed = new Map<number, number>(); // blocks per free list, as the free area counts them
  const marked = new Map<number, number>(); // free heads found in descriptors, per list
  const areaStart = L.freeArea.startPfn * PAGE_SIZE;
  let walked = 0; // free-list blocks visited, for the pauses

  /*
   * Problems of the free lists and sections, in report order. A free-list
   * block's head descriptor is checked when the memmap scan reaches it (one
   * read less per block), so these wait here until the scan is done: every
   * problem while fewer than maxProblems could be kept, and each head still
   * to be told its flags.
   */
  const queue: Array<Problem | { pfn: number; order: number; name: string; where: { pfn: number; section?: number } }> = [];
  let queued = report.problems.length;
  let overflow = false;
  const enqueue = (p: Problem) => {
    report.ok = false;
    if (queued < maxProblems) {
      queue.push(p);
      queued++;
    } else {
      overflow = true;
    }
  };
  /** Flags and order of free-list heads, found by the scan (an empty array until then). */
  const wanted = new Map<number, number[]>();
  let deferred = 0;
  const headProblem = (pfn: number, order: number, name: string, where: { pfn: number; section?: number }, flags: number, found: number): Problem | undefined =>
    !(flags & PG_BUDDY) || found !== order
      ? { structure: 'descriptor', message: `${name}: block ${pfn}'s head descriptor is not marked free of order ${order} (flags 0x${flags.toString(16)}, order ${found})`, ...where }
      : undefined;
  const checkHead = (pfn: number, order: number, name: string, where: { pfn: number; section?: number }, dv?: LEView) => {
    if (!dv && g.memmap === 'device' && deferred < MAX_DEFERRED && queued < maxProblems) {
      if (!wanted.has(pfn)) wanted.set(pfn, []);
      queue.push({ pfn, order, name, where });
      deferred++;
      return;
    }
    const d = dv ?? view(descBytes(pfn));
    const p = headProblem(pfn, order, name, where, d.getUint32(DESC.flags, true), d.getUint8(DESC.order));
    if (p) enqueue(p);
  };

  // 1. Free lists: each listed block is a well-formed free head; links agree both ways; counts agree.
  const area = view(img.store.read(areaStart, L.freeArea.frames * PAGE_SIZE));
  for (const n of img.nodes) {
    for (const z of n.zones) {
      for (let order = 0; order <= g.maxOrder; order++) {
        const idx = freeAreaIndex(g.maxOrder, n.id, z.id, order);
        const at = freeAreaEntryOffset(L, idx);
        const { head, count } = readFreeAreaEntry(area, idx);
        const name = `free list node ${n.id} ${ZONE_NAMES[z.id]} order ${order}`;
        if (z.frames === 0 && (head || count)) enqueue({ structure: 'freeList', message: `${name}: zone is empty but the list is not`, offset: at });
        let prev = 0;
        let p = head;
        let steps = 0;
        // A list that comes back to a block is a cycle, whatever its count says (a huge count must not walk it forever).
        const visited = new Set<number>();
        while (p) {
          if ((++walked & 4095) === 0) yield;
          if (steps >= count) {
            enqueue({ structure: 'freeList', message: `${name}: longer than its count ${count} (a wrong count or a cycle)`, pfn: p, offset: at + FREE_AREA.count });
            break;
          }
          if (visited.has(p)) {
            enqueue({ structure: 'freeList', message: `${name}: a cycle: block ${prev} links back to block ${p}, ${steps} blocks down the list`, pfn: prev, offset: at + FREE_AREA.head });
            break;
          }
          visited.add(p);
          const where = { pfn: p, section: p < g.totalFrames ? sectionOf(g, p) : undefined };
          const end = p + 2 ** order;
          if (!Number.isSafeInteger(p) || p < L.data.startPfn || end > dataEnd) {
            enqueue({ structure: 'freeList', message: `${name}: block ${p} lies outside the data area (metadata or memmap in a free list)`, ...where, offset: at });
            break;
          }
          if (p % 2 ** order) enqueue({ structure: 'block', message: `${name}: block ${p} is not aligned to its order`, ...where });
          if (p < z.firstPfn || end > z.firstPfn + z.frames) enqueue({ structure: 'block', message: `${name}: block ${p} crosses its zone's boundary`, ...where });
          if (sectionGen(sectionOf(g, p)) === 0) enqueue({ structure: 'block', message: `${name}: block ${p} lies in a never-initialised section`, ...where });
          const dv = g.links === 'descriptor' ? view(descBytes(p)) : undefined; // links in pages: the scan gives the head's flags
          checkHead(p, order, name, where, dv);
          let next: number;
          let back: number;
          if (g.links === 'page') {
            const raw = scanner?.readSmall?.(p * PAGE_SIZE, FREE_LINK_SIZE) ?? img.store.read(p * PAGE_SIZE, FREE_LINK_SIZE);
            const l = decodeFreeLink(raw);
            if (!l.ok) {
              enqueue({ structure: 'freeList', message: `${name}: block ${p}: ${l.reason}`, ...where, offset: p * PAGE_SIZE });
              break;
            }
            if (raw[LINK.zone + 1] !== 0 || raw.subarray(LINK.linkedGeneration + 4, LINK.crc).some((b) => b !== 0)) {
              enqueue({ structure: 'freeList', message: `${name}: block ${p}'s link record has reserved bytes that are not 0`, ...where, offset: p * PAGE_SIZE });
            }
            if (l.link.pfn !== p || l.link.order !== order || l.link.node !== n.id || l.link.zone !== z.id) {
              enqueue({ structure: 'freeList', message: `${name}: block ${p}'s link record describes pfn ${l.link.pfn} order ${l.link.order} node ${l.link.node} zone ${l.link.zone}`, ...where, offset: p * PAGE_SIZE });
            }
            next = l.link.next;
            back = l.link.prev;
          } else {
            ({ next, prev: back } = storedLinks(dv!));
          }
          if (back !== prev) enqueue({ structure: 'freeList', message: `${name}: block ${p}'s prev link is ${back}, expected ${prev}`, ...where });
          prev = p;
          p = next;
          steps++;
        }
        if (steps < count && !p) enqueue({ structure: 'freeList', message: `${name}: count says ${count} blocks, the list has ${steps}`, offset: at + FREE_AREA.count });
        listed.set(idx, count);
        report.freeBlocks += count;
      }
    }
  }

  // 2. Sections: every data frame of an initialised section is in exactly one block; summaries agree.
  // The section being checked, and its node and zone (kept while sections stay in one zone).
  let section = 0;
  let currentGen = 0;
  let home = { node: 0, zone: 0, firstPfn: 0, endPfn: 0 };
  /** Every per-descriptor test, for a descriptor the raw scan could not clear. */
  const checkInFull = (pfn: number, raw: Uint8Array, at: number) => {
    const s = section;
    const gen = currentGen;
    const rv = view(raw);
    const flags = rv.getUint32(at + DESC.flags, true);
    if (flags === 0 && isBlank(raw, at)) {
      enqueue({ structure: 'descriptor', message: `pfn ${pfn}: descriptor of an initialised section is blank`, pfn, section: s, offset: img.memmapOffset(pfn) });
      return;
    }
    if (rv.getUint32(at + DESC.crc, true) !== crc32(raw.subarray(at, at + DESC.crc)) || rv.getUint8(at + DESC.coreVersion) !== CORE_VERSION || (flags & ~KNOWN_FLAGS) || !(flags & PG_CORE)) {
      const c = checkDescriptorBytes(raw, at);
      enqueue({ structure: 'descriptor', message: `pfn ${pfn}: ${c.ok ? 'descriptor invalid' : `${c.field}: ${c.reason}`}`, pfn, section: s, offset: img.memmapOffset(pfn) });
    }
    const reserved = (flags & PG_RESERVED) !== 0;
    if (reserved !== isReservedPfn(L, pfn)) enqueue({ structure: 'descriptor', message: `pfn ${pfn}: PG_reserved is ${reserved ? 'set' : 'clear'} but the frame is ${reserved ? 'data' : 'metadata'}`, pfn, section: s });
    // What a descriptor says of itself that initialisation fixed: its pfn, node, zone, generation; links and order only where used.
    const d = decodeDescriptor(raw, at);
    const why: string[] = [];
    if (d.pfn !== pfn) why.push(`descriptor names pfn ${d.pfn}`);
    if (d.node !== home.node || d.zone !== home.zone) why.push(`descriptor says node ${d.node} zone ${d.zone}, the frame is in node ${home.node} zone ${home.zone}`);
    // Initialisation writes descriptors ahead of its transaction: after a rolled-back crash they may be newer than the section.
    if (d.initGeneration < gen || d.initGeneration > img.bootGeneration) why.push(`descriptor was initialised in generation ${d.initGeneration}, its section in ${gen} (boot ${img.bootGeneration})`);
    const head = (flags & (PG_BUDDY | PG_ALLOCATED)) !== 0;
    if (!head && d.order !== 0) why.push(`order ${d.order} on a frame that heads no block`);
    if ((d.next || d.prev) && !(g.links === 'descriptor' && flags & PG_BUDDY)) why.push(`free-list links ${d.next}/${d.prev} on a frame that is not a listed free block`);
    if (flags & PG_RESERVED && head) why.push('a reserved frame is marked as a block head');
    const mark = freeingMarkProblem(flags, pfn, listedFree);
    if (mark) why.push(mark);
    why.forEach((w) => enqueue({ structure: 'descriptor', message: `pfn ${pfn}: ${w}`, pfn, section: s, offset: img.memmapOffset(pfn) }));
  };
  let coveredUntil = 0; // end of a block that started in an earlier section
  let coveringFree = false;
  const cursor = ctx && scanner ? new ChunkCursor(img, scanner, ctx.chunkFrames) : undefined;
  const heads = new Heads();
  const designCheck = DesignStructureCheck.of(img, enqueue);
  for (let s = 0; s < g.sectionCount; s++) {
    yield;
    if (options.cancelled?.()) {
      report.complete = false;
      break;
    }
    const first = s * g.sectionFrames;
    const gen = readSectionField(table, s, SECTION.initGeneration);
    const e = { free: readSectionField(table, s, SECTION.freeFrames), alloc: readSectionField(table, s, SECTION.allocatedFrames), reserved: readSectionField(table, s, SECTION.reservedFrames) };
    const expectReserved = reservedFramesIn(L, g.sectionFrames, s);
    if (e.free + e.alloc + e.reserved > g.sectionFrames) enqueue({ structure: 'section', message: `section ${s}: counts ${e.free} + ${e.alloc} + ${e.reserved} exceed its ${g.sectionFrames} frames`, section: s });
    if (e.reserved !== expectReserved) enqueue({ structure: 'section', message: `section ${s}: summary says ${e.reserved} reserved frames, the layout has ${expectReserved}`, section: s });
    if (gen === 0) {
      if (e.free || e.alloc) enqueue({ structure: 'section', message: `section ${s} was never initialised but its summary counts ${e.free} free and ${e.alloc} allocated frames`, section: s });
      if (coveredUntil > first) enqueue({ structure: 'block', message: `a block reaches into never-initialised section ${s}`, section: s });
      report.sectionsChecked++;
      options.onProgress?.(s + 1, g.sectionCount);
      continue;
    }
    if (gen > img.bootGeneration) enqueue({ structure: 'section', message: `section ${s} was initialised in generation ${gen}, after the current boot ${img.bootGeneration}`, section: s });
    section = s;
    currentGen = gen;
    if (first < home.firstPfn || first >= home.endPfn) {
      const nz = nodeZoneOf(img.nodes, first);
      const z = img.nodes[nz.node].zones[nz.zone];
      home = { ...nz, firstPfn: z.firstPfn, endPfn: z.firstPfn + z.frames };
    }
    heads.n = 0;
    if (cursor) {
      cursor.visit(first, first + g.sectionFrames, checkInFull, heads);
      if (wanted.size) {
        for (let i = 0; i < heads.n; i++) wanted.get(heads.pfn[i])?.push(heads.flags[i] >>> 0, heads.order[i]);
      }
    } else {
      // A memmap in RAM: its descriptors are what this boot (or a rebuild) made, so only the blocks are checked.
      const raw = sectionDescriptors(img, s, gen).bytes;
      designCheck?.section(s, raw, first);
      const scan = newDescriptorScan(first);
      collectHeads(raw, { at: 0, count: g.sectionFrames, firstPfn: first, reserved: false, node: 0, zone: 0, minGeneration: 0, maxGeneration: 0, linksInDescriptor: false }, scan);
      appendHeads(scan, 0, first, first + g.sectionFrames, heads);
    }

    // The blocks, from the heads alone: a frame that is no head is inside a block or in none.
    const nHeads = heads.n;
    let free = 0;
    let alloc = 0;
    const { start, end } = sectionDataRange(img, s);
    let j = heads.lowerBound(start);
    let p = start;
    if (coveredUntil > p) {
      const upto = Math.min(coveredUntil, end);
      for (; j < nHeads && heads.pfn[j] < upto; j++) enqueue({ structure: 'block', message: `pfn ${heads.pfn[j]} is marked as a block head inside another block`, pfn: heads.pfn[j], section: s });
      if (coveringFree) free += upto - p;
      else alloc += upto - p;
      p = upto;
    }
    while (p < end) {
      const nextHead = j < nHeads ? heads.pfn[j] : end;
      if (nextHead !== p) {
        for (const stop = Math.min(nextHead, end); p < stop; p++) enqueue({ structure: 'block', message: `pfn ${p} belongs to no block (neither free nor allocated)`, pfn: p, section: s });
        continue;
      }
      const flags = heads.flags[j];
      const order = heads.order[j];
      const node = heads.node[j];
      const zone = heads.zone[j];
      j++;
      const isFree = (flags & PG_BUDDY) !== 0;
      if ((flags & PG_BUDDY) && (flags & PG_ALLOCATED)) enqueue({ structure: 'descriptor', message: `pfn ${p} is marked both free and allocated`, pfn: p, section: s });
      if (order > g.maxOrder || p % 2 ** order || p + 2 ** order > dataEnd) {
        enqueue({ structure: 'block', message: `block at pfn ${p} has impossible order ${order} (misaligned or past the data area)`, pfn: p, section: s });
        p++;
        continue;
      }
      const z = img.nodes[node]?.zones[zone];
      if (!z || p < z.firstPfn || p + 2 ** order > z.firstPfn + z.frames) enqueue({ structure: 'block', message: `block at pfn ${p} is not inside its node ${node} zone ${zone}`, pfn: p, section: s });
      if (isFree) {
        const key = freeAreaIndex(g.maxOrder, node, zone, order);
        marked.set(key, (marked.get(key) ?? 0) + 1);
        if (order < g.maxOrder && z) {
          const buddy = p ^ (2 ** order);
          const bEnd = buddy + 2 ** order;
          if (buddy >= L.data.startPfn && bEnd <= dataEnd && buddy >= z.firstPfn && bEnd <= z.firstPfn + z.frames && sectionGen(sectionOf(g, buddy)) !== 0) {
            let merged: boolean;
            if (sectionOf(g, buddy) === s) {
              // The heads list holds every frame of the section marked as a head.
              const b = heads.lowerBound(buddy);
              merged = b < nHeads && heads.pfn[b] === buddy && (heads.flags[b] & PG_BUDDY) !== 0 && heads.order[b] === order;
            } else {
              const bd = view(descBytes(buddy));
              merged = (bd.getUint32(DESC.flags, true) & PG_BUDDY) !== 0 && bd.getUint8(DESC.order) === order;
            }
            if (merged) enqueue({ structure: 'block', message: `free blocks at pfn ${p} and its buddy ${buddy} (order ${order}) should have merged`, pfn: p, section: s });
          }
        }
      } else {
        report.allocatedBlocks++;
      }
      const blockEnd = p + 2 ** order;
      const inSection = Math.min(blockEnd, end);
      for (; j < nHeads && heads.pfn[j] < inSection; j++) enqueue({ structure: 'block', message: `pfn ${heads.pfn[j]} is marked as a block head inside the block at ${p}`, pfn: heads.pfn[j], section: s });
      if (isFree) free += inSection - p;
      else alloc += inSection - p;
      coveredUntil = blockEnd;
      coveringFree = isFree;
      p = inSection;
    }
    report.framesChecked += g.sectionFrames;
    if (e.free !== free || e.alloc !== alloc) enqueue({ structure: 'section', message: `section ${s}: summary says ${e.free} free / ${e.alloc} allocated frames, descriptors say ${free} / ${alloc}`, section: s, offset: sectionEntryOffset(L, s) });
    report.sectionsChecked++;
    options.onProgress?.(s + 1, g.sectionCount);
  }


  for (const q of queue) {
    if ('structure' in q) {
      problem(q);
      continue;
    }
    // A head the scan did not reach (in a section never initialised, or not marked as a head): read it.
    const known = wanted.get(q.pfn);
    const d = known?.length ? undefined : view(descBytes(q.pfn));
    const p = headProblem(q.pfn, q.order, q.name, q.where, known?.length ? known[0] : d!.getUint32(DESC.flags, true), known?.length ? known[1] : d!.getUint8(DESC.order));
    if (p) problem(p);
  }
  if (overflow) {
    report.ok = false;
    report.truncated = true;
  }

  // 3. The free heads found in descriptors are exactly the blocks on the lists; the design's pool has no leak.
  if (report.complete) {
    designCheck?.finish(problem);
    for (const [key, count] of listed) {
      const found = marked.get(key) ?? 0;
      if (found !== count) {
        const order = key % (g.maxOrder + 1);
        const nz = Math.floor(key / (g.maxOrder + 1));
        problem({ structure: 'freeList', message: `node ${Math.floor(nz / 3)} ${ZONE_NAMES[nz % 3]} order ${order}: ${found} free blocks are marked in descriptors but the list holds ${count}` });
      }
    }
  }
  return report;
}
