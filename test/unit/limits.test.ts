import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { allocOp, check, freeOp, initSectionsOp, MemoryStore, OperationError, PmemImage, sections } from '../../src/engine';
import { JOURNAL_HEADER_SIZE } from '../../src/engine/format/journal';
import { journalBytes, journalBytesAtLeast, journalGeometryOf, MAX_ALLOC_COUNT, maxAllocCount } from '../../src/engine/image/limits';
import { StoreWrapper } from '../../src/engine/store/storeWrapper';
import { GiB, MiB } from './helpers';

/** Notes the payload size of every journal transaction written through it. */
class PayloadMeter extends StoreWrapper {
  last = -1;
  constructor(base: MemoryStore, private readonly journalAt: number) {
    super(base);
  }
  override write(offset: number, data: Uint8Array): void {
    if (offset === this.journalAt && data.length > JOURNAL_HEADER_SIZE) this.last = data.length - JOURNAL_HEADER_SIZE;
    super.write(offset, data);
  }
}

function meteredImage(options: { sizeBytes: number; memmap?: 'device' | 'ram'; links?: 'page' | 'descriptor'; maxOrder?: number; nodes?: number }) {
  const store = new MemoryStore(options.sizeBytes);
  PmemImage.create(store, { uuid: '00000000-0000-4000-8000-000000000002', nowMs: 0, ...options });
  const journalAt = PmemImage.open(store, { readOnly: true }).layout.journal.startPfn * 4096;
  const meter = new PayloadMeter(store, journalAt);
  return { store, meter, img: PmemImage.open(meter, {}) };
}

describe('operation limits: what fits the journal', () => {
  it('the floor never exceeds what an operation really writes (random operations, several geometries)', function () {
    this.timeout(60_000);
    const geometry = fc.record({
      memmap: fc.constantFrom('device' as const, 'ram' as const),
      links: fc.constantFrom('page' as const, 'descriptor' as const),
      maxOrder: fc.integer({ min: 3, max: 10 }),
      nodes: fc.integer({ min: 1, max: 2 }),
    }).filter((g) => g.memmap === 'device' || g.links === 'page');
    const op = fc.oneof(
      fc.record({ kind: fc.constant('alloc' as const), order: fc.integer({ min: 0, max: 3 }), count: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant('free' as const), count: fc.integer({ min: 1, max: 20 }) }),
      fc.record({ kind: fc.constant('init' as const), first: fc.nat(15), count: fc.integer({ min: 1, max: 6 }) }),
    );
    fc.assert(
      fc.property(geometry, fc.array(op, { minLength: 1, maxLength: 25 }), (g, ops) => {
        const { meter, img } = meteredImage({ sizeBytes: 32 * MiB, ...g });
        const j = journalGeometryOf(img);
        const held: number[] = [];
        for (const o of ops) {
          meter.last = -1;
          let floor: number;
          try {
            if (o.kind === 'alloc') {
              floor = journalBytesAtLeast(j, o);
              held.push(...allocOp(img, { order: o.order, count: o.count }).blocks.map((b) => b.pfn));
            } else if (o.kind === 'free') {
              const pfns = held.splice(0, o.count);
              if (pfns.length === 0) continue;
              floor = journalBytesAtLeast(j, { kind: 'free', count: pfns.length });
              freeOp(img, pfns);
            } else {
              const list = sections(img).slice(o.first, o.first + o.count);
              const neverSections = list.filter((s) => s.state === 'never' && s.reservedFrames < s.frames).length;
              floor = journalBytesAtLeast(j, { kind: 'init', neverSections, staleSections: list.filter((s) => s.state === 'stale').length });
              initSectionsOp(img, list.map((s) => s.index));
            }
          } catch (e) {
            if (e instanceof OperationError && /out of memory|too large for the journal/.test(e.message)) continue;
            throw e;
          }
          assert.ok(meter.last >= floor, `${JSON.stringify(o)}: wrote ${meter.last} payload bytes, below the floor ${floor}`);
        }
      }),
      { seed: 9, numRuns: 12 },
    );
  });

  it('an allocation beyond one transaction runs as several: one step, as many blocks as asked', function () {
    this.timeout(120_000);
    const { img } = meteredImage({ sizeBytes: 4 * GiB });
    const j = journalGeometryOf(img);
    const max = maxAllocCount(j, 0);
    assert.ok(journalBytesAtLeast(j, { kind: 'alloc', order: 0, count: max }) <= journalBytes(j));
    assert.ok(journalBytesAtLeast(j, { kind: 'alloc', order: 0, count: max + 1 }) > journalBytes(j));
    const steps = img.historyRecords().length;
    const r = allocOp(img, { order: 0, count: max + 1000 });
    assert.equal(r.blocks.length, max + 1000);
    assert.equal(img.historyRecords().length, steps + 1);
    assert.throws(() => allocOp(img, { order: 0, count: MAX_ALLOC_COUNT + 1 }), new RegExp(`count must be 1 to ${MAX_ALLOC_COUNT}`));
  });

  it('an allocation found too large only at commit is redone in parts, from a store it left untouched', () => {
    const { store, img } = meteredImage({ sizeBytes: 64 * MiB });
    const j = journalGeometryOf(img);
    const n = maxAllocCount(j, 0);
    let refusedAtCommit = 0;
    const run = img.runPart.bind(img);
    img.runPart = ((kind, body, drop) => {
      const before = store.clone();
      try {
        return run(kind, body, drop);
      } catch (e) {
        if (e instanceof OperationError && /too large for the journal \(\d+ bytes, capacity \d+\)/.test(e.message)) {
          refusedAtCommit++;
          assert.ok(store.sameContentAs(before), 'a transaction refused at commit writes nothing');
        }
        throw e;
      }
    }) as typeof img.runPart;
    // Just under the floor's limit, the real payload (splits, section entries, the history record) is larger.
    assert.equal(allocOp(img, { order: 0, count: n }).blocks.length, n);
    assert.ok(refusedAtCommit > 0, 'the first attempt was refused at commit');
    assert.ok(check(img).ok);
  });
});
