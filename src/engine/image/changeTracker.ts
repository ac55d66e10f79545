/**
 * Follows the changes of an edited image for its views: what the last change
 * changed, and the image's totals kept up to date from each edit's share
 * instead of being counted again over the whole section table.
 */
import { imageTotals, ImageTotals } from '../inspect/totals';
import { addTotals, EditChange } from './changeOfWrites';
import { everythingChanged, ImageChange, nothingChanged } from './changeSet';
import type { PmemImage } from './imageCore';

export class ChangeTracker {
  /** What the last change changed. */
  lastChange: ImageChange = nothingChanged();
  /** Bumped by every change. */
  version = 0;
  /** The totals kept, and the session's version they are of. */
  private kept?: { totals: ImageTotals; version: number };

  /**
   * An edit made or redone (`sign` 1) or undone (-1), once applied at the
   * session's version `appliedAt` (an edit's own, when it was just made);
   * `changed` undefined for one whose change is not known frame by frame (a boot).
   * Totals counted at that version or later hold it already.
   */
  edited(changed: EditChange | undefined, sign: 1 | -1, appliedAt = changed?.version ?? 0): ImageChange {
    if (!changed) return this.everything();
    if (this.kept && this.kept.version < appliedAt) {
      addTotals(this.kept.totals, changed.totals, sign);
      this.kept.version = appliedAt;
    }
    return this.record(changed.change);
  }

  /** A change not known in detail (a revert, another history step shown): views reread everything. */
  everything(): ImageChange {
    this.kept = undefined;
    return this.record(everythingChanged());
  }

  /** A change that leaves what views show as it was (a save). */
  nothing(): ImageChange {
    return this.record(nothingChanged());
  }

  /** The totals of `present`, the image as edited now, at the session's `version`: counted once, then kept. */
  totals(present: PmemImage, version: number): ImageTotals {
    this.kept ??= { totals: imageTotals(present), version };
    const t = this.kept.totals;
    return { frames: { ...t.frames }, sections: { ...t.sections } };
  }

  private record(change: ImageChange): ImageChange {
    this.version++;
    this.lastChange = change;
    return change;
  }
}
