/**
 * The fuzz properties, a bounded seeded run (set PMEM_FUZZ_SEED to replay
 * another seed; `npm run fuzz` runs them for longer), and the defects they
 * found, kept as plain regression cases.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { check, ImageError, PmemImage, stateAt } from '../../src/engine';
import { crc32 } from '../../src/engine/core/bytes';
import { SB } from '../../src/engine/format/superblock';
import { build, Recipe } from './fuzz/images';
import { exerciseEngine, structuresOfCase } from './fuzz/imageProperties';
import { structuresOf } from './fuzz/structures';
import { Mutation } from './fuzz/mutations';
import { runCli } from './fuzz/cliInProcess';
import { BytesStore } from './fuzz/images';
import { PROPERTIES, runProperty } from './fuzz/run';
import { scratchDir } from './fuzz/scratch';
import { dataView } from './helpers';

const SEED = Number(process.env.PMEM_FUZZ_SEED ?? 20261202);

describe('fuzz (bounded run)', () => {
  for (const p of PROPERTIES) {
    it(`${p.name}: ${p.boundedRuns} cases end in a result or a located error`, () => {
      const r = runProperty(p, SEED);
      assert.ok(!r.failed, r.report);
      assert.equal(r.runs, p.boundedRuns);
    });
  }
});

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

/** Shrunk counterexamples the engine property found: each once ended in an uncaught RangeError. */
const ENGINE_CASES: Array<[Recipe, Mutation[], { order?: number; allocCount?: number }?]> = [
    // history: a superblock undo entry whose profile name is not UTF-8 (a memdesc image, its record rewritten with its checksum)
    [{"sizeMiB":4,"nodes":1,"maxOrder":5,"placement":{"memmap":"ram","links":"page","descriptors":"memdesc"},"movablePercent":0,"steps":[{"op":"reboot"},{"op":"alloc","order":1,"count":1,"owner":"tag-16-bytes-xyz"},{"op":"free","pick":2085750670},{"op":"free","pick":1661419160},{"op":"alloc","order":2,"count":2,"owner":"a"}],"crashed":true,"held":true}, [{"kind": "write", "aim": "historyRecord", "pick": 889422877, "at": 2142955654, "value": hex("ffffffffffffffff"), "fixCrc": true}, {"kind": "zero", "aim": "superblock", "pick": 0}]],
    // open for writing: a held free that cannot be redone (its free list zeroed) was refused after the journal's recovery had written
    [{"sizeMiB":4,"nodes":2,"maxOrder":5,"placement":{"memmap":"device","links":"descriptor"},"movablePercent":0,"steps":[{"op":"reboot"},{"op":"reboot"},{"op":"reboot"},{"op":"alloc","order":1,"count":1,"owner":"a"},{"op":"alloc","order":2,"count":2,"owner":""},{"op":"free","pick":1886791068}],"crashed":true,"held":true}, [{"kind": "write", "aim": "journalHeader", "pick": 0, "at": 348612601, "value": hex("00000000"), "fixCrc": false}, {"kind": "zero", "aim": "freeArea", "pick": 0}]],
    // alloc: access of 48 bytes at 4194304 is outside the 4194304-byte image
    [{"sizeMiB":4,"nodes":2,"maxOrder":7,"placement":{"memmap":"device","links":"page"},"movablePercent":0,"steps":[{"op":"free","pick":2147483644},{"op":"alloc","order":2,"count":1,"owner":"a"},{"op":"alloc","order":2,"count":1,"owner":""},{"op":"alloc","order":1,"count":1,"owner":"tag-16-bytes-xyz"}],"crashed":true}, [{"kind": "flip", "aim": "freeLink", "pick": 1875443688, "at": 1455366017, "bit": 2, "fixCrc": true}]],
    // alloc: u64 field value NaN out of range
    [{"sizeMiB":8,"nodes":2,"maxOrder":7,"placement":{"memmap":"device","links":"page"},"movablePercent":50,"steps":[{"op":"alloc","order":1,"count":1,"owner":"tag-16-bytes-xyz"}],"crashed":false}, [{"kind": "write", "aim": "descriptorReserved", "pick": 0, "at": 940927783, "value": hex("0000000000000020"), "fixCrc": true}, {"kind": "write", "aim": "superblock", "pick": 0, "at": 0, "value": hex("0000000000000000"), "fixCrc": false}]],
    // open for writing: u64 field value NaN out of range
    [{"sizeMiB":8,"nodes":2,"maxOrder":2,"placement":{"memmap":"ram","links":"page"},"movablePercent":50,"steps":[{"op":"alloc","order":2,"count":1,"owner":"a"},{"op":"free","pick":27},{"op":"reboot"}],"crashed":false}, [{"kind": "write", "aim": "journalHeader", "pick": 0, "at": 12, "value": hex("0000000000000000000020"), "fixCrc": true}]],
    // alloc: u64 field value NaN out of range
    [{"sizeMiB":8,"nodes":1,"maxOrder":10,"placement":{"memmap":"device","links":"descriptor"},"movablePercent":0,"steps":[{"op":"alloc","order":4,"count":1,"owner":"tag-16-bytes-xyz"},{"op":"reboot"},{"op":"alloc","order":0,"count":3,"owner":"tag-16-bytes-xyz"},{"op":"alloc","order":4,"count":3,"owner":""},{"op":"alloc","order":1,"count":3,"owner":"a"},{"op":"free","pick":1466277171}],"crashed":false}, [{"kind": "write", "aim": "descriptorReserved", "pick": 0, "at": 996861175, "value": hex("0100000000000000"), "fixCrc": true}, {"kind": "flip", "aim": "superblock", "pick": 0, "at": 0, "bit": 0, "fixCrc": false}]],
    // alloc: u64 field value NaN out of range
    [{"sizeMiB":4,"nodes":2,"maxOrder":7,"placement":{"memmap":"device","links":"page"},"movablePercent":0,"steps":[{"op":"free","pick":1841624280},{"op":"alloc","order":0,"count":2,"owner":"a"},{"op":"free","pick":809317254}],"crashed":true}, [{"kind": "write", "aim": "descriptorFree", "pick": 0, "at": 650469222, "value": hex("000000000000000020"), "fixCrc": true}]],
    // alloc: u64 field value NaN out of range
    [{"sizeMiB":6,"nodes":1,"maxOrder":10,"placement":{"memmap":"device","links":"descriptor"},"movablePercent":50,"steps":[{"op":"alloc","order":2,"count":1,"owner":"tag-16-bytes-xyz"}],"crashed":false}, [{"kind": "write", "aim": "descriptorReserved", "pick": 0, "at": 1037464118, "value": hex("7f"), "fixCrc": true}]],
    // alloc: "�ag-16-bytes-xyz" is longer than 16 bytes
    [{"sizeMiB":8,"nodes":2,"maxOrder":4,"placement":{"memmap":"device","links":"page"},"movablePercent":0,"steps":[{"op":"alloc","order":3,"count":3,"owner":"a"},{"op":"alloc","order":3,"count":3,"owner":"tag-16-bytes-xyz"},{"op":"alloc","order":4,"count":2,"owner":""},{"op":"free","pick":1353352144}],"crashed":true}, [{"kind": "flip", "aim": "descriptorAllocated", "pick": 402653181, "at": 24, "bit": 7, "fixCrc": true}]],
    // alloc: "�ag-16-bytes-xyz" is longer than 16 bytes
    [{"sizeMiB":4,"nodes":1,"maxOrder":7,"placement":{"memmap":"device","links":"descriptor"},"movablePercent":50,"steps":[{"op":"alloc","order":0,"count":3,"owner":"tag-16-bytes-xyz"},{"op":"free","pick":2047632617},{"op":"alloc","order":0,"count":2,"owner":"tag-16-bytes-xyz"},{"op":"alloc","order":1,"count":2,"owner":"a"},{"op":"free","pick":884884977}],"crashed":true}, [{"kind": "write", "aim": "descriptorAllocated", "pick": 0, "at": 1766881304, "value": hex("80"), "fixCrc": true}]],
    // open for writing: a damaged operation intent refused the open after the boot had written
    [{"sizeMiB":6,"nodes":1,"maxOrder":7,"placement":{"memmap":"device","links":"page"},"movablePercent":0,"steps":[{"op":"reboot"},{"op":"free","pick":96177122},{"op":"alloc","order":4,"count":2,"owner":""},{"op":"alloc","order":0,"count":3,"owner":""},{"op":"alloc","order":0,"count":3,"owner":"tag-16-bytes-xyz"},{"op":"alloc","order":0,"count":2,"owner":"tag-16-bytes-xyz"}],"crashed":false}, [{"kind": "write", "aim": "historyHeader", "pick": 0, "at": 873677693, "value": hex("ffffffff"), "fixCrc": true}, {"kind": "flip", "aim": "superblock", "pick": 0, "at": 0, "bit": 0, "fixCrc": false}]],
    // history: Invalid typed array length (a step count no ring holds)
    [{"sizeMiB":6,"nodes":1,"maxOrder":7,"placement":{"memmap":"device","links":"page"},"movablePercent":0,"steps":[{"op":"reboot"},{"op":"free","pick":96177122},{"op":"alloc","order":4,"count":2,"owner":""},{"op":"alloc","order":0,"count":3,"owner":""},{"op":"alloc","order":0,"count":3,"owner":"tag-16-bytes-xyz"},{"op":"alloc","order":0,"count":2,"owner":"tag-16-bytes-xyz"}],"crashed":false}, [{"kind": "flip", "aim": "historyHeader", "pick": 0, "at": 912125084, "bit": 0, "fixCrc": true}]],
    // open read-only: u64 field value NaN out of range (a torn journal header's transaction number)
    [{"sizeMiB":6,"nodes":1,"maxOrder":7,"placement":{"memmap":"device","links":"page"},"movablePercent":0,"steps":[{"op":"reboot"},{"op":"free","pick":96177122},{"op":"alloc","order":4,"count":2,"owner":""},{"op":"alloc","order":0,"count":3,"owner":""},{"op":"alloc","order":0,"count":3,"owner":"tag-16-bytes-xyz"},{"op":"alloc","order":0,"count":2,"owner":"tag-16-bytes-xyz"}],"crashed":false}, [{"kind": "write", "aim": "journalHeader", "pick": 0, "at": 275657615, "value": hex("0000000000000020"), "fixCrc": false}]],
    // open for writing: u64 field value NaN out of range (the superblock's update sequence)
    [{"sizeMiB":6,"nodes":1,"maxOrder":7,"placement":{"memmap":"device","links":"page"},"movablePercent":0,"steps":[{"op":"reboot"},{"op":"free","pick":96177122},{"op":"alloc","order":4,"count":2,"owner":""},{"op":"alloc","order":0,"count":3,"owner":""},{"op":"alloc","order":0,"count":3,"owner":"tag-16-bytes-xyz"},{"op":"alloc","order":0,"count":2,"owner":"tag-16-bytes-xyz"}],"crashed":false}, [{"kind": "write", "aim": "superblock", "pick": 0, "at": 1600540703, "value": hex("ffffffffffffffff"), "fixCrc": true}]],
    // open for writing: varint value NaN out of range (the backup superblock's, in the boot's undo entry)
    [{"sizeMiB":6,"nodes":1,"maxOrder":7,"placement":{"memmap":"device","links":"page"},"movablePercent":0,"steps":[{"op":"reboot"},{"op":"free","pick":96177122},{"op":"alloc","order":4,"count":2,"owner":""},{"op":"alloc","order":0,"count":3,"owner":""},{"op":"alloc","order":0,"count":3,"owner":"tag-16-bytes-xyz"},{"op":"alloc","order":0,"count":2,"owner":"tag-16-bytes-xyz"}],"crashed":false}, [{"kind": "write", "aim": "backupSuperblock", "pick": 0, "at": 1600540703, "value": hex("ffffffffffffffff"), "fixCrc": true}]],
    // history: a superblock undo entry rebuilt on a superblock whose creation time is 2^53 or more (the image opens read-only)
    [{"sizeMiB":6,"nodes":2,"maxOrder":10,"placement":{"memmap":"device","links":"page"},"movablePercent":0,"steps":[{"op":"reboot"},{"op":"free","pick":2147483635},{"op":"alloc","order":3,"count":2,"owner":"a"},{"op":"alloc","order":1,"count":3,"owner":"a"},{"op":"alloc","order":4,"count":3,"owner":"a"}],"crashed":true,"held":false}, [{"kind": "write", "aim": "superblock", "pick": 0, "at": 184295534, "value": hex("20"), "fixCrc": true}]],
    // descriptors: a two-word allocatee of 8 bytes that are not UTF-8 made an owner of 24 bytes when a boot rebuilt its block
    [{"sizeMiB":8,"nodes":2,"maxOrder":6,"placement":{"memmap":"ram","links":"page","descriptors":"twoWord"},"movablePercent":50,"steps":[{"op":"alloc","order":1,"count":1,"owner":"tag-16-bytes-xyz"},{"op":"free","pick":593479287},{"op":"alloc","order":1,"count":3,"owner":"tag-16-bytes-xyz"},{"op":"alloc","order":1,"count":1,"owner":"tag-16-bytes-xyz"},{"op":"reboot"},{"op":"alloc","order":4,"count":2,"owner":""}],"crashed":true,"held":true}, [{"kind": "write", "aim": "twoWordAllocated", "pick": 0, "at": 379628710, "value": hex("ffffffffffffffff"), "fixCrc": false}]],
    // free: a free list whose entry was zeroed (count 0) still holding a block made its count -1 (a two-word image)
    [{"sizeMiB":6,"nodes":1,"maxOrder":9,"placement":{"memmap":"ram","links":"page","descriptors":"twoWord"},"movablePercent":0,"steps":[{"op":"free","pick":117658485},{"op":"alloc","order":1,"count":2,"owner":""},{"op":"free","pick":307776560}],"crashed":false,"held":true}, [{"kind": "zero", "aim": "freeArea", "pick": 0}, {"kind": "write", "aim": "superblock", "pick": 0, "at": 0, "value": hex("00000000"), "fixCrc": false}], { order: 1, allocCount: 2 }],
    // free: an allocated head whose order was raised (checksum recomputed) readied sections past the end of the image
    [{"sizeMiB":8,"nodes":2,"maxOrder":10,"placement":{"memmap":"device","links":"descriptor"},"movablePercent":0,"steps":[{"op":"alloc","order":1,"count":1,"owner":"a"}],"crashed":false,"held":false}, [{"kind": "flip", "aim": "descriptorAllocated", "pick": 0, "at": 1433256388, "bit": 4, "fixCrc": true}], { order: 1 }],
];

describe('fuzz regressions', () => {
  it('mutated images that once threw RangeError from alloc or a writable open now end in a located error', () => {
    for (const [recipe, mutations, asked] of ENGINE_CASES) {
      const { bytes, allocated } = structuresOfCase(recipe, mutations);
      exerciseEngine(bytes, { base: 0, mutations, from: 0, count: 1, step: 0, order: 0, allocCount: 1, freePick: 0, framesPerCell: 1, ...asked }, allocated);
    }
  });

  const dir = scratchDir('pmem-fuzz-reg-');
  const image = build({ sizeMiB: 4, nodes: 1, maxOrder: 4, placement: { memmap: 'device', links: 'page' }, movablePercent: 0, steps: [{ op: 'alloc', order: 1, count: 2, owner: 'a' }], crashed: false });
  const file = path.join(dir, 'image.pmem');
  fs.writeFileSync(file, image.bytes);

  it('a history undo range past the end of the image: stepping back and check name it instead of throwing RangeError', () => {
    const recipe: Recipe = { sizeMiB: 4, nodes: 2, maxOrder: 6, placement: { memmap: 'ram', links: 'page' }, movablePercent: 0, steps: [{ op: 'alloc', order: 2, count: 3, owner: 'a' }, { op: 'free', pick: 0 }], crashed: true };
    const { bytes } = structuresOfCase(recipe, []);
    const img = PmemImage.open(new BytesStore(bytes), { readOnly: true });
    const records = img.historyRecords(true);
    const last = records[records.length - 1];
    assert.ok(last.undo.length > 0);
    // Replace the newest record's undo entries by one of old bytes at byte 2^32 + 16 (as edits with the checksum
    // recomputed could): tag 06, offset (5 bytes), length n, then no zeros and n bytes, filling the record.
    const at = structuresOf(bytes, 1000).filter((i) => i.structure === 'historyRecord').pop()!;
    const mutated = bytes.slice();
    const { undo, undoEnd } = at.fields!;
    const n = undoEnd - undo - 9;
    assert.ok(n >= 1 && n < 128, `room for the entry (${undoEnd - undo} bytes)`);
    mutated.set([0x06, 0x90, 0x80, 0x80, 0x80, 0x10, n, 0x00, n, ...new Array<number>(n).fill(0xaa)], at.offset + undo);
    at.fixCrc!(mutated);
    const bad = PmemImage.open(new BytesStore(mutated), { readOnly: true });
    assert.throws(() => stateAt(bad, last.seq - 1), (e: unknown) => e instanceof ImageError && /history step \d+: undo range at byte 42949\d+ \(\d+ bytes\) runs past the end of the image/.test(e.message) && e.location.field === 'historyRecord.undo');
    const report = check(PmemImage.open(new BytesStore(mutated), { readOnly: true, lenient: true }));
    assert.ok(report.problems.some((p) => p.structure === 'history' && /undo range at byte 42949\d+ /.test(p.message)), JSON.stringify(report.problems));
  });

  it('a directory or device given as the image is a one-line error, not an internal error', () => {
    for (const target of [dir, '/dev/null']) {
      const r = runCli(['info', target]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^pmem info: .* is (a directory|a character device), not an image file\n$/);
    }
  });

  it('commands run in this process close every image they open, read-only ones too (a long fuzz run ran out of descriptors)', () => {
    const open = () => fs.readdirSync('/proc/self/fd').length;
    const lines = [['info', file], ['info', file, '--json'], ['check', file], ['descriptors', file, '--from', '0', '--count', '4'], ['freelists', file], ['history', file, '--json'],
      ['state', file, '--at', '1'], ['state', file, '--at', '0'], ['sections', file], ['frag', file], ['frag', file, '--json'], ['free', file, '1'], ['info', path.join(dir, 'missing.pmem')]];
    const before = open();
    for (let round = 0; round < 3; round++) {
      for (const line of lines) {
        const r = runCli(line);
        assert.ok([0, 1, 2].includes(r.code), `pmem ${line.join(' ')}: exit ${r.code} ${r.stderr}`);
      }
    }
    assert.equal(open(), before, 'descriptors open after 39 commands');
  });

  it('no command and an unknown command each say so in one line on stderr', () => {
    const none = runCli([]);
    assert.equal(none.code, 2);
    assert.equal(none.stderr, 'pmem: no command given (see "pmem --help")\n');
    assert.equal(runCli(['']).stderr, 'pmem: no command given (see "pmem --help")\n');
    const unknown = runCli(['frob\nnicate']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, 'pmem: unknown command "frob\\nnicate" (see "pmem --help")\n');
  });

  it('a file name with a newline is shown escaped, keeping the error on one line', () => {
    const r = runCli(['info', '10\n']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'pmem info: 10\\n: no such file\n');
  });

  it('a file name with a NUL byte is a usage error', () => {
    for (const argv of [['history', 'a\0b'], ['free', 'a\0b', '7'], ['map', file, '--out', 'x\0.png']]) {
      const r = runCli(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, /name ".*\\u0000.*" contains a NUL byte\n$/);
    }
    assert.match(runCli(['info', '']).stderr, /^pmem info: the image file name is empty\n$/);
  });

  it('counters with no room left refuse a writable open (located) and write nothing; read-only opens still work', () => {
    const cases: Array<[string, number, number, RegExp]> = [
      ['updateSeq', SB.updateSeq, 2 ** 53 - 4, /superblock\.updateSeq, byte 32 .*update sequence 9007199254740988 has no room left/],
      ['bootGeneration', SB.bootGeneration, 2 ** 32 - 1, /superblock\.bootGeneration, byte 80 .*boot generation 4294967295 has no room left/],
    ];
    for (const [name, offset, value, message] of cases) {
      const bytes = image.bytes.slice();
      const dv = dataView(bytes);
      for (const at of [0, bytes.length - 4096]) {
        if (name === 'updateSeq') {
          dv.setUint32(at + offset, value % 2 ** 32, true);
          dv.setUint32(at + offset + 4, Math.floor(value / 2 ** 32), true);
        } else dv.setUint32(at + offset, value, true);
        dv.setUint32(at + SB.crc, crc32(bytes.subarray(at, at + SB.crc)), true);
      }
      const store = new BytesStore(bytes);
      assert.throws(() => PmemImage.open(store, {}), (e: unknown) => e instanceof ImageError && message.test(e.message));
      assert.equal(store.writes, 0, `${name}: nothing written`);
      assert.doesNotThrow(() => PmemImage.open(new BytesStore(bytes), { readOnly: true }));
    }
  });
});
