/**
 * Fragmentation as Linux measures it: the indexes and text formats checked
 * against a real Linux 6.1 kernel's own files for the same free lists
 * (test/fixtures/kmem: /proc/buddyinfo, /sys/kernel/debug/extfrag/extfrag_index
 * and unusable_index, read one after another by the guest), and `pmem frag` on images.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  formatBuddyinfo, formatExtfragIndex, formatUnusableIndex, fragmentationIndex, parseBuddyinfo, parseKmemFree, parseMachineSnapshot, parsePagetypeinfo, unusableFreeIndex, zoneFragmentation,
} from '../../src/engine/inspect/frag';
import { pmem, ROOT } from './cliRun';

const FIXTURES = path.join(ROOT, 'test/fixtures/kmem');

/** Each snapshot of the kernel's three files the fixtures hold: <config>/<before|after>. */
function snapshots(): string[] {
  return fs.readdirSync(FIXTURES).flatMap((cfg) => ['before', 'after'].map((when) => path.join(FIXTURES, cfg, when)).filter((d) => fs.existsSync(path.join(d, 'buddyinfo'))));
}

describe('fragmentation as Linux measures it', () => {
  it('gives the kernel\'s extfrag_index and unusable_index, byte for byte, from the kernel\'s own buddyinfo', () => {
    const dirs = snapshots();
    assert.ok(dirs.length >= 4, `real kernel snapshots in ${FIXTURES}: ${dirs.length}`);
    let positive = 0;
    for (const d of dirs) {
      const read = (name: string) => fs.readFileSync(path.join(d, name), 'utf8');
      const zones = parseBuddyinfo(read('buddyinfo'));
      assert.ok(zones.length >= 1, `${d}: zones in buddyinfo`);
      assert.equal(formatBuddyinfo(zones), read('buddyinfo'), `${d}: buddyinfo written back`);
      const figures = zones.map(zoneFragmentation);
      assert.equal(formatExtfragIndex(figures), read('extfrag_index'), `${d}: extfrag_index`);
      assert.equal(formatUnusableIndex(figures), read('unusable_index'), `${d}: unusable_index`);
      positive += figures.flatMap((z) => z.extfragIndex).filter((i) => i > 0).length;
    }
    assert.ok(positive > 0, 'some snapshot has an order whose allocation would fail (a fragmentation index above 0)');
  });

  it('computes the indexes as mm/vmstat.c does, down to its integer division', () => {
    // Nothing free: index 0; all of it unusable.
    assert.equal(fragmentationIndex([0, 0, 0], 1), 0);
    assert.equal(unusableFreeIndex([0, 0, 0], 1), 1000);
    // Would succeed: -1000, whatever else is free.
    assert.equal(fragmentationIndex([5, 0, 1], 2), -1000);
    // 1000 - (1000 + free_pages * 1000 / requested) / free_blocks: eight order-0 blocks for an order-3 request.
    assert.equal(fragmentationIndex([8, 0, 0, 0], 3), 1000 - Math.floor((1000 + 1000) / 8));
    // A single order-9 block asked for order 10: 1000 - (1000 + 512 * 1000 / 1024) / 1 = -500. The formula goes below 0
    // with few blocks, and the kernel prints that as it comes: %2d of -500 / 1000 (0), %03d of -500 % 1000.
    const lone = zoneFragmentation({ node: 0, zone: 'DMA', free: [...Array(9).fill(0), 1, 0] });
    assert.equal(lone.extfragIndex[10], -500);
    assert.equal(formatExtfragIndex([lone]), `Node 0, zone      DMA ${'-1.000 '.repeat(10)} 0.-500 \n`);
    // Unusable: free pages not in blocks of the order, per free page (3 of 7 here: one order-0 and one order-1 block).
    assert.equal(unusableFreeIndex([1, 1, 1], 2), Math.floor((3 * 1000) / 7));
    // A thousand single frames: 1000 - (1000 + 1000 * 1000 / 2^o) / 1000 per order o above 0.
    const z = zoneFragmentation({ node: 1, zone: 'Normal', free: [1000, ...Array(10).fill(0)] });
    assert.deepEqual(z.extfragIndex, [-1000, 499, 749, 874, 937, 968, 984, 992, 996, 998, 999]);
    assert.equal(formatExtfragIndex([z]), 'Node 1, zone   Normal -1.000  0.499  0.749  0.874  0.937  0.968  0.984  0.992  0.996  0.998  0.999 \n');
    assert.equal(formatUnusableIndex([z]), `Node 1, zone   Normal 0.000 ${'1.000 '.repeat(10)}\n`);
    assert.equal(z.largestFreeOrder, 0);
    assert.equal(z.freePages, 1000);
  });

  it('reads a real machine\'s pagetypeinfo (summed over migrate types) and zoneinfo (free pages)', () => {
    const dir = path.join(FIXTURES, 'huge-256M/after');
    const types = parseMachineSnapshot(fs.readFileSync(path.join(dir, 'pagetypeinfo'), 'utf8'))!;
    assert.equal(types.kind, 'pagetypeinfo');
    assert.deepEqual(types.types.filter((t) => t.zone === 'DMA32').map((t) => t.type), ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate']);
    // Order 0 of DMA32 in that file: 10340 Unmovable, 0 Movable, 1 Reclaimable.
    assert.equal(types.zones.find((z) => z.zone === 'DMA32')!.free[0], 10341);
    assert.equal(types.zones.length, 2, 'the "Number of blocks type" table is not read as free blocks');
    const zoneinfo = parseMachineSnapshot(fs.readFileSync(path.join(dir, 'zoneinfo'), 'utf8'))!;
    assert.equal(zoneinfo.kind, 'zoneinfo');
    assert.deepEqual(zoneinfo.freePages.slice(0, 2), [{ node: 0, zone: 'DMA', pages: 736 }, { node: 0, zone: 'DMA32', pages: 12254 }]);
    const buddy = parseMachineSnapshot(fs.readFileSync(path.join(dir, 'buddyinfo'), 'utf8'))!;
    assert.equal(buddy.kind, 'buddyinfo');
    assert.equal(parseMachineSnapshot('hello\n'), undefined);
  });

  /**
   * crash's `kmem -f` for the free lists of a real pagetypeinfo: no real crash
   * session was recorded, so the text is written as crash's memory.c prints it
   * (dump_free_pages_zones_v2 and dump_zone_free_area with one list per migrate
   * type: "%3d ", " %7s  ", the list's address centred in 16, "%6d %6ld"), with
   * an unpopulated zone as crash lists it too.
   */
  function kmemFreeText(pagetypeinfo: string): string {
    const types = parsePagetypeinfo(pagetypeinfo);
    const zones = [...new Set(types.map((t) => `${t.node}/${t.zone}`))];
    let addr = 0xffff88807ffd6d00n;
    const lines = ['NODE', '  0'];
    zones.concat(['0/Movable']).forEach((key, i) => {
      const [node, name] = key.split('/');
      const mine = types.filter((t) => `${t.node}/${t.zone}` === key);
      const free = mine.reduce((n, t) => n + t.free.reduce((m, c, o) => m + c * 2 ** o, 0), 0);
      const size = mine.length ? 65536 : 0;
      lines.push(`${i ? '\n' : ''}ZONE  NAME        SIZE    FREE      MEM_MAP       START_PADDR  START_MAPNR`);
      lines.push(`${String(i).padStart(3)}   ${name.padEnd(9)} ${String(size).padStart(6)}  ${String(free).padStart(6)}  ffffea0000000040     ${(i * 0x1000000).toString(16).padStart(8)}        ${i * 4096}`);
      lines.push('AREA    SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES');
      for (let order = 0; order <= 10; order++) {
        for (const t of mine.length ? mine : [{ free: new Array(11).fill(0) }]) {
          addr += 0x18n;
          const cnt = t.free[order] ?? 0;
          lines.push(`${String(order).padStart(3)}  ${`${4 * 2 ** order}k`.padStart(7)}  ${addr.toString(16)}  ${String(cnt).padStart(6)} ${String(cnt * 2 ** order).padStart(6)}`);
        }
      }
      void node;
    });
    lines.push('', `nr_free_pages: ${types.reduce((n, t) => n + t.free.reduce((m, c, o) => m + c * 2 ** o, 0), 0)}  (verified)`);
    return `${lines.join('\n')}\n`;
  }

  it('reads crash\'s kmem -f output: blocks per order summed over its lists, unpopulated zones left out, a line that does not add up skipped', () => {
    for (const dir of snapshots()) {
      const pagetypeinfo = path.join(dir, 'pagetypeinfo');
      if (!fs.existsSync(pagetypeinfo)) continue;
      const text = fs.readFileSync(pagetypeinfo, 'utf8');
      const kmem = kmemFreeText(text);
      const s = parseMachineSnapshot(kmem)!;
      assert.equal(s.kind, 'kmem -f');
      assert.deepEqual(s.zones, parseMachineSnapshot(text)!.zones, `${dir}: the same free blocks as its pagetypeinfo`);
      assert.ok(!s.zones.some((z) => z.zone === 'Movable'), 'the unpopulated zone is left out');
      // A line whose pages are not its blocks times its size is not read.
      const bad = kmem.replace(/^( {2}0 +4k +[0-9a-f]+ +)(\d+)( +)(\d+)$/m, (_, a, b, c) => `${a}${b}${c}${Number(b) + 1}`);
      assert.notEqual(bad, kmem);
      assert.equal(parseKmemFree(bad)[0].free[0], s.zones[0].free[0] - Number(/^ {2}0 +4k +[0-9a-f]+ +(\d+)/m.exec(kmem)![1]));
    }
    assert.deepEqual(parseKmemFree('NODE\n  0\nZONE  NAME        SIZE    FREE\n  1   Normal    225280  202269  c4044040    1000000        4096\nAREA  SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES\n  0     4k      c02eb0b8           3      3\n  9  2048k      c02eb124         395 202240\n'),
      [{ node: 0, zone: 'Normal', free: [3, 0, 0, 0, 0, 0, 0, 0, 0, 395] }], 'the older single-list layout too');
  });

  describe('pmem frag', function () {
    this.timeout(120_000);
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-frag-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('prints the three files of a fragmented image, each as the kernel would, and the numbers as JSON, now and at an earlier step', () => {
      const f = path.join(dir, 'frag.pmem');
      const run = (...args: string[]) => {
        const r = pmem(...args);
        assert.equal(r.code, 0, `pmem ${args.join(' ')}: ${r.stderr}`);
        return r.stdout;
      };
      run('create', f, '--size', '64M', '--section', '2M');
      // Every frame of one 2 MiB section, then every other one freed: order 0 left free, nothing larger there.
      const all = JSON.parse(run('alloc', f, '--order', '0', '--count', '512', '--json')) as { pfns: number[]; step: number };
      const fresh = all.step;
      run('free', f, ...all.pfns.filter((_, i) => i % 2 === 0).map(String));
      const out = run('frag', f);
      const parts = out.split('\n\n');
      assert.deepEqual(parts.map((p) => p.split('\n')[0]), ['==> /proc/buddyinfo <==', '==> /sys/kernel/debug/extfrag/extfrag_index <==', '==> /sys/kernel/debug/extfrag/unusable_index <==']);
      const buddy = run('frag', f, '--only', 'buddyinfo');
      assert.equal(buddy, run('freelists', f, '--buddyinfo'), 'the same buddyinfo as freelists prints');
      assert.equal(`==> /proc/buddyinfo <==\n${buddy}`, parts[0] + '\n');
      const zones = parseBuddyinfo(buddy).map(zoneFragmentation);
      assert.equal(run('frag', f, '--only', 'extfrag_index'), formatExtfragIndex(zones));
      assert.equal(run('frag', f, '--only', 'unusable_index'), formatUnusableIndex(zones));
      type FragJson = { step?: number; zones: Array<{ zone: string; freeBlocks: number[]; freePages: number; largestFreeOrder: number; extfragIndex: number[]; unusableIndex: number[] }> };
      const now = JSON.parse(run('frag', f, '--json')) as FragJson;
      const dma32 = now.zones.find((z) => z.zone === 'DMA32')!;
      assert.ok(dma32.freeBlocks[0] >= 256, `256 single frames free: ${dma32.freeBlocks}`);
      assert.deepEqual(dma32.unusableIndex, zones.find((z) => z.zone === 'DMA32')!.unusableIndex.map((i) => i / 1000));
      assert.ok(dma32.unusableIndex[1] > 0, 'single frames are unusable for order 1');
      // Before the free, the section was all allocated: fewer single frames free.
      const then = JSON.parse(run('frag', f, '--at', String(fresh), '--json')) as FragJson;
      assert.equal(then.step, fresh);
      assert.ok(then.zones.find((z) => z.zone === 'DMA32')!.freeBlocks[0] < dma32.freeBlocks[0]);
      // Over the history: each sample as --at that step prints it, the last one as now.
      const history = JSON.parse(run('frag', f, '--history', '--samples', '4', '--json')) as { first: number; last: number; samples: Array<{ step: number } & FragJson> };
      assert.equal(history.samples.length, 4);
      assert.deepEqual([history.samples[0].step, history.samples[3].step], [history.first, history.last]);
      for (const x of history.samples) assert.deepEqual(x.zones, (JSON.parse(run('frag', f, '--at', String(x.step), '--json')) as FragJson).zones, `step ${x.step}`);
      assert.deepEqual(history.samples[3].zones, now.zones);
      const text = run('frag', f, '--history', '--samples', '2', '--only', 'buddyinfo');
      assert.equal(text, `==> step ${history.first} <==\n${run('frag', f, '--at', String(history.first), '--only', 'buddyinfo')}\n==> step ${history.last} <==\n${buddy}`);
    });

    it('prints a real machine\'s figures beside the image\'s; refuses an unknown file name, a snapshot that is none and a step not kept, saying which', () => {
      const f = path.join(dir, 'refuse.pmem');
      assert.equal(pmem('create', f, '--size', '64M').code, 0);
      const bad = pmem('frag', f, '--only', 'pagetypeinfo');
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--only must be one of buddyinfo, extfrag_index, unusable_index, not "pagetypeinfo"/);
      const beside = pmem('frag', f, '--beside', path.join(FIXTURES, 'huge-256M/after/pagetypeinfo'), '--only', 'extfrag_index');
      assert.equal(beside.code, 0, beside.stderr);
      assert.match(beside.stdout, /^==> \/sys\/kernel\/debug\/extfrag\/extfrag_index <==\nthis image:\nNode 0, zone {4}DMA32 .*\n.*pagetypeinfo \(pagetypeinfo, summed over migrate types\):\nNode 0, zone {6}DMA .* 0\.571 \nNode 0, zone {4}DMA32 .* 0\.998 {2}0\.999 \n$/);
      const foreign = pmem('frag', f, '--beside', f);
      assert.equal(foreign.code, 2);
      assert.match(foreign.stderr, /--beside: .*refuse\.pmem is larger than any \/proc snapshot|--beside: .*refuse\.pmem is not \/proc\/buddyinfo, \/proc\/pagetypeinfo, \/proc\/zoneinfo or crash's kmem -f output/);
      const gone = pmem('frag', f, '--at', '99');
      assert.equal(gone.code, 2);
      assert.match(gone.stderr, /step 99 is not available: steps \d+ to \d+ can be shown/);
      const mixed = pmem('frag', f, '--history', '--at', '1');
      assert.equal(mixed.code, 2);
      assert.match(mixed.stderr, /--history samples every step itself: it takes neither --at nor --beside/);
      const few = pmem('frag', f, '--history', '--samples', '1');
      assert.match(few.stderr, /--samples must be 2 to 100000, not 1/);
    });
  });
});
