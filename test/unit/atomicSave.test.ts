import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { recoverPendingSave, saveRangesAtomically, sidecarPath, writeSaveSidecar } from '../../src/engine/node/atomicSave';

describe('crash-safe save', () => {
  let dir: string;
  let file: string;
  const old = Buffer.alloc(16384, 1);
  const ranges = [{ offset: 4096, data: new Uint8Array(4096).fill(7) }, { offset: 12288, data: new Uint8Array(100).fill(9) }];
  const expected = () => {
    const b = Buffer.from(old);
    for (const r of ranges) b.set(r.data, r.offset);
    return b;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-save-'));
    file = path.join(dir, 'a.pmem');
    fs.writeFileSync(file, old);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes every range and leaves no sidecar', () => {
    saveRangesAtomically(file, ranges);
    assert.deepEqual(fs.readFileSync(file), expected());
    assert.equal(fs.existsSync(sidecarPath(file)), false);
    assert.equal(recoverPendingSave(file), 'none');
  });

  it('completes a save that crashed after its sidecar was durable', () => {
    writeSaveSidecar(file, ranges);
    assert.deepEqual(fs.readFileSync(file), old, 'the image is untouched until the sidecar is durable');
    assert.equal(recoverPendingSave(file), 'completed');
    assert.deepEqual(fs.readFileSync(file), expected());
    assert.equal(fs.existsSync(sidecarPath(file)), false);
  });

  it('drops a torn sidecar and keeps the old file', () => {
    writeSaveSidecar(file, ranges);
    const side = sidecarPath(file);
    fs.truncateSync(side, fs.statSync(side).size - 50);
    assert.equal(recoverPendingSave(file), 'dropped');
    assert.deepEqual(fs.readFileSync(file), old);
  });
});
