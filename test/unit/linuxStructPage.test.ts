/**
 * The struct pages a real Linux 6.1 kernel wrote into namespaces
 * (test/fixtures/linux), decoded and checked against what the same kernel
 * said about itself: its BTF (enum pageflags, zone_type), its vmcoreinfo
 * (offsets, PG_ numbers), its boot log (page-flags layout), the struct pages
 * it showed live in /dev/mem, and the physical address ndctl gave.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { pmem, readAt } from './cliRun';
import { fixtureText, sharedFixture, type Config } from './linuxFixtures';
import { describeNamespace, DETECT_BYTES, type PfnNamespaceReport } from '../../src/engine/format/linux/namespace';
import { LINUX_6_1_X86_64 } from '../../src/engine/format/linux/kernelStructPage';
import { DEBIAN_6_1_X86_64_FLAGS_LAYOUT, parsePageFlagsLayout } from '../../src/engine/format/linux/pageFlagsLayout';
import {
  anchorOf, classifyPages, decodeStructPage, namespaceMemmap, PAGE_CLASS, readStructPages, structPageOffset, type NamespaceMemmap,
} from '../../src/engine/format/linux/structPage';
import { structPageSizeVerdict } from '../../src/engine/format/linux/structPageSize';
import { dataView } from './helpers';

const MiB = 2 ** 20;

function reportOf(file: string): PfnNamespaceReport {
  const size = fs.statSync(file).size;
  const r = describeNamespace(readAt(file, 0, DETECT_BYTES), size);
  assert.ok(r.kind === 'fsdax' || r.kind === 'devdax', r.kind);
  return r;
}

function memmapOf(report: PfnNamespaceReport): NamespaceMemmap {
  const m = namespaceMemmap(report);
  assert.ok(!('none' in m), 'none' in m ? m.none : '');
  return m;
}

const reader = (file: string) => (offset: number, length: number) => new Uint8Array(readAt(file, offset, length));

/** Bytes of a hexdump -C style dump with its first address. */
function parseDump(text: string): { address: number; bytes: Buffer } {
  const lines = text.split('\n').filter((l) => /^[0-9a-f]{8,}\s/.test(l));
  const bytes = lines.flatMap((l) => l.split('|')[0].trim().split(/\s+/).slice(1).map((h) => parseInt(h, 16)));
  return { address: parseInt(lines[0].split(/\s+/)[0], 16), bytes: Buffer.from(bytes) };
}

/** `key=value` pairs of guest/ns-resource.txt. */
function nsResource(config: Config): Record<string, string> {
  return Object.fromEntries(fixtureText(config, 'guest/ns-resource.txt').trim().split(/\s+/).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

describe('struct pages a real Linux 6.1 kernel wrote into its namespaces', function () {
  this.timeout(300_000);

  it('the kernel description agrees with the kernel\'s own BTF and vmcoreinfo', () => {
    const btf = fixtureText('fsdax-dev-2M-1G', 'guest/btf.txt');
    const enumOf = (name: string) => {
      const body = btf.slice(btf.indexOf(`enum ${name} {`), btf.indexOf('};', btf.indexOf(`enum ${name} {`)));
      return [...body.matchAll(/(\w+) = (-?\d+),/g)].map((m) => ({ name: m[1], value: Number(m[2]) }));
    };
    const flags = enumOf('pageflags');
    const nr = flags.find((f) => f.name === '__NR_PAGEFLAGS')!.value;
    assert.equal(LINUX_6_1_X86_64.flagsLayout.flagBits, nr);
    const primary = flags.slice(0, flags.findIndex((f) => f.name === '__NR_PAGEFLAGS'));
    assert.deepEqual(primary.map((f) => f.value), primary.map((_, i) => i), 'the enum counts from 0');
    assert.deepEqual(LINUX_6_1_X86_64.flagNames.map((n) => `PG_${n}`), primary.map((f) => f.name));
    const zones = enumOf('zone_type').filter((z) => !z.name.startsWith('__'));
    assert.deepEqual(LINUX_6_1_X86_64.zoneNames.map((z) => `ZONE_${z.toUpperCase()}`), zones.map((z) => z.name));
    assert.equal(LINUX_6_1_X86_64.deviceZone, zones.find((z) => z.name === 'ZONE_DEVICE')!.value);

    const vmcore = fixtureText('fsdax-dev-2M-1G', 'guest/vmcoreinfo.txt');
    const num = (key: string) => Number(new RegExp(`^${key.replace(/[()]/g, '\\$&')}=(-?\\d+)$`, 'm').exec(vmcore)![1]);
    assert.equal(num('SIZE(page)'), LINUX_6_1_X86_64.size);
    for (const f of ['_mapcount', '_refcount', 'flags', 'mapping', 'private']) {
      const word = LINUX_6_1_X86_64.words.find((w) => w.name.split(' | ').includes(f) || w.name === f);
      assert.ok(word, f);
      assert.equal(word.offset, num(`OFFSET(page.${f})`), f);
    }
    for (const [pg, name] of [['PG_lru', 'lru'], ['PG_slab', 'slab'], ['PG_private', 'private'], ['PG_swapbacked', 'swapbacked'], ['PG_hwpoison', 'hwpoison']]) {
      assert.equal(LINUX_6_1_X86_64.flagNames.indexOf(name), num(`NUMBER(${pg})`), pg);
    }
    assert.equal(2 ** LINUX_6_1_X86_64.flagNames.indexOf('head'), num('NUMBER(PG_head_mask)'));
    // PAGE_BUDDY_MAPCOUNT_VALUE is ~PG_buddy read as a signed int: page_type with only the buddy bit cleared.
    const buddy = num('NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)') >>> 0;
    const page = new Uint8Array(64);
    dataView(page).setUint32(48, buddy, true);
    page[0] = 1; // written
    assert.equal(decodeStructPage(page, 0, 0, { kernel: LINUX_6_1_X86_64 }).kind, 'free (buddy)');
  });

  it('reads the page-flags layout the kernel printed at boot, and refuses one that cannot fit', () => {
    const layout = parsePageFlagsLayout(fixtureText('fsdax-dev-2M-1G', 'guest/pageflags-layout.txt'), 'boot log');
    assert.ok(layout);
    const { source: _a, ...got } = layout;
    const { source: _b, ...want } = DEBIAN_6_1_X86_64_FLAGS_LAYOUT;
    assert.deepEqual(got, want);
    assert.equal(parsePageFlagsLayout('no such lines here'), undefined);
    assert.throws(
      () => parsePageFlagsLayout('mminit::pageflags_layout_widths Section 0 Node 40 Zone 3 Lastcpupid 21 Kasantag 0 Gen 3 Tier 2 Flags 25\nmminit::pageflags_layout_pgshifts Section 0 Node 54 Zone 51 Lastcpupid 30 Kasantag 0'),
      /uses 94 bits, more than the 64 of page->flags/,
    );
    assert.throws(() => parsePageFlagsLayout('mminit::pageflags_layout_widths Node ten\nmminit::pageflags_layout_pgshifts Node 54'), /line not understood: "mminit::pageflags_layout_widths Node ten"/);
  });

  for (const config of ['fsdax-dev-2M-1G', 'devdax-dev-2M-1G'] as const) {
    it(`${config}: the struct pages sit where the kernel showed them live, and page 0's pfn is the namespace's physical start`, () => {
      const file = sharedFixture(config);
      const report = reportOf(file);
      const m = memmapOf(report);
      const read = reader(file);
      // guest/physdump-memmap-first-data-page.txt: 512 bytes read live at the struct page of the first data page.
      const firstData = report.layout.areas.find((a) => a.name === 'data')!.offset / 4096;
      const live = parseDump(fixtureText(config, 'guest/physdump-memmap-first-data-page.txt'));
      const resource = Number(nsResource(config).resource);
      assert.equal(live.address - resource, structPageOffset(m, firstData));
      assert.deepEqual(Buffer.from(read(structPageOffset(m, firstData), live.bytes.length)), live.bytes);
      const anchor = anchorOf(read, m);
      assert.ok(anchor && anchor.votes > 1000, `anchor from ${anchor?.votes} pages`);
      assert.equal(anchor.basePfn * 4096, resource);
      const [page] = readStructPages(read, m, firstData, 1, { kernel: LINUX_6_1_X86_64, anchor });
      // The personality (pfn0.0 or dax0.0) starts at the first data page.
      assert.equal(page.pfn! * 4096, Number(nsResource(config).personality_resource));
      assert.equal(page.flags.hex, config.startsWith('devdax') ? '0x0027ffffc0011000' : '0x0027ffffc0001000');
      assert.equal(page.flags.zoneName, 'Device');
      assert.equal(page.flags.node, 0);
      assert.equal(page.flags.lastCpupid, undefined);
      assert.deepEqual(page.flags.names, config.startsWith('devdax') ? ['reserved', 'head'] : ['reserved']);
      assert.equal(page.refcount, 1);
      assert.equal(page.mapcount, -1);
      assert.equal(page.kind, 'ZONE_DEVICE');
      assert.match(page.words.find((w) => w.name === 'pgmap')!.meaning, /^struct dev_pagemap at 0xffff/);
      assert.deepEqual(page.problems, []);
    });

    it(`${config}: one ZONE_DEVICE struct page per data page, the two pages of the info-block reserve never written`, () => {
      const file = sharedFixture(config);
      const report = reportOf(file);
      const m = memmapOf(report);
      const read = reader(file);
      const classes = classifyPages(read, m, 0, m.pages, { kernel: LINUX_6_1_X86_64 });
      const count = (c: number) => classes.reduce((n, x) => n + (x === c ? 1 : 0), 0);
      const npfns = Number(report.fields.npfns);
      assert.equal(npfns, 257536); // the figure for a 1 GiB, 2 MiB-aligned namespace
      assert.deepEqual([classes[0], classes[1]], [PAGE_CLASS.neverWritten, PAGE_CLASS.neverWritten]);
      if (config.startsWith('devdax')) {
        // dax0.0 maps 2 MiB (align) compound pages: one head and 511 tails each.
        assert.equal(count(PAGE_CLASS.compoundHead), npfns / 512);
        assert.equal(count(PAGE_CLASS.compoundTail), npfns - npfns / 512);
        const anchor = anchorOf(read, m);
        const [head, first, second] = readStructPages(read, m, 4608, 3, { kernel: LINUX_6_1_X86_64, anchor });
        assert.equal(head.kind, 'ZONE_DEVICE');
        assert.equal(first.kind, 'compound tail');
        assert.equal(first.headPage, 4608);
        assert.match(first.words.find((w) => w.offset === 16)!.meaning, /order 9 \(512 pages\)/);
        assert.match(first.words.find((w) => w.offset === 24)!.meaning, /compound_nr 512 pages/);
        assert.equal(second.headPage, 4608);
        assert.equal(second.words.find((w) => w.name === 'mapping')!.meaning, 'TAIL_MAPPING: a tail page of a compound page');
      } else assert.equal(count(PAGE_CLASS.device), npfns);
      assert.equal(count(PAGE_CLASS.reserve), 4608 - 2);
      assert.equal(count(PAGE_CLASS.suspect), 0);
    });
  }

  it('fsdax --map=mem: the file holds no struct pages, and says so', () => {
    const report = reportOf(sharedFixture('fsdax-mem-2M-1G'));
    const m = namespaceMemmap(report);
    assert.deepEqual(m, { none: 'its struct pages live in RAM (--map=mem): the file holds none' });
  });

  it('laying a namespace out for 64-byte struct pages gives the kernel\'s own dataoff; 128 bytes is refused in the kernel\'s words and costs 16 MiB', () => {
    for (const config of ['fsdax-dev-2M-1G', 'devdax-dev-2M-1G'] as const) {
      const report = reportOf(sharedFixture(config));
      const at64 = report.structPageSizes.find((v) => v.bytes === 64)!;
      assert.equal(at64.relaid.dataoff, Number(report.fields.dataoff), config);
      assert.equal(at64.relaid.dataoff, 18 * MiB);
      assert.equal(at64.capacityCost, 0);
      assert.equal(at64.linuxAccepts, true);
      const at128 = report.structPageSizes.find((v) => v.bytes === 128)!;
      assert.equal(at128.linuxAccepts, false);
      assert.match(at128.linux, /"init failed, struct page size mismatch 64" \(-EOPNOTSUPP\)/);
      assert.equal(at128.relaid.dataoff, 34 * MiB);
      assert.equal(at128.capacityCost, 16 * MiB);
      assert.match(at128.coreOnDevice, /the other 64 bytes as 0/);
    }
    // 1 GiB alignment on 4 GiB (the example): the alignment already strands a whole GiB, so 128-byte pages cost nothing more.
    const eff = { startPad: 0, endTrunc: 0, align: 2 ** 30, pageSize: 4096, pageStructSize: 64, defaults: [] };
    const v64 = structPageSizeVerdict(64, 4 * 2 ** 30, 2, 2 ** 30, eff);
    const v128 = structPageSizeVerdict(128, 4 * 2 ** 30, 2, 2 ** 30, eff);
    assert.equal(v64.relaid.dataoff, 2 ** 30);
    assert.equal(v128.relaid.dataoff, 2 ** 30);
    assert.equal(v128.capacityCost, 0);
  });

  it('decoding hostile struct pages never throws, and a zone the kernel lacks is reported', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.integer({ min: 0, max: 2 ** 40 }), (bytes, page) => {
      const d = decodeStructPage(bytes, page, 0, { kernel: LINUX_6_1_X86_64 });
      assert.equal(d.written, bytes.some((b) => b !== 0));
      if (d.written) assert.ok(d.words.length >= 8);
    }), { numRuns: 2000 });
    const bad = new Uint8Array(64);
    dataView(bad).setBigUint64(0, 7n << 51n, true);
    assert.deepEqual(decodeStructPage(bad, 3, 0, { kernel: LINUX_6_1_X86_64 }).problems, ['zone 7 is beyond this kernel\'s 5 zones']);
  });

  it('a hostile info block never makes the memmap readers throw or read outside the file', () => {
    const file = sharedFixture('fsdax-dev-2M-1G');
    const real = readAt(file, 0, DETECT_BYTES);
    const size = fs.statSync(file).size;
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 4096, max: 8191 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 24 }), (edits) => {
      const head = Buffer.from(real);
      for (const [at, v] of edits) head[at] = v;
      const r = describeNamespace(head, size);
      if (r.kind !== 'fsdax' && r.kind !== 'devdax') return;
      const m = namespaceMemmap(r);
      if ('none' in m) return;
      const read = (offset: number, length: number) => {
        assert.ok(offset >= 0 && length >= 0 && offset + length <= size, `read ${offset}+${length} outside the ${size}-byte file`);
        return new Uint8Array(length);
      };
      classifyPages(read, m, 0, Math.min(m.pages, 4096), { kernel: LINUX_6_1_X86_64 });
    }), { numRuns: 150 });
  });

  describe('pmem on a namespace (read-only)', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-structpage-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('descriptors --json: the struct page of namespace page N, with its physical pfn', () => {
      const r = pmem('descriptors', sharedFixture('fsdax-dev-2M-1G'), '--from', '4608', '--count', '2', '--json');
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { basePfn: number; basePfnFrom: string; pages: Array<{ page: number; pfn: number; area: string; kind: string; flags: { hex: string } }> };
      assert.equal(out.basePfn, 0x100000);
      assert.equal(out.basePfnFrom, 'vmemmap pointers');
      assert.deepEqual(out.pages.map((p) => [p.page, p.pfn, p.area, p.kind, p.flags.hex]), [
        [4608, 0x101200, 'data', 'ZONE_DEVICE', '0x0027ffffc0001000'],
        [4609, 0x101201, 'data', 'ZONE_DEVICE', '0x0027ffffc0001000'],
      ]);
    });

    it('descriptors --base, --dmesg and their refusals', () => {
      const file = sharedFixture('fsdax-dev-2M-1G');
      const given = pmem('descriptors', file, '--from', '4608', '--count', '1', '--base', '0x200000', '--json');
      assert.equal(JSON.parse(given.stdout).pages[0].pfn, 0x201200);
      const layoutFile = path.join(dir, 'dmesg.txt');
      fs.writeFileSync(layoutFile, fixtureText('fsdax-dev-2M-1G', 'guest/pageflags-layout.txt'));
      const withLog = pmem('descriptors', file, '--from', '4608', '--count', '1', '--dmesg', layoutFile);
      assert.equal(withLog.code, 0, withLog.stderr);
      assert.match(withLog.stdout, new RegExp(`page-flags layout: ${layoutFile.replace(/[.]/g, '\\.')}`));
      assert.match(withLog.stdout, /\+0 {3}flags .*PG_reserved; node 0, zone 4 \(Device\)/);
      fs.writeFileSync(layoutFile, 'an unrelated log\n');
      const noLines = pmem('descriptors', file, '--from', '0', '--dmesg', layoutFile);
      assert.equal(noLines.code, 2);
      assert.match(noLines.stderr, /has no "mminit::pageflags_layout" lines \(the kernel prints them when booted with mminit_loglevel=4\)/);
      const outside = pmem('descriptors', file, '--from', String(2 ** 18));
      assert.equal(outside.code, 2);
      assert.match(outside.stderr, /--from 262144: the memmap holds the struct pages of namespace pages 0\.\.262143/);
      const kernel = pmem('descriptors', file, '--from', '0', '--kernel', 'linux-2.4');
      assert.match(kernel.stderr, /--kernel must be one of linux-6\.1-x86_64, not "linux-2\.4"/);
      const mem = pmem('descriptors', sharedFixture('fsdax-mem-2M-1G'), '--from', '0');
      assert.equal(mem.code, 2);
      assert.match(mem.stderr, /its struct pages live in RAM \(--map=mem\): the file holds none/);
    });

    it('check passes the kernel\'s namespaces, and finds a struct page the kernel could not have written', () => {
      const file = sharedFixture('devdax-dev-2M-1G');
      const ok = pmem('check', file);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /^ok: a Linux devdax namespace .*; 262144 struct pages \(2 never written, 4606 reserve \(not given to the device\), 503 compound head, 257033 compound tail\)/m);
      // A copy with two struct pages damaged: a zone the kernel has not, and a data page wiped.
      const copy = path.join(dir, 'damaged.img');
      fs.copyFileSync(file, copy);
      const report = reportOf(copy);
      const m = memmapOf(report);
      const fd = fs.openSync(copy, 'r+');
      const flags = Buffer.alloc(8);
      flags.writeBigUInt64LE(7n << 51n);
      fs.writeSync(fd, flags, 0, 8, structPageOffset(m, 5000));
      fs.writeSync(fd, Buffer.alloc(64), 0, 64, structPageOffset(m, 6000));
      fs.closeSync(fd);
      const bad = pmem('check', copy, '--json');
      assert.equal(bad.code, 1);
      const out = JSON.parse(bad.stdout) as { ok: boolean; problems: Array<{ page?: number; message: string }> };
      assert.equal(out.ok, false);
      assert.deepEqual(out.problems.filter((p) => p.page !== undefined).map((p) => [p.page, p.message]), [
        [5000, 'its flags name a zone Linux 6.1, x86-64 does not have'],
        [6000, 'a data page whose struct page was never written: the kernel writes one for every data page when it enables the namespace'],
      ]);
      assert.match(out.problems.at(-1)!.message, /^257534 ZONE_DEVICE struct pages, but the info block gives the device 257536 data pages$/);
    });

    it('map draws a namespace by what its struct pages say', () => {
      const png = path.join(dir, 'ns.png');
      const r = pmem('map', sharedFixture('devdax-dev-2M-1G'), '--out', png, '--width', '512', '--height', '256', '--theme', 'light');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /512 × 256 pixels, 2 pages per cell, 512 × 256 cells; a Linux devdax namespace/);
      assert.equal(fs.readFileSync(png).subarray(1, 4).toString('latin1'), 'PNG');
      const at = pmem('map', sharedFixture('devdax-dev-2M-1G'), '--out', png, '--force', '--at', '3');
      assert.equal(at.code, 2);
      assert.match(at.stderr, /--at: .* is a Linux namespace, which keeps no history/);
    });
  });
});
