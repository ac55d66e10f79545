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

/** An image's deferred write-back (image/deferredHome.ts), as the image drives it. */
export interface DeferredWriteBack {
  /** Whether operations left home structures in RAM. */
  readonly pending: boolean;
  /** Writes them back (one journal transaction). */
  writeBack(): void;
  /** The image's store was replaced by another view of the same device (a simulated crash wraps it). */
  rebase(store: Store): void;
  /** Forgets them: the RAM state is lost (a crash); the next boot redoes their operations. */
  drop(): void;
}
