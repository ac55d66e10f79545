/**
 * Fragmentation as Linux measures it (mm/vmstat.c), per node and zone: the
 * free blocks of each order (/proc/buddyinfo), the fragmentation index of each
 * order (/sys/kernel/debug/extfrag/extfrag_index) and the unusable free space
 * index (/sys/kernel/debug/extfrag/unusable_index). The arithmetic is the
 * kernel's (thousandths, integer division truncating as C does) and so are the
 * text formats, so the files can be compared with a real machine's byte for byte.
 */

/** Free blocks per order of one zone, as /proc/buddyinfo lists them. */
export interface ZoneFreeCounts {
  node: number;
  zone: string;
  /** Free blocks of each order, 0 upwards. */
  free: number[];
}

export interface ZoneFragmentation extends ZoneFreeCounts {
  /** Free frames in the zone (its free blocks, in frames). */
  freePages: number;
  /** Highest order with a free block; -1 when the zone has none. */
  largestFreeOrder: number;
  /**
   * Per order, the fragmentation index in thousandths, as the kernel
   * computes it: -1000 when an allocation of that order would succeed;
   * otherwise towards 0 when it fails for lack of memory, towards 1000 when it
   * fails because the free memory is fragmented; 0 when nothing is free.
   */
  extfragIndex: number[];
  /** Per order, the share of free memory in blocks too small for it, in thousandths (1000 when nothing is free). */
  unusableIndex: number[];
}

/** As fill_contig_page_info: free pages, free blocks, and the free blocks of at least `order` counted in blocks of that order. */
function contigInfo(free: number[], order: number): { freePages: number; freeBlocksTotal: number; freeBlocksSuitable: number } {
  let freePages = 0;
  let freeBlocksTotal = 0;
  let freeBlocksSuitable = 0;
  for (let o = 0; o < free.length; o++) {
    freeBlocksTotal += free[o];
    freePages += free[o] * 2 ** o;
    if (o >= order) freeBlocksSuitable += free[o] * 2 ** (o - order);
  }
  return { freePages, freeBlocksTotal, freeBlocksSuitable };
}

/** As the kernel's __fragmentation_index, in thousandths. */
export function fragmentationIndex(free: number[], order: number): number {
  const info = contigInfo(free, order);
  if (!info.freeBlocksTotal) return 0;
  if (info.freeBlocksSuitable) return -1000;
  const requested = 2 ** order;
  return 1000 - Math.floor((1000 + Math.floor((info.freePages * 1000) / requested)) / info.freeBlocksTotal);
}

/** As the kernel's unusable_free_index, in thousandths. */
export function unusableFreeIndex(free: number[], order: number): number {
  const info = contigInfo(free, order);
  if (info.freePages === 0) return 1000;
  return Math.floor(((info.freePages - info.freeBlocksSuitable * 2 ** order) * 1000) / info.freePages);
}

/** Every figure of one zone. */
export function zoneFragmentation(z: ZoneFreeCounts): ZoneFragmentation {
  let largestFreeOrder = -1;
  z.free.forEach((n, o) => {
    if (n > 0) largestFreeOrder = o;
  });
  return {
    ...z,
    freePages: contigInfo(z.free, 0).freePages,
    largestFreeOrder,
    extfragIndex: z.free.map((_, o) => fragmentationIndex(z.free, o)),
    unusableIndex: z.free.map((_, o) => unusableFreeIndex(z.free, o)),
  };
}

// --- the kernel's text formats (seq_printf) ----------------------------------------------

/** C's %d with a width, zero-padded with `zero` (the sign before the zeros, as printf puts it). */
function cInt(v: number, width: number, zero = false): string {
  if (!zero) return String(v).padStart(width);
  return v < 0 ? `-${String(-v).padStart(width - 1, '0')}` : String(v).padStart(width, '0');
}

/** "Node N, zone NAME " as every one of these files starts a zone's line. */
function zoneHead(z: ZoneFreeCounts): string {
  return `Node ${z.node}, zone ${z.zone.padStart(8)} `;
}

/** A value in thousandths as the kernel prints it: index / 1000, '.', index % 1000 (C division: towards zero). */
function thousandths(index: number, width: number): string {
  return `${cInt(Math.trunc(index / 1000), width)}.${cInt(index % 1000, 3, true)} `;
}

/** /proc/buddyinfo. */
export function formatBuddyinfo(zones: ZoneFreeCounts[]): string {
  return zones.map((z) => `${zoneHead(z)}${z.free.map((n) => `${String(n).padStart(6)} `).join('')}\n`).join('');
}

/** /sys/kernel/debug/extfrag/extfrag_index ("%2d.%03d " per order). */
export function formatExtfragIndex(zones: ZoneFragmentation[]): string {
  return zones.map((z) => `${zoneHead(z)}${z.extfragIndex.map((i) => thousandths(i, 2)).join('')}\n`).join('');
}

/** /sys/kernel/debug/extfrag/unusable_index ("%d.%03d " per order). */
export function formatUnusableIndex(zones: ZoneFragmentation[]): string {
  return zones.map((z) => `${zoneHead(z)}${z.unusableIndex.map((i) => thousandths(i, 0)).join('')}\n`).join('');
}

/** The kernel's three files, by the names it gives them, with where it shows them and how each is printed. */
export const FRAGMENTATION_FILES = {
  buddyinfo: { path: '/proc/buddyinfo', format: (zones: ZoneFragmentation[]) => formatBuddyinfo(zones) },
  extfrag_index: { path: '/sys/kernel/debug/extfrag/extfrag_index', format: formatExtfragIndex },
  unusable_index: { path: '/sys/kernel/debug/extfrag/unusable_index', format: formatUnusableIndex },
} as const;
export type FragmentationFile = keyof typeof FRAGMENTATION_FILES;

/** All three, each after a "==> PATH <==" line (as head prints several files), a blank line between them. */
export function formatFragmentationFiles(zones: ZoneFragmentation[]): string {
  return Object.values(FRAGMENTATION_FILES).map((f) => `==> ${f.path} <==\n${f.format(zones)}`).join('\n');
}

/** How a snapshot's figures are named beside the image's. */
export function snapshotWords(s: MachineSnapshot): string {
  return s.kind === 'pagetypeinfo' ? 'pagetypeinfo, summed over migrate types' : s.kind === 'kmem -f' ? "crash's kmem -f, summed over its lists" : s.kind;
}

/**
 * The image's figures and a real machine's, file by file (or one file): each
 * under a "==> FILE <==" line, the image's first, each computed the same way.
 * A zoneinfo snapshot has free pages only, and says so.
 */
export function formatBeside(zones: ZoneFragmentation[], snapshot: MachineSnapshot, names: { ours: string; theirs: string }, only?: FragmentationFile): string {
  const files = only ? [FRAGMENTATION_FILES[only]] : Object.values(FRAGMENTATION_FILES);
  const real = snapshot.zones.map(zoneFragmentation);
  return files.map((f) => {
    const theirs = real.length ? f.format(real) : `${snapshot.freePages.map((z) => `Node ${z.node}, zone ${z.zone.padStart(8)} pages free ${z.pages}`).join('\n')}\n(zoneinfo has no free blocks by order)\n`;
    return `==> ${f.path} <==\n${names.ours}:\n${f.format(zones)}${names.theirs} (${snapshotWords(snapshot)}):\n${theirs}`;
  }).join('\n');
}

/** The most orders a snapshot line may list (Linux's MAX_ORDER is 11 to 13). */
const MAX_SNAPSHOT_ORDERS = 64;

/** Whole numbers of a line's columns, or undefined when one is too large to be a count (a damaged or foreign line). */
function counts(text: string): number[] | undefined {
  const out = text.trim().split(/\s+/).map(Number);
  return out.length <= MAX_SNAPSHOT_ORDERS && out.every(Number.isSafeInteger) ? out : undefined;
}

const nodeId = (text: string) => (Number.isSafeInteger(Number(text)) ? Number(text) : undefined);

/** Reads /proc/buddyinfo text back into counts (a real machine's, or ours); lines that are not zone lines are skipped. */
export function parseBuddyinfo(text: string): ZoneFreeCounts[] {
  const out: ZoneFreeCounts[] = [];
  for (const line of text.split('\n')) {
    const m = /^Node\s+(\d+),\s+zone\s+(\S+)((?:\s+\d+)+)\s*$/.exec(line);
    const node = m ? nodeId(m[1]) : undefined;
    const free = m ? counts(m[3]) : undefined;
    if (m && node !== undefined && free) out.push({ node, zone: m[2], free });
  }
  return out;
}

// --- a real machine's snapshots ---------------------------------------------------------------

/** Free blocks of one migrate type of one zone, as /proc/pagetypeinfo lists them. */
export interface ZoneTypeFreeCounts extends ZoneFreeCounts {
  type: string;
}

/** A real machine's view of its free memory, read from one of its files. */
export interface MachineSnapshot {
  /**
   * Which file it was: buddyinfo, pagetypeinfo (free blocks per order, summed
   * over migrate types), zoneinfo (free pages only) or crash's `kmem -f`
   * (free blocks per order, summed over its lists).
   */
  kind: 'buddyinfo' | 'pagetypeinfo' | 'zoneinfo' | 'kmem -f';
  /** Free blocks per order of each zone (buddyinfo, pagetypeinfo). */
  zones: ZoneFreeCounts[];
  /** Per migrate type (pagetypeinfo). */
  types: ZoneTypeFreeCounts[];
  /** Free pages of each zone (every kind; zoneinfo's own count there). */
  freePages: Array<{ node: number; zone: string; pages: number }>;
}

/** /proc/pagetypeinfo's "Free pages count per migrate type" rows; other lines are skipped. */
export function parsePagetypeinfo(text: string): ZoneTypeFreeCounts[] {
  const out: ZoneTypeFreeCounts[] = [];
  for (const line of text.split('\n')) {
    const m = /^Node\s+(\d+),\s+zone\s+(\S+),\s+type\s+(\S+)((?:\s+\d+)+)\s*$/.exec(line);
    const node = m ? nodeId(m[1]) : undefined;
    const free = m ? counts(m[4]) : undefined;
    if (m && node !== undefined && free) out.push({ node, zone: m[2], type: m[3], free });
  }
  return out;
}

/** /proc/zoneinfo's free pages of each zone ("pages free N" under "Node N, zone NAME"). */
export function parseZoneinfo(text: string): Array<{ node: number; zone: string; pages: number }> {
  const out: Array<{ node: number; zone: string; pages: number }> = [];
  let at: { node: number; zone: string } | undefined;
  for (const line of text.split('\n')) {
    const z = /^Node\s+(\d+),\s+zone\s+(\S+)\s*$/.exec(line);
    if (z) at = nodeId(z[1]) === undefined ? undefined : { node: Number(z[1]), zone: z[2] };
    const f = /^\s+pages free\s+(\d+)\s*$/.exec(line);
    if (f && at && Number.isSafeInteger(Number(f[1]))) {
      out.push({ ...at, pages: Number(f[1]) });
      at = undefined;
    }
  }
  return out;
}

/**
 * The crash utility's `kmem -f` output: under each "NODE" and "ZONE" header,
 * a zone line (index, name, size, free pages, ...) and an "AREA SIZE
 * FREE_AREA_STRUCT BLOCKS PAGES" table of one line per free list (one per
 * migrate type on kernels that have them), summed per order. Zones of size
 * 0 are not populated and left out, as /proc/buddyinfo leaves them out; a
 * line whose pages are not its blocks times its block size is not read.
 */
export function parseKmemFree(text: string): ZoneFreeCounts[] {
  const out: ZoneFreeCounts[] = [];
  let node = 0;
  let expectNode = false;
  let expectZone = false;
  let zone: ZoneFreeCounts | undefined;
  let inAreas = false;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*NODE\s*$/.test(line)) {
      expectNode = true;
      inAreas = false;
      continue;
    }
    const id = /^\s*(\d+)\s*$/.exec(line);
    if (expectNode && id && nodeId(id[1]) !== undefined) {
      node = Number(id[1]);
      expectNode = false;
      continue;
    }
    if (/^\s*ZONE\s+NAME\s+SIZE\s+FREE\b/.test(line)) {
      expectZone = true;
      inAreas = false;
      zone = undefined;
      continue;
    }
    const z = expectZone ? /^\s*\d+\s+(\S+)\s+(\d+)\s+(\d+)\b/.exec(line) : null;
    if (z) {
      expectZone = false;
      if (Number(z[2]) > 0) out.push((zone = { node, zone: z[1], free: [] }));
      continue;
    }
    if (/^\s*AREA\s+SIZE\s+FREE_AREA_STRUCT\s+BLOCKS\s+PAGES\s*$/.test(line)) {
      inAreas = true;
      continue;
    }
    const a = inAreas && zone ? /^\s*(\d+)\s+(\d+)k\s+[0-9a-fA-F]+\s+(\d+)\s+(\d+)\s*$/.exec(line) : null;
    if (a && zone) {
      const order = Number(a[1]);
      const blocks = Number(a[3]);
      if (order >= MAX_SNAPSHOT_ORDERS || !Number.isSafeInteger(blocks) || Number(a[4]) !== blocks * 2 ** order) continue;
      while (zone.free.length <= order) zone.free.push(0);
      zone.free[order] += blocks;
      continue;
    }
    if (line.trim() === '') continue;
    inAreas = false;
  }
  return out;
}

const freePagesOf = (zones: ZoneFreeCounts[]) => zones.map((z) => ({ node: z.node, zone: z.zone, pages: z.free.reduce((s, n, o) => s + n * 2 ** o, 0) }));

/**
 * Reads a real machine's /proc/buddyinfo, /proc/pagetypeinfo or
 * /proc/zoneinfo, or crash's `kmem -f` output, telling which by its lines;
 * undefined when it is none of them.
 */
export function parseMachineSnapshot(text: string): MachineSnapshot | undefined {
  const types = parsePagetypeinfo(text);
  if (types.length) {
    const zones: ZoneFreeCounts[] = [];
    for (const t of types) {
      let z = zones.find((x) => x.node === t.node && x.zone === t.zone);
      if (!z) zones.push((z = { node: t.node, zone: t.zone, free: t.free.map(() => 0) }));
      t.free.forEach((n, o) => (z!.free[o] = (z!.free[o] ?? 0) + n));
    }
    return { kind: 'pagetypeinfo', zones, types, freePages: freePagesOf(zones) };
  }
  const zones = parseBuddyinfo(text);
  if (zones.length) return { kind: 'buddyinfo', zones, types: [], freePages: freePagesOf(zones) };
  const kmem = parseKmemFree(text);
  if (kmem.length) return { kind: 'kmem -f', zones: kmem, types: [], freePages: freePagesOf(kmem) };
  const free = parseZoneinfo(text);
  if (free.length) return { kind: 'zoneinfo', zones: [], types: [], freePages: free };
  return undefined;
}
