/** Commands that verify and explain an image: check, history, state, freelists, frag. */
import { buddyinfo, formatBeside, formatFragmentationFiles, fragmentation, FRAGMENTATION_FILES, FragmentationFile, freeLists, info, MachineSnapshot, stateAt, stepRange, UsageError, ZoneFragmentation, zoneFragmentation } from '../../engine';
import { checkImageFile } from '../../engine/node/checkWorkers';
import { readMachineSnapshotFile } from '../../engine/node/machineSnapshotFile';
import { DEFAULT_FRAG_SAMPLES, fragmentationHistory } from '../../engine/inspect/fragHistory';
import { filePath, flag, int, oneFile, parse, str } from '../args';
import { checkNamespace, pfnNamespaceOf, printNamespaceCheck, STRUCT_PAGE_HELP } from './linuxPages';
import { Command } from '../command';
import { openForReading } from '../io';
import { printJson, printTable, say } from '../output';

export const checkCommand: Command = {
  name: 'check',
  summary: 'verify every invariant; exit 1 if any problem is found',
  help: `usage: pmem check FILE [--json] [--max-problems N]

Checks superblock copies, journal, history, every free list (alignment, zone,
links both ways, order, magic, counts), every initialised section (each data
frame in exactly one block, maximal merging, summaries). Reads the memmap in
1 MiB chunks, on worker threads too when it is large and CPUs are idle; shows
progress on a terminal.

FILE may also be a Linux fsdax or devdax namespace: then the info block is
checked as the kernel's nd_pfn_validate checks it, and every struct page of
its memmap against what the kernel writes there (a ZONE_DEVICE struct page
for every data page). Read-only. Options for those:
${STRUCT_PAGE_HELP}`,
  run(argv) {
    const p = parse(argv, { json: { type: 'boolean' }, 'max-problems': { type: 'string' }, kernel: { type: 'string' }, dmesg: { type: 'string' } }, 'check');
    const file = oneFile(p, 'check');
    const namespace = pfnNamespaceOf(file);
    if (namespace) {
      const result = checkNamespace(file, namespace, { kernel: str(p, 'kernel'), dmesg: str(p, 'dmesg'), maxProblems: int(p.values['max-problems'] as string | undefined, 'max-problems', 1, 1_000_000) });
      printNamespaceCheck(file, namespace, result, flag(p, 'json'));
      return result.ok ? 0 : 1;
    }
    const img = openForReading(file, { lenient: true });
    const tty = process.stderr.isTTY;
    let last = 0;
    const report = checkImageFile(img, {
      maxProblems: int(p.values['max-problems'] as string | undefined, 'max-problems', 1, 1_000_000),
      onProgress: tty ? (d, t) => {
        const now = Date.now();
        if (now - last > 100 || d === t) {
          last = now;
          process.stderr.write(`\rchecking sections: ${d}/${t}`);
        }
      } : undefined,
    });
    if (tty) process.stderr.write('\n');
    if (flag(p, 'json')) printJson(report);
    else {
      for (const pr of report.problems) {
        const where = [pr.section !== undefined ? `section ${pr.section}` : '', pr.pfn !== undefined ? `pfn ${pr.pfn}` : '', pr.offset !== undefined ? `byte ${pr.offset}` : ''].filter(Boolean).join(', ');
        say(`${pr.structure}${where ? ` (${where})` : ''}: ${pr.message}`);
      }
      say(`${report.ok ? 'ok' : `${report.problems.length}${report.truncated ? '+' : ''} problem(s)`}: ${report.framesChecked} frames in ${report.sectionsChecked} sections, ${report.freeBlocks} free and ${report.allocatedBlocks} allocated blocks`);
    }
    return report.ok ? 0 : 1;
  },
};

export const history: Command = {
  name: 'history',
  summary: 'list the operation history (the steps)',
  help: `usage: pmem history FILE [--json]`,
  run(argv) {
    const p = parse(argv, { json: { type: 'boolean' } }, 'history');
    const img = openForReading(oneFile(p, 'history'));
    const records = img.historyRecords(false);
    const range = stepRange(records);
    if (flag(p, 'json')) {
      printJson({ firstStep: range.first, lastStep: range.last, records: records.map((r) => ({ step: r.seq, kind: r.kind, bootGeneration: r.bootGeneration, undoAvailable: r.undoAvailable, ...r.summary })) });
      return 0;
    }
    printTable(records.map((r) => [r.seq, r.kind, r.bootGeneration, r.summary.text]), ['step', 'kind', 'gen', 'operation']);
    say(`steps ${range.first} to ${range.last} can be shown with "pmem state FILE --at STEP"`);
    return 0;
  },
};

export const state: Command = {
  name: 'state',
  summary: 'show the image as it was after a history step (read-only)',
  help: `usage: pmem state FILE --at STEP [--json]`,
  run(argv) {
    const p = parse(argv, { at: { type: 'string' }, json: { type: 'boolean' } }, 'state');
    const file = oneFile(p, 'state');
    // The arguments are judged before the image is opened: a usage error says only that (no warning of the open's beside it).
    const at = int(p.values.at as string | undefined, 'at', 0, Number.MAX_SAFE_INTEGER);
    if (at === undefined) throw new UsageError('state: --at STEP is required');
    const img = openForReading(file);
    const past = stateAt(img, at);
    const i = info(past);
    const lists = freeLists(past, 16);
    const record = img.historyRecords(false).find((r) => r.seq === at);
    if (flag(p, 'json')) {
      printJson({ step: at, operation: record?.summary.text, bootGeneration: i.bootGeneration, profile: i.profile, frames: i.frames, sections: i.sections, freeLists: lists });
      return 0;
    }
    say(`after step ${at}: ${record?.summary.text ?? ''}`);
    say(`boot generation ${i.bootGeneration}, profile ${i.profile}`);
    say(`frames: ${i.frames.free} free, ${i.frames.allocated} allocated, ${i.frames.uninitialized} uninitialised, ${i.frames.reserved} reserved`);
    say(`sections: ${i.sections.untouched} never initialised, ${i.sections.initialized} initialised, ${i.sections.stale} stale`);
    process.stdout.write(buddyinfo(past));
    return 0;
  },
};

export const freelists: Command = {
  name: 'freelists',
  summary: 'print the free lists per node, zone and order',
  help: `usage: pmem freelists FILE [--json] [--buddyinfo] [--limit N]

  --buddyinfo   print exactly the format of Linux's /proc/buddyinfo
  --limit N     block pfns listed per list (default 8)`,
  run(argv) {
    const p = parse(argv, { json: { type: 'boolean' }, buddyinfo: { type: 'boolean' }, limit: { type: 'string' } }, 'freelists');
    const img = openForReading(oneFile(p, 'freelists'));
    if (flag(p, 'buddyinfo')) {
      process.stdout.write(buddyinfo(img));
      return 0;
    }
    const lists = freeLists(img, int(p.values.limit as string | undefined, 'limit', 0, 1_000_000) ?? 8);
    if (flag(p, 'json')) {
      printJson(lists);
      return 0;
    }
    printTable(lists.filter((l) => l.count > 0).map((l) => [l.node, l.zone, l.order, l.count, l.blocks.join(' ') + (l.count > l.blocks.length ? ' ...' : '')]), ['node', 'zone', 'order', 'blocks', 'pfns']);
    return 0;
  },
};

export const frag: Command = {
  name: 'frag',
  summary: 'fragmentation per node and zone, as Linux measures and prints it',
  help: `usage: pmem frag FILE [--at STEP] [--only buddyinfo|extfrag_index|unusable_index] [--beside SNAPSHOT] [--json]
       pmem frag FILE --history [--samples N] [--only F] [--json]

Linux's three views of external fragmentation, per node and zone, computed
as the kernel computes them and printed in its own formats:
  /proc/buddyinfo                          free blocks of each order
  /sys/kernel/debug/extfrag/extfrag_index  the fragmentation index of each
      order: -1.000 when an allocation of that order would succeed; else
      towards 0 when it fails for lack of memory, towards 1 when it fails
      because the free memory is fragmented
  /sys/kernel/debug/extfrag/unusable_index the share of free memory in
      blocks too small for each order (1.000 when nothing is free)
Each comes after a "==> FILE <==" line, as head prints several files.

  --at STEP   as after history step STEP (read-only)
  --only F    print one of them alone, exactly as the kernel's file reads
  --beside S  a real machine's /proc/buddyinfo, /proc/pagetypeinfo (summed
              over migrate types), /proc/zoneinfo (free pages only) or
              crash's kmem -f output (summed over its lists), its
              figures printed under the image's, computed the same way
  --json      the numbers: per zone its free blocks per order, free frames,
              largest free order (-1: none) and both indexes per order
  --history   the same over the history: N steps sampled evenly from the
              first that can be shown to the last (--samples, default ${DEFAULT_FRAG_SAMPLES}),
              each under a "==> step S <==" line (--only: one file each)`,
  run(argv) {
    const p = parse(argv, { at: { type: 'string' }, only: { type: 'string' }, beside: { type: 'string' }, json: { type: 'boolean' }, history: { type: 'boolean' }, samples: { type: 'string' } }, 'frag');
    const file = oneFile(p, 'frag');
    // The arguments are judged before the image is opened: a usage error says only that.
    const only = str(p, 'only');
    if (only !== undefined && !(only in FRAGMENTATION_FILES)) throw new UsageError(`--only must be one of ${Object.keys(FRAGMENTATION_FILES).join(', ')}, not "${only}"`);
    if (flag(p, 'history') && (p.values.at !== undefined || p.values.beside !== undefined)) throw new UsageError('--history samples every step itself: it takes neither --at nor --beside');
    if (!flag(p, 'history') && p.values.samples !== undefined) throw new UsageError('--samples goes with --history');
    const samples = int(p.values.samples as string | undefined, 'samples', 2, 100_000) ?? DEFAULT_FRAG_SAMPLES;
    const at = int(p.values.at as string | undefined, 'at', 0, Number.MAX_SAFE_INTEGER);
    const img = openForReading(file);
    const numbers = (list: ZoneFragmentation[]) => list.map((z) => ({
      node: z.node, zone: z.zone, freeBlocks: z.free, freePages: z.freePages, largestFreeOrder: z.largestFreeOrder,
      extfragIndex: z.extfragIndex.map((i) => i / 1000), unusableIndex: z.unusableIndex.map((i) => i / 1000),
    }));
    if (flag(p, 'history')) {
      const h = fragmentationHistory(img, samples);
      if (flag(p, 'json')) {
        printJson({ first: h.first, last: h.last, samples: h.samples.map((x) => ({ step: x.step, zones: numbers(x.zones.map(zoneFragmentation)) })) });
        return 0;
      }
      process.stdout.write(h.samples.map((x) => {
        const zones = x.zones.map(zoneFragmentation);
        return `==> step ${x.step} <==\n${only ? FRAGMENTATION_FILES[only as FragmentationFile].format(zones) : formatFragmentationFiles(zones)}`;
      }).join('\n'));
      return 0;
    }
    const zones = fragmentation(at === undefined ? img : stateAt(img, at));
    const besideFile = str(p, 'beside');
    const beside = besideFile === undefined ? undefined : machineSnapshot(filePath(besideFile, 'snapshot'));
    const realZones = beside?.zones.map(zoneFragmentation);
    if (flag(p, 'json')) {
      printJson({ step: at, zones: numbers(zones), beside: beside && { file: besideFile, kind: beside.kind, zones: numbers(realZones!), types: beside.types, freePages: beside.freePages } });
      return 0;
    }
    if (!beside) {
      process.stdout.write(only ? FRAGMENTATION_FILES[only as FragmentationFile].format(zones) : formatFragmentationFiles(zones));
      return 0;
    }
    process.stdout.write(formatBeside(zones, beside, { ours: at === undefined ? 'this image' : `this image after step ${at}`, theirs: besideFile! }, only as FragmentationFile | undefined));
    return 0;
  },
};

/** A real machine's snapshot file, read and told apart (buddyinfo, pagetypeinfo, zoneinfo, kmem -f); refused, saying why, when it is none. */
function machineSnapshot(file: string): MachineSnapshot {
  const read = readMachineSnapshotFile(file);
  if ('why' in read) throw new UsageError(`--beside: ${read.why}`);
  return read;
}
