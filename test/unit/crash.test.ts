import { strict as assert } from 'node:assert';
import { allocOp, check, freeOp, freeOrderOp, info, initSectionsOp, PmemImage, SimulatedCrash } from '../../src/engine';
import { CrashingStore } from '../../src/engine/store/crashingStore';
import { MemoryStore } from '../../src/engine';
import { MiB, newImage, snapshot, Snapshot } from './helpers';

type Setup = () => { store: MemoryStore; img: PmemImage; pfns: number[] };
type Op = (img: PmemImage, pfns: number[]) => void;

const variants = [
  { name: 'memmap on device, links in pages', options: {} },
  { name: 'memmap on device, links in descriptors', options: { links: 'descriptor' as const } },
  { name: 'memmap in RAM, links in pages', options: { memmap: 'ram' as const } },
  { name: 'no descriptors (pfn-only)', options: { memmap: 'ram' as const, descriptors: 'none' as const } },
  { name: 'a pool attached during I/O (dynamic)', options: { memmap: 'ram' as const, descriptors: 'pool' as const } },
  { name: 'two-word descriptors on the device', options: { memmap: 'ram' as const, descriptors: 'twoWord' as const } },
  { name: 'memdescs: a word per page and a pool on the device', options: { memmap: 'ram' as const, descriptors: 'memdesc' as const } },
];

/** A small image with some history, so operations split, merge and touch stale sections. */
function setupFor(options: object, rebootFirst: boolean): Setup {
  return () => {
    let { store, img } = newImage({ sizeBytes: 16 * MiB, maxOrder: 10, ...options });
    const a = allocOp(img, { order: 3, owner: 'a' }).blocks[0].pfn;
    const b = allocOp(img, { order: 0, count: 3, owner: 'b' }).blocks.map((x) => x.pfn);
    const c = allocOp(img, { order: 2, owner: 'c' }).blocks[0].pfn;
    if (rebootFirst) {
      img.close();
      img = PmemImage.open(store, {});
    }
    return { store, img, pfns: [a, ...b, c] };
  };
}

/** Reboots the store as it was left (recovery runs), returning the logical state. */
function afterReboot(store: MemoryStore): { img: PmemImage; snap: Snapshot } {
  const img = PmemImage.open(store, {});
  return { img, snap: snapshot(img) };
}

function crashAtEveryPoint(setup: Setup, op: Op): { points: number; outcomes: string[] } {
  const s0 = setup();
  const before = afterReboot(s0.store.clone()).snap;
  const s1 = setup();
  op(s1.img, s1.pfns);
  const after = afterReboot(s1.store.clone()).snap;
  assert.notDeepEqual(before, after, 'the operation must change the state');
  const s2 = setup();
  const total = s2.img.simulateCrash(Number.MAX_SAFE_INTEGER, (img) => op(img, s2.pfns)).points;
  const outcomes: string[] = [];
  for (let n = 0; n <= total; n++) {
    const s = setup();
    const r = s.img.simulateCrash(n, (img) => op(img, s.pfns));
    assert.equal(r.crashed, n < total, `crash after ${n} of ${total}`);
    const { img, snap } = afterReboot(s.store);
    const which = JSON.stringify(snap) === JSON.stringify(before) ? 'before' : JSON.stringify(snap) === JSON.stringify(after) ? 'after' : 'neither';
    assert.notEqual(which, 'neither', `crash after ${n} of ${total} persistence points left a state that is neither before nor after`);
    outcomes.push(which);
    const report = check(img);
    assert.ok(report.ok, `check after crash at ${n}: ${JSON.stringify(report.problems.slice(0, 3))}`);
    assert.equal(info(img).clean, false);
  }
  assert.equal(outcomes[0], 'before');
  assert.equal(outcomes[outcomes.length - 1], 'after');
  const firstAfter = outcomes.indexOf('after');
  assert.ok(outcomes.slice(firstAfter).every((o) => o === 'after'), `once committed, always after: ${outcomes.join(',')}`);
  return { points: total, outcomes };
}

const ops: Array<{ name: string; op: Op; rebootFirst: boolean }> = [
  { name: 'alloc that splits a block', op: (img) => void allocOp(img, { order: 1, owner: 'new' }), rebootFirst: false },
  { name: 'alloc that hands over a never-initialised section', op: (img) => void allocOp(img, { order: 9, count: 2 }), rebootFirst: false },
  { name: 'alloc in a stale section after reboot', op: (img) => void allocOp(img, { order: 0 }), rebootFirst: true },
  { name: 'free that merges', op: (img, p) => void freeOp(img, [p[0], p[4]]), rebootFirst: false },
  { name: 'free in a stale section after reboot', op: (img, p) => void freeOp(img, [p[1]]), rebootFirst: true },
  { name: 'free of a block its caller names with its order (free_pages)', op: (img, p) => void freeOrderOp(img, p[0], 3), rebootFirst: false },
  { name: 'init of a never-initialised section', op: (img) => void initSectionsOp(img, [3]), rebootFirst: false },
  { name: 'init of a stale section', op: (img) => void initSectionsOp(img, [0, 2]), rebootFirst: true },
];

/** A 2m image: whole 2 MiB units only, so its operations take order 9 and up; its unit descriptors are written with them. */
function setup2m(rebootFirst: boolean): Setup {
  return () => {
    let { store, img } = newImage({ sizeBytes: 32 * MiB, maxOrder: 10, memmap: 'ram', descriptors: 'unit2m' });
    const a = allocOp(img, { order: 9, owner: 'a' }).blocks[0].pfn;
    const b = allocOp(img, { order: 10, owner: 'b' }).blocks[0].pfn;
    if (rebootFirst) {
      img.close();
      img = PmemImage.open(store, {});
    }
    return { store, img, pfns: [a, b] };
  };
}

const ops2m: Array<{ name: string; op: Op; rebootFirst: boolean }> = [
  { name: 'alloc of a unit that splits a block', op: (img) => void allocOp(img, { order: 9, owner: 'new' }), rebootFirst: false },
  { name: 'alloc in a stale section after reboot', op: (img) => void allocOp(img, { order: 9 }), rebootFirst: true },
  { name: 'free of a block read back from its unit descriptor after reboot', op: (img, p) => void freeOp(img, [p[1]]), rebootFirst: true },
  { name: 'free that merges', op: (img, p) => void freeOp(img, [p[0]]), rebootFirst: false },
];

describe('crash at every persistence point', () => {
  describe('one descriptor per 2 MiB (2m)', () => {
    for (const o of ops2m) {
      it(`${o.name}: recovery gives exactly the state before or after, and check passes`, () => {
        const r = crashAtEveryPoint(setup2m(o.rebootFirst), o.op);
        assert.ok(r.points >= 4, `at least journal intent, commit, one apply and clear (${r.points})`);
      });
    }
  });

  for (const v of variants) {
    describe(v.name, () => {
      for (const o of ops) {
        it(`${o.name}: recovery gives exactly the state before or after, and check passes`, () => {
          // ram placement loses allocated orders at reboot: the free op must then free order-0 frames.
          const op: Op = v.options.memmap === 'ram' && o.name.startsWith('free in a stale') ? (img, p) => void freeOp(img, [p[1]]) : o.op;
          const r = crashAtEveryPoint(setupFor(v.options, o.rebootFirst), op);
          assert.ok(r.points >= 4, `at least journal intent, commit, one apply and clear (${r.points})`);
        });
      }
    });
  }

  it('a crash during boot leaves a bootable image with the allocator state unchanged', () => {
    const setup = setupFor({}, false);
    const base = setup();
    base.img.close();
    const before = snapshot(PmemImage.open(base.store.clone(), { readOnly: true }));
    const gen = info(PmemImage.open(base.store.clone(), { readOnly: true })).bootGeneration;
    for (let n = 0; n < 8; n++) {
      const store = base.store.clone();
      try {
        PmemImage.open(new CrashingStore(store, n), {});
      } catch (e) {
        assert.ok(e instanceof SimulatedCrash);
      }
      const img = PmemImage.open(store, {});
      assert.ok([gen + 1, gen + 2].includes(info(img).bootGeneration));
      assert.deepEqual(snapshot(img), before);
      assert.ok(check(img).ok);
    }
  });

  it('a crash during recovery itself still ends before or after', () => {
    const setup = setupFor({}, false);
    const s = setup();
    const before = afterReboot(s.store.clone()).snap;
    const probe = setup();
    const total = probe.img.simulateCrash(Number.MAX_SAFE_INTEGER, (img) => void allocOp(img, { order: 4 })).points;
    for (let n = 2; n < total; n++) {
      for (let k = 0; k < 4; k++) {
        const t = setup();
        t.img.simulateCrash(n, (img) => void allocOp(img, { order: 4 }));
        try {
          PmemImage.open(new CrashingStore(t.store, k), {});
        } catch (e) {
          assert.ok(e instanceof SimulatedCrash);
        }
        const { img, snap } = afterReboot(t.store);
        assert.ok(JSON.stringify(snap) === JSON.stringify(before) || snap.allocated.length === before.allocated.length + 1);
        assert.ok(check(img).ok);
      }
    }
  });

  it('a crash among the descriptor transactions that run ahead of an operation reports the operation as rolled back', () => {
    const before = setupFor({}, true)();
    const total = before.img.simulateCrash(Number.MAX_SAFE_INTEGER, (img) => void allocOp(img, { order: 0 })).points;
    const reports = new Set<string>();
    for (let n = 1; n < total; n++) {
      const s = setupFor({}, true)();
      s.img.simulateCrash(n, (img) => void allocOp(img, { order: 0 }));
      const { img } = afterReboot(s.store);
      const r = img.bootReport!.recovery;
      assert.ok(!r.description.startsWith('descriptors for'), `crash after ${n}: recovery names the operation, not its descriptors (${r.description})`);
      reports.add(r.action);
    }
    // A stale section's descriptors go first; a cut among them rolls the allocation back.
    assert.ok(reports.has('rolled-back'), [...reports].join());
  });
});
