/**
 * Linux namespaces, read-only: the pfn/dax and BTT info blocks of images a real
 * Linux 6.1 kernel wrote (test/fixtures/linux), checked against what ndctl and
 * the kernel said about them; info blocks built here for every minor version;
 * each check of nd_pfn_validate provoked on its own; detection; the CLI.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { CLI, pmem, readAt } from './cliRun';
import { CONFIGS, sharedFixture, fixtureJson, fixtureText, type Config } from './linuxFixtures';
import { describeNamespace, detectKind, DETECT_BYTES, type BttNamespaceReport, type PfnNamespaceReport } from '../../src/engine/format/linux/namespace';
import { decodePfnInfoBlock, effectiveFields, validatePfnInfoBlock } from '../../src/engine/format/linux/pfnInfoBlock';
import { infoBlockChecksum } from '../../src/engine/format/linux/infoBlockCommon';
import { MemoryStore, PmemImage } from '../../src/engine';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

function headOf(file: string): { head: Uint8Array; size: number } {
  const size = fs.statSync(file).size;
  return { head: readAt(file, 0, Math.min(size, DETECT_BYTES)), size };
}

/** The bytes of a hexdump -C style dump ("ADDR  xx xx ...  |...|"), with its first address. */
function parseDump(text: string): { address: number; bytes: Buffer } {
  const lines = text.split('\n').filter((l) => /^[0-9a-f]{8,}\s/.test(l));
  const bytes = lines.flatMap((l) => l.split('|')[0].trim().split(/\s+/).slice(1).map((h) => parseInt(h, 16)));
  return { address: parseInt(lines[0].split(/\s+/)[0], 16), bytes: Buffer.from(bytes) };
}

/** The namespace entry of `ndctl list` (guest/ndctl-list.txt). */
function ndctlNamespace(config: Config): { size: number; mode: string; map?: string; align?: number; uuid: string } {
  const list = fixtureJson<Array<{ regions: Array<{ namespaces: Array<{ size: number; mode: string; map?: string; align?: number; uuid: string }> }> }>>(config, 'guest/ndctl-list.txt');
  return list[0].regions[0].namespaces[0];
}

/** `key=value` lines of one device in guest/sysfs.txt. */
function sysfs(config: Config, device: string): Record<string, string> {
  const text = fixtureText(config, 'guest/sysfs.txt');
  const section = text.split('\n## ').find((s) => s.replace(/^## /, '').startsWith(`${device} `));
  assert.ok(section, `${device} in sysfs.txt`);
  return Object.fromEntries(section.split('\n').slice(1).filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]));
}

/** ndctl's read-infoblock JSON, without the path it printed. */
function ndctlInfoblock(config: Config): Record<string, unknown> {
  const [entry] = fixtureJson<Array<Record<string, unknown>>>(config, 'read-infoblock.json');
  const { file: _file, ...fields } = entry;
  return fields;
}

describe('Linux namespaces written by a real kernel (test/fixtures/linux)', function () {
  this.timeout(300_000);
  let fixtures: { files: Record<Config, string> };
  before(() => {
    fixtures = { files: Object.fromEntries(CONFIGS.map((c) => [c, sharedFixture(c)])) as Record<Config, string> };
  });

  it('decompresses into sparse files of the namespace size', () => {
    for (const c of CONFIGS) {
      const st = fs.statSync(fixtures.files[c]);
      assert.equal(st.size, GiB, c); // guest/sysfs.txt: namespace0.0 size=1073741824
      assert.ok(st.blocks * 512 < 64 * MiB, `${c} is sparse (${st.blocks * 512} bytes on disk)`);
    }
  });

  for (const c of ['fsdax-dev-2M-1G', 'fsdax-mem-2M-1G', 'devdax-dev-2M-1G'] as const) {
    it(`${c}: every field as ndctl read-infoblock, checksum, validation and layout as the kernel said`, () => {
      const { head, size } = headOf(fixtures.files[c]);
      const r = describeNamespace(head, size) as PfnNamespaceReport;
      assert.equal(r.kind, c.startsWith('devdax') ? 'devdax' : 'fsdax');
      assert.deepEqual(r.fields, ndctlInfoblock(c)); // read-infoblock.json
      assert.equal(r.checksum.ok, true);
      assert.equal(r.checksum.stored, r.checksum.computed);
      const failed = r.validation.rules.filter((x) => x.verdict !== 'pass' && x.verdict !== 'not applicable');
      assert.deepEqual(failed, []);
      assert.equal(r.validation.ok, true);
      // guest/physdump-infoblock.txt: the kernel's info block read live from physical memory, byte for byte.
      const dump = parseDump(fixtureText(c, 'guest/physdump-infoblock.txt'));
      assert.equal(dump.address, 0x100000000 + 4096);
      assert.deepEqual(Buffer.from(head.subarray(4096, 4096 + dump.bytes.length)), dump.bytes);

      const ns = ndctlNamespace(c); // guest/ndctl-list.txt
      const dev = sysfs(c, c.startsWith('devdax') ? 'dax0.0' : 'pfn0.0'); // guest/sysfs.txt
      const data = r.layout.areas.find((a) => a.name === 'data')!;
      assert.equal(data.bytes, ns.size, 'data area = the namespace size ndctl lists');
      assert.equal(data.bytes, Number(dev.size), 'data area = the pfn/dax device size in sysfs');
      assert.equal(data.offset, Number(dev.resource) - 0x100000000, 'data starts where sysfs says the device starts');
      assert.equal(r.layout.dataPages * 4096, data.bytes);
      assert.equal(Number(r.fields.align), ns.align);
      assert.equal(r.memmap, ns.map === 'dev' ? 'namespace' : 'ram');
      const total = r.layout.areas.reduce((s, a) => s + a.bytes, 0);
      assert.equal(total, GiB, 'the areas tile the namespace');
      if (ns.map === 'dev') {
        assert.equal(r.fields.dataoff, 18874368);
        assert.equal(r.fields.npfns, 257536);
        assert.equal(r.layout.memmapBytes, 257536 * 64);
        assert.deepEqual(r.layout.vmemmap, { start: 2 * MiB, end: 18 * MiB, blocks: 8, firstPage: 0, coveredPages: GiB / 4096 });
        // guest/physdump-memmap-first-data-page.txt: the struct page of the first data page, read live by the guest,
        // is in the file where the vmemmap placement says: start + (dataoff / 4096) x 64.
        const page = parseDump(fixtureText(c, 'guest/physdump-memmap-first-data-page.txt'));
        const at = r.layout.vmemmap!.start + (18874368 / 4096) * 64;
        assert.equal(page.address - 0x100000000, at);
        assert.ok(page.bytes.some((b) => b !== 0));
        assert.deepEqual(readAt(fixtures.files[c], at, page.bytes.length), page.bytes);
      } else {
        assert.equal(r.fields.dataoff, 2 * MiB);
        assert.equal(r.layout.vmemmap, undefined);
      }
    });
  }

  it('sector-1G: the BTT info block as ndctl read-infoblock, checksum, and the size ndctl lists', () => {
    const { head, size } = headOf(fixtures.files['sector-1G']);
    const r = describeNamespace(head, size) as BttNamespaceReport;
    assert.equal(r.kind, 'sector');
    assert.deepEqual(r.fields, ndctlInfoblock('sector-1G')); // read-infoblock.json
    assert.equal(r.checksum.ok, true);
    const ns = ndctlNamespace('sector-1G'); // guest/ndctl-list.txt: size 1071611904 = external_nlba x external_lbasize
    assert.equal(Number(r.fields.external_nlba) * Number(r.fields.external_lbasize), ns.size);
    const info2 = r.layout.areas.find((a) => a.name === 'info block copy')!;
    assert.equal(info2.offset + info2.bytes, GiB, 'the backup info block ends the namespace');
    // The backup copy at info2off is the same block.
    assert.deepEqual(readAt(fixtures.files['sector-1G'], info2.offset, 4096), Buffer.from(head.subarray(4096, 8192)));
  });

  describe('pmem CLI on a fixture (read-only)', () => {
    before(function () {
      if (!fs.existsSync(CLI)) this.skip();
    });
    const fingerprint = (file: string) => {
      const st = fs.statSync(file);
      return { size: st.size, mtimeMs: st.mtimeMs, head: createHash('sha256').update(readAt(file, 0, 64 * 1024)).digest('hex') };
    };

    it('info prints the kind, every field with its offset, the checksum, each check and the layout', () => {
      const file = fixtures.files['fsdax-dev-2M-1G'];
      const before = fingerprint(file);
      const r = pmem('info', file);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /a Linux fsdax namespace \(pfn info block "NVDIMM_PFN_INFO" at byte 4096\)/);
      for (const [name, value, offset] of [['uuid', '7d38971f-862b-4294-88a7-ddbf80af0251', 16], ['dataoff', '18874368', 56], ['npfns', '257536', 64], ['page_struct_size', '64', 92]] as const) {
        assert.match(r.stdout, new RegExp(`\\n\\s+${name}\\s+${value}\\s+@${offset}\\n`));
      }
      assert.match(r.stdout, /checksum\s+stored (0x[0-9a-f]{16}), computed \1: match/);
      assert.match(r.stdout, /PASS\s+small-namespace/);
      assert.match(r.stdout, /18874368\.\.1073741823\s+data\s+1006 MiB/);
      assert.match(r.stdout, /vmemmap\s+8 blocks of 2 MiB at bytes 2097152\.\.18874367/);
      assert.deepEqual(fingerprint(file), before);
    });

    it('info --json names the fields as ndctl read-infoblock does', () => {
      for (const c of CONFIGS) {
        const r = pmem('info', fixtures.files[c], '--json');
        assert.equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout) as Record<string, unknown>;
        const expected = ndctlInfoblock(c);
        for (const k of Object.keys(expected)) assert.deepEqual(out[k], expected[k], `${c}: ${k}`);
        assert.equal(out.kind, c.split('-')[0] === 'sector' ? 'sector' : c.split('-')[0]);
        assert.equal((out.checksum as { ok: boolean }).ok, true);
      }
    });

    it('alloc, free and reboot refuse a namespace, and descriptors a sector-mode one, saying why, and leave them alone', () => {
      const file = fixtures.files['devdax-dev-2M-1G'];
      const before = fingerprint(file);
      for (const args of [['alloc', '--order', '0'], ['free', '4608'], ['reboot']]) {
        const r = pmem(args[0], file, ...args.slice(1));
        assert.equal(r.code, 2, `${args[0]}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^pmem ${args[0]}: .*: a Linux devdax namespace \\(dax info block "NVDIMM_DAX_INFO" at byte 4096\\): pmem only reads Linux namespaces \\(\`pmem info\`, \`check\`, \`descriptors\` and \`map\`\\), never writes them`));
        assert.doesNotMatch(r.stderr, /not a pmem image/);
      }
      assert.deepEqual(fingerprint(file), before);
      const sector = fixtures.files['sector-1G'];
      const r = pmem('descriptors', sector, '--from', '0');
      assert.equal(r.code, 2);
      assert.match(r.stderr, /a Linux sector-mode namespace \(BTT info block "BTT_ARENA_INFO" at byte 4096\): its BTT holds no struct pages/);
    });
  });
});

// ---------------------------------------------------------------- built info blocks

/** Fletcher-64 as drivers/nvdimm/core.c defines it, written out with BigInt: the oracle for the engine's. */
function referenceFletcher(block: Uint8Array): bigint {
  const copy = Buffer.from(block);
  copy.fill(0, 4088, 4096);
  let lo = 0n;
  let hi = 0n;
  for (let i = 0; i < 4096; i += 4) {
    lo = (lo + BigInt(copy.readUInt32LE(i))) & 0xffffffffn;
    hi = hi + lo;
  }
  return ((hi << 32n) | lo) & 0xffffffffffffffffn;
}

interface BlockSpec {
  sig?: 'NVDIMM_PFN_INFO' | 'NVDIMM_DAX_INFO' | 'BTT_ARENA_INFO';
  minor?: number;
  mode?: number;
  dataoff?: number;
  npfns?: number;
  startPad?: number;
  endTrunc?: number;
  align?: number;
  pageSize?: number;
  pageStructSize?: number;
  parent?: number;
  flags?: number;
  seal?: boolean;
}

/** A namespace head (8 KiB) with an info block at 4096, fields at the offsets of struct nd_pfn_sb in drivers/nvdimm/pfn.h. */
function head(spec: BlockSpec = {}): Buffer {
  const b = Buffer.alloc(8192);
  const at = 4096;
  b.write(spec.sig ?? 'NVDIMM_PFN_INFO', at, 'latin1');
  for (let i = 0; i < 16; i++) b[at + 16 + i] = 0x10 + i;
  if (spec.parent !== undefined) b[at + 32] = spec.parent;
  b.writeUInt32LE(spec.flags ?? 0, at + 48);
  b.writeUInt16LE(1, at + 52);
  b.writeUInt16LE(spec.minor ?? 4, at + 54);
  b.writeBigUInt64LE(BigInt(spec.dataoff ?? 18 * MiB), at + 56);
  b.writeBigUInt64LE(BigInt(spec.npfns ?? (GiB - 18 * MiB) / 4096), at + 64);
  b.writeUInt32LE(spec.mode ?? 2, at + 72);
  b.writeUInt32LE(spec.startPad ?? 0, at + 76);
  b.writeUInt32LE(spec.endTrunc ?? 0, at + 80);
  b.writeUInt32LE(spec.align ?? 2 * MiB, at + 84);
  b.writeUInt32LE(spec.pageSize ?? 4096, at + 88);
  b.writeUInt16LE(spec.pageStructSize ?? 64, at + 92);
  if (spec.seal !== false) b.writeBigUInt64LE(referenceFletcher(b.subarray(at, at + 4096)), at + 4088);
  return b;
}

const block = (h: Buffer) => h.subarray(4096, 8192);

describe('pfn and dax info blocks built for every minor version', () => {
  for (const sig of ['NVDIMM_PFN_INFO', 'NVDIMM_DAX_INFO'] as const) {
    for (let minor = 0; minor <= 4; minor++) {
      for (const mode of [1, 2]) {
        it(`${sig} 1.${minor}, mode ${mode}: fields, the kernel's defaults, checksum, validation`, () => {
          // Stored values the defaults must override for older minors.
          const dataoff = mode === 2 ? 18 * MiB + 4096 : 2 * MiB + 4096;
          const h = head({ sig, minor, mode, startPad: 4096, endTrunc: 8192, align: 4096, pageSize: 65536, pageStructSize: 128, dataoff });
          const sb = decodePfnInfoBlock(block(h));
          assert.equal(sb.signature, sig);
          assert.equal(sb.uuid, '10111213-1415-1617-1819-1a1b1c1d1e1f');
          assert.deepEqual([sb.versionMajor, sb.versionMinor, sb.mode, sb.dataoff, sb.startPad, sb.endTrunc, sb.align, sb.pageSize, sb.pageStructSize], [1, minor, mode, dataoff, 4096, 8192, 4096, 65536, 128]);
          assert.equal(sb.checksum, referenceFletcher(block(h)));
          assert.equal(infoBlockChecksum(block(h)), referenceFletcher(block(h)));
          const eff = effectiveFields(sb);
          assert.equal(eff.startPad, minor < 1 ? 0 : 4096);
          assert.equal(eff.endTrunc, minor < 1 ? 0 : 8192);
          assert.equal(eff.align, minor < 2 ? (mode === 2 ? 16 * MiB : 2 * MiB) : 4096, 'minor < 2: 1 << ilog2(dataoff)');
          assert.equal(eff.pageSize, minor < 4 ? 4096 : 65536);
          assert.equal(eff.pageStructSize, minor < 4 ? 64 : 128);
          assert.equal(detectKind(h, GiB).kind, sig === 'NVDIMM_PFN_INFO' ? 'fsdax' : 'devdax');
          // A 64 KiB page_size counts only from minor 4 on, and only with the memmap on the namespace.
          // dataoff a supported power of two, so 1 << ilog2(dataoff) (minors below 2) is an alignment the kernel takes.
          const pageSize = validatePfnInfoBlock(block(head({ sig, minor, mode, pageSize: 65536, dataoff: mode === 2 ? GiB : 2 * MiB })), { namespaceSize: 4 * GiB });
          assert.deepEqual(pageSize.rules.filter((r) => r.verdict === 'fail').map((r) => r.rule), minor === 4 && mode === 2 ? ['page-size'] : []);
          // The 6.1 layout (dataoff 18 MiB) read as a 1.0 or 1.1 block: align becomes 16 MiB, which a dax block may not
          // have and to which 18 MiB is not aligned.
          const old = validatePfnInfoBlock(block(head({ sig, minor, mode: 2, dataoff: 18 * MiB })), { namespaceSize: GiB });
          const refusal = sig === 'NVDIMM_DAX_INFO' ? 'init failed, alignment mismatch: 2097152:16777216' : 'bad offset: 0x1200000 dax disabled align: 0x1000000';
          assert.equal(old.firstFailure?.kernel, minor < 2 ? refusal : undefined);
        });
      }
    }
  }

  it('align 0 in a 1.4 block is 1 << ilog2(dataoff), as for older blocks', () => {
    assert.equal(effectiveFields(decodePfnInfoBlock(block(head({ align: 0, dataoff: 18 * MiB })))).align, 16 * MiB);
    assert.equal(effectiveFields(decodePfnInfoBlock(block(head({ align: 0, dataoff: 2 ** 32 - 4096 })))).align, 2 ** 31);
  });

  it('a valid 1.4 block passes every check', () => {
    for (const sig of ['NVDIMM_PFN_INFO', 'NVDIMM_DAX_INFO'] as const) {
      for (const mode of [1, 2]) {
        const v = validatePfnInfoBlock(block(head({ sig, mode, dataoff: mode === 1 ? 2 * MiB : 18 * MiB })), { namespaceSize: GiB });
        assert.equal(v.ok, true, JSON.stringify(v.firstFailure));
        assert.ok(v.rules.every((r) => r.verdict === 'pass' || r.verdict === 'not applicable'));
      }
    }
  });

  /** Each failure alone: the rule, the kernel's words, its return code. */
  const failures: Array<[string, BlockSpec, { namespaceSize?: number; namespaceUuid?: string; physStart?: number } | undefined, string, RegExp, string, string[]?]> = [
    ['signature probed as devdax', { sig: 'NVDIMM_PFN_INFO' }, undefined, 'signature', /no dax info block/, '-ENODEV'],
    ['checksum', { seal: false }, undefined, 'checksum', /checksum mismatch \(stored 0x0, computed 0x[0-9a-f]+\)/, '-ENODEV'],
    ['parent uuid', {}, { namespaceUuid: '11111111-2222-3333-4444-555555555555' }, 'parent-uuid', /parent_uuid 00000000-0000-0000-0000-000000000000 does not match/, '-ENODEV'],
    ['mode', { mode: 3 }, undefined, 'mode', /^unknown mode 3$/, '-ENXIO'],
    ['page size', { pageSize: 65536 }, undefined, 'page-size', /^init failed, page size mismatch 65536$/, '-EOPNOTSUPP'],
    ['struct page size', { pageStructSize: 56 }, undefined, 'struct-page-size', /^init failed, struct page size mismatch 56$/, '-EOPNOTSUPP'],
    ['dax alignment', { sig: 'NVDIMM_DAX_INFO', align: 4 * MiB, mode: 1, dataoff: 16 * MiB }, undefined, 'alignment', /^init failed, alignment mismatch: 2097152:4194304$/, '-EOPNOTSUPP'],
    // IS_ALIGNED is a mask test: 4 MiB passes it for this (not power-of-two) alignment, so only the capacity check fails.
    ['alignment beyond capacity', { align: 0x40200000, mode: 1, dataoff: 4 * MiB }, undefined, 'alignment-capacity', /^alignment: 40200000 exceeds capacity 40000000$/, '-EOPNOTSUPP'],
    // Beyond the namespace is beyond it less its pads too: the later check fails with it.
    ['dataoff beyond the namespace', { dataoff: 2 * GiB, mode: 1 }, undefined, 'dataoff-capacity', /^pfn array size exceeds capacity of the namespace$/, '-EOPNOTSUPP', ['small-namespace']],
    ['dataoff misaligned', { dataoff: 18 * MiB + 4096, mode: 1 }, undefined, 'dataoff-alignment', /^bad offset: 0x1201000 dax disabled align: 0x200000$/, '-EOPNOTSUPP'],
    ['start misaligned', { mode: 1, dataoff: 2 * MiB, align: 4096, endTrunc: 4096 }, { physStart: 4096 }, 'start-alignment', /^resource start misaligned$/, '-EOPNOTSUPP'],
    ['end misaligned', { mode: 1, dataoff: 2 * MiB }, { namespaceSize: GiB - 4096 }, 'end-alignment', /^resource end misaligned$/, '-EOPNOTSUPP'],
    ['small namespace', { mode: 1, dataoff: GiB - 2 * MiB, endTrunc: 2 * MiB }, undefined, 'small-namespace', /^bad offset with small namespace$/, '-EOPNOTSUPP'],
    ['ram dataoff in the reserve', { mode: 1, dataoff: 4096, align: 4096 }, undefined, 'ram-reserve', /inside the info-block reserve/, '-EINVAL'],
    ['memmap does not fit', { mode: 2, dataoff: 16 * MiB, npfns: (GiB - 16 * MiB) / 4096 }, undefined, 'memmap-room', /memory hot-add fails/, '-ENOMEM'],
  ];
  for (const [name, spec, opts, rule, words, errno, also = []] of failures) {
    it(`fails "${rule}" alone: ${name}`, () => {
      const expect = name.includes('probed as devdax') ? 'devdax' as const : undefined;
      const v = validatePfnInfoBlock(block(head(spec)), { namespaceSize: GiB, ...opts, expect });
      const failed = v.rules.filter((r) => r.verdict === 'fail');
      assert.deepEqual(failed.map((r) => r.rule), [rule, ...also], JSON.stringify(failed));
      assert.equal(v.firstFailure?.rule, rule);
      assert.match(failed[0].kernel!, words);
      assert.equal(failed[0].errno, errno);
    });
  }

  it('npfns beyond the data area is the kernel\'s note, not a failure', () => {
    const v = validatePfnInfoBlock(block(head({ npfns: 300000 })), { namespaceSize: GiB });
    const r = v.rules.find((x) => x.rule === 'npfns')!;
    assert.equal(r.verdict, 'note');
    assert.equal(r.kernel, 'number of pfns truncated from 300000 to 257536');
    assert.equal(v.ok, true);
  });

  it('a parent uuid with no namespace uuid to compare is unknown, not failed', () => {
    const v = validatePfnInfoBlock(block(head({ parent: 0xab })), { namespaceSize: GiB });
    assert.equal(v.rules.find((x) => x.rule === 'parent-uuid')!.verdict, 'unknown');
  });
});

describe('hostile info blocks', () => {
  const offsets = [48, 52, 54, 56, 60, 64, 68, 72, 76, 80, 84, 88, 92];
  it('any field set to any value: described, never a throw, areas inside the namespace', () => {
    fc.assert(fc.property(
      fc.constantFrom('NVDIMM_PFN_INFO', 'NVDIMM_DAX_INFO', 'BTT_ARENA_INFO'),
      fc.array(fc.record({ at: fc.constantFrom(...offsets), value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 4096, 0x80000000, 0xffffffff)) }), { maxLength: 6 }),
      fc.boolean(),
      fc.integer({ min: 8192, max: 2 ** 44 }),
      (sig, edits, seal, size) => {
        const h = head({ sig, seal: false });
        for (const e of edits) h.writeUInt32LE(e.value >>> 0, 4096 + e.at);
        if (seal) h.writeBigUInt64LE(referenceFletcher(block(h)), 4096 + 4088);
        const r = describeNamespace(h, size);
        JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
        assert.equal(r.kind, sig === 'BTT_ARENA_INFO' ? 'sector' : sig === 'NVDIMM_PFN_INFO' ? 'fsdax' : 'devdax');
        if (r.kind === 'sector') for (const a of r.layout.areas) assert.ok(a.bytes >= 0 && a.offset >= 0 && a.offset + a.bytes <= size, JSON.stringify(a));
        if (r.kind === 'fsdax' || r.kind === 'devdax') {
          assert.equal(r.checksum.ok, seal);
          for (const a of r.layout.areas) assert.ok(a.bytes >= 0 && a.offset >= 0 && a.offset + a.bytes <= size, JSON.stringify(a));
          assert.equal(typeof r.validation.ok, 'boolean');
        }
      },
    ), { numRuns: 400 });
  });

  it('random bytes anywhere in the block after a valid signature: never a throw', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 4080, maxLength: 4080 }), fc.integer({ min: 8192, max: 2 ** 40 }), (bytes, size) => {
      const h = head();
      h.set(bytes, 4096 + 16);
      const r = describeNamespace(h, size);
      assert.equal(r.kind, 'fsdax');
    }), { numRuns: 200 });
  });
});

describe('detection by content', () => {
  it('tells our image, fsdax, devdax, sector, a raw namespace, random bytes and a truncated file apart', () => {
    const store = new MemoryStore(64 * MiB);
    PmemImage.create(store, { sizeBytes: 64 * MiB }).close();
    assert.equal(detectKind(store.read(0, DETECT_BYTES), 64 * MiB).kind, 'pmem-image');
    assert.equal(detectKind(head({ sig: 'NVDIMM_PFN_INFO' }), GiB).kind, 'fsdax');
    assert.equal(detectKind(head({ sig: 'NVDIMM_DAX_INFO' }), GiB).kind, 'devdax');
    assert.equal(detectKind(head({ sig: 'BTT_ARENA_INFO' }), GiB).kind, 'sector');
    assert.equal(detectKind(new Uint8Array(DETECT_BYTES), GiB).kind, 'raw');
    // A signature without its NUL is not one.
    const near = head();
    near[4096 + 15] = 0x21;
    assert.equal(detectKind(near, GiB).kind, 'raw');
    const random = new Uint8Array(DETECT_BYTES).map(() => Math.floor(Math.random() * 256));
    random[0] = 0; // never our magic by chance
    assert.equal(detectKind(random, 1 * MiB).kind, 'raw');
    assert.equal(detectKind(head().subarray(0, 6000), 6000).kind, 'too-small');
  });

  describe('the CLI on hostile files', () => {
    let dir: string;
    before(function () {
      if (!fs.existsSync(CLI)) this.skip();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-linuxns-hostile-'));
    });
    after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));
    const make = (name: string, size: number, bytes: Uint8Array) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes);
      fs.truncateSync(file, size);
      return file;
    };

    it('a truncated namespace (shorter than 8 KiB) is refused with a located reason', () => {
      const file = make('short.img', 6000, head().subarray(0, 6000));
      const r = pmem('info', file);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^pmem info: .*short\.img.*too short for a Linux namespace info block \(6000 bytes, one ends at byte 8192\)\n$/);
    });

    it('dataoff and npfns beyond the namespace: described with the failed checks, file untouched', () => {
      const file = make('beyond.img', 64 * MiB, head({ dataoff: 2 ** 40, npfns: 2 ** 40 }));
      const before = fs.readFileSync(file);
      const r = pmem('info', file, '--json');
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { validation: { ok: boolean; firstFailure: string; rules: Array<{ rule: string; verdict: string; kernel?: string }> } };
      assert.equal(out.validation.ok, false);
      assert.equal(out.validation.firstFailure, 'dataoff-capacity');
      assert.equal(out.validation.rules.find((x) => x.rule === 'dataoff-capacity')!.kernel, 'pfn array size exceeds capacity of the namespace');
      assert.equal(pmem('reboot', file).code, 2);
      assert.deepEqual(fs.readFileSync(file), before);
    });

    it('a raw namespace says it has no info block', () => {
      const file = make('raw.img', 4 * MiB, new Uint8Array(0));
      const r = pmem('info', file);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /not a pmem image .*; no Linux info block at byte 4096 either: a raw namespace or another file/);
    });
  });
});
