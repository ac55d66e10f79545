/** Shared test helpers: images in memory, and a logical snapshot of allocator state. */
import { PmemImage, CreateOptions, MemoryStore, blocks, sections } from '../../src/engine';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export function newImage(options: Partial<CreateOptions> & { sizeBytes?: number } = {}): { store: MemoryStore; img: PmemImage } {
  const sizeBytes = options.sizeBytes ?? 64 * MiB;
  const store = new MemoryStore(sizeBytes);
  PmemImage.create(store, { uuid: '00000000-0000-4000-8000-000000000001', nowMs: 0, ...options, sizeBytes });
  const img = PmemImage.open(store, {});
  return { store, img };
}

export interface Snapshot {
  /** "pfn:order" of every free block head. */
  free: string[];
  /** "pfn:order:owner" of every allocated block head. */
  allocated: string[];
  /** Sections handed to the allocator. */
  handedOver: number[];
}

/** The allocator's logical state, independent of boot generation and volatile fields. */
export function snapshot(img: PmemImage): Snapshot {
  const free: string[] = [];
  const allocated: string[] = [];
  const handedOver: number[] = [];
  for (const s of sections(img)) {
    if (s.state === 'never') continue;
    if (s.reservedFrames < s.frames) handedOver.push(s.index);
    for (const b of blocks(img, s.firstPfn, s.frames)) {
      if (b.free) free.push(`${b.pfn}:${b.order}`);
      else allocated.push(`${b.pfn}:${b.order}:${b.owner}`);
    }
  }
  return { free, allocated, handedOver };
}
