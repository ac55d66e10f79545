/** How map cells are encoded between the engine and the renderers (see src/engine/inspect/mapCells.ts). */

/** Channels of a cell's mix, in order; the last one says how much is stale (it overlaps the others). */
export const MIX_CHANNELS = ['metadata', 'memmap', 'free', 'allocated', 'never', 'stale'] as const;
export const MIX_STRIDE = MIX_CHANNELS.length;

/** `tag` values: 0 = several blocks or none; 1 + order for a free block; OWNER_TAG + index into `owners` for an allocated one. */
export const OWNER_TAG = 0x100;

/** Cells at or below this many frames are drawn from real descriptors; above it, from section summaries. */
export const DETAIL_FRAMES_PER_CELL = 16;
