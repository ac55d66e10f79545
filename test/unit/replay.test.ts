/**
 * Kernel page-allocator traces replayed on images: real traces of a Linux 6.1
 * kernel in the three forms (tracefs, trace-cmd report, perf script; excerpts
 * in test/fixtures/kmem/traces), read line by line, applied as allocations
 * and frees, and checked against an independent model of the trace (which
 * frames each replayed allocation takes), then by `pmem check`.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decompress } from 'fzstd';
import { check, freeLists, PAGE_SIZE, PmemImage, stateAt } from '../../src/engine';
import { allocateExactly } from '../../src/engine/alloc/buddy';
import { REVISION_REPLAY } from '../../src/engine/format/constants';
import { decodeDescriptor, PG_ALLOCATED, PG_BUDDY } from '../../src/engine/format/descriptor';
import { MemoryStore } from '../../src/engine/store/memoryStore';
import { KMEM_EVENTS, ownerTagOf, parseTraceLine, TraceFormat } from '../../src/engine/replay/kmemTrace';
import { replayTrace, replayTraceAsync } from '../../src/engine/replay/replay';
import { OperationCancelled } from '../../src/engine/image/largeOps';
import { pmem, ROOT } from './cliRun';

const TRACES = path.join(ROOT, 'test/fixtures/kmem/traces');
const FORMATS: TraceFormat[] = ['ftrace', 'trace-cmd', 'perf'];

function traceText(format: TraceFormat): string {
  return new TextDecoder().decode(decompress(fs.readFileSync(path.join(TRACES, `${format}.txt.zst`))));
}

function freshImage(sizeBytes = 2 ** 30): PmemImage {
  const store = new MemoryStore(sizeBytes);
  PmemImage.create(store, { sizeBytes, uuid: '00000000-0000-4000-8000-000000000000', nowMs: 0 });
  return PmemImage.open(store);
}

/** What the replay must do, from the trace alone: frames taken by applied allocations, frees of live blocks. */
function model(lines: string[], offset: number, dataEnd: number, assumeAllocated = false) {
  const live = new Map<number, { order: number; owner: string }>();
  const taken = new Set<number>();
  let alloc = 0;
  let free = 0;
  let refused = 0;
  let unknownFrees = 0;
  const frames = (pfn: number, order: number) => Array.from({ length: 2 ** order }, (_, i) => pfn + i);
  const take = (pfn: number, order: number, owner: string) => {
    if (frames(pfn, order).some((f) => taken.has(f))) return false;
    frames(pfn, order).forEach((f) => taken.add(f));
    live.set(pfn, { order, owner });
    return true;
  };
  const events = lines.map((l, i) => parseTraceLine(l, i + 1)).flatMap((r) => (r.kind === 'event' ? [r.event] : []));
  if (assumeAllocated) {
    const seen = new Set<number>();
    const first = new Map<number, number>();
    for (const e of events) {
      if (e.event === 'mm_page_alloc' && e.pfn) seen.add(e.pfn);
      if (e.event === 'mm_page_free' && !seen.has(e.pfn) && !first.has(e.pfn)) first.set(e.pfn, e.order);
      if (e.event === 'mm_page_free') seen.delete(e.pfn);
    }
    for (const [pfn, order] of first) take(pfn + offset, order, 'pre-trace');
  }
  for (const e of events) {
    const pfn = e.pfn + offset;
    if (e.event === 'mm_page_alloc' && e.pfn !== 0 && pfn + 2 ** e.order <= dataEnd) {
      if (take(pfn, e.order, ownerTagOf(e))) alloc++;
      else refused++;
    } else if (e.event === 'mm_page_free') {
      const b = live.get(pfn);
      if (b && b.order === e.order) {
        live.delete(pfn);
        frames(pfn, e.order).forEach((f) => taken.delete(f));
        free++;
      } else unknownFrees++;
    }
  }
  return { live, taken, alloc, free, refused, unknownFrees };
}

describe('kernel page-allocator traces', function () {
  this.timeout(300_000);

  for (const format of FORMATS) {
    it(`reads every line of a real ${format} trace: headers, and each kmem event with its fields`, () => {
      const lines = traceText(format).split('\n');
      const counts: Record<string, number> = {};
      for (const [i, l] of lines.entries()) {
        const r = parseTraceLine(l, i + 1);
        assert.ok(r.kind === 'event' || r.kind === 'header', `line ${i + 1} (${r.kind}): ${l}`);
        if (r.kind !== 'event') continue;
        assert.equal(r.format, format, `line ${i + 1}`);
        counts[r.event.event] = (counts[r.event.event] ?? 0) + 1;
        // The fields as printed: pfn in hex, order in decimal.
        assert.match(l, new RegExp(`pfn=0x${r.event.pfn.toString(16)} order=${r.event.order}\\b`));
        if (r.event.event === 'mm_page_alloc') assert.ok(r.event.gfpFlags !== undefined && r.event.migratetype !== undefined);
      }
      for (const name of KMEM_EVENTS) assert.equal(counts[name] ?? 0, lines.filter((l) => l.includes(`${name}:`)).length, name);
    });
  }

  it('tells headers, other events and damaged lines apart, naming none of them an event', () => {
    const cases: Array<[string, string]> = [
      ['# tracer: nop', 'header'], ['', 'header'], ['cpus=2', 'header'],
      ['  bash-1  [000] .....  1.000000: tracing_mark_write: phase=x', 'other-event'],
      ['  bash-1  [000] .....  1.000000: mm_page_alloc: page=00 pfn=0x10 ord', 'not-understood'],
      ['  bash-1  [000] .....  1.000000: mm_page_free: page=00 pfn=0xzz order=0', 'not-understood'],
      ['  bash-1  [000] .....  1.000000: mm_page_free: page=00 pfn=0x1fffffffffffffffff order=0', 'not-understood'],
      ['  bash-1  [000] .....  1.000000: mm_page_free: page=00 pfn=0x10 order=99', 'not-understood'],
      ['  bash-1  [000] ..', 'not-understood'], ['garbage \u0000\u00ff', 'not-understood'],
    ];
    for (const [line, kind] of cases) assert.equal(parseTraceLine(line, 1).kind, kind, line);
    const failed = parseTraceLine('  a-1  [001] d..1.  2.5: mm_page_alloc: page=0000000000000000 pfn=0x0 order=3 migratetype=0 gfp_flags=GFP_KERNEL', 7);
    assert.ok(failed.kind === 'event' && failed.event.pfn === 0 && failed.event.line === 7 && failed.event.cpu === 1 && failed.event.time === 2.5);
  });

  for (const format of FORMATS) {
    it(`replays a real ${format} trace: the allocations and frees a model of the trace predicts, the rest counted, check clean`, () => {
      const text = traceText(format);
      const lines = text.split('\n');
      const img = freshImage();
      const report = replayTrace(img, () => lines, { name: `${format}.txt`, batch: 200 });
      const dataEnd = img.layout.data.startPfn + img.layout.data.frames;
      const m = model(lines, report.offset, dataEnd);
      assert.equal(report.format, format);
      assert.equal(report.applied.alloc, m.alloc, 'allocations applied');
      assert.equal(report.applied.free, m.free, 'frees applied');
      assert.equal(report.skipped['allocations of blocks not free in the image'] ?? 0, m.refused);
      assert.equal(report.skipped['frees of blocks the image never saw allocated'] ?? 0, m.unknownFrees);
      assert.ok(m.alloc > 1000 && m.free > 200, `a real workload: ${m.alloc} allocations, ${m.free} frees`);
      assert.equal(report.events.mm_page_free_batched, lines.filter((l) => l.includes('mm_page_free_batched:')).length);
      assert.equal(report.notUnderstood.count, 0);
      // Every block the model holds live is allocated in the image, with its order and owner.
      for (const [pfn, b] of m.live) {
        const at = img.memmapOffset(pfn);
        const d = decodeDescriptor(img.store.read(at, 64));
        assert.ok(d.flags & PG_ALLOCATED, `pfn ${pfn} allocated`);
        assert.equal(d.order, b.order);
        assert.equal(d.owner, b.owner);
      }
      const r = check(img);
      assert.deepEqual(r.problems, []);
      assert.equal(r.allocatedBlocks, m.live.size);
      // Each step is a history step that can be stepped back over: before the first, nothing allocated.
      assert.ok(report.steps.length >= Math.ceil((m.alloc + m.free) / 200));
      const before = stateAt(img, report.steps[0] - 1);
      assert.equal(check(before).allocatedBlocks, 0);
      assert.ok(img.sb.formatRevision >= REVISION_REPLAY, 'an image holding a replay is raised to revision 1 at least');
    });
  }

  it('after a replay, the image says what its last step changed: every frame whose descriptor or link record differs from the step before, and the free lists', () => {
    const lines = traceText('ftrace').split('\n');
    const img = freshImage();
    const report = replayTrace(img, () => lines, { batch: 50 });
    const last = report.steps[report.steps.length - 1];
    const before = stateAt(img, last - 1);
    const g = img.geometry;
    const changed: number[] = [];
    const headsChanged: number[] = [];
    for (let pfn = img.layout.data.startPfn; pfn < g.totalFrames; pfn++) {
      const desc = img.memmapOffset(pfn);
      const link = pfn * PAGE_SIZE;
      const differs = (at: number, n: number) => !Buffer.from(img.store.read(at, n)).equals(Buffer.from(before.store.read(at, n)));
      const descriptor = differs(desc, 64);
      if (descriptor || differs(link, 64)) changed.push(pfn);
      if (descriptor) headsChanged.push(pfn);
    }
    assert.ok(changed.length > 0, 'the last step changed frames');
    const runs = img.lastChange.frames;
    const within = (first: number, end: number) => runs.some(([a, b]) => first >= a && end <= b);
    for (const pfn of changed) assert.ok(within(pfn, pfn + 1), `pfn ${pfn} changed in step ${last} and is in the change set`);
    // A descriptor's change covers its whole block, as it was (the bytes the step replaced) and as it is.
    let oldBlocks = 0;
    for (const pfn of headsChanged) {
      for (const [shown, when] of [[before, 'before'], [img, 'after']] as const) {
        const d = decodeDescriptor(shown.store.read(shown.memmapOffset(pfn), 64));
        if (!(d.flags & (PG_ALLOCATED | PG_BUDDY))) continue;
        if (when === 'before' && d.order > 0) oldBlocks++;
        assert.ok(within(pfn, pfn + 2 ** d.order), `the block of order ${d.order} at pfn ${pfn} (${when} the step) is in the change set`);
      }
    }
    assert.ok(oldBlocks > 0, 'the step rewrote heads of blocks larger than a frame');
    assert.equal(img.lastChange.freeLists, true);
  });

  it('--assume-allocated allocates first what the trace frees before allocating it; a window and a base move the events', () => {
    const lines = traceText('perf').split('\n');
    const img = freshImage();
    const report = replayTrace(img, () => lines, { assumeAllocated: true });
    const m = model(lines, report.offset, img.layout.data.startPfn + img.layout.data.frames, true);
    assert.ok(report.preallocated > 0);
    assert.equal(report.applied.free, m.free);
    assert.equal(report.skipped['frees of blocks the image never saw allocated'] ?? 0, m.unknownFrees);
    assert.deepEqual(check(img).problems, []);

    const times = lines.map((l, i) => parseTraceLine(l, i + 1)).flatMap((r) => (r.kind === 'event' ? [r.event.time] : []));
    const mid = times[Math.floor(times.length / 2)];
    const windowed = replayTrace(freshImage(), () => lines, { from: mid, base: 0 });
    assert.equal(Object.values(windowed.events).reduce((a, b) => a + b, 0), times.filter((t) => t >= mid).length);
    assert.equal(windowed.base, 0);
  });

  it('skips, counting them, events whose pfn is not aligned to their order, and applies the rest', () => {
    const line = (t: number, event: string, pfn: number, order: number) =>
      `  x-1  [000] .....  1.00000${t}: ${event}: page=0 pfn=0x${pfn.toString(16)} order=${order}${event === 'mm_page_alloc' ? ' migratetype=0 gfp_flags=GFP_KERNEL' : ''}`;
    const lines = [
      line(1, 'mm_page_alloc', 0x10000, 0),
      line(2, 'mm_page_alloc', 0x10003, 1), // misaligned allocation
      line(3, 'mm_page_free', 0x10005, 2), // misaligned free, never allocated
      line(4, 'mm_page_free', 0x10000, 0),
    ];
    for (const assumeAllocated of [false, true]) {
      const r = replayTrace(freshImage(64 * 2 ** 20), () => lines, { assumeAllocated });
      assert.deepEqual(r.applied, { alloc: 1, free: 1 }, JSON.stringify(r));
      assert.equal(r.skipped['pfns not aligned to their order'], 2, JSON.stringify(r.skipped));
      assert.equal(r.preallocated, 0);
    }
  });

  it('cuts an owner tag from flags that are not ASCII to the descriptor\'s 16 bytes, between characters', () => {
    const flags = 'ÄÖÜßÄÖÜßÄÖÜß|__GFP_ZERO';
    const tag = ownerTagOf({ line: 1, time: 1, cpu: 0, event: 'mm_page_alloc', pfn: 1, order: 0, migratetype: 1, gfpFlags: flags });
    assert.equal(tag, 'ÄÖÜßÄÖÜ/M'); // 7 two-byte letters and "/M": 16 bytes
    const event = { line: 1, time: 1, cpu: 0, event: 'mm_page_alloc' as const, pfn: 1, order: 0 };
    assert.equal(ownerTagOf({ ...event, migratetype: Number.MAX_SAFE_INTEGER, gfpFlags: 'GFP_KERNEL' }), '/900719925474099');
    assert.equal(ownerTagOf({ ...event, migratetype: Number.MAX_SAFE_INTEGER, gfpFlags: 'Ä' }), '/900719925474099');
    const lines = [`  x-1  [000] .....  1.000001: mm_page_alloc: page=0 pfn=0x10000 order=0 migratetype=1 gfp_flags=${flags}`];
    const img = freshImage(64 * 2 ** 20);
    const r = replayTrace(img, () => lines);
    assert.deepEqual(r.applied, { alloc: 1, free: 0 });
    assert.equal(decodeDescriptor(img.store.read(img.memmapOffset(r.offset + 0x10000), 64)).owner, tag);
  });

  it('a trace with more events than are kept from its first reading is read again: the same report, steps and bytes', () => {
    const lines = traceText('trace-cmd').split('\n');
    // Damaged and foreign lines, and a window, so every count of the report is put to the test.
    lines.splice(40, 0, 'garbage', '  x-1 [000] 1.000000: sched_switch: prev=a next=b', '  x-1 [000] 1.000001: mm_page_free: pfn=0xzz order=0');
    const options = { name: 'trace-cmd.txt', batch: 300, assumeAllocated: true };
    const kept = freshImage();
    const readAgain = freshImage();
    let readings = 0;
    const keptReport = replayTrace(kept, () => lines, options);
    const againReport = replayTrace(readAgain, () => (readings++, lines), { ...options, keptEvents: 50 });
    assert.equal(readings, 2, 'read twice');
    assert.deepEqual(againReport, keptReport);
    assert.ok(keptReport.notUnderstood.count === 2 && keptReport.otherEvents >= 1 && keptReport.steps.length > 3, JSON.stringify(keptReport));
    assert.ok((kept.store as MemoryStore).sameContentAs(readAgain.store as MemoryStore), 'the same bytes');
    // Kept, the trace is read once.
    let once = 0;
    replayTrace(freshImage(), () => (once++, lines), options);
    assert.equal(once, 1);
  });

  it('a batch too large for the journal is cut in halves: the same result in more steps', () => {
    const lines = traceText('ftrace').split('\n');
    // A 64 MiB image has a 64 KiB journal; its data area takes part of the trace, the rest is outside.
    const small = replayTrace(freshImage(64 * 2 ** 20), () => lines, { batch: 100 });
    const large = replayTrace(freshImage(64 * 2 ** 20), () => lines, { batch: 100_000 });
    assert.ok(small.applied.alloc > 100 && (small.skipped['outside the image'] ?? 0) > 0, JSON.stringify(small));
    assert.equal(large.applied.alloc, small.applied.alloc);
    assert.equal(large.applied.free, small.applied.free);
    assert.ok(large.steps.length > 1, `cut into ${large.steps.length} steps`);
  });

  it('tells after each committed step, with that step already in the history (the CLI lets each step reach the file then)', () => {
    const lines = traceText('ftrace').split('\n');
    const img = freshImage();
    const told: number[] = [];
    const report = replayTrace(img, () => lines, { batch: 500, onCommitted: () => told.push(img.historyRecords().at(-1)!.seq) });
    assert.ok(report.steps.length > 2);
    assert.deepEqual(told, report.steps);
  });

  it('in the editor, a cancel asked from a progress report stops the replay at its next batch', async () => {
    const lines = traceText('ftrace').split('\n');
    const img = freshImage();
    let asked = -1;
    const cancelled = await replayTraceAsync(img, () => lines, { batch: 10 }, {
      onProgress: (done) => {
        if (asked < 0 && done >= 50) asked = done;
      },
      cancelled: () => asked >= 0,
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(cancelled instanceof OperationCancelled, String(cancelled));
    assert.ok(cancelled.done >= asked && cancelled.done <= asked + 10, `stopped after ${cancelled.done} events, asked at ${asked}`);
  });

  it('allocates exactly a given block: split out of the free block holding it, refused where its frames are not one free block', () => {
    const img = freshImage(64 * 2 ** 20);
    const start = Math.ceil(img.layout.data.startPfn / 1024) * 1024; // a whole order-10 block, never initialised yet
    const pfn = start + 256 + 8;
    const step = img.run('replay', (txn) => ({ result: allocateExactly(txn, pfn, 3, 'x'), summary: { text: 'claim' } }));
    assert.deepEqual({ pfn: step.pfn, order: step.order }, { pfn, order: 3 });
    assert.deepEqual(check(img).problems, []);
    // Its buddies went back on the lists: order 3 at pfn-8, order 4 at pfn+8... up to the order-9 half.
    const lists = freeLists(img, 4096).filter((l) => l.count > 0);
    const holds = (p: number, o: number) => lists.some((l) => l.order === o && l.blocks.includes(p));
    assert.ok(holds(start + 256, 3) && holds(start + 256 + 16, 4) && holds(start + 256 + 32, 5) && holds(start + 512, 9) && holds(start, 8), JSON.stringify(lists.map((l) => [l.order, l.blocks.slice(0, 4)])));
    const refuse = (p: number, o: number) => {
      try {
        img.run('replay', (txn) => ({ result: allocateExactly(txn, p, o, 'y'), summary: { text: 'claim' } }));
      } catch (e) {
        return (e as Error).message;
      }
      return 'allocated';
    };
    assert.equal(refuse(pfn, 0), `pfn ${pfn} is in the allocated block at pfn ${pfn} (order 3)`);
    assert.equal(refuse(start + 256, 4), `block at pfn ${start + 256}, order 4 is not one free block: the free block at pfn ${start + 256} (order 3) holds only its start`);
    assert.equal(refuse(pfn + 1, 1), `pfn ${pfn + 1} is not aligned to order 1`);
    assert.match(refuse(img.layout.data.startPfn + img.layout.data.frames, 0), /is not in the data area/);
    assert.deepEqual(check(img).problems, []);
  });

  it('a power cut anywhere in a replay leaves whole batches: the blocks of the steps kept, check clean', () => {
    const lines = traceText('trace-cmd').split('\n').slice(0, 600);
    const make = () => {
      const store = new MemoryStore(2 ** 30);
      PmemImage.create(store, { sizeBytes: 2 ** 30, uuid: '00000000-0000-4000-8000-000000000000', nowMs: 0 });
      PmemImage.open(store).close();
      return store;
    };
    const replay = (img: PmemImage) => replayTrace(img, () => lines, { batch: 40 });
    const total = PmemImage.open(make().clone()).simulateCrash(Number.MAX_SAFE_INTEGER, (img) => void replay(img)).points;
    assert.ok(total > 20, `${total} persistence points`);
    for (let n = 0; n < total; n += Math.max(1, Math.floor(total / 23))) {
      const store = make();
      assert.equal(PmemImage.open(store).simulateCrash(n, (img) => void replay(img)).crashed, true, `crash at point ${n}`);
      const after = PmemImage.open(store);
      assert.deepEqual(check(after).problems, [], `after a crash at point ${n}`);
      // The batches whose steps are kept, replayed again on a fresh image, leave the same allocated blocks.
      const kept = after.historyRecords().filter((r) => r.kind === 'replay').map((r) => r.summary as unknown as { lines: [number, number] });
      const last = kept.length ? kept[kept.length - 1].lines[1] : 0;
      const again = PmemImage.open(make());
      if (last) replayTrace(again, () => lines.slice(0, last), { batch: 40, base: replay(PmemImage.open(make())).base });
      assert.equal(check(after).allocatedBlocks, check(again).allocatedBlocks, `crash at point ${n}: ${kept.length} steps kept`);
    }
  });

  describe('pmem replay', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-replay-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('replays a trace file on an image file, saying what it applied and skipped, then history and check see it', () => {
      const f = path.join(dir, 'r.pmem');
      const trace = path.join(dir, 'perf.txt');
      fs.writeFileSync(trace, traceText('perf'));
      assert.equal(pmem('create', f, '--size', '1G').code, 0);
      const r = pmem('replay', f, trace, '--json');
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as ReturnType<typeof replayTrace>;
      assert.equal(report.format, 'perf');
      assert.ok(report.applied.alloc > 0);
      const text = pmem('replay', f, trace);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /perf format; pfn [\d,]+ of the trace is pfn [\d,]+ of the image/);
      assert.match(text.stdout, /never applied: mm_page_free_batched/);
      assert.match(text.stdout, /the trace's view of memory, not the kernel's/);
      assert.match(pmem('history', f).stdout, /replay +\d+ +replay perf\.txt lines \d+–\d+: \d+ allocated, \d+ freed/);
      assert.equal(pmem('check', f).code, 0);
    });

    it('refuses a missing trace, a bad option and a trace without events, leaving the image as it was', () => {
      const f = path.join(dir, 'refuse.pmem');
      assert.equal(pmem('create', f, '--size', '64M').code, 0);
      const before = fs.readFileSync(f);
      const junk = path.join(dir, 'junk.txt');
      fs.writeFileSync(junk, 'hello\nworld\n  x-1 [000] 1.0: mm_page_alloc: pfn=zz\n');
      const cases: Array<[string[], RegExp]> = [
        [['replay', f, path.join(dir, 'none.txt')], /trace .*none\.txt does not exist/],
        [['replay', f, junk, '--format', 'ftrace2'], /--format must be auto, ftrace, trace-cmd, perf, not "ftrace2"/],
        [['replay', f, junk, '--from', 'soon'], /--from must be a time in seconds/],
        [['replay', f, junk], /no kmem page-allocator events in .*junk\.txt \(3 lines; 3 not understood, first at line 1, 2, 3\)/],
      ];
      for (const [args, why] of cases) {
        const r = pmem(...args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
        assert.match(r.stderr, why);
      }
      assert.ok(fs.readFileSync(f).equals(before), 'the image is untouched');
    });
  });
});
