/**
 * Save As and Export never half-replace a file: the new content goes to a
 * temporary file in the target's folder, which is renamed over the target; a
 * failure at any step leaves the target as it was and no temporary behind.
 * Failures are injected by wrapping real fs calls (the files are real).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { allocOp, check, PmemImage } from '../../src/engine';
import { ImageSession } from '../../src/engine/node/session';
import { FileStore } from '../../src/engine/node/fileStore';
import { sameFile, writeFileAtomically } from '../../src/engine/node/atomicFile';
import { exportRefusal } from '../../src/extension/exportTarget';
import { MiB, snapshot } from './helpers';

type FsName = 'renameSync' | 'fsyncSync' | 'writeSync';
/** Runs `body` with one fs function wrapped: `around` sees each call and may throw instead of calling through. */
function withFs<T>(name: FsName, around: (real: (...a: unknown[]) => unknown, args: unknown[]) => unknown, body: () => T): T {
  // The module object itself: what every importer of node:fs calls through.
  const mutable = createRequire(__filename)('node:fs') as Record<FsName, (...a: unknown[]) => unknown>;
  const real = mutable[name];
  mutable[name] = (...args: unknown[]) => around(real, args);
  try {
    return body();
  } finally {
    mutable[name] = real;
  }
}
const ioError = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

describe('replacing files whole or not at all', () => {
  let dir: string;
  let image: string;
  let target: string;
  const leftovers = () => fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-replace-'));
    image = path.join(dir, 'a.pmem');
    const store = FileStore.create(image, 16 * MiB, { overwrite: false });
    PmemImage.create(store, { sizeBytes: 16 * MiB, nowMs: 0 });
    store.close();
    target = path.join(dir, 'existing.pmem');
    fs.writeFileSync(target, 'the old contents');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('Save As writes a temporary file in the target folder and renames it over the target, which stays intact until then', () => {
    const s = ImageSession.open(image);
    s.bootIfNeeded();
    s.perform('alloc', (img) => allocOp(img, { order: 2, owner: 'kept' }));
    const renames: Array<{ from: string; to: string; targetThen: string }> = [];
    withFs('renameSync', (real, args) => {
      renames.push({ from: String(args[0]), to: String(args[1]), targetThen: fs.readFileSync(target, 'utf8') });
      return real(...args);
    }, () => s.saveAs(target));
    assert.equal(renames.length, 1);
    assert.equal(path.dirname(renames[0].from), dir, 'the temporary is beside the target');
    assert.equal(renames[0].to, target);
    assert.equal(renames[0].targetThen, 'the old contents', 'the target is untouched until the rename');
    const copy = PmemImage.open(FileStore.open(target, { readOnly: true }), { readOnly: true });
    assert.deepEqual(snapshot(copy), snapshot(s.image));
    assert.ok(check(copy).ok);
    assert.deepEqual(leftovers(), []);
  });

  for (const [step, name, code] of [['flushing the copy', 'fsyncSync', 'EIO'], ['writing the copy', 'writeSync', 'ENOSPC'], ['the rename', 'renameSync', 'EXDEV']] as const) {
    it(`Save As failing at ${step} leaves an existing target as it was and no temporary file`, () => {
      const s = ImageSession.open(image);
      s.bootIfNeeded();
      s.perform('alloc', (img) => allocOp(img, { order: 0 }));
      withFs(name, () => {
        throw ioError(code);
      }, () => assert.throws(() => s.saveAs(target), new RegExp(code)));
      assert.equal(fs.readFileSync(target, 'utf8'), 'the old contents');
      assert.deepEqual(leftovers(), []);
      s.saveAs(target); // and it works once the device does
      assert.ok(check(PmemImage.open(FileStore.open(target, { readOnly: true }), { readOnly: true })).ok);
    });
  }

  it('Save As does not follow a link planted at the temporary name', () => {
    const s = ImageSession.open(image);
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'not to be written');
    let temp = '';
    withFs('renameSync', (real, args) => {
      temp = String(args[0]);
      return real(...args);
    }, () => s.saveAs(path.join(dir, 'probe.pmem')));
    const planted = path.join(dir, path.basename(temp).replace('probe.pmem', 'copy.pmem'));
    fs.symlinkSync(victim, planted);
    s.saveAs(path.join(dir, 'copy.pmem'));
    assert.equal(fs.readFileSync(victim, 'utf8'), 'not to be written');
    assert.ok(check(PmemImage.open(FileStore.open(path.join(dir, 'copy.pmem'), { readOnly: true }), { readOnly: true })).ok);
  });

  it('Save As to another name for the image itself (a hard link) saves in place instead of replacing it', () => {
    const s = ImageSession.open(image);
    s.bootIfNeeded();
    s.perform('alloc', (img) => allocOp(img, { order: 1, owner: 'linked' }));
    const link = path.join(dir, 'link.pmem');
    fs.linkSync(image, link);
    s.saveAs(link);
    assert.ok(sameFile(link, image), 'still one file');
    const reread = PmemImage.open(FileStore.open(image, { readOnly: true }), { readOnly: true });
    assert.deepEqual(snapshot(reread), snapshot(s.image));
  });

  it('writeFileAtomically failing leaves the target as it was', () => {
    withFs('renameSync', () => {
      throw ioError('EACCES');
    }, () => assert.throws(() => writeFileAtomically(target, new Uint8Array([1, 2, 3])), /EACCES/));
    assert.equal(fs.readFileSync(target, 'utf8'), 'the old contents');
    assert.deepEqual(leftovers(), []);
  });

  describe('Export Map targets', () => {
    const from = (argument: boolean, overwrite = false) => ({ argument, overwrite, images: [image] });

    it('a new file may be written, from the dialog or an argument', () => {
      assert.equal(exportRefusal(path.join(dir, 'new.png'), from(true)), undefined);
      assert.equal(exportRefusal(path.join(dir, 'new.png'), from(false)), undefined);
    });

    it('an existing file given as an argument is replaced only with overwrite: true', () => {
      const png = path.join(dir, 'old.png');
      fs.writeFileSync(png, 'x');
      assert.equal(exportRefusal(png, from(true)), `${png} already exists; pass "overwrite": true to replace it`);
      assert.equal(exportRefusal(png, from(true, true)), undefined);
      assert.equal(exportRefusal(png, from(false)), undefined, 'the save dialog has asked already');
    });

    it('an open image, by any name, is never replaced; nor a folder; and the folder must exist', () => {
      const link = path.join(dir, 'alias.png');
      fs.linkSync(image, link);
      for (const t of [image, link]) assert.equal(exportRefusal(t, from(true, true)), `${t} is an open image; choose another file`);
      assert.equal(exportRefusal(image, from(false)), `${image} is an open image; choose another file`);
      assert.equal(exportRefusal(dir, from(false)), `${dir} is a folder`);
      const missing = path.join(dir, 'missing', 'x.png');
      assert.equal(exportRefusal(missing, from(true)), `the folder ${path.dirname(missing)} does not exist`);
    });
  });
});
