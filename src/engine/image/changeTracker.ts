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
  private kept?: ImageTotals;

  /**
   * An edit made or redone (`sign` 1) or undone (-1); `changed` undefined
   * for one whose change is not known frame by frame (a boot).
   */
  edited(changed: EditChange | undefined, sign: 1 | -1): ImageChange {
    if (!changed) return this.everything();
    if (this.kept) addTotals(this.kept, changed.totals, sign);
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

  /** The totals of `present` (the image as edited now): counted once, then kept. */
  totals(present: PmemImage): ImageTotals {
    this.kept ??= imageTotals(present);
    return { frames: { ...this.kept.frames }, sections: { ...this.kept.sections } };
  }

  private record(change: ImageChange): ImageChange {
    this.version++;
    this.lastChange = change;
    return change;
  }
}
