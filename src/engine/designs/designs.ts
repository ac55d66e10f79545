/**
 * The descriptor designs the threads argued (../docs/FORMAT.md, README's
 * Designs): each is a way to keep the state of every page frame. The engine
 * runs those marked built; the others are named so that a request for one is
 * told plainly that it does not run yet, and which do.
 */
import { UsageError } from '../core/errors';
import type { Geometry, GeometryOptions } from '../format/layout';

export const DESIGN_NAMES = ['core64', 'ram64', 'two-word', 'memdesc', '2m', 'dynamic', 'pfn-only'] as const;
export type DesignName = (typeof DESIGN_NAMES)[number];

export interface Design {
  name: DesignName;
  /** One line: where the descriptors live and how large they are. */
  summary: string;
  /** Where the threads argued it. */
  source: string;
  /** The engine runs it: images are created with it and every operation, reboot and crash works. */
  built: boolean;
  /** What an image of this design is created with (built designs only). */
  geometry?: Pick<GeometryOptions, 'memmap' | 'descriptors'>;
  /** What `pmem check` verifies on an image of this design, and what it cannot (built designs only). */
  checks?: { verifies: string; cannot: string };
}

export const DESIGNS: readonly Design[] = [
  {
    name: 'core64', built: true, geometry: { memmap: 'device' },
    checks: {
      verifies: 'every descriptor on the device (CRC, pfn, node, zone, generation, flags, order), every block, the free lists and their link records, the section counts',
      cannot: 'the extended fields (in RAM only)',
    },
    summary: 'a 64-byte core descriptor per 4 KiB frame on the device; the extended part of the running profile in RAM',
    source: 'seed 000 (Ingo Molnar, 2013: a fixed core ABI on the device, debug fields beside it)',
  },
  {
    name: 'ram64', built: true, geometry: { memmap: 'ram' },
    checks: {
      verifies: 'the free lists and their link records, the blocks and the section counts of the descriptors this boot rebuilt',
      cannot: 'descriptors across a boot (none are kept): the owner and order of an allocated block are not on the device',
    },
    summary: 'the same 64-byte descriptors in RAM, rebuilt at every boot from the free blocks\' link records',
    source: 'seed 000 (small pmem keeps its memmap in ordinary RAM, volatile)',
  },
  {
    name: 'two-word', built: true, geometry: { memmap: 'ram', descriptors: 'twoWord' },
    checks: {
      verifies: 'the free lists and their link records, the blocks and the section counts, and every frame\'s two words against them: each head\'s state and order, an allocated head\'s owner, no word where no block starts (in the sections handed over)',
      cannot: 'an owner changed in its allocatee word (the words carry no checksum), a reference count (there is none), an owner beyond 8 bytes',
    },
    summary: 'a 16-byte descriptor of two words, allocator and allocatee, on the device; node and zone from the pfn, no reference count',
    source: 'seed 004 (the 2021 proposal)',
  },
  {
    name: 'memdesc', built: true, geometry: { memmap: 'ram', descriptors: 'memdesc' },
    checks: {
      verifies: 'the free lists and their link records, the blocks and the section counts, every page\'s word against its block, each allocation\'s pool descriptor (checksum, pfn, order, owner), and the pool as a whole: a slot no word points to (a leak) or two blocks on one slot',
      cannot: 'an owner changed in a pool descriptor whose checksum was recomputed (nothing else records it)',
    },
    summary: 'an 8-byte word per page pointing to one descriptor per allocation, from a pool on the device',
    source: 'Linux\'s memdesc plan (Matthew Wilcox)',
  },
  {
    name: '2m', built: true, geometry: { memmap: 'ram', descriptors: 'unit2m' },
    checks: {
      verifies: 'the free lists and their link records, the blocks and the section counts, and every unit descriptor against them: each allocated block\'s head (checksum, pfn, order, owner), blank units elsewhere, and a block a damaged head lost at a boot',
      cannot: 'an owner changed in a unit head whose checksum was recomputed (nothing else records it); what a block smaller than a unit would be (none can exist)',
    },
    summary: 'one 64-byte descriptor per 2 MiB, on the device; allocations in whole 2 MiB units',
    source: 'seed 002 ("fix the stacks to work with 2M pages")',
  },
  {
    name: 'dynamic', built: true, geometry: { memmap: 'ram', descriptors: 'pool' },
    checks: {
      verifies: 'the free lists and their link records, that free blocks do not overlap, and the section counts (the pool is RAM only)',
      cannot: 'anything about an allocated frame not under I/O: its owner, the order of its block, whether it is in use at all',
    },
    summary: 'no memmap; descriptors from a pool in RAM, attached only while a frame is under I/O',
    source: 'seed 003 (Linus Torvalds: a dynamic struct page; Dan Williams: a pool of struct pages for pmem pfns under I/O)',
  },
  {
    name: 'pfn-only', built: true, geometry: { memmap: 'ram', descriptors: 'none' },
    checks: {
      verifies: 'the free lists and their link records (the only state there is), that free blocks do not overlap, and the section counts',
      cannot: 'anything about an allocated frame: its owner, the order of its block, whether it is in use at all (a leak) or freed twice from inside a free block',
    },
    summary: 'no descriptors at all; free-page state only in the free pages (a free needs its order from the caller)',
    source: 'seed 002 (Rik van Riel: "1.5 % overhead ... appears to be unnecessary")',
  },
];

const BUILT = () => DESIGNS.filter((d) => d.built).map((d) => d.name).join(', ');

/** The design called `name`, if the engine runs it; a UsageError that says which do otherwise. */
export function builtDesign(name: string): Design & { geometry: Pick<GeometryOptions, 'memmap' | 'descriptors'> } {
  const d = DESIGNS.find((x) => x.name === name);
  if (!d) throw new UsageError(`no design "${name}": the designs are ${DESIGN_NAMES.join(', ')}`);
  if (!d.built || !d.geometry) throw new UsageError(`design ${name} (${d.summary}) does not run yet; the designs that run are ${BUILT()}`);
  return d as Design & { geometry: Pick<GeometryOptions, 'memmap' | 'descriptors'> };
}

/** The design an image runs, from its geometry. */
export function designOf(g: Pick<Geometry, 'memmap' | 'descriptors'>): DesignName {
  if (g.descriptors === 'none') return 'pfn-only';
  if (g.descriptors === 'pool') return 'dynamic';
  if (g.descriptors === 'unit2m') return '2m';
  if (g.descriptors === 'twoWord') return 'two-word';
  if (g.descriptors === 'memdesc') return 'memdesc';
  return g.memmap === 'ram' ? 'ram64' : 'core64';
}
