/** Commands that create and describe images: create, info, descriptors, sections. */
import {
  builtDesign, flagNames, formatBytes, frames, ImageError, info, parsePfn, PmemImage, parseSize, PROFILES, sections, SectionState, UsageError,
} from '../../engine';
import { flag, int, oneFile, parse, str } from '../args';
import { Command } from '../command';
import { createImageFile, diskUsageBytes, openForReading } from '../io';
import { describeFile, printLinuxInfo } from './linux';
import { pfnNamespaceOf, printNamespaceDescriptors, STRUCT_PAGE_HELP } from './linuxPages';
import { printJson, printTable, say } from '../output';
import { infoLines } from '../../shared/infoText';

export const create: Command = {
  name: 'create',
  summary: 'create a new image (a sparse file)',
  help: `usage: pmem create FILE --size SIZE [options]

  --size SIZE           device size: 64M, 16G, 1T (a multiple of the section size, 4M to 16T)
  --section 2M|1G       lazy-init section size (default 2M)
  --nodes N             NUMA nodes, 1 to 8 (default 1)
  --design NAME         descriptor design: core64 (default: 64-byte descriptors on the device),
                        ram64 (the same in RAM, rebuilt at every boot) or pfn-only (no descriptors:
                        free-page state only in the free pages); see pmem compare --help
  --memmap device|ram   where descriptors live (default device): core64 or ram64 by another name
  --links page|descriptor  where free-list links live (default page: inside the free block)
  --max-order N         largest buddy order, 0 to 18 (default 10 = 4 MiB blocks)
  --movable PCT         percentage of each node in ZONE_MOVABLE (default 0)
  --profile NAME        kernel profile of the first boot: ${PROFILES.map((p) => p.name).join(', ')}
  --history SIZE        history region, 64K to 256M in whole 4K frames (default a twelfth of the
                        size, at most 5M: over 100,000 allocations and frees)
  --force               overwrite FILE if it exists
  --json                print the new image's info as JSON`,
  run(argv) {
    const p = parse(argv, {
      size: { type: 'string' }, section: { type: 'string' }, nodes: { type: 'string' }, memmap: { type: 'string' }, design: { type: 'string' },
      links: { type: 'string' }, 'max-order': { type: 'string' }, movable: { type: 'string' }, profile: { type: 'string' },
      history: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' },
    }, 'create');
    const file = oneFile(p, 'create');
    const size = str(p, 'size');
    if (!size) throw new UsageError('create: --size is required (for example --size 64M)');
    const design = str(p, 'design');
    const chosen = design === undefined ? undefined : builtDesign(design).geometry;
    const byDesign = chosen?.memmap;
    const memmap = str(p, 'memmap') ?? byDesign;
    if (byDesign && memmap !== byDesign) throw new UsageError(`--design ${design} keeps its memmap on ${byDesign}, not --memmap ${memmap}`);
    const links = str(p, 'links');
    const img = createImageFile(file, {
      sizeBytes: parseSize(size),
      sectionBytes: str(p, 'section') ? parseSize(str(p, 'section')!, 'section size') : undefined,
      nodes: int(str(p, 'nodes'), 'nodes', 1, 8),
      maxOrder: int(str(p, 'max-order'), 'max-order', 0, 18),
      memmap: memmap as 'device' | 'ram' | undefined,
      links: links as 'page' | 'descriptor' | undefined,
      movablePercent: int(str(p, 'movable'), 'movable', 0, 90),
      profile: str(p, 'profile'),
      historyBytes: str(p, 'history') ? parseSize(str(p, 'history')!, 'history size') : undefined,
      descriptors: chosen?.descriptors,
    }, flag(p, 'force'));
    const i = info(img);
    if (flag(p, 'json')) printJson({ file, ...i, diskBytes: diskUsageBytes(file) });
    else say(`created ${file}: ${formatBytes(i.sizeBytes)}, ${i.totalFrames} frames, ${i.dataFrames} for data (${i.overheadPercent.toFixed(4)} % overhead), design ${i.design}, ${diskUsageBytes(file)} bytes on disk`);
    return 0;
  },
};

export const infoCommand: Command = {
  name: 'info',
  summary: 'describe an image: geometry, regions, frames, sections',
  help: `usage: pmem info FILE [--json] [--struct-page-size N]

Reads the superblock and section table only (never the memmap).

FILE may also be a namespace written by Linux (any file name): for fsdax and
devdax, every field of the pfn/dax info block at byte 4096, its checksum, each
check of the kernel's nd_pfn_validate with its verdict and the layout the
kernel derives, and whether a kernel whose struct page is N bytes (64, 128,
and --struct-page-size N) would take it, at what capacity; for sector mode,
the BTT info block. The file is only read.
Exit 0 once described, whatever the checks say (they are in the output).`,
  run(argv) {
    const p = parse(argv, { json: { type: 'boolean' }, 'struct-page-size': { type: 'string' } }, 'info');
    const file = oneFile(p, 'info');
    const structPageSize = int(str(p, 'struct-page-size'), 'struct-page-size', 8, 4096);
    let img: PmemImage;
    try {
      img = openForReading(file);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      const report = describeFile(file, { structPageSize });
      if (report.kind === 'fsdax' || report.kind === 'devdax' || report.kind === 'sector') {
        printLinuxInfo(file, report, flag(p, 'json'));
        return 0;
      }
      if (report.kind === 'raw' || report.kind === 'too-small') throw new ImageError(`${e.reason}; ${report.kind === 'raw' ? 'no Linux info block at byte 4096 either: a raw namespace or another file' : `too short for a Linux namespace info block (${report.size} bytes, one ends at byte 8192)`}`, e.location);
      throw e;
    }
    const i = info(img);
    if (flag(p, 'json')) {
      printJson(i);
      return 0;
    }
    for (const line of infoLines(file, i)) say(line);
    return 0;
  },
};

export const descriptors: Command = {
  name: 'descriptors',
  summary: 'print frame descriptors for a range of pfns',
  help: `usage: pmem descriptors FILE --from PFN [--count N] [--json]

  --from PFN    first frame (decimal or 0x hex)
  --count N     frames to print (default 16, at most 65536)

FILE may also be a Linux fsdax or devdax namespace with its memmap on the
namespace (--map=dev): then PFN is a page of the namespace (page 0 is its
first 4 KiB) and each line is the struct page the kernel wrote for it,
decoded; with --count 1, every word of it. Read-only. Options for those:
${STRUCT_PAGE_HELP}`,
  run(argv) {
    const p = parse(argv, { from: { type: 'string' }, count: { type: 'string' }, json: { type: 'boolean' }, kernel: { type: 'string' }, dmesg: { type: 'string' }, base: { type: 'string' } }, 'descriptors');
    const file = oneFile(p, 'descriptors');
    const fromText = str(p, 'from');
    if (fromText === undefined) throw new UsageError('descriptors: --from PFN is required');
    const namespace = pfnNamespaceOf(file);
    if (namespace) {
      const base = str(p, 'base');
      printNamespaceDescriptors(file, namespace, parsePfn(fromText, '--from'), int(str(p, 'count'), 'count', 1, 65536) ?? 16, flag(p, 'json'), {
        kernel: str(p, 'kernel'), dmesg: str(p, 'dmesg'), basePfn: base === undefined ? undefined : parsePfn(base, '--base'),
      });
      return 0;
    }
    for (const only of ['kernel', 'dmesg', 'base']) if (str(p, only) !== undefined) throw new UsageError(`--${only} applies to Linux namespaces only, and ${file} is not one`);
    const from = parsePfn(fromText, '--from');
    const count = int(str(p, 'count'), 'count', 1, 65536) ?? 16;
    const img = openForReading(file);
    if (from >= img.geometry.totalFrames) throw new UsageError(`--from ${from} is past the last frame (${img.geometry.totalFrames - 1})`);
    const list = frames(img, from, count);
    if (flag(p, 'json')) {
      printJson(list);
      return 0;
    }
    const stored = list.find((f) => f.stored)?.stored;
    if (stored) {
      // A design that keeps its own record of a frame (two-word, memdesc, 2m) or none: that record, not the engine's 64-byte index entry.
      printTable(list.map((f) => [
        f.pfn, f.kind + (f.region && f.kind === 'metadata' ? `:${f.region}` : ''), f.blockPfn ?? '', f.order ?? '', `${f.node}/${f.zone}`, f.owner ?? '',
        `${f.section}:${f.sectionState}`, f.stored ? f.stored.fields.map(([k, v]) => `${k} ${v}`).join('; ') : '',
      ]), ['pfn', 'state', 'block', 'order', 'node/zone', 'owner', 'section', stored.structure.replace(/ \(.*/, '')]);
      return 0;
    }
    printTable(list.map((f) => [
      f.pfn, f.kind + (f.region && f.kind === 'metadata' ? `:${f.region}` : ''), f.blockPfn ?? '', f.order ?? '', `${f.node}/${f.zone}`, f.owner ?? '',
      `${f.section}:${f.sectionState}`, f.descriptorPresent ? f.initGeneration : '-', `0x${f.flags.toString(16)}${f.flags ? ` ${flagNames(f.flags).join('|')}` : ''}`,
      Object.entries(f.extended).map(([k, v]) => `${k}=${v}`).join(' '),
    ]), ['pfn', 'state', 'block', 'order', 'node/zone', 'owner', 'section', 'gen', 'flags', 'extended']);
    return 0;
  },
};

export const sectionsCommand: Command = {
  name: 'sections',
  summary: 'list lazy-init sections with their state and counts',
  help: `usage: pmem sections FILE [--state never|initialized|stale] [--json]`,
  run(argv) {
    const p = parse(argv, { json: { type: 'boolean' }, state: { type: 'string' } }, 'sections');
    const file = oneFile(p, 'sections');
    const state = str(p, 'state') as SectionState | undefined;
    if (state && !['never', 'initialized', 'stale'].includes(state)) throw new UsageError(`--state must be never, initialized or stale, not "${state}"`);
    const img = openForReading(file);
    const list = sections(img).filter((s) => !state || s.state === state);
    if (flag(p, 'json')) {
      printJson(list);
      return 0;
    }
    printTable(list.map((s) => [s.index, s.firstPfn, s.state, s.initGeneration, s.freeFrames, s.allocatedFrames, s.reservedFrames, s.uninitializedFrames, `${s.node}/${s.zone}`]),
      ['section', 'first pfn', 'state', 'gen', 'free', 'allocated', 'reserved', 'uninit', 'node/zone']);
    return 0;
  },
};
