/** The designs and their comparison: what each design costs and keeps, measured on images run side by side. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  allocOp, blocks as blocksIn, check, compareDesigns, compareDesignsAsync, CompareReport, completeIoOp, DesignComparison, frames, freeLists, freeOp, freeOrderOp, freeOwnerOp, info, ioOp, MemoryStore,
  OperationCancelled, OperationError, PmemImage, UsageError,
} from '../../src/engine';
import { decompress } from 'fzstd';
import { builtDesign } from '../../src/engine/designs/designs';
import { SB } from '../../src/engine/format/superblock';
import { decodeDescriptor, encodeDescriptorInto } from '../../src/engine/format/descriptor';
import { replayTrace } from '../../src/engine/replay/replay';
import { describeCell } from '../../webview/cellText';
import { frameTooltipMarkdown } from '../../src/extension/trees/frameTooltip';
import { compareRows } from '../../src/shared/compareText';
import { pmem } from './cliRun';
import { dataView } from './helpers';

/** Every block of an image, section by section. */
const blocksOf = (img: PmemImage) => blocksIn(img, 0, img.geometry.totalFrames);

const MiB = 2 ** 20;
const SIZE = 128 * MiB;
const FRAMES = SIZE / 4096;

describe('designs side by side (pmem compare)', function () {
  this.timeout(120_000);
  let report: CompareReport;
  let core: DesignComparison;
  let ram: DesignComparison;
  const progress: Array<[number, number, string]> = [];

  before(() => {
    // 1,600 operations of the reboots mix: clean reboots at 500 and 1,000, a crash in an allocation at 1,500.
    report = compareDesigns({ designs: ['core64', 'ram64'], sizeBytes: SIZE, workload: 'reboots', ops: 1600, seed: 3, onProgress: (d, t, name) => progress.push([d, t, name]) });
    [core, ram] = report.designs;
  });

  it('runs each design named, in order, on the same workload', () => {
    assert.deepEqual(report.designs.map((d) => d.design), ['core64', 'ram64']);
    assert.deepEqual(progress.at(-1), [3200, 3200, 'ram64'], 'progress counts both designs\' operations');
    assert.ok(progress.every(([d], i) => i === 0 || d >= progress[i - 1][0]), 'and only goes forward');
    assert.ok(progress.some(([d, , name]) => name === 'core64' && d > 0 && d < 1600));
    for (const d of report.designs) {
      assert.equal(d.workload.ops, 1600);
      assert.equal(d.workload.reboots, 2, `${d.design}: the workload's reboots ran`);
      assert.equal(d.workload.crashes, 1, `${d.design}: and its crash`);
      assert.ok(d.workload.allocated > 500 && d.workload.freed > 100, `${d.design}: it allocated and freed`);
    }
  });

  it('puts the memmap where the design keeps it: on the device for core64, in RAM for ram64, both again in a VM', () => {
    assert.equal(core.memmap.deviceBytes, FRAMES * 64);
    assert.equal(core.memmap.ramBytes, 0, 'the default profile has no extended part');
    assert.equal(core.memmap.ramBytesDebug, FRAMES * 16, 'the debug profile adds 16 bytes a frame, in RAM');
    assert.equal(ram.memmap.deviceBytes, 0);
    assert.equal(ram.memmap.ramBytes, FRAMES * 64);
    assert.equal(ram.memmap.ramBytesDebug, FRAMES * 80);
    for (const d of report.designs) assert.deepEqual(d.memmap.vm, { guestBytes: FRAMES * 64, hostBytes: FRAMES * 64, totalBytes: FRAMES * 128 });
  });

  it('counts what each operation wrote and flushed: descriptors on the device cost core64 more bytes', () => {
    for (const d of report.designs) {
      assert.ok(d.workload.flushesPerOp >= 1, `${d.design}: every operation is durable (${d.workload.flushesPerOp} flushes each)`);
      assert.ok(d.workload.bytesPerOp > 64, `${d.design}: ${d.workload.bytesPerOp} bytes each`);
      assert.ok(d.workload.opsPerSecond > 0);
    }
    assert.ok(core.workload.bytesPerOp > ram.workload.bytesPerOp, `core64 ${core.workload.bytesPerOp} > ram64 ${ram.workload.bytesPerOp} bytes an operation`);
    assert.ok(core.boot.lazyInit.sections > 0 && ram.boot.lazyInit.sections > 0, 'the first operations after a boot initialise sections');
    assert.ok(core.boot.lazyInit.bytesWritten > ram.boot.lazyInit.bytesWritten, 'core64 writes the descriptors of the sections it initialises');
  });

  it('core64 keeps every owner and order across a reboot, a crash and a profile change; ram64 keeps none', () => {
    for (const k of [core.reboot, core.crash.kept, core.profileChange.kept]) {
      assert.ok(k.blocks > 0);
      assert.equal(k.ownersLost, 0);
      assert.equal(k.ordersLost, 0);
    }
    for (const k of [ram.reboot, ram.crash.kept, ram.profileChange.kept]) {
      assert.ok(k.blocks > 0);
      assert.equal(k.ownersLost, k.blocks, 'no owner survives a boot');
      assert.ok(k.ordersLost > 0 && k.ordersLost <= k.blocks, 'blocks of order 1 or more come back as single frames');
    }
    assert.ok(ram.profileChange.kept.blocks >= 5, 'the blocks of orders 0 to 4 allocated before the profile change');
    assert.equal(ram.profileChange.kept.ordersLost, ram.profileChange.kept.blocks - 1, 'all but the order-0 one lose their order');
    assert.equal(core.profileChange.linux, 'refuses the namespace: "init failed, struct page size mismatch 64" (80-byte struct page, 64 reserved)', 'where Linux refuses the namespace');
    assert.equal(ram.profileChange.linux, 'builds the memmap in RAM with 80-byte struct pages');
    assert.deepEqual(core.profileChange.ramBytesPerDescriptor, [0, 16]);
    assert.deepEqual(ram.profileChange.ramBytesPerDescriptor, [64, 80]);
    for (const d of report.designs) assert.match(d.crash.outcome, /^rolled (back|forward)$/);
  });

  it('checks each image after it all, and says what the checker can and cannot verify there', () => {
    for (const d of report.designs) assert.equal(d.checker.ok, true, `${d.design}: ${d.checker.problems} problems`);
    assert.match(core.checker.verifies, /every descriptor on the device/);
    assert.match(ram.checker.cannot, /owner and order of an allocated block are not on the device/);
  });

  it('tells its rows side by side', () => {
    const { header, rows } = compareRows(report);
    assert.deepEqual(header, ['', 'core64', 'ram64']);
    const row = (label: string) => rows.find((r) => r[0] === label);
    assert.deepEqual(row('memmap on the device'), ['memmap on the device', '2 MiB', '0 B']);
    assert.match(row('a clean reboot loses')![1], /^nothing \(\d[\d,]* blocks kept\)$/);
    assert.match(row('a clean reboot loses')![2], new RegExp(`^owner of ${ram.reboot.blocks.toLocaleString('en-US')} of ${ram.reboot.blocks.toLocaleString('en-US')} blocks`));
  });

  it('runs the same in slices of the thread (the editor), and stops at a cancel with what it had done', async () => {
    const o = { designs: ['core64', 'ram64'], sizeBytes: SIZE, workload: 'reboots' as const, ops: 1600, seed: 3 };
    const sliced = await compareDesignsAsync(o);
    for (const [i, d] of sliced.designs.entries()) {
      const whole = report.designs[i];
      assert.equal(d.workload.bytesWritten, whole.workload.bytesWritten, `${d.design}: the same writes`);
      assert.equal(d.workload.flushes, whole.workload.flushes);
      assert.deepEqual([d.reboot, d.crash, d.profileChange.kept, d.boot.lazyInit.sections], [whole.reboot, whole.crash, whole.profileChange.kept, whole.boot.lazyInit.sections]);
    }
    let asked = 0;
    await assert.rejects(compareDesignsAsync(o, { cancelled: () => ++asked > 2 }), (e: unknown) => e instanceof OperationCancelled && /^Compare Designs cancelled after \d/.test(e.message));
  });

  it('refuses an unknown design or one named twice, saying which there are', () => {
    const refuse = (designs: string[], why: RegExp) => assert.throws(() => compareDesigns({ designs, sizeBytes: SIZE, workload: 'churn', ops: 10, seed: 1 }), (e: unknown) => e instanceof UsageError && why.test(e.message));
    refuse(['core65'], /^no design "core65": the designs are core64, ram64, two-word, memdesc, 2m, dynamic, pfn-only$/);
    refuse(['ram64', 'ram64'], /^design ram64 is named twice$/);
    refuse([], /^name at least one design to compare$/);
  });
});

describe('pmem compare and pmem create --design', function () {
  this.timeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-designs-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints the designs side by side, or as JSON', () => {
    const text = pmem('compare', '--designs', 'core64,ram64', '--size', '64M', '--ops', '400', '--workload', 'churn');
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n');
    assert.equal(lines[0], 'churn workload, 400 operations, seed 1, on a 64 MiB device');
    assert.match(lines[2], /^\s+core64\s+ram64$/);
    assert.ok(lines.some((l) => /^memmap on the device\s+1 MiB\s+0 B$/.test(l)), text.stdout);
    assert.ok(lines.some((l) => l.startsWith('ram64: the checker verifies the free lists')), text.stdout);
    const json = pmem('compare', '--designs', 'ram64', '--size', '64M', '--ops', '200', '--json');
    assert.equal(json.code, 0, json.stderr);
    const r = JSON.parse(json.stdout) as CompareReport;
    assert.deepEqual(r.designs.map((d) => d.design), ['ram64']);
    assert.equal(r.designs[0].memmap.ramBytes, (64 * MiB / 4096) * 64);
  });

  it('--keep DIR writes each design\'s image as it ended, which opens, checks clean and names its design; never over a file', () => {
    const keep = fs.mkdtempSync(path.join(dir, 'keep-'));
    const r = pmem('compare', '--designs', 'core64,ram64', '--size', '64M', '--ops', '300', '--keep', keep);
    assert.equal(r.code, 0, r.stderr);
    const files = ['core64', 'ram64'].map((d) => path.join(keep, `${d}.pmem`));
    assert.match(r.stdout, new RegExp(`^images kept: ${files.join(', ')}$`, 'm'));
    for (const [i, file] of files.entries()) {
      const info = JSON.parse(pmem('info', file, '--json').stdout) as { design: string; profile: string; clean: boolean; frames: { allocated: number } };
      assert.equal(info.design, ['core64', 'ram64'][i]);
      assert.equal(info.profile, 'debug', 'as the comparison left it: after the reboot into the debug profile');
      assert.equal(info.clean, true, 'shut down cleanly');
      assert.ok(info.frames.allocated > 0, 'with the workload\'s blocks');
      assert.equal(pmem('check', file).code, 0);
      assert.ok(fs.statSync(file).blocks * 512 < 64 * MiB / 4, 'sparse');
    }
    const before = fs.readFileSync(files[0]);
    const again = pmem('compare', '--designs', 'core64,ram64', '--size', '64M', '--ops', '10', '--keep', keep);
    assert.equal(again.code, 2);
    assert.equal(again.stderr, `pmem compare: ${files.join(', ')} exist: the images of a comparison never replace a file (choose another folder)\n`);
    assert.deepEqual(fs.readFileSync(files[0]), before, 'untouched');
    const missing = pmem('compare', '--ops', '10', '--keep', path.join(keep, 'nowhere'));
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, `pmem compare: ${path.join(keep, 'nowhere')}: no such file\n`);
    const notDir = pmem('compare', '--ops', '10', '--keep', files[0]);
    assert.equal(notDir.stderr, `pmem compare: ${files[0]} is a regular file, not a folder to keep the images in\n`);
  });

  it('refuses a file, an unknown design and an unknown workload, in one line each', () => {
    const cases: Array<[string[], string]> = [
      [['compare', 'x.pmem'], 'pmem compare: compare takes no file (it makes its images in memory; --keep DIR writes them), not "x.pmem"'],
      [['compare', '--designs', 'core64,core65'], 'pmem compare: no design "core65": the designs are core64, ram64, two-word, memdesc, 2m, dynamic, pfn-only'],
      [['compare', '--workload', 'steady'], 'pmem compare: --workload must be one of churn, fragmenter, hugepages, reboots, not "steady"'],
    ];
    for (const [args, line] of cases) {
      const r = pmem(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr, `${line}\n`);
    }
  });

  it('pmem descriptors shows what the design keeps of each frame in its own column, in place of the 64-byte index entry', () => {
    const file = path.join(dir, 'words.pmem');
    assert.equal(pmem('create', file, '--size', '64M', '--design', 'two-word').code, 0);
    const pfn = Number(pmem('alloc', file, '--order', '1', '--owner', 'web').stdout.trim());
    const lines = pmem('descriptors', file, '--from', String(pfn), '--count', '2').stdout.split('\n');
    assert.match(lines[0], /^pfn +state +block +order +node\/zone +owner +section +two-word descriptor$/);
    assert.match(lines[2], new RegExp(`^${pfn} +allocated +${pfn} +1 +0/\\w+ +web +\\d+:initialized +allocator allocated head, order 1; allocatee "web"$`));
    assert.match(lines[3], /allocator none; allocatee 0$/);
    assert.doesNotMatch(lines.join('\n'), /PG_/);
  });

  it('creates an image of a design, which info names; refuses an unknown one and a clash with --memmap, making no file', () => {
    const file = path.join(dir, 'ram.pmem');
    assert.equal(pmem('create', file, '--size', '64M', '--design', 'ram64').code, 0);
    const info = JSON.parse(pmem('info', file, '--json').stdout) as { design: string; memmap: { placement: string } };
    assert.equal(info.design, 'ram64');
    assert.equal(info.memmap.placement, 'ram');
    assert.match(pmem('info', file).stdout, /^ {2}design {6}ram64$/m);
    const none = path.join(dir, 'none.pmem');
    assert.equal(pmem('create', none, '--size', '64M', '--design', 'pfn-only').code, 0);
    const shown = pmem('info', none).stdout;
    assert.match(shown, /^ {2}design {6}pfn-only$/m);
    assert.match(shown, /^ {2}memmap {6}none: no descriptors; the free pages' link records are the only page state/m);
    const block = JSON.parse(pmem('alloc', none, '--order', '2', '--owner', 'web', '--json').stdout) as { blocks: Array<{ pfn: number }> };
    const pfn = block.blocks[0].pfn;
    assert.match(pmem('descriptors', none, '--from', String(pfn), '--count', '1').stdout, new RegExp(`^${pfn} +allocated +${pfn} +0 +0/DMA32 +\\d+:initialized`, 'm'));
    const freed = pmem('free', none, String(pfn), '--order', '2');
    assert.equal(freed.stdout, `freed pfn ${pfn} (order 2)\n`, freed.stderr);
    assert.equal(pmem('check', none).code, 0);
    const both = pmem('free', none, String(pfn), String(pfn + 1), '--order', '0');
    assert.equal(both.stderr, 'pmem free: free: --order frees one block: give one pfn with it\n');
    for (const [args, line] of [
      [['--design', 'core65'], 'pmem create: no design "core65": the designs are core64, ram64, two-word, memdesc, 2m, dynamic, pfn-only'],
      [['--design', 'core64', '--memmap', 'ram'], 'pmem create: --design core64 keeps its memmap on device, not --memmap ram'],
    ] as Array<[string[], string]>) {
      const other = path.join(dir, 'other.pmem');
      const r = pmem('create', other, '--size', '64M', ...args);
      assert.equal(r.code, 2);
      assert.equal(r.stderr, `${line}\n`);
      assert.equal(fs.existsSync(other), false, 'no file made');
    }
  });
});

/** A booted image of `design`, in memory. */
function imageOf(design: string, sizeBytes: number): { store: MemoryStore; img: PmemImage } {
  const store = new MemoryStore(sizeBytes);
  PmemImage.create(store, { sizeBytes, ...builtDesign(design).geometry });
  return { store, img: PmemImage.open(store) };
}

describe('pfn-only: no descriptors at all', () => {
  const make = () => imageOf('pfn-only', 16 * MiB);

  it('is memmap placement 2 on the device, and info says there is no memmap anywhere', () => {
    const { store, img } = make();
    assert.equal(store.read(SB.memmapPlacement, 1)[0], 2);
    const i = info(img);
    assert.equal(i.design, 'pfn-only');
    assert.equal(i.memmap.bytes, 0);
    assert.equal(i.memmap.ramBytes, 0);
    assert.equal(img.layout.memmap.frames, 0);
  });

  it('an allocation leaves its frames allocated with no owner and no order; the caller frees it by naming the order', () => {
    const { img } = make();
    const b = allocOp(img, { order: 3, owner: 'web' }).blocks[0];
    assert.equal(b.order, 3, 'the caller is told what it got');
    const shown = frames(img, b.pfn, 8);
    assert.deepEqual(shown.map((f) => [f.kind, f.blockPfn, f.order, f.owner]), Array.from({ length: 8 }, (_, i) => ['allocated', b.pfn + i, 0, '']));
    assert.equal(img.extendedField(b.pfn, 'page_owner'), 0);
    const lists = () => freeLists(img, 64).map((l) => `${l.order}:${l.blocks.join(',')}`).join(' ');
    const before = lists();
    const r = freeOrderOp(img, b.pfn, 3);
    assert.deepEqual(r.freed, [{ pfn: b.pfn, order: 3, owner: '' }]);
    assert.notEqual(lists(), before);
    assert.equal(info(img).frames.allocated, 0, 'every frame of it back');
    assert.ok(check(img).ok);
  });

  it('a free without the order frees one frame (free_page); what it cannot tell is refused by the explorer before anything changes', () => {
    const { img } = make();
    const b = allocOp(img, { order: 2, owner: 'x' }).blocks[0];
    freeOp(img, [b.pfn]);
    assert.equal(info(img).frames.allocated, 3, 'the other three frames stay allocated: a leak the design cannot see');
    const state = JSON.stringify(freeLists(img, 64));
    assert.throws(() => freeOrderOp(img, b.pfn, 2), (e: Error) => e instanceof OperationError && e.message === `pfn ${b.pfn} is not allocated: the block of order 2 at pfn ${b.pfn} is not all in use (nothing was freed)`);
    assert.throws(() => freeOrderOp(img, b.pfn + 1, 1), (e: Error) => e instanceof UsageError && e.message === `pfn ${b.pfn + 1} is not aligned to order 1: a block of order 1 starts at a multiple of 2`);
    assert.equal(JSON.stringify(freeLists(img, 64)), state, 'nothing changed');
    assert.throws(() => freeOwnerOp(img, 'x'), (e: Error) => e instanceof UsageError && e.message === 'a pfn-only image keeps no descriptors, so no owner: free its blocks by pfn and order');
    assert.throws(() => replayTrace(img, () => ['x']), (e: Error) => e instanceof UsageError && /^a pfn-only image keeps no descriptors: a replay checks each free against its block's order and owner/.test(e.message));
    freeOrderOp(img, b.pfn + 2, 1);
    freeOp(img, [b.pfn + 1]);
    assert.equal(info(img).frames.allocated, 0);
    assert.ok(check(img).ok);
  });

  it('the map\'s tooltip shows no block, order or owner for an allocated frame, and a free block by its link record', () => {
    const { img } = make();
    const b = allocOp(img, { order: 1, owner: 'web' }).blocks[0];
    const text = (pfn: number) => describeCell(pfn, 1, undefined, 0, { ...frames(img, pfn, 1)[0], region: undefined, noDescriptor: true }).map((l) => l.map((r) => r.text).join('')).join('\n');
    const allocated = text(b.pfn + 1);
    assert.match(allocated, /^allocated$/m, allocated);
    assert.match(allocated, /^no descriptor \(pfn-only\)\nkept: nothing: its owner and its block's order are not kept$/m);
    assert.doesNotMatch(allocated, /order \d|owner web|flags:/);
    const free = freeLists(img, 8).find((l) => l.blocks.length)!;
    assert.match(text(free.blocks[0]), new RegExp(`block at pfn ${free.blocks[0]}, order ${free.order}[\\s\\S]*no descriptor \\(pfn-only\\)\\nkept: its free block's link record, in the block's first page`));
  });

  it('where the image keeps descriptors, free --order is checked against the block\'s own order', () => {
    const store = new MemoryStore(16 * MiB);
    PmemImage.create(store, { sizeBytes: 16 * MiB });
    const img = PmemImage.open(store);
    const b = allocOp(img, { order: 2 }).blocks[0];
    assert.throws(() => freeOrderOp(img, b.pfn, 1), (e: Error) => e instanceof OperationError && e.message === `the block at pfn ${b.pfn} is of order 2, not 1: nothing was freed`);
    assert.equal(info(img).frames.allocated, 4);
    assert.deepEqual(freeOrderOp(img, b.pfn, 2).freed.map((f) => f.order), [2]);
  });

  it('a reboot loses nothing it had; pmem compare counts no memmap for it and says what its checker cannot verify', () => {
    const { store, img } = make();
    for (let i = 0; i < 20; i++) allocOp(img, { order: i % 4 });
    const before = JSON.stringify([freeLists(img, 1000), info(img).frames]);
    img.close();
    const again = PmemImage.open(store);
    assert.equal(JSON.stringify([freeLists(again, 1000), info(again).frames]), before);
    const r = compareDesigns({ designs: ['pfn-only'], sizeBytes: 64 * MiB, workload: 'reboots', ops: 600, seed: 2 }).designs[0];
    assert.deepEqual([r.memmap.deviceBytes, r.memmap.ramBytes, r.memmap.ramBytesDebug, r.memmap.vm.guestBytes], [0, 0, 0, 0]);
    assert.equal(r.reboot.blocks, 0, 'no block ever had an owner it could lose');
    assert.ok(r.workload.freed > 0 && r.checker.ok);
    assert.match(r.checker.cannot, /whether it is in use at all \(a leak\)/);
    assert.equal(r.profileChange.linux, 'has no counterpart: Linux keeps a struct page for every frame');
  });
});

describe('dynamic: descriptors from a pool, attached while I/O is in flight', () => {
  const make = () => imageOf('dynamic', 32 * MiB);

  it('is memmap placement 3; info shows the pool, 64 KiB of RAM whatever the size of the device', () => {
    const { store, img } = make();
    assert.equal(store.read(SB.memmapPlacement, 1)[0], 3);
    const i = info(img);
    assert.equal(i.design, 'dynamic');
    assert.equal(i.memmap.bytes, 0);
    assert.equal(i.memmap.ramBytes, 64 * 1024);
    assert.deepEqual(i.ioPool, { descriptors: 1024, bytes: 64 * 1024, attached: 0, peak: 0, inFlight: 0 });
  });

  it('attaches descriptors for an I/O and detaches them when it completes; a held I/O shows on its frames and keeps them from being freed', () => {
    const { img } = make();
    const b = allocOp(img, { order: 4 }).blocks[0];
    const once = ioOp(img, b.pfn, 16);
    assert.equal(once.held, false);
    assert.deepEqual([once.pool.attached, once.pool.peak], [0, 16], 'attached for its length only');
    const held = ioOp(img, b.pfn + 4, 8, { hold: true });
    assert.deepEqual(held.pool.inFlight, [{ id: 2, pfn: b.pfn + 4, count: 8 }]);
    assert.deepEqual(frames(img, b.pfn + 3, 2).map((f) => f.io), [undefined, 2]);
    assert.throws(() => freeOrderOp(img, b.pfn, 4), (e: Error) => e instanceof OperationError && e.message === `pfn ${b.pfn + 4} is under I/O (I/O 2, pfn ${b.pfn + 4} + 8): complete the I/O before freeing it (nothing was freed)`);
    assert.throws(() => ioOp(img, b.pfn + 8, 4, { hold: true }), (e: Error) => e instanceof OperationError && /^pfn \d+ is under I\/O already \(I\/O 2/.test(e.message));
    assert.deepEqual(completeIoOp(img).completed.map((f) => f.id), [2]);
    assert.equal(img.io.attached, 0);
    freeOrderOp(img, b.pfn, 4);
    assert.throws(() => ioOp(img, b.pfn, 1), (e: Error) => e instanceof OperationError && e.message === `pfn ${b.pfn} is not allocated: I/O is on pages in use (nothing was attached)`);
    assert.ok(check(img).ok);
  });

  it('when the pool is full an I/O waits for the oldest in flight to complete, or fails and changes nothing', () => {
    const { img } = make();
    const big = allocOp(img, { order: 10 }).blocks[0].pfn;
    const more = allocOp(img, { order: 9 }).blocks[0].pfn;
    ioOp(img, big, 600, { hold: true });
    ioOp(img, big + 600, 300, { hold: true });
    const before = img.io;
    assert.throws(() => ioOp(img, more, 200, { hold: true, whenFull: 'fail' }), (e: Error) => e instanceof OperationError && e.message === 'the I/O pool has 124 of 1024 descriptors free and the I/O needs 200: it fails (it could wait for I/O in flight to complete)');
    assert.equal(img.io, before, 'nothing changed');
    const waited = ioOp(img, more, 200, { hold: true, whenFull: 'wait' });
    assert.deepEqual(waited.waitedFor.map((f) => f.id), [1], 'the oldest completed first');
    assert.deepEqual([waited.pool.attached, waited.pool.peak], [500, 900]);
    assert.throws(() => ioOp(img, big, 1025), (e: Error) => e instanceof UsageError && /needs more descriptors than the pool has \(1024\): it could never start$/.test(e.message));
  });

  it('the pool is RAM only: a boot starts it empty; and only a dynamic image has one', () => {
    const { store, img } = make();
    const b = allocOp(img, { order: 2 }).blocks[0];
    ioOp(img, b.pfn, 4, { hold: true });
    img.close();
    const again = PmemImage.open(store);
    assert.equal(again.io.attached, 0);
    assert.equal(info(again).ioPool?.peak, 0);
    const core = new MemoryStore(16 * MiB);
    PmemImage.create(core, { sizeBytes: 16 * MiB });
    const c = PmemImage.open(core);
    const cb = allocOp(c, { order: 0 }).blocks[0];
    assert.throws(() => ioOp(c, cb.pfn, 1), (e: Error) => e instanceof UsageError && e.message === 'only a dynamic image attaches descriptors for I/O: the other designs keep one for every frame (or none at all)');
  });

  it('pmem compare: RAM is the pool, whatever the size; the workload does I/O on it and says how much was attached at most', () => {
    const r = compareDesigns({ designs: ['dynamic'], sizeBytes: 64 * MiB, workload: 'churn', ops: 800, seed: 4 }).designs[0];
    assert.deepEqual([r.memmap.deviceBytes, r.memmap.ramBytes, r.memmap.ramBytesDebug], [0, 1024 * 64, 1024 * 80]);
    assert.ok(r.workload.io && r.workload.io.started > 50, JSON.stringify(r.workload.io));
    assert.ok(r.workload.io.peakAttached > 0 && r.workload.io.peakAttached <= 8 * 64, 'at most 8 I/O of at most 64 frames in flight');
    assert.deepEqual(r.profileChange.ramBytesPerDescriptor, [64, 80]);
    assert.ok(r.checker.ok);
    const rows = compareRows({ sizeBytes: 64 * MiB, workload: 'churn', ops: 800, seed: 4, designs: [r] }).rows;
    assert.deepEqual(rows.find((x) => x[0] === 'descriptors attached for I/O, at most'), ['descriptors attached for I/O, at most', `${r.workload.io.peakAttached.toLocaleString('en-US')} (${r.workload.io.started.toLocaleString('en-US')} I/O)`]);
  });

  it('pmem io attaches, waits or fails as asked, and says so', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-io-'));
    try {
      const file = path.join(dir, 'd.pmem');
      assert.equal(pmem('create', file, '--size', '32M', '--design', 'dynamic').code, 0);
      const pfn = (JSON.parse(pmem('alloc', file, '--order', '10', '--json').stdout) as { blocks: Array<{ pfn: number }> }).blocks[0].pfn;
      const once = pmem('io', file, '--pfn', String(pfn), '--count', '16');
      assert.equal(once.stdout, `I/O 1 on pfn ${pfn} + 16: 16 descriptors attached; completed, detached; pool 0 of 1024 attached (at most 16)\n`, once.stderr);
      const single = (JSON.parse(pmem('alloc', file, '--order', '0', '--json').stdout) as { blocks: Array<{ pfn: number }> }).blocks[0].pfn;
      const args = ['--pfn', String(pfn), '--count', '700', '--pfn', String(pfn + 700), '--count', '324', '--pfn', String(single), '--count', '1'];
      const waited = pmem('io', file, ...args, '--hold');
      assert.match(waited.stdout, /^I\/O 3 on pfn \d+ \+ 1: 1 descriptor attached; waited for I\/O 1 to complete; in flight; pool 325 of 1024 attached \(at most 1024\)$/m, waited.stderr);
      const failed = pmem('io', file, ...args, '--hold', '--when-full', 'fail');
      assert.equal(failed.code, 1);
      assert.equal(failed.stderr, 'pmem io: the I/O pool has 0 of 1024 descriptors free and the I/O needs 1: it fails (it could wait for I/O in flight to complete)\n');
      const bad = pmem('io', file, '--pfn', String(pfn));
      assert.equal(bad.stderr, 'pmem io: io: each --pfn needs its --count (1 --pfn, 0 --count)\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('2m: one descriptor per 2 MiB, on the device', () => {
  it('is memmap placement 4 with a memmap region of one 64-byte descriptor per 2 MiB; smaller requests are refused, saying why', () => {
    const { store, img } = imageOf('2m', 64 * MiB);
    assert.equal(store.read(SB.memmapPlacement, 1)[0], 4);
    assert.equal(img.layout.memmap.frames, 1, '32 units × 64 bytes: one page');
    const i = info(img);
    assert.equal(i.design, '2m');
    assert.equal(i.memmap.bytes, 4096);
    const free = JSON.stringify(freeLists(img, 64));
    assert.throws(() => allocOp(img, { order: 3 }), (e: Error) => e instanceof UsageError
      && e.message === 'a 2m image allocates whole 2 MiB units: order 3 (32 KiB) is below order 9; its one descriptor per 2 MiB cannot describe less (ask for order 9 or more)');
    assert.equal(JSON.stringify(freeLists(img, 64)), free, 'nothing changed');
  });

  it('keeps each block\'s order and owner across a reboot, in its unit descriptor; a free clears it', () => {
    const { store, img } = imageOf('2m', 64 * MiB);
    const a = allocOp(img, { order: 9, owner: 'web' }).blocks[0].pfn;
    const b = allocOp(img, { order: 10, owner: 'db' }).blocks[0].pfn;
    const unit = (pfn: number) => store.read(img.layout.memmap.startPfn * 4096 + (pfn / 512) * 64, 64);
    assert.equal(decodeDescriptor(unit(b), 0).owner, 'db');
    assert.ok(unit(b + 512).every((x) => x === 0), 'the block\'s second unit is not a head');
    img.close();
    const again = PmemImage.open(store);
    assert.deepEqual(frames(again, b, 2).map((f) => [f.kind, f.blockPfn, f.order, f.owner]), [['allocated', b, 10, 'db'], ['allocated', b, 10, 'db']]);
    assert.deepEqual(freeOp(again, [a]).freed, [{ pfn: a, order: 9, owner: 'web' }]);
    assert.ok(unit(a).every((x) => x === 0), 'freed: its unit descriptor cleared');
    assert.ok(check(again).ok);
  });

  it('pmem compare: a memmap of 1/512 the size on the device; churn\'s small requests refused; a reboot loses no owner', () => {
    const r = compareDesigns({ designs: ['2m'], sizeBytes: 64 * MiB, workload: 'hugepages', ops: 600, seed: 5 }).designs[0];
    assert.equal(r.memmap.deviceBytes, 4096);
    assert.equal(r.memmap.ramBytes, 0);
    assert.equal(r.memmap.ramBytesDebug, 32 * 16, '16 bytes of extended fields per unit');
    assert.ok((r.workload.refused ?? 0) > 0 && r.workload.allocated > 0, JSON.stringify(r.workload));
    assert.ok(r.reboot.blocks > 0);
    assert.equal(r.reboot.ownersLost, 0);
    assert.equal(r.reboot.ordersLost, 0);
    assert.ok(r.checker.ok);
    const rows = compareRows({ sizeBytes: 64 * MiB, workload: 'hugepages', ops: 600, seed: 5, designs: [r] }).rows;
    assert.deepEqual(rows.find((x) => x[0] === 'allocations refused (below a 2 MiB unit)'), ['allocations refused (below a 2 MiB unit)', r.workload.refused!.toLocaleString('en-US')]);
  });
});

describe('two-word: a 16-byte descriptor per frame, allocator and allocatee, on the device', () => {
  it('is memmap placement 5 with 16 bytes a frame on the device; an owner longer than its 8-byte allocatee is refused', () => {
    const { store, img } = imageOf('two-word', 64 * MiB);
    assert.equal(store.read(SB.memmapPlacement, 1)[0], 5);
    assert.equal(img.layout.memmap.frames, (16384 * 16) / 4096);
    assert.equal(info(img).design, 'two-word');
    assert.throws(() => allocOp(img, { order: 0, owner: 'webserver' }), (e: Error) => e instanceof UsageError && e.message === 'a two-word image\'s allocatee is one 64-bit word: owner tag "webserver" is longer than 8 bytes');
  });

  it('writes the allocator and allocatee words of each head; a reboot reads them back, a block across two sections included', () => {
    const { store, img } = imageOf('two-word', 64 * MiB);
    const a = allocOp(img, { order: 3, owner: 'web' }).blocks[0].pfn;
    const b = allocOp(img, { order: 10, owner: 'db' }).blocks[0].pfn;
    const word = (pfn: number) => store.read(img.layout.memmap.startPfn * 4096 + pfn * 16, 16);
    assert.deepEqual([...word(a)], [1, 3, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('web'), 0, 0, 0, 0, 0]);
    assert.ok(word(a + 1).every((x) => x === 0), 'a block\'s other frames: none');
    img.close();
    const again = PmemImage.open(store);
    assert.deepEqual(frames(again, b + 600, 1).map((f) => [f.kind, f.blockPfn, f.order, f.owner]), [['allocated', b, 10, 'db']], 'in the second section of the block');
    assert.deepEqual(frames(again, a, 1).map((f) => [f.blockPfn, f.order, f.owner]), [[a, 3, 'web']]);
    assert.deepEqual(freeOp(again, [b]).freed, [{ pfn: b, order: 10, owner: 'db' }]);
    assert.equal(word(b)[0], 2, 'the freed head is a free buddy head now');
    assert.ok(check(again).ok);
  });

  it('pmem compare: 16 bytes a frame on the device, a quarter of core64\'s; a reboot loses no owner', () => {
    const r = compareDesigns({ designs: ['two-word'], sizeBytes: 64 * MiB, workload: 'reboots', ops: 600, seed: 6 }).designs[0];
    assert.equal(r.memmap.deviceBytes, 16384 * 16);
    assert.equal(r.memmap.ramBytes, 0);
    assert.equal(r.memmap.ramBytesDebug, 16384 * 16);
    assert.ok(r.reboot.blocks > 0);
    assert.deepEqual([r.reboot.ownersLost, r.reboot.ordersLost], [0, 0]);
    assert.ok(r.checker.ok);
  });
});

describe('memdesc: an 8-byte word per page pointing to one descriptor per allocation, from a pool on the device', () => {
  it('is memmap placement 6: the words, then the pool of one 64-byte descriptor per 16 pages', () => {
    const { store, img } = imageOf('memdesc', 64 * MiB);
    assert.equal(store.read(SB.memmapPlacement, 1)[0], 6);
    assert.equal(img.layout.memmap.frames, (16384 * 8) / 4096 + (1024 * 64) / 4096);
    assert.equal(info(img).design, 'memdesc');
  });

  it('every page of an allocation points to its descriptor; a reboot reads the block back from it, a free gives it back', () => {
    const { store, img } = imageOf('memdesc', 64 * MiB);
    const b = allocOp(img, { order: 10, owner: 'db' }).blocks[0].pfn;
    const words = img.layout.memmap.startPfn * 4096;
    const pool = words + 16384 * 8;
    const word = (pfn: number) => dataView(store.read(words + pfn * 8, 8));
    const slot = word(b).getUint32(0, true);
    assert.equal(word(b).getUint32(4, true) >>> 28, 1, 'type: an allocation');
    assert.equal(word(b + 700).getUint32(0, true), slot, 'every page points to the same descriptor');
    const d = decodeDescriptor(store.read(pool + slot * 64, 64), 0);
    assert.deepEqual([d.pfn, d.order, d.owner], [b, 10, 'db']);
    img.close();
    const again = PmemImage.open(store);
    assert.deepEqual(frames(again, b + 700, 1).map((f) => [f.kind, f.blockPfn, f.order, f.owner]), [['allocated', b, 10, 'db']]);
    freeOp(again, [b]);
    assert.ok(store.read(pool + slot * 64, 64).every((x) => x === 0), 'its descriptor back in the pool');
    assert.ok(store.read(words + b * 8, 1024 * 8).every((x) => x === 0), 'its pages point nowhere');
    assert.ok(check(again).ok);
  });

  it('when the pool has no descriptor left an allocation fails, and nothing changes', () => {
    const { img } = imageOf('memdesc', 16 * MiB);
    const slots = 4096 / 16;
    let made = 0;
    let refusal: Error | undefined;
    for (let i = 0; i < 4096 && !refusal; i++) {
      try {
        allocOp(img, { order: 0 });
        made++;
      } catch (e) {
        refusal = e as Error;
      }
    }
    assert.equal(made, slots, 'one descriptor per allocation');
    assert.ok(refusal instanceof OperationError && refusal.message === `the memdesc pool is full: its ${slots} descriptors (one per 16 pages) are all in use by allocations (nothing was allocated)`, String(refusal));
    assert.ok(check(img).ok);
  });

  it('refuses a block whose page words one operation could not carry, saying how large it may be', () => {
    const store = new MemoryStore(64 * MiB);
    PmemImage.create(store, { sizeBytes: 64 * MiB, ...builtDesign('memdesc').geometry, maxOrder: 14 });
    const img = PmemImage.open(store);
    assert.throws(() => allocOp(img, { order: 14 }), (e: Error) => e instanceof UsageError
      && e.message === 'a memdesc image writes a word for every page of an allocation: order 14 takes 128 KiB of words, more than one operation can carry through this image\'s 128 KiB journal (order 13 at most)');
  });

  it('pmem compare: the words and the pool on the device, and how much of the pool is in use', () => {
    const r = compareDesigns({ designs: ['memdesc'], sizeBytes: 64 * MiB, workload: 'reboots', ops: 600, seed: 7 }).designs[0];
    assert.equal(r.memmap.deviceBytes, 16384 * 8 + 1024 * 64);
    assert.equal(r.memmap.ramBytesDebug, 1024 * 16, 'the extended fields of the pool\'s descriptors');
    assert.ok(r.pool && r.pool.used > 0 && r.pool.used <= r.pool.descriptors, JSON.stringify(r.pool));
    assert.deepEqual([r.reboot.ownersLost, r.reboot.ordersLost], [0, 0]);
    assert.ok(r.checker.ok);
  });
});

describe('the checker holds each design\'s own structures on the device against its blocks', () => {
  const problems = (img: PmemImage) => check(img).problems.map((p) => `${p.structure}: ${p.message}`);
  const encodeOwnerInto = (bytes: Uint8Array, at: number, owner: string) => {
    const d = decodeDescriptor(bytes, at);
    encodeDescriptorInto({ ...d, owner }, bytes, at);
  };

  it('two-word: an allocator or allocatee word that disagrees with the block it heads, or a word where no block starts', () => {
    const { store, img } = imageOf('two-word', 64 * MiB);
    const a = allocOp(img, { order: 3, owner: 'web' }).blocks[0].pfn;
    allocOp(img, { order: 10, owner: 'db' });
    freeOp(img, [allocOp(img, { order: 2 }).blocks[0].pfn]);
    assert.deepEqual(problems(img), [], 'clean as the engine left it');
    const word = (pfn: number) => img.layout.memmap.startPfn * 4096 + pfn * 16;
    store.write(word(a) + 8, new TextEncoder().encode('wex'));
    store.write(word(a) + 1, Uint8Array.of(4));
    store.write(word(a + 1), Uint8Array.of(1, 0));
    store.write(word(a + 2), Uint8Array.of(7));
    assert.deepEqual(problems(img), [
      `two-word descriptor: pfn ${a}: heads an allocated block of order 3, but its allocator word says allocated, order 4`,
      `two-word descriptor: pfn ${a + 1}: heads no block, but its allocator word says allocated, order 0`,
      `two-word descriptor: pfn ${a + 2}: state 7 is none of 0 (none), 1 (allocated head), 2 (free head)`,
    ]);
    store.write(word(a) + 1, Uint8Array.of(3));
    store.write(word(a + 1), new Uint8Array(16));
    store.write(word(a + 2), new Uint8Array(16));
    assert.deepEqual(problems(img), [`two-word descriptor: pfn ${a}: allocatee word says owner "wex", the block's owner is "web"`]);
  });

  it('two-word: a reboot reads the words back, and the checker finds them agreeing', () => {
    const { store, img } = imageOf('two-word', 64 * MiB);
    for (let i = 0; i < 40; i++) allocOp(img, { order: i % 5, owner: `o${i % 3}` });
    img.close();
    const again = PmemImage.open(store);
    assert.deepEqual(problems(again), []);
  });

  it('memdesc: a page whose word names another descriptor, a descriptor that names another block, a slot no word points to', () => {
    const { store, img } = imageOf('memdesc', 64 * MiB);
    const b = allocOp(img, { order: 4, owner: 'db' }).blocks[0].pfn;
    allocOp(img, { order: 0, owner: 'fs' });
    assert.deepEqual(problems(img), []);
    const words = img.layout.memmap.startPfn * 4096;
    const pool = words + 16384 * 8;
    const slotOf = (pfn: number) => dataView(store.read(words + pfn * 8, 8)).getUint32(0, true);
    const slot = slotOf(b);
    const spare = 900;
    store.write(words + (b + 5) * 8, Uint8Array.of(spare & 0xff, spare >> 8, 0, 0, 0, 0, 0, 0x10));
    const desc = store.read(pool + slot * 64, 64);
    encodeOwnerInto(desc, 0, 'dc');
    store.write(pool + slot * 64, desc);
    store.write(pool + spare * 64, desc);
    assert.deepEqual(problems(img), [
      `memdesc: pool slot ${slot} (block at pfn ${b}): describes block at pfn ${b} order 4 owner "dc", the index has order 4 owner "db"`,
      `memdesc: pfn ${b + 5}: is in the allocated block at pfn ${b}, whose descriptor is pool slot ${slot}, but its word says slot ${spare}`,
      `memdesc: pool slot ${spare} is in use (block at pfn ${b}) but no page's word points to it: a leak of the pool`,
    ]);
    store.write(pool + slot * 64 + 30, Uint8Array.of(0x55));
    assert.match(problems(img)[0], new RegExp(`^memdesc: pool slot ${slot} \\(block at pfn ${b}\\): descriptor.crc: checksum mismatch$`));
  });

  it('2m: a damaged unit head is found while the block runs, and after a boot as a block no unit can record', () => {
    const { store, img } = imageOf('2m', 64 * MiB);
    const b = allocOp(img, { order: 9, owner: 'vm' }).blocks[0].pfn;
    const unit = (pfn: number) => img.layout.memmap.startPfn * 4096 + (pfn / 512) * 64;
    assert.deepEqual(problems(img), []);
    const free = allocOp(img, { order: 9 }).blocks[0].pfn;
    freeOp(img, [free]);
    store.write(unit(free), store.read(unit(b), 64));
    assert.deepEqual(problems(img), [`unit descriptor: unit of pfn ${free}: heads no allocated block, but it is not blank`]);
    store.write(unit(free), new Uint8Array(64));
    store.write(unit(b) + 30, Uint8Array.of(0x55));
    assert.match(problems(img)[0], new RegExp(`^unit descriptor: unit of pfn ${b}: descriptor.crc: checksum mismatch$`));
    img.close();
    const again = PmemImage.open(store);
    assert.deepEqual(problems(again), [
      `unit descriptor: pfn ${b}–${b + 511}: 512 allocated block(s) below a unit (order 9), which no unit descriptor can record: a block's head was lost`,
      `unit descriptor: unit of pfn ${b}: descriptor.crc: checksum mismatch (a damaged head reads as none: a boot loses its block)`,
    ], 'one finding for the block\'s 512 frames, one for its damaged head');
  });
});

describe('a replayed trace on the designs that keep their blocks on the device', () => {
  it('memdesc: an allocation the pool has no descriptor for is skipped, saying so, and leaves nothing half done', () => {
    const { store, img } = imageOf('memdesc', 16 * MiB);
    const slots = 4096 / 16;
    const first = img.layout.data.startPfn + 64;
    const lines = Array.from({ length: 400 }, (_, i) => `  bench-1  [000] .....  ${(1 + i / 1e5).toFixed(6)}: mm_page_alloc: page=0000000000000000 pfn=0x${(first + i).toString(16)} order=0 migratetype=0 gfp_flags=GFP_KERNEL`);
    const r = replayTrace(img, () => lines);
    assert.equal(r.applied.alloc, slots, JSON.stringify(r));
    assert.deepEqual(r.skipped, { 'allocations the memdesc pool had no descriptor for': 400 - slots });
    assert.deepEqual(check(img).problems, []);
    img.close();
    const again = PmemImage.open(store);
    assert.deepEqual(check(again).problems, []);
    assert.equal(info(again).frames.allocated, slots, 'every block the replay made is back after a boot');
  });


  const trace = () => new TextDecoder().decode(decompress(fs.readFileSync(path.join(__dirname, '../fixtures/kmem/traces/ftrace.txt.zst'))));
  for (const [design, tag] of [['memdesc', /^[A-Z_]+\/[A-Z]$/], ['two-word', /^[A-Z_]{1,6}\/[A-Z]$/]] as const) {
    it(`${design}: every block gets the design's own structures (owner tags cut to fit), so the checker finds them agreeing and a reboot keeps them`, () => {
      const { store, img } = imageOf(design, 1024 * MiB);
      const r = replayTrace(img, () => trace().split('\n'));
      assert.ok(r.applied.alloc > 1000, JSON.stringify(r.applied));
      assert.deepEqual(check(img).problems, []);
      const before = info(img).frames;
      const owned = blocksOf(img).filter((b) => !b.free);
      assert.ok(owned.length > 100 && owned.every((b) => tag.test(b.owner)), [...new Set(owned.map((b) => b.owner))].join(', '));
      img.close();
      const again = PmemImage.open(store);
      assert.deepEqual(check(again).problems, []);
      assert.deepEqual(info(again).frames, before);
      const b = owned[owned.length >> 1];
      assert.deepEqual(frames(again, b.pfn, 1).map((f) => [f.blockPfn, f.order, f.owner]), [[b.pfn, b.order, b.owner]]);
    });
  }
});

describe('tooltips speak of the design in force: what it keeps of a frame, in its own fields', () => {
  const tip = (img: PmemImage, pfn: number) => describeCell(pfn, 1, undefined, 0, { ...frames(img, pfn, 1)[0], region: undefined }).map((l) => l.map((r) => r.text).join('')).join('\n');

  it('two-word: the allocator and the allocatee word, no flags, refcount or generation', () => {
    const { img } = imageOf('two-word', 64 * MiB);
    const b = allocOp(img, { order: 2, owner: 'web' }).blocks[0].pfn;
    const offset = img.layout.memmap.startPfn * 4096 + b * 16;
    const text = tip(img, b);
    assert.match(text, new RegExp(`^two-word descriptor at byte 0x${offset.toString(16)}\nallocator: allocated head, order 2\nallocatee: "web"$`, 'm'), text);
    assert.doesNotMatch(text, /flags:|refcount|boot \d/);
    assert.match(tip(img, b + 1), /^allocator: none\nallocatee: 0$/m, 'a block\'s other frame: no word of its own');
    assert.equal(frames(img, b, 1)[0].stored?.structure, 'two-word descriptor');
    // The Descriptors view's tooltip says the same in place of the 64-byte descriptor's line.
    const md = frameTooltipMarkdown(frames(img, b, 1)[0]);
    assert.ok(md.includes(`two-word descriptor (byte 0x${offset.toString(16)}): allocator allocated head, order 2; allocatee "web"`), md);
    assert.doesNotMatch(md, /refcount/);
  });

  it('memdesc: the page word, and the pool descriptor of the whole allocation it points to', () => {
    const { img } = imageOf('memdesc', 64 * MiB);
    const b = allocOp(img, { order: 3, owner: 'db' }).blocks[0].pfn;
    const text = tip(img, b + 5);
    assert.match(text, /^memdesc page word at byte 0x[0-9a-f]+\ntype: 1 \(a page of an allocation\)\nvalue: pool slot \d+ \(byte 0x[0-9a-f]+\)$/m, text);
    assert.match(text, new RegExp(`^pool descriptor: allocated block at pfn ${b}, order 3, owner "db", refcount 1, node 0 \\w+, boot \\d+$`, 'm'), text);
  });

  it('2m: the unit descriptor of the frame\'s 2 MiB unit, the block\'s head or blank', () => {
    const { img } = imageOf('2m', 64 * MiB);
    const b = allocOp(img, { order: 10, owner: 'vm' }).blocks[0].pfn;
    assert.match(tip(img, b + 3), new RegExp(`^unit: ${b / 512} \\(pfn ${b}–${b + 511}, 2 MiB\\)\\ndescriptor: allocated block at pfn ${b}, order 10, owner "vm"`, 'm'));
    assert.match(tip(img, b + 600), /^descriptor: blank: no allocated block starts in this unit$/m, 'the block\'s second unit');
  });

  it('dynamic: no descriptor but while under I/O; core64 keeps its 64-byte descriptor\'s own lines', () => {
    const { img } = imageOf('dynamic', 16 * MiB);
    const b = allocOp(img, { order: 0 }).blocks[0].pfn;
    assert.match(tip(img, b), /^no descriptor \(dynamic: one from the pool only while under I\/O\)$/m);
    const core = imageOf('core64', 16 * MiB).img;
    const c = allocOp(core, { order: 0, owner: 'x' }).blocks[0].pfn;
    assert.equal(frames(core, c, 1)[0].stored, undefined);
    assert.match(tip(core, c), /^descriptor initialised in boot \d+$/m);
  });
});
