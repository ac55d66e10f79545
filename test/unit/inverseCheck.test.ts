/**
 * The allocator state's check of an operation's inverse (BuddyState.checkInverse):
 * when it says the inverse is exact, running the operation and then its
 * inverse through buddy.ts must leave every byte the operation staged as it
 * was; and it should say so whenever that is true (a conservative answer
 * costs the history bytes, a wrong one would make stepping back lie).
 * Random allocations from the lists, exact allocations and frees, with
 * reboots, on three geometries.
 */
import { strict as assert } from 'node:assert';
import { MemoryStore, PmemImage } from '../../src/engine';
import { allocate, allocateExactly, freeAllocated, validateAllocRequest, zonelist } from '../../src/engine/alloc/buddy';
import { BuddyState, InverseOf } from '../../src/engine/alloc/buddyState';
import { encodeOwner } from '../../src/engine/format/descriptor';
import type { Txn } from '../../src/engine/image/txn';
import { MiB, rng } from './helpers';

type Op =
  | { kind: 'fromLists'; order: number; owner: string }
  | { kind: 'exact'; pfn: number; order: number; owner: string }
  | { kind: 'free'; pfn: number };

class Dropped {}

/** Runs `body` in a transaction that is then dropped: the image is left as it was. */
function dry<T>(img: PmemImage, body: (txn: Txn) => T): T | undefined {
  let out: T | undefined;
  try {
    img.run('alloc', (txn) => {
      out = body(txn);
      throw new Dropped();
    });
  } catch (e) {
    if (!(e instanceof Dropped)) return undefined;
  }
  return out;
}

/** What the typed state says: its answer, the block, and whether it finds the inverse exact. */
function claim(img: PmemImage, op: Op): { answer: string; pfn: number; order: number; owner: Uint8Array; exact: boolean } | undefined {
  return dry(img, (txn) => {
    const state = new BuddyState(img);
    state.attach(txn);
    let pfn = 0;
    let order = 0;
    let owner: Uint8Array = new Uint8Array(16);
    let inverse: () => InverseOf;
    let run: () => string;
    if (op.kind === 'free') {
      run = () => state.freeAllocated(op.pfn);
      inverse = () => ((pfn = op.pfn), (order = state.freedOrder), (owner = state.freedOwnerBytes.slice()), { kind: 'allocate', pfn, order, ownerBytes: owner });
    } else {
      const bytes = encodeOwner(op.owner);
      if (op.kind === 'exact') run = () => state.allocateExactly(op.pfn, op.order, bytes);
      else {
        const where = zonelist(txn, validateAllocRequest(txn, { order: op.order, owner: op.owner }))[0];
        run = () => state.allocateFromLists(op.order, bytes, where.node, where.zone);
      }
      inverse = () => ((pfn = op.kind === 'exact' ? op.pfn : state.allocatedPfn), (order = op.order), (owner = bytes), { kind: 'free', pfn, order });
    }
    const answer = state.checkInverse(run, inverse);
    return { answer, pfn, order, owner, exact: state.inverseExact };
  });
}

/** Whether buddy.ts, running the operation and then its inverse in one transaction, gives back every byte staged. */
function truth(img: PmemImage, op: Op, c: { pfn: number; order: number; owner: Uint8Array }, ownerText: string): boolean {
  const same = dry(img, (txn) => {
    if (op.kind === 'free') {
      freeAllocated(txn, op.pfn);
      allocateExactly(txn, c.pfn, c.order, ownerText);
    } else {
      if (op.kind === 'exact') allocateExactly(txn, op.pfn, op.order, op.owner);
      else assert.equal(allocate(txn, { order: op.order, owner: op.owner })[0].pfn, c.pfn, 'buddy.ts took another block from the lists');
      freeAllocated(txn, c.pfn);
    }
    const { redo, undo } = txn.stagedRanges();
    assert.equal(redo.length, undo.length);
    return redo.every((r, i) => r.offset === undo[i].offset && r.data.every((b, j) => b === undo[i].data[j]));
  });
  assert.ok(same !== undefined, 'buddy.ts refused what the typed state did');
  return same;
}

const CONFIGS = [
  { name: 'links in pages', options: {} },
  { name: 'links in descriptors, two nodes, a movable zone', options: { links: 'descriptor' as const, nodes: 2, movablePercent: 25 } },
  { name: 'blocks of up to 4 MiB over two sections', options: { sizeBytes: 64 * MiB, maxOrder: 10 } },
];

describe('the inverse of an allocation or a free, as the allocator state checks it', () => {
  for (const config of CONFIGS) {
    it(`says exact exactly when buddy.ts's inverse gives back every byte (${config.name})`, () => {
      const random = rng(7 + config.name.length);
      const size = (config.options as { sizeBytes?: number }).sizeBytes ?? 32 * MiB;
      const store = new MemoryStore(size);
      PmemImage.create(store, { uuid: '00000000-0000-4000-8000-0000000000a1', nowMs: 0, maxOrder: 6, sizeBytes: size, ...config.options });
      let img = PmemImage.open(store);
      const data = img.layout.data;
      const maxOrder = img.geometry.maxOrder;
      const live: Array<{ pfn: number; order: number; owner: string }> = [];
      const tally = { done: 0, exact: 0, claimed: 0 };
      for (let i = 0; i < 600; i++) {
        if (random() < 0.01) {
          img.close();
          img = PmemImage.open(store); // a reboot: the typed state leaves stale sections to buddy.ts
          continue;
        }
        const owner = ['', 'slab', 'KERNEL/U', 'журнал'][Math.floor(random() * 4)];
        const order = random() < 0.6 ? 0 : Math.floor(random() * (maxOrder + 1));
        let op: Op;
        const r = random();
        if (live.length && r < 0.45) {
          // Frees mostly of recent blocks (which merge with the buddies just split off), sometimes of any.
          const k = random() < 0.6 ? live.length - 1 - Math.floor(random() * Math.min(4, live.length)) : Math.floor(random() * live.length);
          op = { kind: 'free', pfn: live.splice(k, 1)[0].pfn };
        } else if (r < 0.8) op = { kind: 'fromLists', order, owner };
        else {
          let pfn = data.startPfn + Math.floor(random() * Math.min(data.frames, 8192));
          pfn -= pfn % 2 ** order;
          op = { kind: 'exact', pfn, order, owner };
        }
        const c = claim(img, op);
        if (!c || c.answer !== 'done') {
          // Not the typed state's to do (a section to initialise, a block not free): buddy.ts does it, or refuses.
          const undone = op;
          try {
            img.run('alloc', (txn) => {
              if (undone.kind === 'free') freeAllocated(txn, undone.pfn);
              else if (undone.kind === 'exact') live.push({ pfn: (allocateExactly(txn, undone.pfn, undone.order, undone.owner), undone.pfn), order: undone.order, owner: undone.owner });
              else live.push({ pfn: allocate(txn, { order: undone.order, owner: undone.owner })[0].pfn, order: undone.order, owner: undone.owner });
              return { result: {}, summary: { text: 'general' } };
            });
          } catch {
            // refused: nothing changed
          }
          continue;
        }
        tally.done++;
        const ownerText = op.kind === 'free' ? '' : op.owner;
        const restores = truth(img, op, c, op.kind === 'free' ? new TextDecoder().decode(c.owner).replace(/\0+$/, '') : ownerText);
        if (restores) tally.exact++;
        if (c.exact) tally.claimed++;
        assert.ok(!c.exact || restores, `operation ${i} (${JSON.stringify(op)}): the typed state called its inverse exact, and it is not`);
        assert.equal(c.exact, restores, `operation ${i} (${JSON.stringify(op)}): buddy.ts's inverse gives every byte back, the typed state said it would not`);
        // Now for real.
        img.run('alloc', (txn) => {
          if (op.kind === 'free') freeAllocated(txn, op.pfn);
          else if (op.kind === 'exact') allocateExactly(txn, op.pfn, op.order, op.owner);
          else allocate(txn, { order: op.order, owner: op.owner });
          return { result: {}, summary: { text: 'op' } };
        });
        if (op.kind !== 'free') live.push({ pfn: c.pfn, order: c.order, owner: op.owner });
      }
      assert.ok(tally.done > 300, `only ${tally.done} operations were the typed state's`);
      assert.ok(tally.exact > tally.done / 3, `only ${tally.exact} of ${tally.done} inverses were exact: the test says little`);
      assert.ok(tally.exact < tally.done, 'every inverse was exact: the test never saw one that is not');
    });
  }
});
