/**
 * The editor's Save (sidecar redo file, then the image, then the sidecar
 * removed) and Save As (temporary, sync, rename, directory sync) under the
 * write-back crash model of a file system (crashFs.ts): a power cut after any
 * call, with any pending writes landed or torn and any prefix of the pending
 * directory operations. After recovery the file opens, checks clean and holds
 * exactly the state before or after the save.
 */
import { strict as assert } from 'node:assert';
import { allocOp, check, freeOp, MemoryStore, OverlayStore, PmemImage } from '../../src/engine';
import { copyImage } from '../../src/engine/image/copy';
import { writeStoreAtomically } from '../../src/engine/node/atomicFile';
import { recoverPendingSave, saveRangesAtomically } from '../../src/engine/node/atomicSave';
import { CaseBudget } from './crashCases';
import { CrashFileSystem, fsCrashes } from './crashFs';
import { MiB, newImage, snapshot } from './helpers';

const FULL = process.env.PMEM_CRASH_FULL === '1';
const SEED = Number(process.env.PMEM_CRASH_SEED ?? (FULL ? Math.floor(Math.random() * 2 ** 31) : 1));
const BUDGET: CaseBudget = FULL ? { exhaustiveUpTo: 12, samplesPerEpoch: 32, maxCases: 400, seed: SEED } : { exhaustiveUpTo: 4, samplesPerEpoch: 2, maxCases: 6, seed: SEED };
/** Cuts during a recovery: the sampled budget even in a full run (a full one per recovery multiplies out to hours). */
const NESTED_BUDGET: CaseBudget = { exhaustiveUpTo: 4, samplesPerEpoch: 2, maxCases: 6, seed: SEED };
const SIZE = 4 * MiB;
const FILE = '/pmem/a.pmem';
const TARGET = '/pmem/b.pmem';

function bytesOf(store: MemoryStore): Uint8Array {
  return store.read(0, store.size);
}

function storeOf(bytes: Uint8Array): MemoryStore {
  const store = new MemoryStore(bytes.length);
  store.write(0, bytes);
  return store;
}

/** The allocator state a file boots into, or why it cannot. */
function bootState(bytes: Uint8Array | undefined): string {
  if (!bytes) return 'absent';
  if (bytes.length !== SIZE) return `wrong size ${bytes.length}`;
  const img = PmemImage.open(storeOf(bytes), {});
  const report = check(img);
  if (!report.ok) return `check fails: ${report.problems[0].message}`;
  return JSON.stringify(snapshot(img));
}

/** An image on the media, then an editor's overlay on it with `edits` run: the ranges a Save writes. */
function edited(edits: (img: PmemImage) => void): { media: MemoryStore; overlay: OverlayStore } {
  const { store, img } = newImage({ sizeBytes: SIZE, maxOrder: 10 });
  allocOp(img, { order: 2, owner: 'old' });
  img.close();
  const overlay = new OverlayStore(store.clone());
  const session = PmemImage.open(overlay, {});
  edits(session);
  return { media: store, overlay };
}

const summary: Array<{ op: string; moments: number; cases: number }> = [];

describe(`saves under a write-back crash model (${FULL ? 'full' : 'sampled'}, seed ${SEED})`, () => {
  it('Save: every power cut, after recovery, leaves the file before or after the save', () => {
    const { media, overlay } = edited((img) => {
      const temporary = allocOp(img, { order: 0 }).blocks[0].pfn;
      allocOp(img, { order: 3, owner: 'new' });
      freeOp(img, [temporary]);
    });
    const old = bytesOf(media);
    const fsys = new CrashFileSystem({ [FILE]: old });
    saveRangesAtomically(FILE, overlay.changes(), fsys);
    const before = bootState(old);
    const after = bootState(CrashFileSystem.files(fsys.moments[fsys.moments.length - 1]).get(FILE));
    const failures: string[] = [];
    assert.notEqual(before, after);
    assert.ok(!before.startsWith('check') && !after.startsWith('check'));
    let cases = 0;
    let recovery = '';
    const outcome = (fsAfter: CrashFileSystem): string => {
      try {
        recovery = recoverPendingSave(FILE, fsAfter);
        return bootState(fsAfter.exists(FILE) ? fsAfter.readFile(FILE) : undefined);
      } catch (e) {
        return `does not open: ${(e as Error).message}`;
      }
    };
    let nested = 0;
    let completions = 0;
    for (const c of fsCrashes(fsys.moments, BUDGET)) {
      cases++;
      const recovering = CrashFileSystem.fromState(c.state);
      const got = outcome(recovering);
      if (got !== before && got !== after) failures.push(`${c.label}: ${got.slice(0, 200)}`);
      // A power cut during the recovery that completes a save: recovering again still gives before or after.
      if (recovery === 'completed' && completions < (FULL ? 4 : 2)) {
        completions++;
        for (const n of fsCrashes(recovering.moments, NESTED_BUDGET)) {
          nested++;
          const again = outcome(CrashFileSystem.fromState(n.state));
          if (again !== before && again !== after) failures.push(`${c.label}, then during recovery ${n.label}: ${again.slice(0, 200)}`);
        }
      }
    }
    assert.ok(completions > 0, 'some power cut leaves a save for recovery to complete');
    summary.push({ op: 'Save (sidecar, image, remove)', moments: fsys.moments.length, cases });
    summary.push({ op: `Save, cut again in ${completions} recoveries`, moments: 0, cases: nested });
    assert.equal(failures.length, 0, `${failures.length} of ${cases + nested} power cuts failed (seed ${SEED}); first: ${failures.slice(0, 3).join(' | ')}`);
  });

  it('Save: a removed sidecar never comes back over what wrote the image after the save', () => {
    const { media, overlay } = edited((img) => void allocOp(img, { order: 3, owner: 'saved' }));
    const fsys = new CrashFileSystem({ [FILE]: bytesOf(media) });
    saveRangesAtomically(FILE, overlay.changes(), fsys);
    // Another writer (the CLI, say) then changes the image through its journal, durably.
    const later = storeOf(fsys.readFile(FILE));
    const img = PmemImage.open(later, {});
    allocOp(img, { order: 5, owner: 'later' });
    img.close();
    const fd = fsys.open(FILE, 'r+');
    fsys.write(fd, bytesOf(later), 0);
    fsys.sync(fd);
    fsys.close(fd);
    const expected = bootState(bytesOf(later));
    let cases = 0;
    const failures: string[] = [];
    for (const c of fsCrashes(fsys.moments.slice(-1), BUDGET)) {
      cases++;
      const recovering = CrashFileSystem.fromState(c.state);
      recoverPendingSave(FILE, recovering);
      const got = bootState(recovering.readFile(FILE));
      if (got !== expected) failures.push(`${c.label}: ${got.slice(0, 160)}`);
    }
    assert.ok(cases > 0);
    assert.equal(failures.length, 0, `${failures.length} of ${cases} power cuts undid the later write (seed ${SEED}); first: ${failures.slice(0, 2).join(' | ')}`);
  });

  for (const targetExists of [false, true]) {
    it(`Save As ${targetExists ? 'over an existing file' : 'to a new file'}: the target is the old file (or none) or the complete copy`, () => {
      const { overlay } = edited((img) => void allocOp(img, { order: 4, owner: 'copy' }));
      const img = PmemImage.open(overlay, { readOnly: true });
      const copy = new MemoryStore(SIZE);
      copyImage(img, copy);
      const expected = bootState(bytesOf(copy));
      const oldTarget = bytesOf(newImage({ sizeBytes: SIZE, maxOrder: 9 }).store);
      const fsys = new CrashFileSystem(targetExists ? { [TARGET]: oldTarget } : {});
      writeStoreAtomically(TARGET, SIZE, (store) => copyImage(img, store), fsys);
      const oldState = targetExists ? bootState(oldTarget) : 'absent';
      assert.equal(bootState(CrashFileSystem.files(fsys.moments[fsys.moments.length - 1]).get(TARGET)), expected);
      let cases = 0;
      const failures: string[] = [];
      for (const c of fsCrashes(fsys.moments, BUDGET)) {
        cases++;
        let got: string;
        try {
          got = bootState(CrashFileSystem.files(c.state).get(TARGET));
        } catch (e) {
          got = `does not open: ${(e as Error).message}`;
        }
        if (got !== oldState && got !== expected) failures.push(`${c.label}: ${got.slice(0, 200)}`);
      }
      summary.push({ op: `Save As (${targetExists ? 'replacing a file' : 'new file'})`, moments: fsys.moments.length, cases });
      assert.equal(failures.length, 0, `${failures.length} of ${cases} power cuts failed (seed ${SEED}); first: ${failures.slice(0, 3).join(' | ')}`);
    });
  }

  after(() => {
    if (!summary.length) return;
    console.log(`\n  save crash cases (seed ${SEED}${FULL ? ', full' : ''})\n${summary.map((r) => `  ${r.op.padEnd(34)} ${String(r.moments).padStart(4)} moments ${String(r.cases).padStart(6)} cases`).join('\n')}\n`);
  });
});
