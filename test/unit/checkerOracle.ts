/**
 * The checker as it was before the memmap scan read raw words: one decoded
 * descriptor at a time, one section per read. Kept as the reference the
 * current checker must agree with, problem for problem (checkerOracle.test.ts).
 */
import { isReservedPfn, sectionDataRange, sectionOf } from '../../src/engine/alloc/sectionInit';
import { crc32, view } from '../../src/engine/core/bytes';
import { DESCRIPTOR_SIZE, PAGE_SIZE, ZONE_NAMES } from '../../src/engine/format/constants';
import { checkDescriptorBytes, CORE_VERSION, decodeDescriptor, DESC, isBlank, KNOWN_FLAGS, PG_ALLOCATED, PG_BUDDY, PG_CORE, PG_FREEING, PG_RESERVED } from '../../src/engine/format/descriptor';
import { FREE_AREA, freeAreaIndex } from '../../src/engine/format/freeArea';
import { decodeFreeLink, FREE_LINK_SIZE, LINK } from '../../src/engine/format/freeLink';
import { FREE_AREA_ENTRY_SIZE, nodeZoneOf, SECTION_ENTRY_SIZE } from '../../src/engine/format/layout';
import { SECTION } from '../../src/engine/format/sectionTable';
import { decodeSuperblock, SUPERBLOCK_SIZE } from '../../src/engine/format/superblock';
import type { PmemImage } from '../../src/engine/image/imageCore';
import type { Intent } from '../../src/engine/format/intent';
import { readSectionTable } from '../../src/engine/image/ops';
import type { CheckOptions, CheckReport, Problem } from '../../src/engine/inspect/checker';
import { checkHistory, checkJournal } from '../../src/engine/inspect/checkLogs';
import { sectionDescriptors, viewDescriptor } from '../../src/engine/inspect/views';

export function oracleCheck(img: PmemImage, options: CheckOptions = {}): CheckReport {
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
  checkHistory(img).forEach(problem);

  const table = readSectionTable(img);
  const sectionGen = (s: number) => table.getUint32(s * SECTION_ENTRY_SIZE + SECTION.initGeneration, true);
  const descBytes = (pfn: number) => viewDescriptor(img, pfn, table).bytes;

  // 1. Free lists: each listed block is a well-formed free head; links agree both ways; counts agree.
  const area = img.store.read(L.freeArea.startPfn * PAGE_SIZE, L.freeArea.frames * PAGE_SIZE);
  const areaView = view(area);
  const listed = new Map<number, number>();
  for (const n of img.nodes) {
    for (const z of n.zones) {
      for (let order = 0; order <= g.maxOrder; order++) {
        const idx = freeAreaIndex(g.maxOrder, n.id, z.id, order);
        const at = idx * FREE_AREA_ENTRY_SIZE;
        const head = areaView.getUint32(at + FREE_AREA.head, true) + areaView.getUint32(at + FREE_AREA.head + 4, true) * 2 ** 32;
        const count = areaView.getUint32(at + FREE_AREA.count, true) + areaView.getUint32(at + FREE_AREA.count + 4, true) * 2 ** 32;
        const name = `free list node ${n.id} ${ZONE_NAMES[z.id]} order ${order}`;
        if (z.frames === 0 && (head || count)) problem({ structure: 'freeList', message: `${name}: zone is empty but the list is not`, offset: L.freeArea.startPfn * PAGE_SIZE + at });
        let prev = 0;
        let p = head;
        let steps = 0;
        while (p) {
          if (steps >= count) {
            problem({ structure: 'freeList', message: `${name}: longer than its count ${count} (a wrong count or a cycle)`, pfn: p, offset: L.freeArea.startPfn * PAGE_SIZE + at + FREE_AREA.count });
            break;
          }
          const where = { pfn: p, section: p < g.totalFrames ? sectionOf(g, p) : undefined };
          const end = p + 2 ** order;
          if (!Number.isSafeInteger(p) || p < L.data.startPfn || end > dataEnd) {
            problem({ structure: 'freeList', message: `${name}: block ${p} lies outside the data area (metadata or memmap in a free list)`, ...where, offset: L.freeArea.startPfn * PAGE_SIZE + at });
            break;
          }
          if (p % 2 ** order) problem({ structure: 'block', message: `${name}: block ${p} is not aligned to its order`, ...where });
          if (p < z.firstPfn || end > z.firstPfn + z.frames) problem({ structure: 'block', message: `${name}: block ${p} crosses its zone's boundary`, ...where });
          if (sectionGen(sectionOf(g, p)) === 0) problem({ structure: 'block', message: `${name}: block ${p} lies in a never-initialised section`, ...where });
          const d = descBytes(p);
          const dv = view(d);
          const flags = dv.getUint32(DESC.flags, true);
          if (!(flags & PG_BUDDY) || dv.getUint8(DESC.order) !== order) problem({ structure: 'descriptor', message: `${name}: block ${p}'s head descriptor is not marked free of order ${order} (flags 0x${flags.toString(16)}, order ${dv.getUint8(DESC.order)})`, ...where });
          let next: number;
          let back: number;
          if (g.links === 'page') {
            const l = decodeFreeLink(img.store.read(p * PAGE_SIZE, FREE_LINK_SIZE));
            if (!l.ok) {
              problem({ structure: 'freeList', message: `${name}: block ${p}: ${l.reason}`, ...where, offset: p * PAGE_SIZE });
              break;
            }
            const raw = img.store.read(p * PAGE_SIZE, FREE_LINK_SIZE);
            if (raw[LINK.zone + 1] !== 0 || raw.subarray(LINK.linkedGeneration + 4, LINK.crc).some((b) => b !== 0)) {
              problem({ structure: 'freeList', message: `${name}: block ${p}'s link record has reserved bytes that are not 0`, ...where, offset: p * PAGE_SIZE });
            }
            if (l.link.pfn !== p || l.link.order !== order || l.link.node !== n.id || l.link.zone !== z.id) {
              problem({ structure: 'freeList', message: `${name}: block ${p}'s link record describes pfn ${l.link.pfn} order ${l.link.order} node ${l.link.node} zone ${l.link.zone}`, ...where, offset: p * PAGE_SIZE });
            }
            next = l.link.next;
            back = l.link.prev;
          } else {
            next = dv.getUint32(DESC.next, true) + dv.getUint32(DESC.next + 4, true) * 2 ** 32;
            back = dv.getUint32(DESC.prev, true) + dv.getUint32(DESC.prev + 4, true) * 2 ** 32;
          }
          if (back !== prev) problem({ structure: 'freeList', message: `${name}: block ${p}'s prev link is ${back}, expected ${prev}`, ...where });
          prev = p;
          p = next;
          steps++;
        }
        if (steps < count && !p) problem({ structure: 'freeList', message: `${name}: count says ${count} blocks, the list has ${steps}`, offset: L.freeArea.startPfn * PAGE_SIZE + at + FREE_AREA.count });
        listed.set(idx, count);
        report.freeBlocks += count;
      }
    }
  }

  // 2. Sections: every data frame of an initialised section is in exactly one block; summaries agree.
  const heads = new Map<number, number>();
  let coveredUntil = 0; // end of a block that started in an earlier section
  let coveringFree = false;
  for (let s = 0; s < g.sectionCount; s++) {
    if (options.cancelled?.()) {
      report.complete = false;
      break;
    }
    const first = s * g.sectionFrames;
    const gen = sectionGen(s);
    const entry = s * SECTION_ENTRY_SIZE;
    const e = { free: table.getUint32(entry + SECTION.freeFrames, true), alloc: table.getUint32(entry + SECTION.allocatedFrames, true), reserved: table.getUint32(entry + SECTION.reservedFrames, true) };
    let expectReserved = 0;
    for (let pfn = first; pfn < first + g.sectionFrames; pfn++) if (isReservedPfn(L, pfn)) expectReserved++;
    if (e.free + e.alloc + e.reserved > g.sectionFrames) problem({ structure: 'section', message: `section ${s}: counts ${e.free} + ${e.alloc} + ${e.reserved} exceed its ${g.sectionFrames} frames`, section: s });
    if (e.reserved !== expectReserved) problem({ structure: 'section', message: `section ${s}: summary says ${e.reserved} reserved frames, the layout has ${expectReserved}`, section: s });
    if (gen === 0) {
      if (e.free || e.alloc) problem({ structure: 'section', message: `section ${s} was never initialised but its summary counts ${e.free} free and ${e.alloc} allocated frames`, section: s });
      if (coveredUntil > first) problem({ structure: 'block', message: `a block reaches into never-initialised section ${s}`, section: s });
      report.sectionsChecked++;
      options.onProgress?.(s + 1, g.sectionCount);
      continue;
    }
    if (gen > img.bootGeneration) problem({ structure: 'section', message: `section ${s} was initialised in generation ${gen}, after the current boot ${img.bootGeneration}`, section: s });
    const raw = sectionDescriptors(img, s, gen).bytes;
    const rv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const home = nodeZoneOf(img.nodes, first);
    /** What a descriptor says of itself that initialisation fixed: its pfn, node, zone, generation; links and order only where used. */
    const describedAs = (bytes: Uint8Array, at: number, pfn: number, flags: number): string[] => {
      const why: string[] = [];
      const d = decodeDescriptor(bytes, at);
      if (d.pfn !== pfn) why.push(`descriptor names pfn ${d.pfn}`);
      if (d.node !== home.node || d.zone !== home.zone) why.push(`descriptor says node ${d.node} zone ${d.zone}, the frame is in node ${home.node} zone ${home.zone}`);
      // Initialisation writes descriptors ahead of its transaction: after a rolled-back crash they may be newer than the section.
      if (d.initGeneration < gen || d.initGeneration > img.bootGeneration) why.push(`descriptor was initialised in generation ${d.initGeneration}, its section in ${gen} (boot ${img.bootGeneration})`);
      const head = (flags & (PG_BUDDY | PG_ALLOCATED)) !== 0;
      if (!head && d.order !== 0) why.push(`order ${d.order} on a frame that heads no block`);
      if ((d.next || d.prev) && !(g.links === 'descriptor' && flags & PG_BUDDY)) why.push(`free-list links ${d.next}/${d.prev} on a frame that is not a listed free block`);
      if (flags & PG_RESERVED && head) why.push('a reserved frame is marked as a block head');
      if (flags & PG_FREEING) {
        let under: Intent | undefined;
        try {
          under = img.pendingIntent();
        } catch {
          under = undefined;
        }
        if (!(flags & PG_ALLOCATED)) why.push('PG_freeing is set on a frame that heads no allocated block');
        else if (under?.kind !== 'free-listed') why.push('PG_freeing is set but no free of listed blocks is under way (the intent slot holds none)');
        else if (pfn < under.lo! || pfn >= under.hi!) why.push(`PG_freeing is set outside the pfns [${under.lo}, ${under.hi}) of the free of listed blocks under way`);
      }
      return why;
    };
    const flagsOf = (pfn: number) => rv.getUint32((pfn - first) * DESCRIPTOR_SIZE, true);
    let free = 0;
    let alloc = 0;
    if (g.memmap === 'device') {
      for (let i = 0; i < g.sectionFrames; i++) {
        const at = i * DESCRIPTOR_SIZE;
        const pfn = first + i;
        const flags = rv.getUint32(at, true);
        if (flags === 0 && isBlank(raw, at)) {
          problem({ structure: 'descriptor', message: `pfn ${pfn}: descriptor of an initialised section is blank`, pfn, section: s, offset: img.memmapOffset(pfn) });
          continue;
        }
        if (rv.getUint32(at + DESC.crc, true) !== crc32(raw.subarray(at, at + DESC.crc)) || rv.getUint8(at + DESC.coreVersion) !== CORE_VERSION || (flags & ~KNOWN_FLAGS) || !(flags & PG_CORE)) {
          const c = checkDescriptorBytes(raw, at);
          problem({ structure: 'descriptor', message: `pfn ${pfn}: ${c.ok ? 'descriptor invalid' : `${c.field}: ${c.reason}`}`, pfn, section: s, offset: img.memmapOffset(pfn) });
        }
        const reserved = (flags & PG_RESERVED) !== 0;
        if (reserved !== isReservedPfn(L, pfn)) problem({ structure: 'descriptor', message: `pfn ${pfn}: PG_reserved is ${reserved ? 'set' : 'clear'} but the frame is ${reserved ? 'data' : 'metadata'}`, pfn, section: s });
        describedAs(raw, at, pfn, flags).forEach((why) => problem({ structure: 'descriptor', message: `pfn ${pfn}: ${why}`, pfn, section: s, offset: img.memmapOffset(pfn) }));
      }
    }
    const { start, end } = sectionDataRange(img, s);
    let p = start;
    if (coveredUntil > p) {
      const upto = Math.min(coveredUntil, end);
      for (let q = p; q < upto; q++) if (flagsOf(q) & (PG_BUDDY | PG_ALLOCATED)) problem({ structure: 'block', message: `pfn ${q} is marked as a block head inside another block`, pfn: q, section: s });
      if (coveringFree) free += upto - p;
      else alloc += upto - p;
      p = upto;
    }
    while (p < end) {
      const at = (p - first) * DESCRIPTOR_SIZE;
      const flags = rv.getUint32(at, true);
      if (!(flags & (PG_BUDDY | PG_ALLOCATED))) {
        problem({ structure: 'block', message: `pfn ${p} belongs to no block (neither free nor allocated)`, pfn: p, section: s });
        p++;
        continue;
      }
      const order = rv.getUint8(at + DESC.order);
      const isFree = (flags & PG_BUDDY) !== 0;
      if ((flags & PG_BUDDY) && (flags & PG_ALLOCATED)) problem({ structure: 'descriptor', message: `pfn ${p} is marked both free and allocated`, pfn: p, section: s });
      if (order > g.maxOrder || p % 2 ** order || p + 2 ** order > dataEnd) {
        problem({ structure: 'block', message: `block at pfn ${p} has impossible order ${order} (misaligned or past the data area)`, pfn: p, section: s });
        p++;
        continue;
      }
      const node = rv.getUint8(at + DESC.node);
      const zone = rv.getUint8(at + DESC.zone);
      const z = img.nodes[node]?.zones[zone];
      if (!z || p < z.firstPfn || p + 2 ** order > z.firstPfn + z.frames) problem({ structure: 'block', message: `block at pfn ${p} is not inside its node ${node} zone ${zone}`, pfn: p, section: s });
      if (isFree) {
        const key = freeAreaIndex(g.maxOrder, node, zone, order);
        heads.set(key, (heads.get(key) ?? 0) + 1);
        if (order < g.maxOrder && z) {
          const buddy = p ^ (2 ** order);
          const bEnd = buddy + 2 ** order;
          if (buddy >= L.data.startPfn && bEnd <= dataEnd && buddy >= z.firstPfn && bEnd <= z.firstPfn + z.frames && sectionGen(sectionOf(g, buddy)) !== 0) {
            const bd = view(descBytes(buddy));
            if (bd.getUint32(DESC.flags, true) & PG_BUDDY && bd.getUint8(DESC.order) === order) problem({ structure: 'block', message: `free blocks at pfn ${p} and its buddy ${buddy} (order ${order}) should have merged`, pfn: p, section: s });
          }
        }
      } else {
        report.allocatedBlocks++;
      }
      const blockEnd = p + 2 ** order;
      const inSection = Math.min(blockEnd, end);
      for (let q = p + 1; q < inSection; q++) if (flagsOf(q) & (PG_BUDDY | PG_ALLOCATED)) problem({ structure: 'block', message: `pfn ${q} is marked as a block head inside the block at ${p}`, pfn: q, section: s });
      if (isFree) free += inSection - p;
      else alloc += inSection - p;
      coveredUntil = blockEnd;
      coveringFree = isFree;
      p = inSection;
    }
    report.framesChecked += g.sectionFrames;
    if (e.free !== free || e.alloc !== alloc) problem({ structure: 'section', message: `section ${s}: summary says ${e.free} free / ${e.alloc} allocated frames, descriptors say ${free} / ${alloc}`, section: s, offset: L.sectionTable.startPfn * PAGE_SIZE + s * SECTION_ENTRY_SIZE });
    report.sectionsChecked++;
    options.onProgress?.(s + 1, g.sectionCount);
  }

  // 3. The free heads found in descriptors are exactly the blocks on the lists.
  if (report.complete) {
    for (const [key, count] of listed) {
      const found = heads.get(key) ?? 0;
      if (found !== count) {
        const order = key % (g.maxOrder + 1);
        const nz = Math.floor(key / (g.maxOrder + 1));
        problem({ structure: 'freeList', message: `node ${Math.floor(nz / 3)} ${ZONE_NAMES[nz % 3]} order ${order}: ${found} free blocks are marked in descriptors but the list holds ${count}` });
      }
    }
  }
  return report;
}

// The journal's and the history's checks are the engine's own: the reference is for the memmap scan.
