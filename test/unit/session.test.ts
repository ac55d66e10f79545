import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allocOp, allocOpAsync, check, freeOp, info, initAllOp, ioOp, OperationCancelled, OperationError, PmemImage } from '../../src/engine';
import { ImageSession, UNSAVED_RAM_BUDGET } from '../../src/engine/node/session';
import { FileStore } from '../../src/engine/node/fileStore';
import { MiB, snapshot } from './helpers';

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('editing session (the editor document model)', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-session-'));
    file = path.join(dir, 'a.pmem');
    const store = FileStore.create(file, 16 * MiB, { overwrite: false });
    PmemImage.create(store, { sizeBytes: 16 * MiB });
    store.close();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('opens without booting, boots on the first operation, and undoes and redoes exactly', () => {
    const original = sha(file);
    const s = ImageSession.open(file);
    assert.equal(s.isBooted, false);
    assert.equal(info(s.image).bootGeneration, 0);
    const boot = s.bootIfNeeded()!;
    const afterBoot = snapshot(s.image);
    const a = s.perform('alloc', (img) => allocOp(img, { order: 3, owner: 'ed' }));
    const afterAlloc = snapshot(s.image);
    const f = s.perform('free', (img) => freeOp(img, [a.result.blocks[0].pfn]));
    assert.ok(s.dirty);
    assert.equal(sha(file), original, 'nothing reaches the file before Save');
    f.edit.undo();
    assert.deepEqual(snapshot(s.image), afterAlloc);
    a.edit.undo();
    assert.deepEqual(snapshot(s.image), afterBoot);
    boot.undo();
    assert.equal(s.isBooted, false);
    assert.equal(info(s.image).bootGeneration, 0);
    assert.equal(s.dirty, true, 'overlay chunks remain, holding the original bytes');
    boot.redo();
    a.edit.redo();
    assert.deepEqual(snapshot(s.image), afterAlloc);
    assert.equal(info(s.image).bootGeneration, 1);
    assert.ok(check(s.image).ok);
    // A new operation after undo/redo continues from the restored state.
    s.perform('alloc', (img) => allocOp(img, { order: 0 }));
    assert.ok(check(s.image).ok);
    s.close();
  });

  it('a reboot into a profile Linux would refuse: as Linux, refused with the running machine untouched; as the seed design, booted with the mismatch reported', () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    s.perform('alloc', (img) => allocOp(img, { order: 1, owner: 'kept' }));
    const running = snapshot(s.image);
    const generation = s.image.bootGeneration;
    assert.throws(() => s.reboot('debug', 'linux'), (e: Error) => e instanceof OperationError
      && e.message === 'Linux refuses the namespace: "init failed, struct page size mismatch 64" (profile debug\'s struct page is 80 bytes; the device reserves 64 a frame); the machine did not boot and the image is as it was');
    assert.equal(s.isBooted, true, 'the machine goes on');
    assert.deepEqual(snapshot(s.image), running, 'nothing changed');
    assert.equal(s.image.bootGeneration, generation);
    s.reboot('debug', 'seed');
    assert.equal(s.image.bootGeneration, generation + 1);
    assert.equal(s.image.bootReport?.mismatch?.bytes, 80);
    assert.equal(s.image.extendedField(s.image.layout.data.startPfn, 'page_owner'), 0, 'the extended fields read 0');
    s.reboot('default', 'linux');
    assert.equal(s.image.bootReport?.mismatch, undefined, 'the default profile fits');
    s.close();
  });

  it('I/O on a dynamic image is an edit: undo detaches its descriptors, redo attaches them again, and nothing reaches the file', () => {
    const dyn = path.join(dir, 'dyn.pmem');
    const store = FileStore.create(dyn, 16 * MiB, { overwrite: false });
    PmemImage.create(store, { sizeBytes: 16 * MiB, memmap: 'ram', descriptors: 'pool' });
    store.close();
    const s = ImageSession.open(dyn);
    s.bootIfNeeded();
    const b = s.perform('alloc', (img) => allocOp(img, { order: 3 })).result.blocks[0];
    const onDisk = sha(dyn);
    const io = s.perform('io', (img) => ioOp(img, b.pfn, 8, { hold: true }));
    assert.equal(s.image.io.attached, 8);
    io.edit.undo();
    assert.equal(s.image.io.attached, 0);
    io.edit.redo();
    assert.deepEqual(s.image.io.flights, [{ id: 1, pfn: b.pfn, count: 8 }]);
    assert.equal(sha(dyn), onDisk);
    s.close();
  });

  it('saves crash-safely and reopens to the same state', () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    s.perform('alloc', (img) => allocOp(img, { order: 2, count: 3, owner: 'x' }));
    const expected = snapshot(s.image);
    s.save();
    assert.equal(s.dirty, false);
    assert.equal(fs.existsSync(`${file}.pmem-save`), false);
    s.close();
    const again = ImageSession.open(file);
    assert.deepEqual(snapshot(again.image), expected);
    assert.ok(check(again.image).ok);
    again.close();
  });

  it('saves the image as a clean shutdown would leave it, while the session keeps running', () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    s.perform('alloc', (img) => allocOp(img, { order: 2, owner: 'x' }));
    s.save();
    assert.equal(s.dirty, false, 'the running machine\'s own marks are not unsaved changes');
    assert.equal(s.isBooted, true);
    assert.equal(info(s.image).clean, false, 'the session still runs');
    const second = s.perform('alloc', (img) => allocOp(img, { order: 0, owner: 'y' }));
    assert.ok(s.dirty);
    s.save();
    assert.equal(s.dirty, false);
    s.close();
    const again = ImageSession.open(file);
    assert.equal(info(again.image).clean, true, 'reopened: off after a clean shutdown');
    assert.equal(info(again.image).bootGeneration, 1);
    assert.ok(check(again.image).ok);
    assert.ok(snapshot(again.image).allocated.includes(`${second.result.blocks[0].pfn}:0:y`), 'the second save holds the second allocation');
    again.bootIfNeeded();
    const boot = again.image.historyRecords().at(-1)!;
    assert.match(boot.summary.text, /^boot 2 \(clean, profile default\)/);
    again.close();
  });

  it('keeps a simulated crash that was not followed by a boot in what it saves', () => {
    // A crash the CLI simulated: the file says the machine went down without a shutdown.
    const store = FileStore.open(file, { readOnly: false });
    const img = PmemImage.open(store);
    img.simulateCrash(0, (i) => void allocOp(i, { order: 0 }));
    store.close();
    const s = ImageSession.open(file);
    assert.equal(info(s.image).clean, false);
    s.save();
    s.close();
    assert.equal(info(ImageSession.open(file).image).clean, false, 'opening and saving does not hide the crash');
  });

  it('reverts to the file and powers the machine off', () => {
    const s = ImageSession.open(file);
    const before = snapshot(s.image);
    s.bootIfNeeded();
    s.perform('alloc', (img) => allocOp(img, { order: 1 }));
    s.revert();
    assert.equal(s.dirty, false);
    assert.equal(s.isBooted, false);
    assert.deepEqual(snapshot(s.image), before);
  });

  it('reloads a file replaced on disk; edits made before stop applying; a broken replacement is refused', () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    const { edit } = s.perform('alloc', (img) => allocOp(img, { order: 2, owner: 'mine' }));
    // Another program replaces the file (a new inode) with an image holding an allocation of its own.
    const other = path.join(dir, 'other.pmem');
    const w = ImageSession.open(file);
    w.bootIfNeeded();
    w.perform('alloc', (img) => allocOp(img, { order: 5, owner: 'theirs' }));
    w.saveAs(other);
    w.close();
    fs.renameSync(other, file);
    s.revert();
    const theirs = snapshot(s.image);
    assert.ok(theirs.allocated.some((a) => a.endsWith(':5:theirs')), 'the new file is shown');
    assert.ok(!theirs.allocated.some((a) => a.endsWith(':mine')));
    edit.undo();
    edit.redo();
    assert.deepEqual(snapshot(s.image), theirs, 'an edit from before the reload changes nothing');
    fs.writeFileSync(other, Buffer.alloc(16 * MiB));
    fs.renameSync(other, file);
    assert.throws(() => s.revert(), /not a pmem image/);
    assert.deepEqual(snapshot(s.image), theirs, 'a failed reload keeps what was shown');
    s.close();
  });

  it('keeps and restores unsaved changes through a backup (hot exit)', () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    s.perform('alloc', (img) => allocOp(img, { order: 4, owner: 'hot' }));
    const expected = snapshot(s.image);
    const backup = path.join(dir, 'backup.bin');
    s.backup(backup);
    s.close();
    const restored = ImageSession.open(file, { backup });
    assert.ok(restored.restoredFromBackup && restored.dirty);
    assert.deepEqual(snapshot(restored.image), expected);
    assert.equal(info(restored.image).clean, true, 'restored off after a clean shutdown, not a crash');
    fs.truncateSync(backup, 10);
    const ignored = ImageSession.open(file, { backup });
    assert.equal(ignored.restoredFromBackup, false, 'a torn backup is ignored, not half-applied');
  });

  it('keeps unsaved changes beyond its RAM budget in a temporary file, and saves and backs them up exactly', function () {
    this.timeout(300_000);
    const big = path.join(dir, 'big.pmem');
    const size = 8 * 2 ** 30; // Initialise All writes 128 MiB of descriptors: twice the budget
    const store = FileStore.create(big, size, { overwrite: false });
    PmemImage.create(store, { sizeBytes: size });
    store.close();
    const s = ImageSession.open(big);
    s.bootIfNeeded();
    s.perform('init', (img) => initAllOp(img));
    const held = s.unsavedBytes;
    assert.ok(held.ram <= UNSAVED_RAM_BUDGET, `${held.ram} bytes in RAM`);
    assert.ok(held.spilled >= 64 * MiB, `${held.spilled} bytes spilled`);
    // The memmap as the session reads it, hashed a few MiB at a time, against the file after the save (a save writes
    // the superblock as a clean shutdown leaves it, so that part differs).
    const { startPfn, frames } = s.image.layout.memmap;
    const hashOf = (read: (offset: number, length: number) => Uint8Array) => {
      const h = createHash('sha256');
      for (let at = startPfn * 4096; at < (startPfn + frames) * 4096; at += 4 * MiB) h.update(read(at, Math.min(4 * MiB, (startPfn + frames) * 4096 - at)));
      return h.digest('hex');
    };
    const before = hashOf((o, n) => s.image.store.read(o, n));
    const backup = path.join(dir, 'big.backup');
    s.backup(backup);
    s.save();
    assert.equal(s.unsavedBytes.spilled, 0, 'saved: the temporary file is emptied');
    assert.ok(s.unsavedBytes.ram < MiB, 'only the running machine\'s own marks are left');
    const saved = FileStore.open(big, { readOnly: true });
    assert.equal(hashOf((o, n) => saved.read(o, n)), before, 'the file holds every descriptor the session showed');
    saved.close();
    assert.equal(check(s.image).ok, true);
    s.close();
    const restored = ImageSession.open(big, { backup });
    assert.ok(restored.restoredFromBackup);
    assert.equal(info(restored.image).sections.initialized, info(PmemImage.open(FileStore.open(big, { readOnly: true }), { readOnly: true })).sections.initialized);
    restored.close();
  });

  it('puts back a cancelled large operation from its recorded writes alone, without the engine rolling back its parts', async () => {
    const f = path.join(dir, 'cancel.pmem');
    const size = 256 * MiB;
    const store = FileStore.create(f, size, { overwrite: false });
    PmemImage.create(store, { sizeBytes: size });
    store.close();
    const s = ImageSession.open(f);
    s.bootIfNeeded();
    s.perform('alloc', (img) => allocOp(img, { order: 2, owner: 'kept' }));
    const whole = () => createHash('sha256').update(s.image.store.read(0, size)).digest('hex');
    const before = whole();
    let parts = 0;
    // Transactions run once the cancel was seen: an engine roll back would make one per part.
    let afterCancel = 0;
    const img = s.image;
    const runPart = img.runPart.bind(img);
    img.runPart = ((...a: Parameters<typeof runPart>) => {
      if (parts >= 3) afterCancel++;
      return runPart(...a);
    }) as typeof runPart;
    await assert.rejects(
      s.performAsync('alloc', (i) => allocOpAsync(i, { order: 0, count: 40_000, owner: 'gone' }, { onProgress: () => parts++, cancelled: () => parts >= 3, rollBack: false })),
      OperationCancelled,
    );
    img.runPart = runPart;
    assert.equal(parts, 3, 'three parts were made before the cancel');
    assert.equal(afterCancel, 0, 'no transaction after the cancel: the engine did not roll back');
    assert.equal(whole(), before, 'every byte as before');
    assert.equal(check(s.image).ok, true);
    // The session goes on as if the operation had never run.
    const next = s.perform('alloc', (img) => allocOp(img, { order: 0, count: 5000, owner: 'after' })).result;
    assert.equal(next.blocks.length, 5000);
    assert.equal(check(s.image).ok, true);
    s.close();
  });

  it('saves as a new sparse file holding the current state', () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    s.perform('alloc', (img) => allocOp(img, { order: 5, count: 2, owner: 'copy' }));
    const target = path.join(dir, 'copy.pmem');
    s.saveAs(target);
    const copy = PmemImage.open(FileStore.open(target, { readOnly: true }), { readOnly: true });
    assert.deepEqual(snapshot(copy), snapshot(s.image));
    assert.ok(check(copy).ok);
    assert.equal(copy.historyRecords().length, s.image.historyRecords().length);
    assert.equal(info(copy).clean, true, 'the copy is shut down cleanly');
    assert.equal(info(s.image).clean, false, 'the session still runs');
  });

  it('crashes and reboots as one undoable edit', () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    s.perform('alloc', (img) => allocOp(img, { order: 1 }));
    const before = snapshot(s.image);
    const gen = s.image.bootGeneration;
    const r = s.crashAndReboot(1, 'alloc order 3', (img) => void allocOp(img, { order: 3 }));
    assert.ok(r.crashed);
    assert.equal(s.image.bootGeneration, gen + 1);
    assert.equal(s.image.bootReport!.recovery.action, 'rolled-back');
    assert.deepEqual(snapshot(s.image), before);
    r.edit.undo();
    assert.equal(s.image.bootGeneration, gen);
    r.edit.redo();
    assert.equal(s.image.bootGeneration, gen + 1);
    assert.ok(check(s.image).ok);
  });
});
