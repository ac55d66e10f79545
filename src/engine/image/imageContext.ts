/** What a transaction and the allocator see of an open image (PmemImage implements it). */
import type { Geometry, Layout, NodeInfo } from '../format/layout';
import type { Store } from '../store/store';

/** Everything txn.ts and the allocator need from an open image. */
export interface ImageCore {
  readonly store: Store;
  readonly geometry: Geometry;
  readonly layout: Layout;
  readonly nodes: NodeInfo[];
  readonly bootGeneration: number;
  readonly ram: Map<number, Uint8Array>;
  /** Per node/zone ("node/zone"): first section that may still be never-initialised. */
  readonly neverHint: ReadonlyMap<string, number>;
  memmapOffset(pfn: number): number;
}
