/**
 * Valid images with a little history, built in memory from a recipe that
 * fast-check generates: a geometry and a few allocs, frees and reboots. The
 * fuzz properties and the detection-rate measurement mutate copies of them.
 */
import fc from 'fast-check';
import { allocOp, freeOp, MemoryStore, PmemImage, Store } from '../../../src/engine';
import { checkRange } from '../../../src/engine/store/store';
import { deferHomeWrites } from '../../../src/engine/image/deferredHome';
import type { Geometry } from '../../../src/engine/format/layout';
import { UNIT_ORDER } from '../../../src/engine/alloc/units2m';

type Descriptors = NonNullable<Geometry['descriptors']>;

const MiB = 2 ** 20;

export type Step =
  | { op: 'alloc'; order: number; count: number; owner: string }
  | { op: 'free'; pick: number }
  | { op: 'reboot' };

export interface Recipe {
  sizeMiB: number;
  nodes: number;
  maxOrder: number;
  /** `descriptors`: a design other than core64 and ram64 (they run on a memmap in RAM). */
  placement: { memmap: 'device' | 'ram'; links: 'page' | 'descriptor'; descriptors?: Descriptors };
  movablePercent: number;
  steps: Step[];
  /** Leave the machine running (not shut down cleanly) at the end. */
  crashed: boolean;
  /** Hold one-block operations for a deferred write-back: a crashed image then ends with records after its history's tail. */
  held?: boolean;
}

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('alloc' as const), order: fc.integer({ min: 0, max: 4 }), count: fc.integer({ min: 1, max: 3 }), owner: fc.constantFrom('', 'a', 'tag-16-bytes-xyz') }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reboot' as const }) },
);

export const recipeArb: fc.Arbitrary<Recipe> = fc.record({
  sizeMiB: fc.constantFrom(4, 6, 8),
  nodes: fc.integer({ min: 1, max: 2 }),
  maxOrder: fc.integer({ min: 2, max: 10 }),
  placement: fc.constantFrom(
    { memmap: 'device' as const, links: 'page' as const },
    { memmap: 'device' as const, links: 'descriptor' as const },
    { memmap: 'ram' as const, links: 'page' as const }, // links in RAM descriptors would not survive a boot
  ),
  movablePercent: fc.constantFrom(0, 50),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 6 }),
  crashed: fc.boolean(),
  held: fc.boolean(),
});

/** Images of the designs that keep their own structures, or none, beside the engine's index (the same steps). */
export const designRecipeArb: fc.Arbitrary<Recipe> = recipeArb.chain((r) =>
  fc.constantFrom<Descriptors>('twoWord', 'memdesc', 'unit2m', 'pool', 'none').map((descriptors) => ({ ...r, placement: { memmap: 'ram' as const, links: 'page' as const, descriptors } })),
);

/** 2m allocates whole units: its images take orders 9 and 10 where the recipe says an order. */
const unitImage = (r: Recipe) => r.placement.descriptors === 'unit2m';

export interface Built {
  recipe: Recipe;
  memmap: 'device' | 'ram';
  links: 'page' | 'descriptor';
  /** The whole image, byte for byte. */
  bytes: Uint8Array;
  /** Head pfns of blocks still allocated, with their orders. */
  allocated: Array<{ pfn: number; order: number }>;
}

/** Plays a recipe on a fresh in-memory image and returns its bytes. */
export function build(recipe: Recipe): Built {
  const sizeBytes = recipe.sizeMiB * MiB;
  const store = new MemoryStore(sizeBytes);
  const maxOrder = unitImage(recipe) ? Math.max(recipe.maxOrder, UNIT_ORDER + 1) : recipe.maxOrder;
  PmemImage.create(store, {
    sizeBytes, nodes: recipe.nodes, maxOrder, ...recipe.placement,
    movablePercent: recipe.movablePercent, uuid: '00000000-0000-4000-8000-00000000f022', nowMs: 0,
  });
  const open = () => {
    const opened = PmemImage.open(store, {});
    if (recipe.held) deferHomeWrites(opened, true);
    return opened;
  };
  let img = open();
  const live: Array<{ pfn: number; order: number }> = [];
  for (const s of recipe.steps) {
    if (s.op === 'alloc') {
      try {
        const order = unitImage(recipe) ? UNIT_ORDER + (s.order % 2) : Math.min(s.order, maxOrder);
        const r = allocOp(img, { order, count: s.count, owner: s.owner });
        for (const b of r.blocks) live.push({ pfn: b.pfn, order: b.order });
      } catch {
        // out of memory in a small image, an owner longer than a two-word allocatee, a full memdesc pool: the recipe goes on
      }
    } else if (s.op === 'free') {
      if (live.length === 0) continue;
      const [b] = live.splice(s.pick % live.length, 1);
      freeOp(img, [b.pfn]);
    } else {
      img.close();
      img = open();
    }
  }
  if (!recipe.crashed) img.close();
  else img.deferred?.drop(); // a power cut: what was held is lost, its records stay
  return { recipe, ...recipe.placement, bytes: store.read(0, sizeBytes), allocated: live };
}

/** A store over a private copy of `bytes` (any length, so truncated and extended images too); counts writes. */
export class BytesStore implements Store {
  readonly bytes: Uint8Array;
  writes = 0;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes.slice();
  }
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    return this.bytes.slice(offset, offset + length);
  }
  write(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    this.writes++;
    this.bytes.set(data, offset);
  }
  flush(): void {}
  close(): void {}
}

export function storeOf(bytes: Uint8Array): BytesStore {
  return new BytesStore(bytes);
}
