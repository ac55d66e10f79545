/** Fixed constants of the on-media format (docs/FORMAT.md is the reference). */

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
/** The core descriptor: the only layout promised across kernel profiles. */
export const DESCRIPTOR_SIZE = 64;
/**
 * The version this build writes. Readers refuse versions they do not list in
 * READABLE_VERSIONS: their fields may mean something else. Version 1 lacks
 * only the operation intent slot (all zero there), so it is read as is and
 * upgraded by its first boot.
 */
export const FORMAT_VERSION = 2;
export const READABLE_VERSIONS: readonly number[] = [1, 2];
/**
 * Revisions add fields an older reader can safely ignore when reading, but
 * would not keep up to date when writing: a newer revision opens read-only.
 */
export const FORMAT_REVISION = 4;
/** The revision an image is raised to when it first holds a replayed trace (history kind 5); images without one stay at 0. */
export const REVISION_REPLAY = 1;
/** The revision an image is raised to before its history first keeps an operation as its inverse (undo entry type 7). */
export const REVISION_INVERSE = 2;
/** The revision an image is raised to before its history may hold records after the header's tail: operations whose home structures are written back later (image/deferredHome.ts). */
export const REVISION_DEFERRED = 3;
/** The revision an image is raised to before its history may keep an inverse that puts blocks back where they stood in their lists (undo entry type 7, tag bit 4). */
export const REVISION_PLACED = 4;

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** Lazy-init section sizes offered at creation. */
export const SECTION_SIZES = [2 * MiB, GiB] as const;

export const MAX_NODES = 8;
export const MAX_ORDER_LIMIT = 18; // 2^18 pages = 1 GiB blocks
export const DEFAULT_MAX_ORDER = 10; // 4 MiB blocks, as in Linux
export const MIN_IMAGE_BYTES = 4 * MiB;
/** The largest device the 32-bit section counters and u32 frame counts allow comfortably. */
export const MAX_IMAGE_BYTES = 16 * TiB;

/** Zone ids (as in Linux, minus the zones a pmem device never has). */
export const ZONE_DMA32 = 0;
export const ZONE_NORMAL = 1;
export const ZONE_MOVABLE = 2;
export const ZONE_COUNT = 3;
export const ZONE_NAMES = ['DMA32', 'Normal', 'Movable'] as const;
/** DMA32 covers physical addresses below 4 GiB. */
export const DMA32_LIMIT_PFN = (4 * GiB) / PAGE_SIZE;

/** pfn 0 holds the primary superblock and is never free, so 0 doubles as "no pfn" in links. */
export const NO_PFN = 0;
