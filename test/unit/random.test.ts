import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { AllocatedBlock, allocOp, check, CreateOptions, freeOp, info, initSectionsOp, OperationError, PmemImage, PROFILES } from '../../src/engine';
import { memdescPoolSlots } from '../../src/engine/format/memdesc';
import { MiB, newImage, rng, snapshot } from './helpers';
import { Model } from './model';

const STEPS = Number(process.env.PMEM_RANDOM_STEPS ?? 1000);

/**
 * `keeps`: the device keeps each block's order and owner across a boot (core64 by its descriptors; two-word,
 * memdesc and 2m by their own structures); a memmap in RAM without it keeps none. `forgets`: the design keeps
 * nothing of an allocated block even while it runs (no descriptors, or only while under I/O).
 */
type Variant = { name: string; options: Partial<CreateOptions>; sizeBytes?: number; keeps?: boolean; forgets?: boolean; minOrder?: number; seeds?: number[] };
const variants: Variant[] = [
  { name: 'device/page, 2 nodes', options: { nodes: 2, maxOrder: 10 }, keeps: true },
  { name: 'device/descriptor, movable zone', options: { links: 'descriptor', movablePercent: 50, maxOrder: 8 }, keeps: true },
  { name: 'ram/page', options: { memmap: 'ram', maxOrder: 10 } },
  { name: 'pfn-only (no descriptors)', options: { memmap: 'ram', descriptors: 'none', maxOrder: 10 }, forgets: true },
  { name: 'dynamic (descriptors only under I/O)', options: { memmap: 'ram', descriptors: 'pool', maxOrder: 10 }, forgets: true, seeds: [2] },
  { name: 'two-word', options: { memmap: 'ram', descriptors: 'twoWord', maxOrder: 10 }, keeps: true, seeds: [1] },
  { name: 'memdesc', options: { memmap: 'ram', descriptors: 'memdesc', maxOrder: 10 }, sizeBytes: 64 * MiB, keeps: true, seeds: [2] },
  { name: '2m (whole 2 MiB units)', options: { memmap: 'ram', descriptors: 'unit2m', maxOrder: 11 }, sizeBytes: 64 * MiB, keeps: true, minOrder: 9, seeds: [1] },
];

describe(`randomized alloc/free/reboot/crash runs against a reference model (${STEPS} steps per run)`, () => {
  for (const v of variants) {
    for (const seed of v.seeds ?? [1, 2]) {
      it(`${v.name}, seed ${seed}`, function () {
        this.timeout(300_000);
        const random = rng(seed * 7919 + v.name.length);
        const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
        let { store, img } = newImage({ sizeBytes: v.sizeBytes ?? 16 * MiB, ...v.options });
        const lost = !v.keeps; // a boot loses every block's order and owner
        const poolSlots = v.options.descriptors === 'memdesc' ? memdescPoolSlots(img.geometry.totalFrames) : Infinity;
        let model = new Model(img);
        const counts = { alloc: 0, free: 0, oom: 0, reboot: 0, crash: 0, init: 0, rolledBack: 0, rolledForward: 0 };
        const reboot = (profile?: string) => {
          img.close();
          img = PmemImage.open(store, { profile });
          model = rebind(model, img);
          if (lost) model.forgetAllocationDetails();
        };
        const randomAlloc = () => ({ order: v.minOrder !== undefined ? v.minOrder + (random() < 0.3 ? 1 : 0) : Math.floor(random() * random() * 7), count: random() < 0.1 ? 3 : 1, node: Math.floor(random() * img.geometry.nodeCount), owner: pick(['', 'fs', 'dax', 'slab']) });

        for (let step = 0; step < STEPS; step++) {
          const r = random();
          if (r < 0.45) {
            const req = randomAlloc();
            // The model decides whether the request must succeed; a failure is legitimate only when it must not.
            // memdesc: every block takes a descriptor from the pool; with none left for the request it must fail.
            const poolFull = model.allocated.size + req.count > poolSlots;
            const possible = model.canAllocate(req) && !poolFull;
            let res: ReturnType<typeof allocOp> | undefined;
            try {
              res = allocOp(img, req);
            } catch (e) {
              const pool = e instanceof OperationError && /^the memdesc pool is full/.test(e.message);
              assert.ok(e instanceof OperationError && (/^out of memory/.test(e.message) || (pool && poolFull)), `step ${step}: ${String(e)}`);
              assert.ok(!possible, `step ${step}: ${JSON.stringify(req)} failed (${e.message}) although the model has room for it`);
              counts.oom++;
            }
            if (res) {
              assert.ok(possible, `step ${step}: ${JSON.stringify(req)} succeeded although the model has no room for it`);
              assert.equal(model.judgeAllocation(req, res.blocks), undefined, `step ${step}: ${JSON.stringify(req)}`);
              res.initialisedSections.forEach((s) => model.handed.add(s));
              for (const b of res.blocks) model.allocated.set(b.pfn, { order: b.order, owner: req.owner });
              // Without descriptors the image keeps nothing of the block: allocated single frames, no owner.
              if (v.forgets) model.forgetAllocationDetails();
              counts.alloc++;
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
            if (lost) candidates.forEach((m) => m.forgetAllocationDetails());
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
              if (lost) base.forgetAllocationDetails();
              const known = new Set(base.expected().allocated);
              const fresh = got.allocated.filter((a) => !known.has(a));
              assert.equal(fresh.length, lost ? req.count * 2 ** req.order : req.count, `step ${step}: ${fresh.length} new blocks after a rolled-forward allocation`);
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

/** One step of a property-based run: what the user does, in terms the shrinker can simplify. */
type Step =
  | { kind: 'alloc'; order: number; count: number; node: number; strict: boolean; zone: 'dma32' | 'normal' | 'movable'; owner: string }
  | { kind: 'free'; pick: number }
  | { kind: 'init'; section: number }
  | { kind: 'reboot'; profile?: string };

const FC_RUNS = Number(process.env.PMEM_FC_RUNS ?? 12);
const FC_STEPS = Number(process.env.PMEM_FC_STEPS ?? 30);
const FC_SEED = process.env.PMEM_FC_SEED === undefined ? 20261202 : Number(process.env.PMEM_FC_SEED);

describe(`property: random operation sequences agree with the reference model after every step (${FC_RUNS} runs of up to ${FC_STEPS} steps, seed ${FC_SEED})`, () => {
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 5, arbitrary: fc.record({
      kind: fc.constant('alloc' as const), order: fc.integer({ min: 0, max: 9 }), count: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 60 })),
      node: fc.integer({ min: 0, max: 1 }), strict: fc.boolean(), zone: fc.constantFrom('dma32' as const, 'normal' as const, 'movable' as const), owner: fc.constantFrom('', 'fs', 'dax'),
    }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('init' as const), section: fc.nat(7) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('reboot' as const), profile: fc.option(fc.constantFrom(...PROFILES.map((p) => p.name)), { nil: undefined }) }) },
  );

  for (const v of [
    { name: 'device/page, 2 nodes, movable zone', options: { nodes: 2, movablePercent: 50, maxOrder: 9 } },
    { name: 'ram/page, 1 node', options: { memmap: 'ram' as const, maxOrder: 10 } },
  ]) {
    it(v.name, function () {
      this.timeout(300_000);
      fc.assert(
        fc.property(fc.array(stepArb, { maxLength: FC_STEPS }), (steps) => {
          const { store, img: first } = newImage({ sizeBytes: 16 * MiB, ...v.options });
          let img = first;
          let model = new Model(img);
          for (const [i, step] of steps.entries()) {
            const at = `step ${i} ${JSON.stringify(step)}`;
            if (step.kind === 'alloc') {
              const req = { ...step, node: Math.min(step.node, img.geometry.nodeCount - 1) };
              const possible = model.canAllocate(req);
              let blocks: AllocatedBlock[] | undefined;
              let sectionsNow: number[] = [];
              try {
                ({ blocks, initialisedSections: sectionsNow } = allocOp(img, req));
              } catch (e) {
                if (!(e instanceof OperationError) || !/^out of memory/.test(e.message)) throw e;
                assert.ok(!possible, `${at}: refused (${e.message}) although the model has room`);
              }
              if (blocks) {
                assert.ok(possible, `${at}: succeeded although the model has no room`);
                assert.equal(model.judgeAllocation(req, blocks), undefined, at);
                sectionsNow.forEach((s) => model.handed.add(s));
                for (const b of blocks) model.allocated.set(b.pfn, { order: b.order, owner: req.owner });
              }
            } else if (step.kind === 'free') {
              if (model.allocated.size === 0) continue;
              const pfns = [...model.allocated.keys()].sort((a, b) => a - b);
              const pfn = pfns[step.pick % pfns.length];
              const r = freeOp(img, [pfn]);
              assert.equal(r.freed[0].order, model.allocated.get(pfn)!.order, at);
              r.initialisedSections.forEach((s) => model.handed.add(s));
              model.allocated.delete(pfn);
            } else if (step.kind === 'init') {
              initSectionsOp(img, [step.section]).handedOver.forEach((s) => model.handed.add(s));
            } else {
              img.close();
              img = PmemImage.open(store, { profile: step.profile });
              model = rebind(model, img);
              if (v.options.memmap === 'ram') model.forgetAllocationDetails();
            }
            assert.deepEqual(snapshot(img), model.expected(), `${at}: engine and model disagree`);
          }
          const report = check(img);
          assert.ok(report.ok, JSON.stringify(report.problems.slice(0, 3)));
        }),
        { seed: FC_SEED, numRuns: FC_RUNS },
      );
    });
  }
});
