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
