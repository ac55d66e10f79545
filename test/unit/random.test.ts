import { strict as assert } from 'node:assert';
import { allocOp, check, freeOp, info, initSectionsOp, OperationError, PmemImage, PROFILES } from '../../src/engine';
import { MiB, newImage, snapshot } from './helpers';
import { Model } from './model';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STEPS = Number(process.env.PMEM_RANDOM_STEPS ?? 1000);

const variants = [
  { name: 'device/page, 2 nodes', options: { nodes: 2, maxOrder: 10 } },
  { name: 'device/descriptor, movable zone', options: { links: 'descriptor' as const, movablePercent: 50, maxOrder: 8 } },
  { name: 'ram/page', options: { memmap: 'ram' as const, maxOrder: 10 } },
];

describe(`randomized alloc/free/reboot/crash runs against a reference model (${STEPS} steps per run)`, () => {
  for (const v of variants) {
    for (const seed of [1, 2]) {
      it(`${v.name}, seed ${seed}`, function () {
        this.timeout(300_000);
        const random = rng(seed * 7919 + v.name.length);
        const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
        let { store, img } = newImage({ sizeBytes: 16 * MiB, ...v.options });
        let model = new Model(img);
        const counts = { alloc: 0, free: 0, oom: 0, reboot: 0, crash: 0, init: 0, rolledBack: 0, rolledForward: 0 };
        const reboot = (profile?: string) => {
          img.close();
          img = PmemImage.open(store, { profile });
          model = rebind(model, img);
          if (v.options.memmap === 'ram') model.forgetAllocationDetails();
        };
        const randomAlloc = () => ({ order: Math.floor(random() * random() * 7), count: random() < 0.1 ? 3 : 1, node: Math.floor(random() * img.geometry.nodeCount), owner: pick(['', 'fs', 'dax', 'slab']) });

        for (let step = 0; step < STEPS; step++) {
          const r = random();
          if (r < 0.45) {
            const req = randomAlloc();
            try {
              const res = allocOp(img, req);
              res.initialisedSections.forEach((s) => model.handed.add(s));
              for (const b of res.blocks) {
                assert.equal(b.order, req.order);
                assert.ok(model.isFree(b.pfn, b.order), `step ${step}: engine allocated ${b.pfn} order ${b.order}, which the model says is not free`);
                model.allocated.set(b.pfn, { order: b.order, owner: req.owner });
              }
              counts.alloc++;
            } catch (e) {
              assert.ok(e instanceof OperationError, String(e));
              counts.oom++;
            }
          } else if (r < 0.85 && model.allocated.size) {
            const pfn = pick([...model.allocated.keys()]);
            const res = freeOp(img, [pfn]);
            res.initialisedSections.forEach((s) => model.handed.add(s));
            assert.equal(res.freed[0].order, model.allocated.get(pfn)!.order);
            model.allocated.delete(pfn);
            counts.free++;
          } else if (r < 0.9) {
            const s = Math.floor(random() * img.geometry.sectionCount);
            initSectionsOp(img, [s]).handedOver.forEach((x) => model.handed.add(x));
            counts.init++;
          } else if (r < 0.95) {
            reboot(random() < 0.3 ? pick(PROFILES.map((p) => p.name)) : undefined);
            counts.reboot++;
          } else {
            // Power failure in the middle of an allocation or a free, then reboot with recovery.
            const freeing = model.allocated.size > 0 && random() < 0.5;
            const pfn = freeing ? pick([...model.allocated.keys()]) : 0;
            const req = randomAlloc();
            const before = model.clone();
            const points = Math.floor(random() * 12);
            let allocated: Array<{ pfn: number; order: number }> = [];
            img.simulateCrash(points, (i) => {
              if (freeing) freeOp(i, [pfn]);
              else {
                try {
                  allocated = allocOp(i, req).blocks;
                } catch (e) {
                  if (!(e instanceof OperationError)) throw e;
                }
              }
            });
            img = PmemImage.open(store, {});
            const rec = img.bootReport!.recovery.action;
            if (rec === 'rolled-back') counts.rolledBack++;
            if (rec === 'rolled-forward') counts.rolledForward++;
            const got = snapshot(img);
            const after = before.clone();
            if (freeing) after.allocated.delete(pfn);
            else for (const b of allocated) after.allocated.set(b.pfn, { order: b.order, owner: req.owner });
            const candidates = [before, after].map((m) => rebind(m, img));
            if (v.options.memmap === 'ram') candidates.forEach((m) => m.forgetAllocationDetails());
            // Sections handed over by the interrupted operation exist only in the "after" state.
            const match = candidates.find((m, idx) => {
              const e = m.expected();
              if (idx === 1) {
                got.handedOver.forEach((s) => m.handed.add(s));
                return JSON.stringify(m.expected()) === JSON.stringify(got);
              }
              return JSON.stringify(e) === JSON.stringify(got);
            });
            if (!match && !freeing && allocated.length === 0) {
              // The allocation's pfns were not returned (the crash struck first) yet it was rolled forward:
              // accept exactly the requested new frames, all free before.
              const base = rebind(before, img);
              if (v.options.memmap === 'ram') base.forgetAllocationDetails();
              const known = new Set(base.expected().allocated);
              const fresh = got.allocated.filter((a) => !known.has(a));
              const ram = v.options.memmap === 'ram';
              assert.equal(fresh.length, ram ? req.count * 2 ** req.order : req.count, `step ${step}: ${fresh.length} new blocks after a rolled-forward allocation`);
              got.handedOver.forEach((s) => base.handed.add(s));
              for (const f of fresh) {
                const [p, o, owner] = f.split(':');
                assert.ok(base.isFree(+p, +o));
                base.allocated.set(+p, { order: +o, owner });
              }
              assert.deepEqual(got, base.expected(), `step ${step}: state after crash`);
              model = base;
            } else {
              assert.ok(match, `step ${step}: after a crash at point ${points}, the state is neither before nor after`);
              model = match;
            }
            counts.crash++;
          }
          if (process.env.PMEM_DEBUG) console.log(step, JSON.stringify(counts), img.bootReport?.recovery.action, img.warnings.slice(-3));
          const expected = model.expected();
          const actual = snapshot(img);
          assert.deepEqual(actual, expected, `step ${step}: engine and model disagree`);
          const report = check(img);
          assert.ok(report.ok, `step ${step}: ${JSON.stringify(report.problems.slice(0, 3))}`);
          const f = info(img).frames;
          assert.equal(f.free + f.allocated + f.uninitialized + f.reserved, img.geometry.totalFrames);
        }
        assert.ok(counts.alloc > STEPS / 5 && counts.free > STEPS / 5 && counts.reboot > STEPS / 50 && counts.crash > STEPS / 50, JSON.stringify(counts));
        assert.ok(counts.rolledBack > 0 && counts.rolledForward > 0, `both recovery outcomes seen: ${JSON.stringify(counts)}`);
      });
    }
  }
});

/** A model bound to a newly opened image (same geometry). */
function rebind(m: Model, img: PmemImage): Model {
  const n = new Model(img);
  m.handed.forEach((s) => n.handed.add(s));
  m.allocated.forEach((v, k) => n.allocated.set(k, { ...v }));
  return n;
}
