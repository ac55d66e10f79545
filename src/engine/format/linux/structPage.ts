/**
 * The struct pages a Linux kernel wrote into a namespace's memmap area
 * (fsdax or devdax with --map=dev), decoded for one kernel generation
 * (kernelStructPage.ts). Pages are numbered by their index in the namespace:
 * page 0 is its first 4 KiB. Browser-safe: reads through a callback.
 */
import { dataView } from '../../core/bytes';
import type { KernelStructPage } from './kernelStructPage';
import { fieldOf, type PageFlagsLayout } from './pageFlagsLayout';
import type { PfnNamespaceReport } from './namespace';
import { LINUX_STRUCT_PAGE_SIZE } from './pfnInfoBlock';

const PAGE_BYTES = 4096;
/** x86-64 KASLR places vmemmap_base on a PUD (1 GiB) boundary. */
const VMEMMAP_BASE_ALIGN = 2n ** 30n;
/** Pages whose struct page sits in one PUD of vmemmap: pfns below this are told exactly by an address. */
const PFNS_PER_PUD = Number(VMEMMAP_BASE_ALIGN / 64n);
/** Kernel text and modules start here on x86-64 (__START_KERNEL_map). */
const KERNEL_TEXT = 0xffffffff80000000n;
/** The lowest kernel address of x86-64 with 4-level paging (the direct map's lowest possible start). */
const KERNEL_SPACE = 0xffff800000000000n;

/** Where the struct pages of a namespace lie in its file. */
export interface NamespaceMemmap {
  /** Byte offset of the struct page of namespace page `firstPage`. */
  start: number;
  /** Namespace page whose struct page comes first (0 for a namespace starting on a 128 MiB boundary). */
  firstPage: number;
  /** Pages described, from firstPage on. */
  pages: number;
  /** Bytes per struct page (page_struct_size). */
  stride: number;
}

/** The memmap area of a namespace, or why it has none in the file. */
export function namespaceMemmap(report: PfnNamespaceReport): NamespaceMemmap | { none: string } {
  if (report.memmap === 'ram') return { none: 'its struct pages live in RAM (--map=mem): the file holds none' };
  if (report.memmap !== 'namespace') return { none: `the info block's mode is not one the kernel knows, so the memmap's place is unknown` };
  const vm = report.layout.vmemmap;
  if (!vm || vm.blocks === 0) return { none: 'the info block leaves no room for a memmap' };
  const stride = report.effective.pageStructSize;
  // A hostile block may claim any stride; Linux itself refuses one below its struct page.
  if (stride < LINUX_STRUCT_PAGE_SIZE) return { none: `page_struct_size ${stride} is smaller than a struct page (${LINUX_STRUCT_PAGE_SIZE} bytes): Linux refuses the namespace ("struct page size mismatch")` };
  const pages = Math.max(0, Math.min(vm.coveredPages, Math.floor((Math.min(vm.end, report.size) - vm.start) / stride)));
  return { start: vm.start, firstPage: vm.firstPage, pages, stride };
}

/** The layout area (info-block reserve, memmap, alignment padding, data, ...) that holds namespace page `page`. */
export function areaOfPage(report: PfnNamespaceReport, page: number): string | undefined {
  const at = page * PAGE_BYTES;
  return report.layout.areas.find((a) => at >= a.offset && at < a.offset + a.bytes)?.name;
}

export function structPageOffset(m: NamespaceMemmap, page: number): number {
  return m.start + (page - m.firstPage) * m.stride;
}

/** Pages of the namespace that have a struct page in the file: [from, to). */
export function describedPages(m: NamespaceMemmap): { from: number; to: number } {
  return { from: Math.max(0, m.firstPage), to: m.firstPage + m.pages };
}

/**
 * What the kernel's own pointers reveal: the virtual address of the struct
 * page of namespace page 0 (from empty list heads, which point at
 * themselves), hence the physical pfn of every page when the namespace lies
 * below 64 GiB (vmemmap_base is 1 GiB aligned).
 */
export interface VmemmapAnchor {
  /** Virtual address of the struct page of namespace page 0. */
  page0: bigint;
  /** How many struct pages agree. */
  votes: number;
  /** Physical pfn of namespace page 0, read as above. */
  basePfn: number;
  /** vmemmap_base as the same reading gives it. */
  vmemmapBase: bigint;
}

function word(b: Uint8Array, at: number): bigint {
  const dv = dataView(b);
  return dv.getBigUint64(at, true);
}

/** Reads the anchor from struct pages (bytes of consecutive pages from `firstPage`); undefined when fewer than two agree. */
export function inferVmemmapAnchor(pages: Array<{ page: number; bytes: Uint8Array }>): VmemmapAnchor | undefined {
  const votes = new Map<bigint, number>();
  for (const { page, bytes } of pages) {
    const next = word(bytes, 8);
    const prev = word(bytes, 16);
    // INIT_LIST_HEAD(&page->lru): next == prev == &page->lru, 8 bytes into the struct page.
    if (next !== prev || next < KERNEL_SPACE || (next & 63n) !== 8n) continue;
    const page0 = next - 8n - BigInt(page) * 64n;
    votes.set(page0, (votes.get(page0) ?? 0) + 1);
  }
  let best: [bigint, number] | undefined;
  for (const e of votes) if (!best || e[1] > best[1]) best = e;
  if (!best || best[1] < 2) return undefined;
  const basePfn = Number((best[0] % VMEMMAP_BASE_ALIGN) / 64n);
  return { page0: best[0], votes: best[1], basePfn, vmemmapBase: best[0] - BigInt(basePfn) * 64n };
}

export interface DecodedWord {
  name: string;
  offset: number;
  size: number;
  /** The raw value, hex. */
  hex: string;
  meaning: string;
}

export type StructPageKind = 'never written' | 'ZONE_DEVICE' | 'compound tail' | 'free (buddy)' | 'page table' | 'offline' | 'guard' | 'slab' | 'in use';

export interface DecodedStructPage {
  /** Index in the namespace. */
  page: number;
  /** Byte offset of the struct page in the file. */
  offset: number;
  /** Physical pfn, when the image reveals it or the caller gave the base. */
  pfn?: number;
  written: boolean;
  kind: StructPageKind;
  flags: {
    hex: string;
    names: string[];
    node: number;
    zone: number;
    zoneName: string;
    section: number;
    /** undefined when all ones (no cpupid recorded). */
    lastCpupid?: number;
    lruGen: number;
    lruRefs: number;
  };
  refcount: number;
  mapcount: number;
  /** The page type (buddy, offline, table, guard) when page_type holds one. */
  pageType?: string;
  /** For a compound tail: the namespace page of its head, when the anchor tells it. */
  headPage?: number;
  words: DecodedWord[];
  /** What does not fit the kernel's rules (a zone it has not, bits above __NR_PAGEFLAGS in use, ...). */
  problems: string[];
}

export interface DecodeContext {
  kernel: KernelStructPage;
  /** Defaults to the kernel's own layout. */
  flagsLayout?: PageFlagsLayout;
  anchor?: VmemmapAnchor;
  /** Physical pfn of namespace page 0 given by the user; wins over the anchor's. */
  basePfn?: number;
}

const hex = (v: bigint | number, digits: number) => `0x${v.toString(16).padStart(digits, '0')}`;

function pageTypeOf(kernel: KernelStructPage, raw: number): string | undefined {
  const { base, bits } = kernel.pageTypes;
  for (const [name, bit] of Object.entries(bits)) if ((raw & (base | bit)) >>> 0 === base) return name;
  return undefined;
}

/** Says what a pointer-sized value is, as far as the image and the anchor tell. */
export function describeAddress(v: bigint, ctx: DecodeContext, ownAddress?: bigint): string {
  if (v === 0n) return 'NULL';
  for (const [name, p] of Object.entries(ctx.kernel.poison)) if (v === p) return name;
  if (ownAddress !== undefined && v === ownAddress + 8n) return 'itself: an empty list';
  const a = ctx.anchor;
  if (a && v >= a.vmemmapBase && v < a.vmemmapBase + BigInt(PFNS_PER_PUD) * 64n * 64n) {
    const byteInto = v - a.page0;
    const page = byteInto >= 0n ? Number(byteInto / 64n) : -Number((-byteInto + 63n) / 64n);
    const within = Number(((byteInto % 64n) + 64n) % 64n);
    const pfn = Number((v - a.vmemmapBase) / 64n);
    return `vmemmap: struct page of pfn ${hex(pfn, 0)}${page >= 0 ? ` (namespace page ${page})` : ''}${within ? ` + ${within}` : ''}`;
  }
  if (v >= KERNEL_TEXT) return 'kernel text, data or module';
  if (v >= KERNEL_SPACE) return a && v >= a.vmemmapBase ? 'kernel virtual (vmemmap area)' : 'kernel virtual (direct map or vmalloc)';
  return 'not a kernel address';
}

function mappingMeaning(v: bigint, ctx: DecodeContext): string {
  if (v === 0n) return 'NULL: no address space';
  if (v === ctx.kernel.poison.TAIL_MAPPING) return 'TAIL_MAPPING: a tail page of a compound page';
  const low = Number(v & 3n);
  if (low === 3) return `KSM stable node at ${hex(v & ~3n, 16)}`;
  if (low === 1) return `anon_vma at ${hex(v & ~3n, 16)} (PAGE_MAPPING_ANON)`;
  if (low === 2) return `movable_operations at ${hex(v & ~3n, 16)} (PAGE_MAPPING_MOVABLE)`;
  return `address_space at ${hex(v, 16)}: ${describeAddress(v, ctx)}`;
}

/** INIT_LIST_HEAD(&page->lru): both words point at the list itself, 8 bytes into the struct page. */
function isEmptyList(next: bigint, prev: bigint, own?: bigint): boolean {
  if (own !== undefined) return next === own + 8n && prev === next;
  return next === prev && next >= KERNEL_SPACE && (next & 63n) === 8n;
}

/** Decodes the struct page of namespace page `page` (bytes as stored, at least kernel.size of them). */
export function decodeStructPage(bytes: Uint8Array, page: number, offset: number, ctx: DecodeContext): DecodedStructPage {
  const k = ctx.kernel;
  const L = ctx.flagsLayout ?? k.flagsLayout;
  const dv = dataView(bytes);
  const written = bytes.subarray(0, k.size).some((b) => b !== 0);
  const flags = dv.getBigUint64(0, true);
  const w1 = dv.getBigUint64(8, true);
  const w2 = dv.getBigUint64(16, true);
  const mapping = dv.getBigUint64(24, true);
  const index = dv.getBigUint64(32, true);
  const priv = dv.getBigUint64(40, true);
  const mapcountRaw = dv.getUint32(48, true);
  const mapcount = dv.getInt32(48, true);
  const refcount = dv.getInt32(52, true);
  const memcg = dv.getBigUint64(56, true);

  const names: string[] = [];
  const problems: string[] = [];
  for (let bit = 0; bit < L.flagBits; bit++) if ((flags >> BigInt(bit)) & 1n) names.push(k.flagNames[bit] ?? `bit ${bit}`);
  const zone = fieldOf(flags, L.zone);
  const cpupid = fieldOf(flags, L.lastCpupid);
  const allOnes = L.lastCpupid.width > 0 && cpupid === 2 ** L.lastCpupid.width - 1;
  const decodedFlags = {
    hex: hex(flags, 16), names, node: fieldOf(flags, L.node), zone, zoneName: k.zoneNames[zone] ?? `zone ${zone}`,
    section: fieldOf(flags, L.section), lastCpupid: allOnes ? undefined : cpupid, lruGen: fieldOf(flags, L.lruGen), lruRefs: fieldOf(flags, L.lruRefs),
  };
  const base = ctx.basePfn ?? ctx.anchor?.basePfn;
  const pfn = base === undefined ? undefined : base + page;
  const own = ctx.anchor ? ctx.anchor.page0 + BigInt(page) * 64n : undefined;
  const result: DecodedStructPage = {
    page, offset, pfn, written, kind: 'never written', flags: decodedFlags, refcount, mapcount, words: [], problems,
  };
  if (!written) return result;
  if (zone >= k.zoneNames.length) problems.push(`zone ${zone} is beyond this kernel's ${k.zoneNames.length} zones`);

  const tail = (w1 & 1n) === 1n;
  const pageType = !tail && mapcount < -1 ? pageTypeOf(k, mapcountRaw) : undefined;
  result.pageType = pageType;
  const words: DecodedWord[] = [];
  const add = (name: string, at: number, size: number, raw: bigint | number, meaning: string) =>
    words.push({ name, offset: at, size, hex: hex(raw, size * 2), meaning });
  add('flags', 0, 8, flags, `${names.length ? names.map((n) => `PG_${n}`).join(' | ') : 'no PG_ flags'}; node ${decodedFlags.node}, zone ${decodedFlags.zone} (${decodedFlags.zoneName})` +
    `${L.section.width ? `, section ${decodedFlags.section}` : ''}, last_cpupid ${decodedFlags.lastCpupid === undefined ? 'none (all ones)' : decodedFlags.lastCpupid}` +
    `${L.lruGen.width ? `, LRU gen ${decodedFlags.lruGen}, refs ${decodedFlags.lruRefs}` : ''}`);
  if (tail) {
    const head = w1 - 1n;
    if (ctx.anchor) {
      const into = head - ctx.anchor.page0;
      if (into >= 0n && into % 64n === 0n) result.headPage = Number(into / 64n);
    }
    add('compound_head', 8, 8, w1, `tail page: bit 0 set, head's struct page at ${hex(head, 16)}${result.headPage !== undefined ? ` (namespace page ${result.headPage})` : ''}`);
    // The first tail page carries the compound page's size and counts where others keep lru.prev and mapping.
    const firstTail = result.headPage !== undefined ? result.headPage === page - 1 : bytes[17] !== 0;
    if (firstTail) {
      add('compound_dtor, compound_order, compound_mapcount', 16, 8, w2,
        `first tail page: dtor ${bytes[16]}, order ${bytes[17]} (${2 ** bytes[17]} pages), compound_mapcount ${dv.getInt32(20, true)}`);
      add('compound_pincount, compound_nr', 24, 8, mapping, `pincount ${dv.getInt32(24, true)}, compound_nr ${dv.getUint32(28, true)} pages`);
    } else {
      add('(unused by a tail page)', 16, 8, w2, w2 === 0n ? '0' : describeAddress(w2, ctx));
      add('mapping', 24, 8, mapping, mappingMeaning(mapping, ctx));
    }
    result.kind = 'compound tail';
  } else if (zone === k.deviceZone && !isEmptyList(w1, w2, own)) {
    add('pgmap', 8, 8, w1, `struct dev_pagemap at ${hex(w1, 16)}: ${describeAddress(w1, ctx)}`);
    add('zone_device_data', 16, 8, w2, w2 === 0n ? 'NULL' : describeAddress(w2, ctx));
    result.kind = 'ZONE_DEVICE';
  } else {
    if (zone === k.deviceZone) result.kind = 'ZONE_DEVICE';
    const listName = pageType === 'buddy' ? 'buddy_list' : 'lru';
    add(`${listName}.next`, 8, 8, w1, describeAddress(w1, ctx, own));
    add(`${listName}.prev`, 16, 8, w2, describeAddress(w2, ctx, own));
  }
  if (!tail) add('mapping', 24, 8, mapping, mappingMeaning(mapping, ctx));
  add('index', 32, 8, index, pageType === 'buddy' ? 'unused by a free page' : `${index}: offset in its mapping, in pages`);
  add('private', 40, 8, priv, pageType === 'buddy' ? `buddy order ${priv}` : priv === 0n ? '0' : `${priv}`);
  add(pageType ? 'page_type' : '_mapcount', 48, 4, mapcountRaw,
    pageType ? `PageType ${pageType} (page_type & (PAGE_TYPE_BASE | PG_${pageType}) == PAGE_TYPE_BASE)`
    : mapcount === -1 ? '-1: mapped by no page table' : mapcount >= 0 ? `${mapcount}: mapped ${mapcount + 1} time(s)` : `${mapcount}: no page type this kernel knows`);
  add('_refcount', 52, 4, dv.getUint32(52, true), `${refcount}${refcount === 0 ? ': free or unused' : refcount < 0 ? ': negative, a kernel bug' : ''}`);
  add('memcg_data', 56, 8, memcg, memcg === 0n ? 'NULL: not charged to a memory cgroup' : `${describeAddress(memcg & ~3n, ctx)}${memcg & 1n ? ' (MEMCG_DATA_OBJCGS)' : ''}${memcg & 2n ? ' (MEMCG_DATA_KMEM)' : ''}`);
  result.words = words;
  if (!result.kind || result.kind === 'never written') {
    result.kind = pageType === 'buddy' ? 'free (buddy)' : pageType === 'table' ? 'page table' : pageType === 'offline' ? 'offline' : pageType === 'guard' ? 'guard' : names.includes('slab') ? 'slab' : 'in use';
  }
  const unknownBits = flags & ((1n << BigInt(L.flagBits)) - 1n) & ~((1n << BigInt(k.flagNames.length)) - 1n);
  if (unknownBits) problems.push(`flag bits ${hex(unknownBits, 0)} have no name in ${k.title}`);
  return result;
}

export type ReadAt = (offset: number, length: number) => Uint8Array;

/** How many struct pages from the start of the memmap the anchor is read from. */
export const ANCHOR_SAMPLE_PAGES = 4096;

/** Reads the anchor from the first struct pages of the memmap area. */
export function anchorOf(read: ReadAt, m: NamespaceMemmap): VmemmapAnchor | undefined {
  const { from, to } = describedPages(m);
  const count = Math.min(ANCHOR_SAMPLE_PAGES, to - from);
  if (count <= 0) return undefined;
  const all = read(structPageOffset(m, from), count * m.stride);
  const pages = [];
  for (let i = 0; i < count; i++) pages.push({ page: from + i, bytes: all.subarray(i * m.stride, i * m.stride + 64) });
  return inferVmemmapAnchor(pages);
}

/** Decodes `count` struct pages from namespace page `from`; refuses pages the memmap does not describe, saying which are. */
export function readStructPages(read: ReadAt, m: NamespaceMemmap, from: number, count: number, ctx: DecodeContext): DecodedStructPage[] {
  const { from: lo, to: hi } = describedPages(m);
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(count) || count < 1) throw new RangeError(`pages ${from}+${count}: need a whole first page and a count of at least 1`);
  if (from < lo || from + count > hi) throw new RangeError(`pages ${from}..${from + count - 1} are outside the pages the memmap describes (${lo}..${hi - 1})`);
  const bytes = read(structPageOffset(m, from), count * m.stride);
  const out: DecodedStructPage[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * m.stride;
    out.push(decodeStructPage(bytes.subarray(at, at + m.stride), from + i, structPageOffset(m, from + i), ctx));
  }
  return out;
}

/** What a page's struct page says, in one byte per page, for maps and counts (classifyPages). */
export const PAGE_CLASS = {
  /** No struct page in the file for this page (outside the memmap's reach, or the memmap is in RAM). */
  undescribed: 0,
  neverWritten: 1,
  /** A ZONE_DEVICE page handed to the device (pgmap set): the namespace's data pages. */
  device: 2,
  /** Initialised but not handed to the device: the info-block reserve and the memmap's own pages (an empty lru). */
  reserve: 3,
  compoundHead: 4,
  compoundTail: 5,
  buddy: 6,
  /** Any other page in use. */
  other: 7,
  /** Something this kernel could not have written (a zone it has not). */
  suspect: 8,
} as const;

export const PAGE_CLASS_NAMES = ['no struct page', 'never written', 'ZONE_DEVICE', 'reserve (not given to the device)', 'compound head', 'compound tail', 'free (buddy)', 'other in use', 'suspect'];

/**
 * One PAGE_CLASS byte per page for pages [from, from + count): a cheap read
 * of flags, the first list word and page_type, without decoding fields.
 */
export function classifyPages(read: ReadAt, m: NamespaceMemmap, from: number, count: number, ctx: DecodeContext): Uint8Array {
  const out = new Uint8Array(count);
  const { from: lo, to: hi } = describedPages(m);
  const k = ctx.kernel;
  const L = ctx.flagsLayout ?? k.flagsLayout;
  const zoneShift = BigInt(L.zone.shift);
  const zoneMask = (1n << BigInt(L.zone.width)) - 1n;
  const headBit = 1n << BigInt(k.flagNames.indexOf('head'));
  const a = Math.max(from, lo);
  const b = Math.min(from + count, hi);
  if (b <= a) return out;
  const bytes = read(structPageOffset(m, a), (b - a) * m.stride);
  const dv = dataView(bytes);
  for (let p = a; p < b; p++) {
    const at = (p - a) * m.stride;
    const flags = dv.getBigUint64(at, true);
    const w1 = dv.getBigUint64(at + 8, true);
    let c: number;
    if (flags === 0n && w1 === 0n && dv.getBigUint64(at + 16, true) === 0n && dv.getUint32(at + 48, true) === 0 && dv.getUint32(at + 52, true) === 0) {
      c = bytes.subarray(at, at + m.stride).some((x) => x !== 0) ? PAGE_CLASS.other : PAGE_CLASS.neverWritten;
    } else {
      const zone = Number((flags >> zoneShift) & zoneMask);
      const mapcount = dv.getInt32(at + 48, true);
      if (zone >= k.zoneNames.length) c = PAGE_CLASS.suspect;
      else if ((w1 & 1n) === 1n) c = PAGE_CLASS.compoundTail;
      else if (flags & headBit) c = PAGE_CLASS.compoundHead;
      else if (mapcount < -1 && pageTypeOf(k, dv.getUint32(at + 48, true)) === 'buddy') c = PAGE_CLASS.buddy;
      else if (isEmptyList(w1, dv.getBigUint64(at + 16, true))) c = zone === k.deviceZone ? PAGE_CLASS.reserve : PAGE_CLASS.other;
      else c = zone === k.deviceZone ? PAGE_CLASS.device : PAGE_CLASS.other;
    }
    out[p - from] = c;
  }
  return out;
}
