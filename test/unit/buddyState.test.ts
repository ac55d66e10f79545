/**
 * The allocator state in typed arrays (alloc/buddyState.ts) against buddy.ts:
 * the same exact allocations and frees, in the same batches, on two copies of
 * an image, one through buddy.ts alone and one through the typed state (with
 * buddy.ts where it answers SLOW), must leave every byte of the device the
 * same after each batch, journal and history included, and the same answers.
 * Fresh images (sections handed over on first use), reboots (stale sections),
 * both placements of the links and of the memmap, two nodes and a movable zone.
 */
import { strict as assert } from 'node:assert';
import { check, initAllOp, initSectionsOp, MemoryStore, PAGE_SIZE, PmemImage } from '../../src/engine';
import { allocateExactly, freeAllocated } from '../../src/engine/alloc/buddy';
import { BuddyState, SLOW } from '../../src/engine/alloc/buddyState';
import { encodeOwner, patchDescriptor, PG_BUDDY, PG_CORE } from '../../src/engine/format/descriptor';
import type { Txn } from '../../src/engine/image/txn';
import { dataView, firstDifference, MiB, rng } from './helpers';

type Action = { kind: 'alloc'; pfn: number; order: number; owner: string } | { kind: 'free'; pfn: number; order?: number };

function attempt(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

function plain(txn: Txn, a: Action): string {
  return attempt(() => (a.kind === 'alloc' ? allocateExactly(txn, a.pfn, a.order, a.owner) : freeAllocated(txn, a.pfn)));
}

/** The typed state first; buddy.ts (after a flush and reset) where it cannot. Counts the actions it took. */
function typed(state: BuddyState, txn: Txn, a: Action, taken: { n: number }): string {
  const r = a.kind === 'alloc' ? state.allocateExactly(a.pfn, a.order, encodeOwner(a.owner)) : state.freeAllocated(a.pfn, a.order);
  if (r === 'done') {
    taken.n++;
    return 'ok';
  }
  assert.ok(a.kind === 'free' || r === SLOW, `unexpected answer ${r}`);
  state.flush();
  state.reset();
  return plain(txn, a);
}

const CONFIGS = [
  { name: 'links in pages', options: {} },
  { name: 'links in descriptors, two nodes, a movable zone', options: { links: 'descriptor' as const, nodes: 2, movablePercent: 25 } },
  { name: 'memmap in RAM', options: { memmap: 'ram' as const } },
  { name: 'blocks of up to 4 MiB over two sections', options: { sizeBytes: 64 * MiB, maxOrder: 10 } },
];

describe('the allocator state in typed arrays', () => {
  it('leaves a damaged image to buddy.ts: a list head past 2^53, a head that reaches into a stale section', () => {
    const run = (img: PmemImage, txnBody: (txn: Txn) => string) => {
      let answer = '';
      const ended = attempt(() => img.run('alloc', (txn) => {
        answer = txnBody(txn);
        return { result: {}, summary: { text: 'damaged' } };
      }));
      return `${ended} / ${answer}`;
    };
    const cases: Array<{ name: string; make: () => { store: MemoryStore; img: PmemImage; pfn: number } }> = [];
    for (const links of ['page', 'descriptor'] as const) {
      cases.push({
        name: `order-0 list head reading as 2^64 - 1 (links in ${links === 'page' ? 'pages' : 'descriptors'})`,
        make: () => {
          const store = new MemoryStore(32 * MiB);
          PmemImage.create(store, { uuid: '00000000-0000-4000-8000-00000000000c', nowMs: 0, maxOrder: 6, sizeBytes: 32 * MiB, links });
          const img = PmemImage.open(store);
          const first = initSectionsOp(img, [Math.ceil(img.layout.data.startPfn / 512)]).handedOver[0] * 512;
          store.write(img.layout.freeArea.startPfn * PAGE_SIZE, new Uint8Array(8).fill(0xff)); // node 0, zone 0, order 0: head
          return { store, img, pfn: first + 64 };
        },
      });
    }
    cases.push({
      name: 'a misaligned free head of order 11 whose block reaches into a stale section',
      make: () => {
        const store = new MemoryStore(64 * MiB);
        PmemImage.create(store, { uuid: '00000000-0000-4000-8000-00000000000d', nowMs: 0, maxOrder: 11, sizeBytes: 64 * MiB, links: 'descriptor' });
        let img = PmemImage.open(store);
        initAllOp(img);
        img.close();
        img = PmemImage.open(store); // a boot: every section stale, then all but one initialised again
        const top = Math.ceil(img.layout.data.startPfn / 2048) * 2048;
        initSectionsOp(img, Array.from({ length: img.geometry.sectionCount }, (_, i) => i).filter((s) => s !== top / 512 + 4));
        const q = top + 512;
        const d = store.read(img.memmapOffset(q), 64).slice();
        patchDescriptor(d, 0, { flags: PG_CORE | PG_BUDDY, order: 11, next: 0, prev: 0, pfn: q });
        store.write(img.memmapOffset(q), d);
        const area = new Uint8Array(16);
        dataView(area).setUint32(0, q, true);
        area[8] = 1;
        store.write(img.layout.freeArea.startPfn * PAGE_SIZE + 11 * 16, area); // alone on the order-11 list
        return { store, img, pfn: top + 600 };
      },
    });
    for (const c of cases) {
      const a = c.make();
      const b = c.make();
      const plainAnswer = run(a.img, (txn) => plain(txn, { kind: 'alloc', pfn: a.pfn, order: 0, owner: 'x' }));
      const typedAnswer = run(b.img, (txn) => {
        const state = new BuddyState(b.img);
        state.attach(txn);
        const r = typed(state, txn, { kind: 'alloc', pfn: b.pfn, order: 0, owner: 'x' }, { n: 0 });
        state.flush();
        return r;
      });
      assert.equal(typedAnswer, plainAnswer, c.name);
      assert.equal(firstDifference(a.store, b.store), -1, `${c.name}: the devices differ`);
    }
  });

  for (const { name, options } of CONFIGS) {
    it(`leaves the same bytes and answers as buddy.ts, batch after batch (${name})`, function () {
      this.timeout(300_000);
      const sizeBytes = options.sizeBytes ?? 32 * MiB;
      const make = () => {
        const store = new MemoryStore(sizeBytes);
        PmemImage.create(store, { uuid: '00000000-0000-4000-8000-00000000000b', nowMs: 0, maxOrder: 6, historyBytes: 256 * 1024, ...options, sizeBytes });
        return { store, img: PmemImage.open(store) };
      };
      const a = make();
      const b = make();
      let state = new BuddyState(b.img);
      const random = rng(sizeBytes + name.length * 7);
      const data = a.img.layout.data;
      const maxOrder = a.img.geometry.maxOrder;
      const live: Array<[number, number]> = [];
      const taken = { n: 0 };
      let actions = 0;
      const refused = new Set<string>();
      for (let batch = 0; batch < 120; batch++) {
        if (random() < 0.06) {
          // A reboot: every section turns stale, which the typed state leaves to buddy.ts.
          a.img.close();
          b.img.close();
          a.img = PmemImage.open(a.store);
          b.img = PmemImage.open(b.store);
          state = new BuddyState(b.img);
          continue;
        }
        const list: Action[] = [];
        for (let n = 1 + Math.floor(random() * 40); n > 0; n--) {
          const r = random();
          if (r < 0.55 || !live.length) {
            const order = random() < 0.6 ? 0 : Math.floor(random() * (maxOrder + 1));
            // Mostly near the frames used so far (a trace's working set), sometimes anywhere, sometimes misaligned or outside.
            const span = random() < 0.8 ? Math.min(data.frames, 4096) : data.frames;
            let pfn = data.startPfn + Math.floor(random() * span);
            if (random() < 0.97) pfn -= pfn % 2 ** order;
            if (random() < 0.01) pfn = data.startPfn + data.frames + 3;
            list.push({ kind: 'alloc', pfn, order, owner: ['', 'slab', 'KERNEL/U', 'журнал'][Math.floor(random() * 4)] });
          } else if (r < 0.93) {
            const [pfn, order] = live.splice(Math.floor(random() * live.length), 1)[0];
            list.push({ kind: 'free', pfn, order: random() < 0.05 ? order + 1 : order });
          } else {
            list.push({ kind: 'free', pfn: data.startPfn + Math.floor(random() * 4096) });
          }
        }
        const answersA: string[] = [];
        const answersB: string[] = [];
        const summary = { text: `batch ${batch}` };
        const runA = attempt(() => a.img.run('alloc', (txn) => {
          for (const x of list) answersA.push(x.kind === 'free' && x.order !== undefined && otherOrder(txn, x.pfn, x.order) ? 'other order' : plain(txn, x));
          return { result: {}, summary };
        }));
        const runB = attempt(() => b.img.run('alloc', (txn) => {
          state.attach(txn);
          for (const x of list) {
            if (x.kind === 'free' && x.order !== undefined) {
              const r = state.freeAllocated(x.pfn, x.order);
              if (r === 'other-order') {
                answersB.push('other order');
                continue;
              }
              if (r === 'done') {
                taken.n++;
                answersB.push('ok');
                continue;
              }
              state.flush();
              state.reset();
              answersB.push(otherOrder(txn, x.pfn, x.order) ? 'other order' : plain(txn, x));
              continue;
            }
            answersB.push(typed(state, txn, x, taken));
          }
          state.flush();
          return { result: {}, summary };
        }));
        if (runB !== 'ok') state.reset();
        assert.equal(runB, runA, `batch ${batch}: the transactions ended differently`);
        assert.deepEqual(answersB, answersA, `batch ${batch}: different answers`);
        list.forEach((x, i) => {
          if (answersA[i] !== 'ok') refused.add(answersA[i].replace(/\d+/g, 'N'));
          if (x.kind === 'alloc' && answersA[i] === 'ok') live.push([x.pfn, x.order]);
        });
        actions += list.length;
        const at = firstDifference(a.store, b.store);
        assert.equal(at, -1, `batch ${batch}: the devices differ at byte ${at}`);
        // With the memmap in RAM, its descriptors too.
        for (const sec of new Set([...a.img.ram.keys(), ...b.img.ram.keys()])) {
          const [x, y] = [a.img.ram.get(sec), b.img.ram.get(sec)];
          assert.ok(x && y && Buffer.compare(x, y) === 0, `batch ${batch}: the RAM descriptors of section ${sec} differ`);
        }
      }
      assert.deepEqual(check(b.img).problems, []);
      assert.ok(taken.n > actions / 3, `the typed state took ${taken.n} of ${actions} actions`);
      assert.ok(refused.size >= 3, `only ${[...refused].join('; ')} were refused`);
    });
  }
});

/** What a replay skips: a free whose order is not the allocated block's (read as the replay reads it). */
function otherOrder(txn: Txn, pfn: number, order: number): boolean {
  const d = txn.descriptor(pfn);
  return (d.flags & 8) !== 0 && d.order !== order;
}
