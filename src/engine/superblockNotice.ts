/** One line about a superblock copy an open passed over, for the CLI and the editor to show. */
import type { SuperblockChoice } from './imageCore';

/** Undefined when both copies were valid and agreed. */
export function describeSuperblockChoice(choice: SuperblockChoice): string | undefined {
  const r = choice.rejected;
  if (!r) return undefined;
  const state = r.reason.startsWith('out of date') ? r.reason : `damaged (${r.reason} at byte ${r.faultOffset})`;
  return `${r.copy} superblock at byte ${r.offset} ${state}; opened from the ${choice.used} copy at byte ${choice.usedOffset}`;
}
