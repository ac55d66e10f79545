/** Plain words for engine states, shared by the views and the map so both say the same thing. */

const FRAME_WORDS: Record<string, string> = {
  uninitialized: 'not yet initialised',
  unknown: 'in no block',
  memmap: 'memmap (descriptors)',
};

/** A frame's state; metadata frames by their region's name. */
export function frameStateWords(kind: string, region?: string): string {
  if (kind === 'metadata' && region) return region;
  return FRAME_WORDS[kind] ?? kind;
}

export function sectionStateWords(state: string): string {
  return state === 'never' ? 'never initialised' : state === 'initialized' ? 'initialised' : state;
}

/** What the memmap region holds, by the image's design, for the map's legend. */
const MEMMAP_WORDS: Record<string, string> = {
  core64: 'memmap (a 64-byte descriptor per frame, on the device)',
  'two-word': 'memmap (two-word descriptors, 16 bytes a frame, on the device)',
  memdesc: 'memmap (memdesc page words and their pool, on the device)',
  '2m': 'memmap (a descriptor per 2 MiB unit, on the device)',
};

export function memmapLegendWords(design: string): string {
  return MEMMAP_WORDS[design] ?? 'memmap (descriptors on the device)';
}
