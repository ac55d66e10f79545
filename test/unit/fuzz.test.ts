/**
 * The fuzz properties, a bounded seeded run (set PMEM_FUZZ_SEED to replay
 * another seed; `npm run fuzz` runs them for longer), and the defects they
 * found, kept as plain regression cases.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImageError, PmemImage } from '../../src/engine';
import { crc32 } from '../../src/engine/bytes';
import { SB } from '../../src/engine/format/superblock';
import { build } from '../fuzz/images';
import { runCli } from '../fuzz/cliInProcess';
import { BytesStore } from '../fuzz/images';
import { PROPERTIES, runProperty } from '../fuzz/run';

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

describe('fuzz regressions', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-fuzz-reg-'));
  const image = build({ sizeMiB: 4, nodes: 1, maxOrder: 4, placement: { memmap: 'device', links: 'page' }, movablePercent: 0, steps: [{ op: 'alloc', order: 1, count: 2, owner: 'a' }], crashed: false });
  const file = path.join(dir, 'image.pmem');
  fs.writeFileSync(file, image.bytes);

  it('a directory or device given as the image is a one-line error, not an internal error', () => {
    for (const target of [dir, '/dev/null']) {
      const r = runCli(['info', target]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^pmem info: .*: not a regular file \((a directory|a device, pipe or socket)\): an image is a file\n$/);
    }
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
      const dv = new DataView(bytes.buffer);
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
