/**
 * The fragmentation chart's data (free blocks by order over the history) and
 * the map's largest-free-order overlay, each checked against a path that
 * shares nothing with it: the state at each step rebuilt by stateAt and its
 * free lists walked, and the free blocks found by walking descriptors.
 */
import { strict as assert } from 'node:assert';
import { PmemImage } from '../../src/engine';
import { zoneFreeCounts } from '../../src/engine/inspect/views';
import { stateAt, historyStepRange } from '../../src/engine/inspect/timeline';
import { fragmentationHistory, sampleSteps } from '../../src/engine/inspect/fragHistory';
import { freeBlockIndex, largestFreeOrders, NO_FREE_BLOCK, UNIT_FRAMES } from '../../src/engine/inspect/freeBlocks';
import { freeAreaEntryOffset, freeAreaIndex, encodeFreeAreaEntry, decodeFreeAreaEntry } from '../../src/engine/format/freeArea';
import { runWorkload } from '../../src/engine/replay/workload';
import { MemoryStore } from '../../src/engine/store/memoryStore';
import { snapshot } from './helpers';

function worked(kind: 'fragmenter' | 'churn', ops: number, sizeBytes = 64 * 2 ** 20) {
  const store = new MemoryStore(sizeBytes);
  PmemImage.create(store, { sizeBytes, uuid: '00000000-0000-4000-8000-000000000000', nowMs: 0 });
  const { img } = runWorkload(PmemImage.open(store), { kind, ops, seed: 11 });
  return { store, img };
}

describe('fragmentation over the history', function () {
  this.timeout(120_000);

  it('samples evenly, first and last step included, every step when there are few', () => {
    assert.deepEqual(sampleSteps(3, 7, 10), [3, 4, 5, 6, 7]);
    const s = sampleSteps(0, 1000, 11);
    assert.deepEqual(s, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    const t = sampleSteps(5, 9, 2);
    assert.deepEqual(t, [5, 9]);
  });

  it('gives, at every sampled step, the free counts of the state stateAt rebuilds for that step', () => {
    const { img } = worked('fragmenter', 400);
    const range = historyStepRange(img);
    assert.ok(range.last - range.first >= 400, `steps ${range.first}..${range.last}`);
    for (const samples of [9, 2]) {
      const h = fragmentationHistory(img, samples);
      assert.equal(h.first, range.first);
      assert.equal(h.last, range.last);
      assert.deepEqual(h.samples.map((x) => x.step), sampleSteps(range.first, range.last, samples));
      for (const sample of h.samples) assert.deepEqual(sample.zones, zoneFreeCounts(stateAt(img, sample.step)), `step ${sample.step}`);
    }
    // The fragmenter leaves more order-0 blocks at the end than at the start.
    const h = fragmentationHistory(img, 5);
    const order0 = (i: number) => h.samples[i].zones.reduce((n, z) => n + z.free[0], 0);
    assert.ok(order0(h.samples.length - 1) > order0(0), `order-0 blocks ${order0(0)} → ${order0(h.samples.length - 1)}`);
  });

  it('refuses fewer than two samples, saying so', () => {
    const { img } = worked('churn', 10);
    assert.throws(() => fragmentationHistory(img, 1), /at least 2 samples, not 1/);
  });
});

describe('the largest free order overlay', function () {
  this.timeout(120_000);

  /** Free blocks found from descriptors (helpers' snapshot), not from the lists. */
  const freeFromDescriptors = (img: PmemImage) => snapshot(img).free.map((s) => s.split(':').map(Number) as [number, number]);

  it('lists every free block, as the descriptors say, in pfn order', () => {
    const { img } = worked('churn', 600);
    const index = freeBlockIndex(img);
    const listed = Array.from(index.packed!, (v) => [Math.floor(v / 64), v % 64]);
    const expected = freeFromDescriptors(img).sort((a, b) => a[0] - b[0]);
    assert.deepEqual(listed, expected);
    assert.deepEqual(index.cut, []);
  });

  it('gives each cell the largest order of a free block with a frame in it, at every zoom', () => {
    const { img } = worked('fragmenter', 500);
    const index = freeBlockIndex(img);
    const free = freeFromDescriptors(img);
    const total = img.geometry.totalFrames;
    for (const fpc of [1, 8, 512, img.geometry.sectionFrames, 4 * img.geometry.sectionFrames]) {
      const firstPfn = fpc === 1 ? img.layout.data.startPfn + 3 : 0;
      const cells = Math.min(4096, Math.ceil((total - firstPfn) / fpc));
      const got = largestFreeOrders(index, { firstPfn, framesPerCell: fpc, cells });
      const want = new Uint8Array(cells).fill(NO_FREE_BLOCK);
      for (const [pfn, order] of free) {
        for (let f = pfn; f < pfn + 2 ** order; f++) {
          const c = Math.floor((f - firstPfn) / fpc);
          if (f < firstPfn || c >= cells) continue;
          if (want[c] === NO_FREE_BLOCK || want[c] < order) want[c] = order;
        }
      }
      assert.deepEqual(got, want, `${fpc} frames per cell`);
      assert.ok(got.some((o) => o !== NO_FREE_BLOCK), `${fpc}: some cell holds a free block`);
      // Past MAX_LISTED blocks only the units are kept: cells of a unit or more stay exact.
      if (fpc >= UNIT_FRAMES) assert.deepEqual(largestFreeOrders({ ...index, packed: undefined }, { firstPfn, framesPerCell: fpc, cells }), want, `${fpc}: from the units`);
    }
  });

  it('stops at a list\'s damage instead of looping: a count larger than the list is named', () => {
    const { store, img } = worked('fragmenter', 200);
    const g = img.geometry;
    const zone = img.nodes[0].zones.find((z) => z.frames > 0)!;
    // The longest list of the zone: its count says 5 blocks more than it links.
    const entryAt = (order: number) => freeAreaEntryOffset(img.layout, freeAreaIndex(g.maxOrder, 0, zone.id, order));
    const orders = Array.from({ length: g.maxOrder + 1 }, (_, o) => o);
    const order = orders.reduce((best, o) => (decodeFreeAreaEntry(store.read(entryAt(o), 16)).count > decodeFreeAreaEntry(store.read(entryAt(best), 16)).count ? o : best), 0);
    const entry = decodeFreeAreaEntry(store.read(entryAt(order), 16));
    assert.ok(entry.count >= 2, `order ${order}: ${entry.count} blocks`);
    store.write(entryAt(order), encodeFreeAreaEntry({ head: entry.head, count: entry.count + 5 }));
    const index = freeBlockIndex(PmemImage.open(store, { readOnly: true }));
    assert.deepEqual(index.cut, [`node 0 zone ${['DMA32', 'Normal', 'Movable'][zone.id]} order ${order}`]);
    assert.equal(index.packed!.length, freeFromDescriptors(img).length, 'every block still listed once');
    assert.equal(index.blocks, index.packed!.length);
  });
});
