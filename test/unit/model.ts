/**
 * A reference model of the allocator, independent of the engine: which
 * sections are handed over and which blocks are allocated. From these it
 * derives the one free-block layout a buddy allocator must have (every free
 * run split greedily into the largest aligned blocks, within zones), so the
 * engine's free lists are checked against first principles, not against itself.
 */
import type { PmemImage } from '../../src/engine';
import type { Snapshot } from './helpers';

export class Model {
  readonly handed = new Set<number>();
  readonly allocated = new Map<number, { order: number; owner: string }>();

  constructor(private readonly img: PmemImage) {}

  clone(): Model {
    const m = new Model(this.img);
    this.handed.forEach((s) => m.handed.add(s));
    this.allocated.forEach((v, k) => m.allocated.set(k, { ...v }));
    return m;
  }

  /** What a reboot does to a volatile memmap: allocated blocks come back as order-0 frames of unknown owner. */
  forgetAllocationDetails(): void {
    const old = [...this.allocated];
    this.allocated.clear();
    for (const [pfn, a] of old) for (let i = 0; i < 2 ** a.order; i++) this.allocated.set(pfn + i, { order: 0, owner: '' });
  }

  private freeBitmap(): Uint8Array {
    const { geometry: g, layout: L } = this.img;
    const free = new Uint8Array(g.totalFrames);
    for (const s of this.handed) {
      const a = Math.max(s * g.sectionFrames, L.data.startPfn);
      const b = Math.min((s + 1) * g.sectionFrames, L.data.startPfn + L.data.frames);
      free.fill(1, a, Math.max(a, b));
    }
    for (const [pfn, a] of this.allocated) free.fill(0, pfn, pfn + 2 ** a.order);
    return free;
  }

  /** True if every frame of the block is free in the model (used to vet the engine's choices). */
  isFree(pfn: number, order: number): boolean {
    const free = this.freeBitmap();
    for (let i = pfn; i < pfn + 2 ** order; i++) if (!free[i]) return false;
    return true;
  }

  expectedFreeBlocks(): string[] {
    const free = this.freeBitmap();
    const out: Array<[number, number]> = [];
    const max = this.img.geometry.maxOrder;
    for (const n of this.img.nodes) {
      for (const z of n.zones) {
        let p = z.firstPfn;
        const end = z.firstPfn + z.frames;
        while (p < end) {
          if (!free[p]) {
            p++;
            continue;
          }
          let runEnd = p;
          while (runEnd < end && free[runEnd]) runEnd++;
          while (p < runEnd) {
            let o = 0;
            while (o < max && p % 2 ** (o + 1) === 0 && p + 2 ** (o + 1) <= runEnd) o++;
            out.push([p, o]);
            p += 2 ** o;
          }
        }
      }
    }
    return out.sort((a, b) => a[0] - b[0]).map(([p, o]) => `${p}:${o}`);
  }

  expected(): Snapshot {
    return {
      free: this.expectedFreeBlocks(),
      allocated: [...this.allocated].sort((a, b) => a[0] - b[0]).map(([p, a]) => `${p}:${a.order}:${a.owner}`),
      handedOver: [...this.handed].sort((a, b) => a - b),
    };
  }
}
