/**
 * The 2m design (seed 002: "fix the stacks to work with 2M pages"): one
 * 64-byte descriptor per 2 MiB unit, on the device, in the memmap region
 * (docs/FORMAT.md); allocations in whole units only (order 9 and up). The
 * descriptor of a block's first unit is its head (allocated, order, owner);
 * the block's other units and every free unit are zero. The engine runs the
 * allocator on its RAM index of the free blocks, as ram64 does, and a boot
 * reads the heads back from the device, so owners and orders survive it at
 * 1/512 of a per-page memmap's size.
 */
import { UsageError } from '../core/errors';
import { DESCRIPTOR_SIZE, PAGE_SIZE } from '../format/constants';
import { checkDescriptorBytes, decodeDescriptor, Descriptor, encodeDescriptorInto, isBlank, PG_ALLOCATED, PG_CORE } from '../format/descriptor';
import type { Geometry, Layout } from '../format/layout';

/** A unit is 2 MiB: a block of order 9. */
export const UNIT_ORDER = 9;
export const UNIT_FRAMES = 2 ** UNIT_ORDER;

export const hasUnitDescriptors = (g: Pick<Geometry, 'descriptors'>): boolean => g.descriptors === 'unit2m';

/** Units of a device: its descriptors on a 2m image. */
export const unitCount = (g: Pick<Geometry, 'totalFrames'>): number => Math.ceil(g.totalFrames / UNIT_FRAMES);

/** Byte offset of the descriptor of the unit holding `pfn`. */
export function unitOffset(layout: Pick<Layout, 'memmap'>, pfn: number): number {
  return layout.memmap.startPfn * PAGE_SIZE + Math.floor(pfn / UNIT_FRAMES) * DESCRIPTOR_SIZE;
}

/** A request below a unit, refused with the reason. */
export function refuseBelowUnit(order: number): void {
  if (order >= UNIT_ORDER) return;
  const kib = 4 * 2 ** order;
  throw new UsageError(`a 2m image allocates whole 2 MiB units: order ${order} (${kib >= 1024 ? `${kib / 1024} MiB` : `${kib} KiB`}) is below order ${UNIT_ORDER}; its one descriptor per 2 MiB cannot describe less (ask for order ${UNIT_ORDER} or more)`);
}

interface Writer {
  write(offset: number, bytes: Uint8Array): void;
}

/** Writes the head unit of an allocated block and zeroes its other units. */
export function writeUnitHead(txn: Writer, layout: Pick<Layout, 'memmap'>, d: Pick<Descriptor, 'pfn' | 'order' | 'node' | 'zone' | 'owner' | 'initGeneration'>): void {
  const units = 2 ** (d.order - UNIT_ORDER);
  const bytes = new Uint8Array(units * DESCRIPTOR_SIZE);
  encodeDescriptorInto({ flags: PG_CORE | PG_ALLOCATED, order: d.order, node: d.node, zone: d.zone, pfn: d.pfn, refcount: 1, initGeneration: d.initGeneration, owner: d.owner, next: 0, prev: 0, volatileFlags: 0 }, bytes, 0);
  txn.write(unitOffset(layout, d.pfn), bytes);
}

/** Zeroes the units of a block being freed. */
export function clearUnits(txn: Writer, layout: Pick<Layout, 'memmap'>, pfn: number, order: number): void {
  txn.write(unitOffset(layout, pfn), new Uint8Array(2 ** Math.max(0, order - UNIT_ORDER) * DESCRIPTOR_SIZE));
}

/**
 * The allocated block whose head unit covers `pfn`, as the device says:
 * its head descriptor, or undefined (free, or never allocated whole). A
 * damaged head reads as none.
 */
export function unitBlockAt(read: (offset: number, length: number) => Uint8Array, layout: Pick<Layout, 'memmap'>, maxOrder: number, pfn: number): Descriptor | undefined {
  for (let o = UNIT_ORDER; o <= maxOrder; o++) {
    const q = pfn - (pfn % 2 ** o);
    const raw = read(unitOffset(layout, q), DESCRIPTOR_SIZE);
    if (isBlank(raw, 0) || !checkDescriptorBytes(raw, 0).ok) continue;
    const d = decodeDescriptor(raw, 0);
    if (d.flags & PG_ALLOCATED && d.pfn === q && q + 2 ** d.order > pfn) return d;
  }
  return undefined;
}
