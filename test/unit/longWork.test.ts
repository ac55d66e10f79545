/** Long work in slices: the check, initialising every section, and large undo and redo give the same results as at once, and a cancel leaves the image as it was. */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allocOp, allocOpAsync, check, checkAsync, info, initAllOp, initAllOpAsync, MemoryStore, PAGE_SIZE, PmemImage } from '../../src/engine';
import { FileStore } from '../../src/engine/node/fileStore';
import { EditCancelled, ImageSession } from '../../src/engine/node/session';
import { MiB, newImage, turnCounter } from './helpers';

const hash = (store: MemoryStore) => createHash('sha256').update(store.read(0, store.size)).digest('hex');

/** Counts the turns of the event loop a promise gives up while it runs. */
async function turnsDuring<T>(p: () => Promise<T>): Promise<{ value: T; turns: number }> {
  const counter = turnCounter();
  try {
    return { value: await p(), turns: counter.turns() };
  } finally {
    counter.stop();
  }
}

describe('long work in slices', () => {
  it('checkAsync gives the report check gives, giving up the thread between sections', async () => {
    const { img } = newImage({ sizeBytes: 256 * MiB, sectionBytes: 2 * MiB });
    allocOp(img, { order: 0, count: 50, owner: 'a' });
    initAllOp(img);
    const sync = check(img);
    const { value, turns } = await turnsDuring(() => checkAsync(img, { sliceMs: 0 }));
    assert.deepEqual(value, sync);
    assert.ok(sync.ok && sync.complete);
    assert.ok(turns >= img.geometry.sectionCount / 2, `a turn per section or so (${turns} turns, ${img.geometry.sectionCount} sections)`);
  });

  it('checkAsync reports the same problems as check on a damaged image', async () => {
    const { img, store } = newImage({ sizeBytes: 64 * MiB, sectionBytes: 2 * MiB });
    allocOp(img, { order: 2, count: 3, owner: 'b' });
    const pfn = img.layout.data.startPfn + 40;
    const at = img.memmapOffset(pfn);
    store.write(at + 8, new Uint8Array([0xff])); // the descriptor's pfn field: its CRC no longer matches
    const sync = check(img);
    assert.equal(sync.ok, false);
    assert.deepEqual(await checkAsync(img, { sliceMs: 0 }), sync);
  });

  it('a cancelled checkAsync stops between sections and says it is incomplete', async () => {
    const { img } = newImage({ sizeBytes: 256 * MiB, sectionBytes: 2 * MiB });
    let asked = 0;
    const r = await checkAsync(img, { sliceMs: 0, cancelled: () => ++asked > 10 });
    assert.equal(r.complete, false);
    assert.ok(r.sectionsChecked > 0 && r.sectionsChecked < img.geometry.sectionCount, `${r.sectionsChecked} of ${img.geometry.sectionCount} sections`);
  });

  it('initAllOpAsync writes the bytes initAllOp writes, in a step per batch', async () => {
    const a = newImage({ sizeBytes: 128 * MiB, sectionBytes: 2 * MiB });
    const b = newImage({ sizeBytes: 128 * MiB, sectionBytes: 2 * MiB });
    const sync = initAllOp(a.img, { batch: 4 });
    const seen: number[] = [];
    const { value, turns } = await turnsDuring(() => initAllOpAsync(b.img, { batch: 4, sliceMs: 0, onProgress: (done) => seen.push(done) }));
    assert.deepEqual(value, sync);
    assert.equal(hash(a.store), hash(b.store));
    assert.ok(turns >= sync.steps.length - 1, `${turns} turns for ${sync.steps.length} batches`);
    assert.deepEqual(seen, seen.slice().sort((x, y) => x - y), 'progress only moves forward');
    assert.equal(seen[seen.length - 1], sync.sections);
  });

  it('initAllOpAsync without a batch starts with one section and sizes its batches by time, initialising what initAllOp does', async () => {
    const a = newImage({ sizeBytes: 128 * MiB, sectionBytes: 2 * MiB });
    const b = newImage({ sizeBytes: 128 * MiB, sectionBytes: 2 * MiB });
    const sync = initAllOp(a.img);
    const r = await initAllOpAsync(b.img, { sliceMs: 0 });
    assert.equal(r.sections, sync.sections);
    const summaries = b.img.historyRecords().filter((h) => r.steps.includes(h.seq)).map((h) => h.summary.text);
    assert.match(summaries[0], /^init section \d+$/, 'the first batch is one section');
    assert.ok(r.steps.length >= Math.ceil(sync.sections / 16) && r.steps.length <= sync.sections, `${r.steps.length} batches for ${sync.sections} sections`);
    // Every byte but the journal and the history (other batches make other transactions and steps).
    const L = a.img.layout;
    for (const [from, to] of [[0, L.journal.startPfn * PAGE_SIZE], [(L.history.startPfn + L.history.frames) * PAGE_SIZE, a.store.size]]) {
      assert.ok(Buffer.compare(a.store.read(from, to - from), b.store.read(from, to - from)) === 0, `bytes ${from}..${to}`);
    }
  });

  it('a cancelled initAllOpAsync stops between batches and says how far it got', async () => {
    const { img } = newImage({ sizeBytes: 128 * MiB, sectionBytes: 2 * MiB });
    let batches = 0;
    const r = await initAllOpAsync(img, { batch: 2, sliceMs: 0, onProgress: () => batches++, cancelled: () => batches >= 3 });
    assert.deepEqual(r.cancelled, { done: 6 });
    assert.equal(r.steps.length, 3);
  });
});

describe('large undo and redo in slices (editing session)', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-longwork-'));
    file = path.join(dir, 'a.pmem');
    const store = FileStore.create(file, 128 * MiB, { overwrite: false });
    PmemImage.create(store, { sizeBytes: 128 * MiB, sectionBytes: 2 * MiB });
    store.close();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The image's bytes as the session shows them. */
  const bytesOf = (s: ImageSession) => createHash('sha256').update(s.image.store.read(0, s.image.store.size)).digest('hex');

  it('undoAsync and redoAsync give the bytes undo and redo give, and refuse changes meanwhile', async () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    const before = bytesOf(s);
    const { edit } = await s.performAsync('init all', (img) => initAllOpAsync(img));
    const after = bytesOf(s);
    assert.ok(edit.bytes > 1 * MiB, `${edit.bytes} bytes to put back`);
    const undoing = edit.undoAsync({ sliceMs: 0 });
    assert.throws(() => s.perform('alloc', (img) => allocOp(img, { order: 0 })), /"Undo of "init all"" is still under way on this image/);
    await undoing;
    assert.equal(bytesOf(s), before);
    assert.equal(info(s.image).sections.initialized, 0);
    await edit.redoAsync({ sliceMs: 0 });
    assert.equal(bytesOf(s), after);
    assert.equal(info(s.image).sections.untouched, 0);
    edit.undo();
    assert.equal(bytesOf(s), before, 'the synchronous undo agrees');
    s.close();
  });

  it('a cancelled undoAsync puts back what it undid: the image is exactly as before it, and it says so', async () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    const { edit } = await s.performAsync('init all', (img) => initAllOpAsync(img));
    const after = bytesOf(s);
    const steps = s.image.historyRecords().length;
    let reports = 0;
    await assert.rejects(
      edit.undoAsync({ sliceMs: 0, onProgress: () => reports++, cancelled: () => reports >= 3 }),
      (e: Error) => e instanceof EditCancelled && /^Undo of "init all" cancelled: the image is as it was before$/.test(e.message),
    );
    assert.equal(bytesOf(s), after);
    assert.equal(s.image.historyRecords().length, steps);
    assert.equal(s.operationUnderWay, undefined);
    // Still undoable afterwards.
    await edit.undoAsync({ sliceMs: 0 });
    assert.equal(info(s.image).sections.initialized, 0);
    s.close();
  });

  it('a cancelled redoAsync leaves the image undone', async () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    const before = bytesOf(s);
    const { edit } = await s.performAsync('init all', (img) => initAllOpAsync(img));
    edit.undo();
    let reports = 0;
    await assert.rejects(edit.redoAsync({ sliceMs: 0, onProgress: () => reports++, cancelled: () => reports >= 2 }), EditCancelled);
    assert.equal(bytesOf(s), before);
    s.close();
  });

  it('a revert, a reboot or a crash is refused while long work runs, saying what runs', async () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    const checking = s.inspectAsync('Checking a.pmem', (img) => checkAsync(img, { sliceMs: 0 }));
    for (const change of [() => s.revert(), () => s.reboot(), () => s.crashAndReboot(1, 'alloc', (img) => void allocOp(img, { order: 0 }))]) {
      assert.throws(change, /^UsageError: "Checking a.pmem" is still under way on this image: wait for it or cancel it$/);
    }
    await checking;
    s.reboot();
    s.close();
  });

  it('a large operation ends right after its last part: no turn of the event loop comes between', async () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    let turnAfterLast = false;
    const { result } = await s.performAsync('big', (img) => allocOpAsync(img, { order: 0, count: 20_000 }, {
      onProgress: (done, total) => {
        if (done === total) setImmediate(() => (turnAfterLast = true));
      },
    }));
    assert.equal(result.blocks.length, 20_000);
    assert.equal(turnAfterLast, false, 'an undo or a cancel arriving after the last part could not come in before the end');
    s.close();
  });

  it('a failed large operation is put back in slices, exactly', async () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    const before = bytesOf(s);
    const { value, turns } = await turnsDuring(() => s.performAsync('fails', async (img) => {
      await initAllOpAsync(img, { sliceMs: 0 });
      throw new Error('a failure after the work');
    }).catch((e: Error) => e.message));
    assert.equal(value, 'a failure after the work');
    assert.equal(bytesOf(s), before);
    assert.ok(turns > 2, `${turns} turns`);
    s.close();
  });

  it('inspectAsync refuses changes while it runs', async () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    const checking = s.inspectAsync('Checking a.pmem', (img) => checkAsync(img, { sliceMs: 0 }));
    assert.throws(() => s.perform('alloc', (img) => allocOp(img, { order: 0 })), /"Checking a.pmem" is still under way on this image: wait for it or cancel it/);
    assert.ok((await checking).ok);
    s.perform('alloc', (img) => allocOp(img, { order: 0 }));
    s.close();
  });
});
