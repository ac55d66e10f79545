/** What to say about a superblock copy an open passed over, for the CLI and the editor to show. */
import type { SuperblockChoice } from './imageCore';

/** Undefined when both copies were valid and agreed. */
export function describeSuperblockChoice(choice: SuperblockChoice): string | undefined {
  const r = choice.rejected;
  if (!r) return undefined;
  const state = r.reason.startsWith('out of date') ? r.reason : `damaged (${r.reason} at byte ${r.faultOffset})`;
  return `${r.copy} superblock at byte ${r.offset} ${state}; opened from the ${choice.used} copy at byte ${choice.usedOffset}`;
}

/** The editor's warning for an image opened from one copy; `canRepair` when the document is writable (its Repair action reboots). */
export function superblockEditorWarning(name: string, choice: SuperblockChoice, canRepair: boolean): string | undefined {
  const note = describeSuperblockChoice(choice);
  if (!note) return undefined;
  const how = canRepair ? 'Repair reboots the simulated machine, which rewrites both copies (undoable; saved with the image).' : 'Run `pmem reboot FILE` to rewrite both copies.';
  return `${name}: ${note}. ${how}`;
}
