/**
 * The changes the map was told of, by state version: what a window of cells
 * worked out over several states must be patched with to show the newest.
 */
import { combineChanges, nothingChanged } from '../engine/image/changeSet';
import type { MapChange } from '../shared/mapPatch';

/** Versions remembered: a window is worked out within a few states. */
const KEPT = 256;

export class MapChangeLog {
  private readonly entries: Array<{ version: number; change: MapChange }> = [];

  /** Notes the change that made `version` (versions come in order). */
  add(version: number, change: MapChange): void {
    this.entries.push({ version, change });
    if (this.entries.length > KEPT) this.entries.shift();
  }

  /** The changes after `version` up to `newest`, when every one is remembered and none changed everything. */
  private after(version: number, newest: number): Array<{ version: number; change: MapChange }> | undefined {
    const later = this.entries.filter((e) => e.version > version && e.version <= newest);
    if (later.length !== newest - version || later.some((e) => e.change.all)) return undefined; // some forgotten or never noted
    return later;
  }

  /** Whether the changes from `version` to `newest` can be patched in (none of them changed everything). */
  patchable(version: number, newest: number): boolean {
    return this.after(version, newest) !== undefined;
  }

  /** The changes from `version` to `newest` as one; undefined when one of them changed everything or is forgotten. */
  since(version: number, newest: number): MapChange | undefined {
    const later = this.after(version, newest);
    if (!later) return undefined;
    const { all, frames, sections } = later.reduce((sum, e) => combineChanges(sum, { ...e.change, freeLists: false }), nothingChanged());
    return { all, frames, sections };
  }
}
