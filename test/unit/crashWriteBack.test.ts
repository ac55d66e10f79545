/**
 * Every operation under the write-back-cache crash model: a power failure in
 * any epoch, with any subset of that epoch's unflushed writes landed, torn or
 * whole. After each, the image must open (recovery runs), pass the checker,
 * and hold exactly the allocator state before or after the operation.
 *
 * Default: small epochs exhaustively, a seeded sample of the rest, capped per
 * operation. PMEM_CRASH_FULL=1: every subset of epochs up to 12 writes, every
 * torn shape, more samples, no cap. PMEM_CRASH_SEED=n replays a sample.
 */
import { strict as assert } from 'node:assert';
import { allocOp, check, frames, freeLists, freeOp, initAllOp, initSectionsOp, MemoryStore, PmemImage } from '../../src/engine';
import { JOURNAL_COMMITTED, peekJournal } from '../../src/engine/format/journal';
import { WriteBackCacheStore } from '../../src/engine/store/writeBackCacheStore';
import { DEFERRED_RECORD_BOUND, deferHomeWrites } from '../../src/engine/image/deferredHome';
import { fastLane } from '../../src/engine/image/ops';
import { CaseBudget, crashCases } from './crashCases';
import { UNIT_ORDER } from '../../src/engine/alloc/units2m';
import { MiB, newImage, snapshot, Snapshot } from './helpers';

const FULL = process.env.PMEM_CRASH_FULL === '1';
const SEED = Number(process.env.PMEM_CRASH_SEED ?? (FULL ? Math.floor(Math.random() * 2 ** 31) : 1));
const BUDGET: CaseBudget = FULL
  ? { exhaustiveUpTo: 12, samplesPerEpoch: 64, maxCases: 0, seed: SEED }
  : { exhaustiveUpTo: 6, samplesPerEpoch: 6, maxCases: Number(process.env.PMEM_CRASH_CASES ?? 80), seed: SEED };

interface State extends Snapshot {
  profile: string;
}

interface Ctx {
  img: PmemImage;
  pfns: number[];
  cache: WriteBackCacheStore;
}

interface Scenario {
  name: string;
  /** Reboot once after the setup allocations, so sections are stale. */
  rebootFirst?: boolean;
  /** More setup, before that reboot. */
  prepare?: (img: PmemImage) => void;
  op: (ctx: Ctx) => void;
  /** What the operation must have done, so a scenario cannot silently test something else. */
  claim: (before: State, after: State) => void;
  /** Operations that leave the allocator state as it was (reboots, recovery). */
  same?: boolean;
  /** Builds the starting media itself (recovery starts from a crashed image). */
  media?: (options: object) => MemoryStore;
}

const variants: Variant[] = [
  { name: 'memmap on device, links in pages', options: {} },
  { name: 'memmap on device, links in descriptors', options: { links: 'descriptor' as const } },
  { name: 'memmap in RAM, links in pages', options: { memmap: 'ram' as const } },
  // The designs that write their own structures on the device with each operation (FORMAT.md).
  { name: 'two-word descriptors on the device', options: { memmap: 'ram' as const, descriptors: 'twoWord' as const } },
  { name: 'memdescs: page words and a pool on the device', options: { memmap: 'ram' as const, descriptors: 'memdesc' as const } },
  { name: 'no descriptors (pfn-only)', options: { memmap: 'ram' as const, descriptors: 'none' as const } },
  // Whole 2 MiB units only: its own blocks to start from, and the scenarios whose requests are below a unit left out.
  {
    name: 'unit descriptors (2m)', options: { memmap: 'ram' as const, descriptors: 'unit2m' as const, maxOrder: 11, sizeBytes: 64 * MiB },
    allocs: [{ order: 9, owner: 'a' }, { order: 9, owner: 'b' }, { order: 10, owner: 'c' }, { order: 9, owner: 'd' }],
    // Below a unit, or fitted to the 16 MiB image the others run on (section 3 never initialised; init all in one batch there);
    // an allocation here takes a whole 2 MiB section handed over, so it does not split: its crash is the hand-over's.
    without: [
      'alloc with a split', 'alloc without a split', 'free without a merge', 'recovery of a committed transaction', 'recovery of a torn journal header',
      'lazy init of a never-initialised section', 'init all', 'init all, every section stale (several journal chunks)',
    ],
  },
];

type Variant = { name: string; options: object; allocs?: Array<{ order: number; count?: number; owner: string }>; without?: string[] };

function stateOf(img: PmemImage): State {
  return { ...snapshot(img), profile: img.sb.profile };
}

/** Boots the media as a crash left it (recovery runs) and returns the image. */
function boot(media: MemoryStore): PmemImage {
  return PmemImage.open(media, {});
}

const SETUP_ALLOCS = [{ order: 3, owner: 'a' }, { order: 0, count: 3, owner: 'b' }, { order: 2, owner: 'c' }];

function setup(options: object, rebootFirst: boolean, prepare?: (img: PmemImage) => void, allocs = SETUP_ALLOCS): { store: MemoryStore; img: PmemImage; pfns: number[] } {
  // The smallest history keeps the data area from pfn 99: the splits and merges the cases name happen there.
  let { store, img } = newImage({ sizeBytes: 16 * MiB, maxOrder: 10, historyBytes: 64 * 1024, ...options });
  const pfns = allocs.flatMap((a) => allocOp(img, a).blocks.map((x) => x.pfn));
  prepare?.(img);
  if (rebootFirst) {
    img.close();
    img = PmemImage.open(store, {});
  }
  return { store, img, pfns };
}

const count = (list: string[]) => list.length;

/** The smallest order with no free block of its own but a larger one to split (the layouts of the designs differ). */
function splittingOrder(img: PmemImage): number {
  const free = new Array<number>(img.geometry.maxOrder + 1).fill(0);
  for (const l of freeLists(img, 1 << 20)) free[l.order] += l.blocks.length;
  const least = img.geometry.descriptors === 'unit2m' ? UNIT_ORDER : 0; // a 2m image takes whole units only
  const o = free.findIndex((n, k) => k >= least && n === 0 && free.slice(k + 1).some((m) => m > 0));
  assert.ok(o >= 0, 'an order that splits');
  return o;
}

/** Blocks among `pfns` whose free merges: those whose buddy is free, else two that are each other's buddies. */
function mergingBlocks(img: PmemImage, pfns: number[]): number[] {
  const orderOf = (pfn: number) => frames(img, pfn, 1)[0].order!;
  const withFreeBuddy = pfns.filter((pfn) => {
    const buddy = frames(img, pfn ^ (2 ** orderOf(pfn)), 1)[0];
    return buddy.kind === 'free' && buddy.blockPfn === (pfn ^ (2 ** orderOf(pfn))) && buddy.order === orderOf(pfn);
  });
  if (withFreeBuddy.length) return withFreeBuddy.slice(0, 2);
  const pair = pfns.find((p) => pfns.includes(p ^ (2 ** orderOf(p))) && orderOf(p ^ (2 ** orderOf(p))) === orderOf(p));
  assert.ok(pair !== undefined, 'blocks whose free merges');
  return [pair, pair ^ (2 ** orderOf(pair))];
}
const newFree = (before: State, after: State) => after.free.filter((f) => !before.free.includes(f));

/** The state before the pending alloc of committedJournalMedia, to show recovery rolled it forward. */
let withoutPending: State | undefined;

/** An image whose journal holds a committed, not yet applied, transaction (an alloc cut short by a crash). */
function committedJournalMedia(options: object): MemoryStore {
  const s = setup(options, false);
  withoutPending = stateOf(boot(s.store.clone()));
  const cache = new WriteBackCacheStore(s.store);
  s.img.store = cache;
  allocOp(s.img, { order: 4, owner: 'pending' });
  const j = s.img.layout.journal;
  for (let e = 1; e < cache.epochCount; e++) {
    const media = cache.crashImage(e, []);
    if (peekJournal(media, j).state === JOURNAL_COMMITTED) return media;
  }
  throw new Error('no epoch leaves a committed journal');
}

/** An image whose journal header is torn: a crash landed only the first two words of an intent header. */
function tornHeaderMedia(options: object): MemoryStore {
  const s = setup(options, false);
  withoutPending = stateOf(boot(s.store.clone()));
  const cache = new WriteBackCacheStore(s.store);
  s.img.store = cache;
  allocOp(s.img, { order: 4, owner: 'never' });
  const start = s.img.layout.journal.startPfn * 4096;
  for (let e = 0; e < cache.epochCount; e++) {
    const index = cache.epochs[e].findIndex((w) => w.offset === start && w.data.length > 128);
    if (index < 0) continue;
    const media = cache.crashImage(e, [{ index, torn: { granularity: 8, side: 'prefix', units: 2 } }]);
    assert.equal(peekJournal(media, s.img.layout.journal).torn, true);
    return media;
  }
  throw new Error('no intent write');
}

const scenarios: Scenario[] = [
  {
    name: 'alloc with a split',
    op: ({ img }) => void allocOp(img, { order: splittingOrder(img), owner: 'new' }),
    claim: (b, a) => assert.ok(newFree(b, a).length > 0, 'a split leaves new free blocks'),
  },
  {
    name: 'alloc without a split',
    op: ({ img }) => void allocOp(img, { order: 1, owner: 'new' }),
    claim: (b, a) => {
      assert.equal(newFree(b, a).length, 0, 'no new free block');
      assert.equal(count(a.free), count(b.free) - 1);
    },
  },
  {
    name: 'free with merges',
    op: ({ img, pfns }) => void freeOp(img, mergingBlocks(img, pfns)),
    claim: (b, a) => assert.ok(count(a.free) < count(b.free) + 2, 'freed blocks merged with their buddies'),
  },
  {
    name: 'free without a merge',
    op: ({ img, pfns }) => void freeOp(img, [pfns[1]]),
    claim: (b, a) => assert.equal(count(a.free), count(b.free) + 1, 'the freed block stays on its own'),
  },
  {
    name: 'lazy init of a never-initialised section',
    op: ({ img }) => void initSectionsOp(img, [3]),
    claim: (b, a) => assert.equal(a.handedOver.length, b.handedOver.length + 1),
  },
  {
    name: 'alloc handing over never-initialised sections',
    op: ({ img }) => void allocOp(img, { order: 9, count: 2 }),
    claim: (b, a) => assert.ok(a.handedOver.length > b.handedOver.length),
  },
  {
    name: 'lazy init of a stale section',
    rebootFirst: true,
    op: ({ img }) => void initSectionsOp(img, [0]),
    same: true, // re-initialisation keeps the allocator state; what changes is the generation
    claim: () => undefined,
  },
  {
    name: 'init all',
    rebootFirst: true,
    op: ({ img }) => void initAllOp(img),
    claim: (b, a) => assert.ok(a.handedOver.length > b.handedOver.length),
  },
  {
    name: 'init all, every section stale (several journal chunks)',
    rebootFirst: true,
    prepare: (img) => {
      initAllOp(img);
      allocOp(img, { order: 9, count: 3, owner: 'd' });
    },
    op: ({ img }) => void initAllOp(img),
    same: true,
    claim: (b) => assert.equal(b.handedOver.length, 8, 'every section was handed over before'),
  },
  {
    name: 'reboot (clean)',
    op: (ctx) => {
      ctx.img.close();
      ctx.img = PmemImage.open(ctx.cache, {});
    },
    same: true,
    claim: () => undefined,
  },
  {
    name: 'reboot into another profile',
    op: (ctx) => {
      ctx.img.close();
      ctx.img = PmemImage.open(ctx.cache, { profile: 'debug' });
    },
    claim: (b, a) => assert.deepEqual([b.profile, a.profile], ['default', 'debug']),
  },
  {
    name: 'recovery of a committed transaction',
    media: committedJournalMedia,
    op: (ctx) => void (ctx.img = PmemImage.open(ctx.cache, {})),
    same: true,
    claim: (b) => assert.notDeepEqual(b, withoutPending, 'recovery rolls the committed alloc forward'),
  },
  {
    name: 'recovery of a torn journal header',
    media: tornHeaderMedia,
    op: (ctx) => void (ctx.img = PmemImage.open(ctx.cache, {})),
    same: true,
    claim: (b) => assert.deepEqual(b, withoutPending, 'the torn transaction never happened'),
  },
];

/** An image whose last operations were held for a write-back that a crash cut off: their records lie after the history's tail. */
function heldMedia(options: object): MemoryStore {
  const s = setup(options, false);
  initAllOp(s.img); // an exact allocation (a free's inverse) needs every section of its largest block initialised
  held(() => {
    deferHomeWrites(s.img, true);
    allocOp(s.img, { order: 2, owner: 'held' });
    freeOp(s.img, [allocOp(s.img, { order: 0, owner: 'gone' }).blocks[0].pfn]);
  }, 3);
  withoutPending = stateOf(boot(s.store.clone()));
  return s.store; // the image object, with what it held, is dropped: a power cut
}

/** Runs `ops`, which must hold `count` operations for a write-back (else the scenario would test the usual path). */
function held(ops: () => void, count = 1): void {
  const before = fastLane.deferred;
  ops();
  assert.equal(fastLane.deferred - before, count, 'operations held for a write-back');
}

/** A block the held lane allocated (its free is then its exact inverse, and held too). */
let laneBlock = 0;

const deferredScenarios: Scenario[] = [
  {
    name: 'alloc with a split, held for a write-back',
    op: ({ img }) => held(() => {
      deferHomeWrites(img, true);
      allocOp(img, { order: 4, owner: 'new' });
    }),
    claim: (b, a) => assert.ok(newFree(b, a).length > 0, 'a split leaves new free blocks'),
  },
  {
    name: 'free, held for a write-back',
    prepare: (img) => held(() => {
      initAllOp(img); // an exact allocation (a free's inverse) needs every section of its largest block initialised
      deferHomeWrites(img, true);
      laneBlock = allocOp(img, { order: 1, owner: 'f' }).blocks[0].pfn;
      deferHomeWrites(img, false);
    }),
    op: ({ img }) => held(() => {
      deferHomeWrites(img, true);
      freeOp(img, [laneBlock]);
    }),
    claim: (b, a) => assert.equal(count(a.allocated), count(b.allocated) - 1, 'the block is freed'),
  },
  {
    name: 'write-back of held operations',
    prepare: (img) => held(() => {
      deferHomeWrites(img, true);
      allocOp(img, { order: 1, owner: 'held' });
      allocOp(img, { order: 0, owner: 'held' });
    }, 2),
    op: ({ img }) => deferHomeWrites(img, false),
    same: true, // the operations were committed before: the write-back changes where their structures are, not the state
    claim: (b) => assert.ok(b.allocated.some((x) => x.includes('held')), 'the held operations are part of the state before'),
  },
  {
    name: 'an operation held after a write-back that only evicts (the history full, nothing held)',
    prepare: (img) => {
      // Single operations the usual way until the ring is full and has no room for a held record after its tail.
      for (let i = 0; img.history.readHeader(img.storeAsIs).firstSeq <= 1 || img.history.canAppendDeferred(img.storeAsIs, DEFERRED_RECORD_BOUND); i++) {
        assert.ok(i < 20_000, 'the history never filled');
        freeOp(img, [allocOp(img, { order: 0, owner: 'fill' }).blocks[0].pfn]);
      }
    },
    op: ({ img }) => held(() => {
      deferHomeWrites(img, true);
      allocOp(img, { order: 0, owner: 'room' });
    }),
    claim: (b, a) => assert.equal(count(a.allocated), count(b.allocated) + 1, 'the block is allocated'),
  },
  {
    name: 'redo at the open of operations held when the power failed',
    media: heldMedia,
    op: (ctx) => void (ctx.img = PmemImage.open(ctx.cache, {})),
    same: true,
    claim: (b) => assert.ok(b.allocated.some((x) => x.includes('held')), 'the held operations are redone'),
  },
];

const summary: Array<{ variant: string; op: string; epochs: number; writes: number; cases: number }> = [];

function run(variant: Variant, sc: Scenario): void {
  let start: MemoryStore;
  const cacheFor = (media: MemoryStore) => new WriteBackCacheStore(media);
  let cache: WriteBackCacheStore;
  if (sc.media) {
    start = sc.media(variant.options);
    cache = cacheFor(start);
    const ctx = { img: undefined as unknown as PmemImage, pfns: [], cache };
    sc.op(ctx);
  } else {
    const s = setup(variant.options, !!sc.rebootFirst, sc.prepare, variant.allocs);
    start = s.store;
    cache = cacheFor(start);
    s.img.store = cache;
    sc.op({ img: s.img, pfns: s.pfns, cache });
  }
  const before = stateOf(boot(start.clone()));
  const after = stateOf(boot(cache.completed()));
  if (sc.same) assert.deepEqual(after, before, 'the operation keeps the allocator state');
  else assert.notDeepEqual(after, before, 'the operation changes the state');
  sc.claim(before, after);
  const beforeText = JSON.stringify(before);
  const afterText = JSON.stringify(after);
  const cases = crashCases(cache.epochs, BUDGET);
  const failures: string[] = [];
  for (const c of cases) {
    const media = cache.crashImage(c.epoch, c.landings);
    let why: string | undefined;
    try {
      const img = boot(media);
      const report = check(img);
      const text = JSON.stringify(stateOf(img));
      if (!report.ok) why = `check fails: ${report.problems.slice(0, 2).map((p) => p.message).join('; ')}`;
      else if (text !== beforeText && text !== afterText) why = `state is neither before nor after: ${text}`;
    } catch (e) {
      why = `does not open: ${(e as Error).message}`;
    }
    if (why) failures.push(`${c.label}: ${why}`);
  }
  const writes = cache.epochs.reduce((n, e) => n + e.length, 0);
  summary.push({ variant: variant.name, op: sc.name, epochs: cache.epochCount, writes, cases: cases.length });
  assert.equal(failures.length, 0, `${failures.length} of ${cases.length} crash cases failed (seed ${SEED}); first: ${failures.slice(0, 3).join(' | ')}`);
}

describe(`crash with a write-back cache (${FULL ? 'full' : 'sampled'}, seed ${SEED})`, () => {
  for (const v of variants) {
    describe(v.name, () => {
      for (const sc of [...scenarios, ...('memmap' in v.options ? [] : deferredScenarios)].filter((x) => !v.without?.includes(x.name))) {
        it(`${sc.name}: every crash opens, checks clean, and is exactly before or after`, () => run(v, sc));
      }
    });
  }

  it('create: every crash leaves no image (it says so) or the new image, which checks clean', () => {
    const size = 16 * MiB;
    const cache = new WriteBackCacheStore(new MemoryStore(size));
    PmemImage.create(cache, { sizeBytes: size, uuid: '00000000-0000-4000-8000-000000000002', nowMs: 0 });
    const created = JSON.stringify(stateOf(boot(cache.completed())));
    const cases = crashCases(cache.epochs, BUDGET);
    const outcomes = new Set<string>();
    const failures: string[] = [];
    for (const c of cases) {
      try {
        const img = boot(cache.crashImage(c.epoch, c.landings));
        if (!check(img).ok) failures.push(`${c.label}: check fails`);
        else if (JSON.stringify(stateOf(img)) !== created) failures.push(`${c.label}: another state`);
        else outcomes.add('image');
      } catch (e) {
        if (/not a pmem image/.test((e as Error).message)) outcomes.add('no image');
        else failures.push(`${c.label}: ${(e as Error).message}`);
      }
    }
    summary.push({ variant: 'memmap on device, links in pages', op: 'create', epochs: cache.epochCount, writes: cache.epochs.reduce((n, e) => n + e.length, 0), cases: cases.length });
    assert.equal(failures.length, 0, `${failures.length} of ${cases.length} crash cases failed (seed ${SEED}); first: ${failures.slice(0, 3).join(' | ')}`);
    assert.deepEqual([...outcomes].sort(), ['image', 'no image']);
  });

  after(() => {
    if (!summary.length) return;
    const rows = summary.map((r) => `  ${r.op.padEnd(56)} ${r.variant.padEnd(40)} ${String(r.epochs).padStart(6)} ${String(r.writes).padStart(6)} ${String(r.cases).padStart(7)}`);
    const total = summary.reduce((n, r) => n + r.cases, 0);
    console.log(`\n  crash cases per operation (seed ${SEED}${FULL ? ', full' : ''})\n  ${'operation'.padEnd(56)} ${'variant'.padEnd(40)} epochs writes   cases\n${rows.join('\n')}\n  total ${total}\n`);
  });
});
