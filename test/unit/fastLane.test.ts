/**
 * The fast lane (one block allocated or freed without the general
 * transaction) against the general path: the same operations on two copies of
 * an image, one with the lane and one without, must leave every byte of the
 * device the same outside the journal and the history, return the same
 * results and refuse with the same errors, across reboots (stale sections),
 * lazy initialisation and crashes. The lane's history keeps an operation as
 * its inverse where that gives every byte back, so its records differ: every
 * step they keep must read back as the general path's does.
 */
import { strict as assert } from 'node:assert';
import { allocOp, check, freeOp, MemoryStore, PAGE_SIZE, PmemImage, PROFILES, stateAt } from '../../src/engine';
import { FORMAT_REVISION } from '../../src/engine/format/constants';
import { deferHomeWrites } from '../../src/engine/image/deferredHome';
import { fastLane } from '../../src/engine/image/ops';
import type { Store } from '../../src/engine/store/store';
import { MiB, rng } from './helpers';

/** The first byte at which two devices differ outside the journal and the history (-1: none). */
function firstDifferenceOutsideLogs(img: PmemImage, a: Store, b: Store): number {
  const L = img.layout;
  const skip = [L.journal, L.history].map((r) => [r.startPfn * PAGE_SIZE, (r.startPfn + r.frames) * PAGE_SIZE]);
  const chunk = 1 << 20;
  for (let at = 0; at < a.size; at += chunk) {
    const n = Math.min(chunk, a.size - at);
    const x = a.read(at, n);
    const y = b.read(at, n);
    if (Buffer.compare(x, y) === 0) continue;
    for (let k = 0; k < n; k++) {
      if (x[k] !== y[k] && !skip.some(([from, to]) => at + k >= from && at + k < to)) return at + k;
    }
  }
  return -1;
}

type Outcome = { ok: unknown } | { error: string };

function attempt(fn: () => unknown): Outcome {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
}

/** Runs fn with the lane on or off. */
function lane<T>(on: boolean, fn: () => T): T {
  const before = fastLane.enabled;
  fastLane.enabled = on;
  try {
    return fn();
  } finally {
    fastLane.enabled = before;
  }
}

const CONFIGS = [
  { name: 'links in pages', options: {} },
  { name: 'links in descriptors, two nodes, a movable zone', options: { links: 'descriptor' as const, nodes: 2, movablePercent: 25 } },
  { name: 'links in pages, blocks of up to 4 MiB over two sections', options: { sizeBytes: 64 * MiB, maxOrder: 10 } },
];

describe('the fast lane for one block', () => {
  for (const { name, options } of CONFIGS) {
    it(`leaves the same bytes, results and errors as the general path (${name})`, function () {
      this.timeout(300_000);
      const sizeBytes = options.sizeBytes ?? 32 * MiB;
      const make = () => {
        const store = new MemoryStore(sizeBytes);
        PmemImage.create(store, { uuid: '00000000-0000-4000-8000-000000000009', nowMs: 0, maxOrder: 6, historyBytes: 256 * 1024, ...options, sizeBytes });
        const img = PmemImage.open(store);
        assert.equal(img.sb.formatRevision, FORMAT_REVISION, 'the boot raised the revision');
        return { store, img };
      };
      const fast = make();
      const slow = make();
      // A third copy holds its one-block operations for a deferred write-back (image/deferredHome.ts).
      const held = make();
      const holding = (img: PmemImage) => (deferHomeWrites(img, true), img);
      holding(held.img);
      const heldBefore = fastLane.deferred;
      const random = rng(sizeBytes + name.length);
      const live: number[] = [];
      const takenBefore = fastLane.taken;
      let ops = 0;
      let withExtended = 0;
      for (let i = 0; i < 1500; i++) {
        const r = random();
        let a: Outcome;
        let b: Outcome;
        let c: Outcome;
        if (r < 0.5) {
          const req = { order: random() < 0.7 ? 0 : random() < 0.9 ? Math.floor(random() * 5) : Math.floor(random() * 11), owner: ['', 'slab', 'dax', 'журнал'][Math.floor(random() * 4)], zone: (['normal', 'movable', 'dma32'] as const)[Math.floor(random() * 3)], node: random() < 0.2 ? 1 : 0 };
          a = lane(true, () => attempt(() => allocOp(fast.img, req)));
          b = lane(false, () => attempt(() => allocOp(slow.img, req)));
          c = lane(true, () => attempt(() => allocOp(held.img, req)));
          if ('ok' in a) live.push((a.ok as { blocks: Array<{ pfn: number }> }).blocks[0].pfn);
        } else if (r < 0.93) {
          // Mostly a live block; sometimes a pfn that is free, inside a block, or outside the data area.
          const pfn = live.length && random() < 0.85 ? live.splice(Math.floor(random() * live.length), 1)[0] : Math.floor(random() * (sizeBytes / 4096 + 10));
          a = lane(true, () => attempt(() => freeOp(fast.img, [pfn])));
          b = lane(false, () => attempt(() => freeOp(slow.img, [pfn])));
          c = lane(true, () => attempt(() => freeOp(held.img, [pfn])));
        } else if (r < 0.97) {
          // A reboot, sometimes into a profile with extended fields (the lane sets them as the general path does).
          const profile = PROFILES[Math.floor(random() * PROFILES.length)].name;
          fast.img.close();
          slow.img.close();
          held.img.close();
          fast.img = PmemImage.open(fast.store, { profile });
          slow.img = PmemImage.open(slow.store, { profile });
          held.img = holding(PmemImage.open(held.store, { profile }));
          continue;
        } else {
          // The same power failure in both: after the same number of persistence points.
          const points = Math.floor(random() * 10);
          const pfn = live.length ? live[live.length - 1] : 0;
          const op = random() < 0.5 ? (img: PmemImage) => allocOp(img, { order: 0, owner: 'crash' }) : (img: PmemImage) => freeOp(img, [pfn]);
          const x = lane(true, () => attempt(() => fast.img.simulateCrash(points, op)));
          const y = lane(false, () => attempt(() => slow.img.simulateCrash(points, op)));
          assert.deepEqual(x, y, `step ${i}: the crash went differently`);
          // The held copy crashes in its own way (its persistence points differ): it goes on from the others' state.
          lane(true, () => attempt(() => held.img.simulateCrash(points, op)));
          held.store = fast.store.clone();
          fast.img = PmemImage.open(fast.store);
          slow.img = PmemImage.open(slow.store);
          held.img = holding(PmemImage.open(held.store));
          live.length = 0;
          continue;
        }
        ops++;
        assert.deepEqual(a, b, `step ${i}: the lanes answered differently`);
        assert.deepEqual(c, a, `step ${i}: the held lane answered differently`);
        assert.deepEqual([...held.img.extended], [...fast.img.extended], `step ${i}: the held lane's extended fields differ`);
        assert.deepEqual([...fast.img.extended], [...slow.img.extended], `step ${i}: the extended fields differ`);
        if (fast.img.extended.size) withExtended++;
        if (i % 100 === 0) {
          assert.equal(firstDifferenceOutsideLogs(fast.img, fast.store, slow.store), -1, `step ${i}: the devices differ`);
          // Reading the held copy's store writes back first: then it is the same device.
          assert.equal(firstDifferenceOutsideLogs(fast.img, fast.store, held.img.store), -1, `step ${i}: the held copy's device differs`);
        }
      }
      assert.equal(firstDifferenceOutsideLogs(fast.img, fast.store, slow.store), -1, 'the devices differ at the end');
      assert.equal(firstDifferenceOutsideLogs(fast.img, fast.store, held.img.store), -1, 'the held copy differs at the end');
      const heldRecords = held.img.historyRecords(true);
      const heldFirst = heldRecords[0].seq;
      assert.deepEqual(heldRecords.map((r) => [r.seq, r.summary.text, !!r.undoByInverse]), fast.img.historyRecords(true).filter((r) => r.seq >= heldFirst).map((r) => [r.seq, r.summary.text, !!r.undoByInverse]), 'the held copy keeps the same records (its write-backs may drop older ones early)');
      const heldTaken = fastLane.deferred - heldBefore;
      assert.ok(heldTaken > ops / 4, `the held lane took ${heldTaken} of ${ops} operations`);
      const records = fast.img.historyRecords(true);
      assert.deepEqual(records.map((r) => r.summary.text), slow.img.historyRecords().map((r) => r.summary.text));
      const inverses = records.filter((r) => r.undoByInverse).length;
      assert.ok(inverses > ops / 4, `only ${inverses} of ${ops} steps were kept as their inverse`);
      // Every step kept reads back the same from both histories.
      const first = Math.max(fast.img.history.readHeader(fast.store).firstSeq, slow.img.history.readHeader(slow.store).firstSeq);
      const last = records[records.length - 1].seq;
      for (let step = last; step >= first; step -= 1 + Math.floor(random() * ((last - first) / 12))) {
        const x = stateAt(fast.img, step);
        const y = stateAt(slow.img, step);
        assert.equal(firstDifferenceOutsideLogs(fast.img, x.store, y.store), -1, `step ${step} reads back differently`);
      }
      assert.deepEqual(check(fast.img).problems, []);
      const taken = fastLane.taken - takenBefore;
      assert.ok(taken > ops / 2, `the lane took ${taken} of ${ops} operations`);
      assert.ok(withExtended > 50, `extended fields were set after ${withExtended} operations only`);
    });
  }

  it('is not taken with the memmap in RAM, and an image there still works', () => {
    const store = new MemoryStore(16 * MiB);
    PmemImage.create(store, { sizeBytes: 16 * MiB, memmap: 'ram' });
    const img = PmemImage.open(store);
    const before = fastLane.taken;
    const { pfn } = allocOp(img, { order: 0 }).blocks[0];
    freeOp(img, [pfn]);
    assert.equal(fastLane.taken, before);
    assert.ok(check(img).ok);
  });
});
