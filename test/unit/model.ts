/**
 * A reference model of the allocator, independent of the engine: which
 * sections are handed over and which blocks are allocated. From these it
 * derives the one free-block layout a buddy allocator must have (every free
 * run split greedily into the largest aligned blocks, within zones), so the
 * engine's free lists are checked against first principles, not against itself.
 */
import type { PmemImage } from '../../src/engine';
import type { Snapshot } from './helpers';

export interface ModelRequest {
  order: number;
  count?: number;
  node?: number;
  strict?: boolean;
  zone?: 'dma32' | 'normal' | 'movable';
  owner?: string;
}

const ZONE_INDEX = { dma32: 0, normal: 1, movable: 2 } as const;

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

  /** Data frames of never-initialised sections count as free when `withNever`: lazy init hands them over on demand. */
  private freeBitmap(withNever = false): Uint8Array {
    const { geometry: g, layout: L } = this.img;
    const free = new Uint8Array(g.totalFrames);
    for (let s = 0; s < g.sectionCount; s++) {
      if (!this.handed.has(s) && !withNever) continue;
      const a = Math.max(s * g.sectionFrames, L.data.startPfn);
      const b = Math.min((s + 1) * g.sectionFrames, L.data.startPfn + L.data.frames);
      free.fill(1, a, Math.max(a, b));
    }
    for (const [pfn, a] of this.allocated) free.fill(0, pfn, pfn + 2 ** a.order);
    return free;
  }

  /** True if every frame of the block is free in the model (used to vet the engine's choices). */
  isFree(pfn: number, order: number, withNever = false): boolean {
    const free = this.freeBitmap(withNever);
    for (let i = pfn; i < pfn + 2 ** order; i++) if (!free[i]) return false;
    return true;
  }

  /** Every free run of each zone split greedily into the largest aligned blocks: the layout maximal merging gives. */
  private maximalBlocks(free: Uint8Array): Array<{ pfn: number; order: number; node: number; zone: number }> {
    const out: Array<{ pfn: number; order: number; node: number; zone: number }> = [];
    const max = this.img.geometry.maxOrder;
    for (const n of this.img.nodes) {
      n.zones.forEach((z, zone) => {
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
            out.push({ pfn: p, order: o, node: n.id, zone });
            p += 2 ** o;
          }
        }
      });
    }
    return out;
  }

  expectedFreeBlocks(): string[] {
    return this.maximalBlocks(this.freeBitmap()).sort((a, b) => a.pfn - b.pfn).map((b) => `${b.pfn}:${b.order}`);
  }

  /** The zones a request may use, in the order the allocator must try them (preferred node first, zones from the highest allowed down). */
  allowedZones(req: ModelRequest): Array<{ node: number; zone: number }> {
    const nodes = [req.node ?? 0, ...this.img.nodes.map((n) => n.id).filter((id) => id !== (req.node ?? 0) && !req.strict)];
    const top = ZONE_INDEX[req.zone ?? 'normal'];
    const out: Array<{ node: number; zone: number }> = [];
    for (const node of nodes) for (let zone = top; zone >= 0; zone--) if (this.img.nodes[node].zones[zone].frames > 0) out.push({ node, zone });
    return out;
  }

  /** Disjoint aligned free blocks of `order` a zone can give, never-initialised sections included. */
  capacity(order: number, node: number, zone: number): number {
    return this.maximalBlocks(this.freeBitmap(true))
      .filter((b) => b.node === node && b.zone === zone && b.order >= order)
      .reduce((sum, b) => sum + 2 ** (b.order - order), 0);
  }

  /** Whether a buddy allocator with maximal merging must satisfy the request (all `count` blocks). */
  canAllocate(req: ModelRequest): boolean {
    const count = req.count ?? 1;
    return this.allowedZones(req).reduce((sum, z) => sum + this.capacity(req.order, z.node, z.zone), 0) >= count;
  }

  /**
   * Why the engine's answer to a request is wrong, or undefined if it is
   * right: each block must come from the first allowed zone that can give one,
   * be aligned and free, and lie in a free block of the smallest sufficient
   * order (lazy init hands a zone's lowest never-initialised section over only
   * when no such block is left). Does not change this model.
   */
  judgeAllocation(req: ModelRequest, blocks: Array<{ pfn: number; order: number; node: number; zone: number }>): string | undefined {
    const m = this.clone();
    const g = this.img.geometry;
    const zones = this.allowedZones(req);
    for (const [i, b] of blocks.entries()) {
      const where = `block ${i} (pfn ${b.pfn}, order ${b.order}, node ${b.node}, zone ${b.zone})`;
      if (b.order !== req.order || b.pfn % 2 ** b.order !== 0) return `${where}: wrong order or not aligned`;
      const first = zones.find((z) => m.capacity(req.order, z.node, z.zone) > 0);
      if (!first || first.node !== b.node || first.zone !== b.zone) return `${where}: should come from ${first ? `node ${first.node} zone ${first.zone}` : 'nowhere (out of memory)'}`;
      if (!m.isFree(b.pfn, b.order, true)) return `${where}: not free`;
      const handedBlocks = m.maximalBlocks(m.freeBitmap()).filter((x) => x.node === b.node && x.zone === b.zone && x.order >= req.order);
      if (handedBlocks.length > 0) {
        const smallest = Math.min(...handedBlocks.map((x) => x.order));
        if (!handedBlocks.some((x) => x.order === smallest && x.pfn <= b.pfn && b.pfn < x.pfn + 2 ** x.order)) return `${where}: not in a free block of the smallest sufficient order ${smallest}`;
      } else {
        // Lazy init: the zone's never-initialised sections are handed over lowest first, up to the one the block ends in.
        const z = this.img.nodes[b.node].zones[b.zone];
        const last = Math.floor((b.pfn + 2 ** b.order - 1) / g.sectionFrames);
        for (let s = Math.floor(z.firstPfn / g.sectionFrames); s <= last; s++) m.handed.add(s);
      }
      m.allocated.set(b.pfn, { order: b.order, owner: req.owner ?? '' });
    }
    return undefined;
  }

  expected(): Snapshot {
    return {
      free: this.expectedFreeBlocks(),
      allocated: [...this.allocated].sort((a, b) => a[0] - b[0]).map(([p, a]) => `${p}:${a.order}:${a.owner}`),
      handedOver: [...this.handed].sort((a, b) => a - b),
    };
  }
}
