/** Commands that change an image: alloc, free, init, reboot. Each open for writing is a boot. */
import * as fs from 'node:fs';
import {
  allocatedPfns, allocOp, AllocRequest, findProfile, freeOp, freeOrderOp, freeOwnerOp, initAllOp, initSectionsOp, linuxRefusalText, MISMATCH_POLICIES, mismatchPolicy, parsePfn, PmemImage,
  PROFILES, refuseMismatchAsLinux, UsageError, ZoneName,
} from '../../engine';
import { MAX_ALLOC_COUNT, MAX_CRASH_POINTS, MAX_FREE_COUNT } from '../../engine/image/limits';
import { filePath, flag, int, oneFile, parse, Parsed, str } from '../args';
import { Command } from '../command';
import { openForReading, openHeld, withHeldWrites, withWritable } from '../io';
import { printJson, say } from '../output';

const allocOptions = {
  order: { type: 'string' }, count: { type: 'string' }, node: { type: 'string' }, strict: { type: 'boolean' },
  zone: { type: 'string' }, owner: { type: 'string' }, json: { type: 'boolean' },
} as const;

function allocRequest(p: Parsed): AllocRequest {
  const order = int(str(p, 'order'), 'order', 0, 18);
  if (order === undefined) throw new UsageError('alloc: --order N is required');
  if (flag(p, 'strict') && str(p, 'node') === undefined) throw new UsageError('alloc: --strict needs --node');
  return {
    order, count: int(str(p, 'count'), 'count', 1, MAX_ALLOC_COUNT), node: int(str(p, 'node'), 'node', 0, 7),
    strict: flag(p, 'strict'), zone: str(p, 'zone') as ZoneName | undefined, owner: str(p, 'owner'),
  };
}

export const alloc: Command = {
  name: 'alloc',
  summary: 'allocate blocks; prints their pfns',
  help: `usage: pmem alloc FILE --order N [--count K] [--node N [--strict]] [--zone dma32|normal|movable] [--owner TAG] [--json]

  --order N    block size 2^N frames
  --count K    blocks to allocate (all or nothing; more than one journal transaction
               holds run as several, completed by the next boot after a crash)
  --node N     preferred node; others are used when it is full, unless --strict
  --zone Z     highest zone accepted (default normal; lower zones are the fallback)
  --owner TAG  owner tag recorded in the block's head descriptor (16 bytes at most)`,
  run(argv) {
    const p = parse(argv, allocOptions, 'alloc');
    const file = oneFile(p, 'alloc');
    const req = allocRequest(p);
    const r = withWritable(file, (img) => allocOp(img, req));
    if (flag(p, 'json')) printJson({ pfns: allocatedPfns(r), blocks: r.blocks, initialisedSections: r.initialisedSections, step: r.step });
    else say(allocatedPfns(r).join('\n'));
    return 0;
  },
};

/** The pfns of a --pfns-from file (or stdin for "-"): one a line, blank lines skipped; a bad line is named by its number. */
function pfnsFrom(source: string): number[] {
  const name = source === '-' ? 'stdin' : filePath(source, 'pfn list');
  const text = fs.readFileSync(source === '-' ? 0 : source, 'utf8');
  const out: number[] = [];
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    const t = raw.trim();
    if (t === '') continue;
    if (out.length === MAX_FREE_COUNT) throw new UsageError(`free: ${name} lists more than ${MAX_FREE_COUNT} pfns (at most ${MAX_FREE_COUNT} per free)`);
    out.push(parsePfn(t, `${name} line ${line}: pfn`));
  }
  return out;
}

export const free: Command = {
  name: 'free',
  summary: 'free allocated blocks by their head pfn, or every block of an owner',
  help: `usage: pmem free FILE PFN... [--pfns-from LIST] [--json]
       pmem free FILE --pfns-from LIST [--json]
       pmem free FILE --owner TAG [--json]
       pmem free FILE PFN --order N [--json]

Each PFN must be the head of an allocated block; its order comes from the descriptor.
--order N frees the block of 2^N frames at PFN as its caller names it (Linux's
free_pages(addr, order)): checked against the block's own order where the image
keeps descriptors; on a pfn-only image, which keeps none, the only way to free a
block larger than one frame (each frame is freed, merging as it goes, in one step).
--pfns-from LIST  reads more pfns from the file LIST ("-" for stdin), one a line.
A free is all or nothing, up to ${MAX_FREE_COUNT.toLocaleString('en-US')} pfns: every pfn is checked before anything
is written; more than one journal transaction holds run as several (the heads are
marked, then freed in pfn order), and a crash midway is rolled back or completed by
the next boot.
--owner TAG frees every allocated block whose owner tag is TAG, all or nothing,
however many there are (a crash midway is completed by the next boot).`,
  run(argv) {
    const p = parse(argv, { json: { type: 'boolean' }, owner: { type: 'string' }, 'pfns-from': { type: 'string' }, order: { type: 'string' } }, 'free');
    const [file, ...rest] = p.positionals;
    const owner = str(p, 'owner');
    const from = str(p, 'pfns-from');
    if (!file) throw new UsageError('free: give the image file');
    if (owner !== undefined && (rest.length > 0 || from !== undefined)) throw new UsageError('free: give pfns or --owner, not both');
    if (owner === undefined && rest.length === 0 && from === undefined) throw new UsageError('free: give at least one pfn, --pfns-from LIST, or --owner TAG');
    filePath(file, 'image file');
    const pfns = rest.map((t) => parsePfn(t));
    if (from !== undefined) for (const pfn of pfnsFrom(from)) pfns.push(pfn);
    if (owner === undefined && pfns.length === 0) throw new UsageError(`free: ${from === '-' ? 'stdin' : from} lists no pfn`);
    const order = int(str(p, 'order'), 'order', 0, 18);
    if (order !== undefined && (owner !== undefined || pfns.length !== 1)) throw new UsageError('free: --order frees one block: give one pfn with it');
    const r = withWritable(file, (img) => (owner !== undefined ? freeOwnerOp(img, owner) : order !== undefined ? freeOrderOp(img, pfns[0], order) : freeOp(img, pfns)));
    if (flag(p, 'json')) printJson(r);
    else say(r.freed.map((f) => `freed pfn ${f.pfn} (order ${f.order}${f.owner ? `, owner ${f.owner}` : ''})`).join('\n'));
    return 0;
  },
};

export const init: Command = {
  name: 'init',
  summary: 'initialise sections now instead of on first use',
  help: `usage: pmem init FILE (--section N [--section M ...] | --all) [--json]`,
  run(argv) {
    const p = parse(argv, { section: { type: 'string', multiple: true }, all: { type: 'boolean' }, json: { type: 'boolean' } }, 'init');
    const file = oneFile(p, 'init');
    const list = (p.values.section as string[] | undefined) ?? [];
    if (!flag(p, 'all') && list.length === 0) throw new UsageError('init: give --section N or --all');
    const tty = process.stderr.isTTY;
    const r = withWritable(file, (img, keep) => {
      if (flag(p, 'all')) {
        // Each batch is its own step: once one is done, it is kept even if a later one fails.
        const onProgress = (d: number, t: number) => {
          keep();
          if (tty) process.stderr.write(`\rinitialising sections: ${d}/${t}`);
        };
        const res = initAllOp(img, { onProgress });
        if (tty) process.stderr.write('\n');
        return { sections: res.sections, steps: res.steps.length };
      }
      const res = initSectionsOp(img, list.map((s) => int(s, 'section', 0, 2 ** 31)!));
      return { handedOver: res.handedOver, reinitialised: res.reinitialised, step: res.step };
    });
    if (flag(p, 'json')) printJson(r);
    else say('sections' in r ? `initialised ${r.sections} section(s) in ${r.steps} step(s)` : `handed over ${r.handedOver.length} section(s), re-initialised ${r.reinitialised.length}`);
    return 0;
  },
};

/** The operation a simulated crash interrupts: "alloc --order 2", "free 4096", "init 3". */
function parseDuring(text: string): { describe: string; run: (img: PmemImage) => void } {
  const words = text.trim().split(/\s+/);
  const [verb, ...args] = words;
  if (verb === 'alloc') {
    const req = allocRequest(parse(args, allocOptions, 'reboot --during alloc'));
    return { describe: text.trim(), run: (img) => void allocOp(img, req) };
  }
  if (verb === 'free') {
    if (args.length === 0) throw new UsageError('--during "free PFN..." needs a pfn');
    const pfns = args.map((a) => parsePfn(a));
    return { describe: text.trim(), run: (img) => void freeOp(img, pfns) };
  }
  if (verb === 'init') {
    const s = int(args[0], 'during init SECTION', 0, 2 ** 31);
    if (s === undefined) throw new UsageError('--during "init SECTION" needs a section number');
    return { describe: text.trim(), run: (img) => void initSectionsOp(img, [s]) };
  }
  throw new UsageError(`--during must be "alloc --order N ...", "free PFN..." or "init SECTION", not "${text}"`);
}

function refuseBeforeCrash(file: string, profile: string): void {
  const img = openForReading(file);
  try {
    refuseMismatchAsLinux(img.geometry.memmap, findProfile(profile)!);
  } finally {
    img.close();
  }
}

export const reboot: Command = {
  name: 'reboot',
  summary: 'reboot the simulated machine, cleanly or after a power failure',
  help: `usage: pmem reboot FILE [--profile NAME [--as seed|linux]] [--crash-after N [--during OP]] [--json]

Without --crash-after: a clean reboot (optionally into another kernel profile).
A profile whose descriptor is larger than the 64 bytes the device reserves a
frame (every profile but default) meets a mismatch: --as seed (the default)
boots and keeps the extra fields in RAM, read as 0 until set; --as linux
refuses, as Linux does ("init failed, struct page size mismatch 64"), and
leaves the image as it was.
With --crash-after N: the machine boots, starts OP (default "alloc --order 0"),
loses power after N persistence points of it, and boots again; recovery then
rolls the operation back or forward. N larger than OP's persistence points
means the power fails after OP completed, before a clean shutdown.
OP is "alloc --order N [--count K] [--owner T]", "free PFN..." or "init SECTION".`,
  run(argv) {
    const p = parse(argv, { profile: { type: 'string' }, as: { type: 'string' }, 'crash-after': { type: 'string' }, during: { type: 'string' }, json: { type: 'boolean' } }, 'reboot');
    const file = oneFile(p, 'reboot');
    const crashAfter = int(str(p, 'crash-after'), 'crash-after', 0, MAX_CRASH_POINTS);
    if (str(p, 'during') && crashAfter === undefined) throw new UsageError('reboot: --during needs --crash-after');
    const profile = str(p, 'profile');
    if (profile !== undefined && !PROFILES.some((k) => k.name === profile)) throw new UsageError(`unknown kernel profile "${profile}" (${PROFILES.map((k) => k.name).join(', ')})`);
    const asText = str(p, 'as');
    if (asText !== undefined && profile === undefined) throw new UsageError(`reboot: --as needs --profile (it says how that profile's kernel treats a descriptor larger than the device reserves: ${MISMATCH_POLICIES.join(' or ')})`);
    const onMismatch = asText === undefined ? undefined : mismatchPolicy(asText);
    // Refused before the crash too: as Linux, the reboot that follows would not happen.
    if (onMismatch === 'linux' && crashAfter !== undefined) refuseBeforeCrash(file, profile!);
    let crash: { crashed: boolean; points: number; during: string } | undefined;
    if (crashAfter !== undefined) {
      const during = parseDuring(str(p, 'during') ?? 'alloc --order 0');
      // Kept only if the operation ran into the power failure or completed; refused, it leaves the file as it was.
      crash = withHeldWrites(file, (store) => ({ ...openHeld(store, file).simulateCrash(crashAfter, during.run), during: during.describe }));
    }
    const report = withWritable(file, (img) => img.bootReport!, { profile, onMismatch });
    if (flag(p, 'json')) {
      printJson({ crash, boot: report });
      return 0;
    }
    if (crash) say(crash.crashed ? `power failed after ${crash.points} persistence point(s) of "${crash.during}"` : `"${crash.during}" completed (${crash.points} persistence points); power failed before shutdown`);
    const rec = report.recovery;
    say(`booted generation ${report.generation} (${report.wasClean ? 'after a clean shutdown' : 'after a crash'}), profile ${report.profile}${report.profile !== report.previousProfile ? ` (was ${report.previousProfile})` : ''}`);
    if (rec.action !== 'none') say(`recovery ${rec.action === 'rolled-forward' ? 'rolled forward' : 'rolled back'} "${rec.description}"`);
    if (report.resumed) say(`interrupted operation ${report.resumed.rolledBack ? 'rolled back' : 'completed'}: ${report.resumed.text}`);
    if (report.mismatch) say(`as the seed design boots it: ${report.mismatch.seed}; ${linuxRefusalText(report.mismatch)} (pmem reboot --as linux)`);
    return 0;
  },
};
