/** Shared test helpers: images in memory, and a logical snapshot of allocator state. */
import { PmemImage, CreateOptions, MemoryStore, frames, sections } from '../../src/engine';

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
    for (const f of frames(img, s.firstPfn, s.frames)) {
      if (f.blockPfn !== f.pfn) continue;
      if (f.kind === 'free') free.push(`${f.pfn}:${f.order}`);
      if (f.kind === 'allocated') allocated.push(`${f.pfn}:${f.order}:${f.owner}`);
    }
  }
  return { free, allocated, handedOver };
}
