/** Seeded synthetic workloads: the same seed, the same image; each kind does what it says, and the image checks clean after it. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { check, PmemImage } from '../../src/engine';
import { IN_PLACE_KINDS, runWorkload, runWorkloadAsync, WORKLOAD_KINDS, WorkloadKind } from '../../src/engine/replay/workload';
import { OperationCancelled } from '../../src/engine/image/largeOps';
import { fastLane } from '../../src/engine/image/ops';
import { snapshot } from './helpers';
import { MemoryStore } from '../../src/engine/store/memoryStore';
import { pmem } from './cliRun';

function run(kind: WorkloadKind, ops: number, seed: number, sizeBytes = 64 * 2 ** 20, deferWriteBack = false) {
  const store = new MemoryStore(sizeBytes);
  PmemImage.create(store, { sizeBytes, uuid: '00000000-0000-4000-8000-000000000000', nowMs: 0 });
  const { img, report } = runWorkload(PmemImage.open(store), { kind, ops, seed, deferWriteBack });
  return { store, img, report };
}

describe('synthetic workloads', function () {
  this.timeout(300_000);

  it('gives the same image for the same seed, another for another seed', () => {
    const a = run('churn', 1500, 7);
    const b = run('churn', 1500, 7);
    const c = run('churn', 1500, 8);
    assert.ok(a.store.sameContentAs(b.store), 'same seed, same bytes');
    assert.ok(!a.store.sameContentAs(c.store), 'another seed, other bytes');
    assert.deepEqual(a.report, b.report);
  });

  for (const kind of WORKLOAD_KINDS) {
    it(`${kind}: every operation counted once (allocated, failed, freed, reboot, crash), and the image checks clean`, () => {
      const ops = kind === 'reboots' ? 3200 : 2000;
      const { img, report } = run(kind, ops, 3);
      const r = check(img);
      assert.deepEqual(r.problems, []);
      const allocs = Object.values(report.allocated).reduce((x, y) => x + y, 0);
      const fails = Object.values(report.failed).reduce((x, y) => x + y, 0);
      assert.equal(allocs + fails + report.freed + report.reboots + report.crashes, ops, JSON.stringify(report));
      if (kind === 'fragmenter') {
        const dma32 = report.zones.find((z) => z.zone === 'DMA32')!;
        assert.ok(dma32.free[0] >= 600, `single frames freed: ${dma32.free}`);
        assert.ok(dma32.unusableIndex[1] > 0, 'single frames are unusable for order 1');
      }
      if (kind === 'hugepages') assert.ok((report.failed[9] ?? 0) > 0 && (report.allocated[9] ?? 0) > 0, `some order-9 requests fail, some not: ${JSON.stringify(report)}`);
      if (kind === 'reboots') {
        assert.equal(report.crashes, 2);
        assert.equal(report.reboots, 4);
        assert.equal(img.historyRecords().filter((h) => h.kind === 'boot').length >= 6, true);
      }
    });
  }

  for (const kind of IN_PLACE_KINDS) {
    it(`${kind}: holding operations for deferred write-backs (as pmem workload does) ends in the same allocator state and report`, () => {
      const held = fastLane.deferred;
      const a = run(kind, 2000, 4, undefined, true);
      assert.ok(fastLane.deferred - held > 500, `${fastLane.deferred - held} operations held`);
      const b = run(kind, 2000, 4);
      assert.deepEqual(a.report, b.report);
      assert.deepEqual(snapshot(a.img), snapshot(b.img));
      assert.deepEqual(check(a.img).problems, []);
      assert.equal(a.img.deferred, undefined, 'written back and stopped at the end');
    });
  }

  it('a held run cancelled part way writes back what it held before it stops: the image checks clean, every step done is kept', async () => {
    const store = new MemoryStore(64 * 2 ** 20);
    PmemImage.create(store, { sizeBytes: 64 * 2 ** 20, uuid: '00000000-0000-4000-8000-000000000000', nowMs: 0 });
    const img = PmemImage.open(store);
    const first = img.history.readHeader(store).nextSeq;
    let done = 0;
    await assert.rejects(runWorkloadAsync(img, { kind: 'churn', ops: 200_000, seed: 2, deferWriteBack: true }, { onProgress: (d) => (done = d), cancelled: () => done > 3000 }), OperationCancelled);
    assert.equal(img.deferred, undefined, 'nothing held any more');
    const steps = img.history.readHeader(store).nextSeq - first; // read straight from the store: no write-back on the way
    assert.ok(steps > 3000 && steps < 200_000, `${steps} steps`);
    assert.deepEqual(check(img).problems, []);
  });

  it('in the editor, a cancel asked from a progress report stops the workload at its next operation', async () => {
    const store = new MemoryStore(64 * 2 ** 20);
    PmemImage.create(store, { sizeBytes: 64 * 2 ** 20 });
    const img = PmemImage.open(store);
    let asked = -1;
    const cancelled = await runWorkloadAsync(img, { kind: 'churn', ops: 50_000, seed: 3 }, {
      onProgress: (done) => {
        if (asked < 0 && done >= 200) asked = done;
      },
      cancelled: () => asked >= 0,
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(cancelled instanceof OperationCancelled, String(cancelled));
    assert.ok(cancelled.done >= asked && cancelled.done <= asked + 1, `stopped after ${cancelled.done} operations, asked at ${asked}`);
  });

  it('reboots, holding operations: every operation counted once, and the image checks clean', () => {
    const { img, report } = run('reboots', 3200, 3, undefined, true);
    assert.deepEqual(check(img).problems, []);
    assert.equal(report.reboots + report.crashes, 6);
  });

  it('pmem workload runs one on a file and refuses an unknown kind, saying which', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-workload-'));
    try {
      const f = path.join(dir, 'w.pmem');
      assert.equal(pmem('create', f, '--size', '64M').code, 0);
      const out = pmem('workload', f, '--kind', 'fragmenter', '--ops', '600', '--seed', '5');
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /^fragmenter, 600 operations, seed 5: order 0: 400 allocated; 200 freed/);
      assert.match(out.stdout, /==> \/sys\/kernel\/debug\/extfrag\/unusable_index <==/);
      assert.equal(pmem('check', f).code, 0);
      const bad = pmem('workload', f, '--kind', 'thrash', '--ops', '10');
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--kind must be one of churn, fragmenter, hugepages, reboots, not "thrash"/);
      const none = pmem('workload', f, '--kind', 'churn');
      assert.equal(none.code, 2);
      assert.match(none.stderr, /--ops N is required/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
