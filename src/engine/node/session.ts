/**
 * An editing session on an image file: what an editor's document holds.
 * Changes stay in a copy-on-write overlay until saved (crash-safely), every
 * operation is an edit with exact undo and redo, and the simulated machine
 * boots on the first operation, not on opening. Node only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyImage } from '../image/copy';
import { PmemImage, VolatileState } from '../image/imageCore';
import { FileStore } from './fileStore';
import { OverlayStore } from '../store/overlayStore';
import { sameFile, writeStoreAtomically } from './atomicFile';
import { RangeSource, readRangeFile, recoverPendingSave, saveRangesAtomically, writeRangeFile } from './atomicSave';
import { FileSpill } from './fileSpill';
import { dropWrites, RecordedWrite, RecordingStore, redoWrites, undoWrites } from '../store/recordingStore';
import { stateAt } from '../inspect/timeline';
import { PointLog, PointWrite } from '../inspect/persistencePoints';
import { UsageError } from '../core/errors';
import { knownProfile } from '../format/profiles';
import { MismatchPolicy, refuseMismatchAsLinux } from '../format/structPageFit';
import { TimeSlice } from '../core/timeSlice';
import type { Store } from '../store/store';
import { changeOfWrites, EditChange } from '../image/changeOfWrites';

/** Unsaved changes kept in RAM up to this many bytes; beyond, in a temporary file (see FileSpill). */
export const UNSAVED_RAM_BUDGET = 64 * 2 ** 20;

/** The overlay that holds a session's unsaved changes over its file. */
function unsavedOverlay(base: Store): OverlayStore {
  return new OverlayStore(base, { ramBudget: UNSAVED_RAM_BUDGET, spill: () => new FileSpill() });
}

/** An overlay's changes as a save takes them: a chunk at a time, never all in RAM. */
function unsavedOf(overlay: OverlayStore): RangeSource {
  return { lengths: overlay.changedSizes(), ranges: () => overlay.changedRanges() };
}

export interface SessionEdit {
  label: string;
  /** Bytes the edit puts back when undone or redone: a large one is undone in slices (undoAsync). */
  readonly bytes: number;
  /** What the edit changed (its undo and redo change the same frames and sections), or undefined for everything (a boot). */
  readonly changed?: EditChange;
  undo(): void;
  redo(): void;
  /** As undo, giving up the thread between slices; a cancel puts back what it did and throws EditCancelled. */
  undoAsync(control?: SliceControl): Promise<void>;
  redoAsync(control?: SliceControl): Promise<void>;
}

/** How a long undo or redo reports progress and learns of a cancel. */
export interface SliceControl {
  cancelled?: () => boolean;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  sliceMs?: number;
}

/** An undo or redo cancelled midway: what it did was put back, the image is as before it. */
export class EditCancelled extends UsageError {
  constructor(what: string) {
    super(`${what} cancelled: the image is as it was before`);
    this.name = 'EditCancelled';
  }
}

interface Moment {
  image: PmemImage;
  volatile: VolatileState;
}

/** Puts back what a failed edit's writes replaced (newest first), in slices, keeping nothing of them. */
async function dropWritesAsync(store: Store, writes: RecordedWrite[]): Promise<void> {
  const slice = new TimeSlice();
  for (let k = writes.length - 1; k >= 0; k--) {
    if (slice.over()) await slice.yieldTurn();
    writes[k].drop(store);
  }
}

/**
 * Undoes (newest first) or redoes (oldest first) recorded writes, giving up
 * the thread between slices; on a cancel it applies the other side of what
 * it did, so the store is as before, and throws EditCancelled.
 */
async function applyWritesAsync(store: Store, writes: RecordedWrite[], undo: boolean, control: SliceControl, what: string): Promise<void> {
  const slice = new TimeSlice(control.sliceMs);
  const total = writes.reduce((n, w) => n + w.length, 0);
  const at = (k: number) => writes[undo ? writes.length - 1 - k : k];
  let done = 0;
  for (let k = 0; k < writes.length; k++) {
    if (slice.over()) {
      control.onProgress?.(done, total);
      await slice.yieldTurn();
      if (control.cancelled?.()) {
        // Swapped again, newest first, each write goes back to what it was.
        for (let j = k - 1; j >= 0; j--) at(j).swap(store);
        throw new EditCancelled(what);
      }
    }
    at(k).swap(store);
    done += at(k).length;
  }
  control.onProgress?.(total, total);
}

export class ImageSession {
  private current: PmemImage;
  private booted = false;
  /** Bumped by reload(): edits made before it no longer apply and do nothing. */
  private epoch = 0;
  /** Bumped by every change, undo and redo, so views know when to refresh. */
  version = 0;
  /** The version last saved: the overlay then holds only the marks of the running machine, which the file need not have. */
  private savedVersion = -1;

  private constructor(
    readonly file: string,
    private base: FileStore,
    private overlay: OverlayStore,
    private recorder: RecordingStore,
    readonly restoredFromBackup: boolean,
  ) {
    this.current = PmemImage.open(overlay, { readOnly: true, file });
  }

  /** Opens a file; `backup` restores unsaved changes kept by a hot exit. Throws ImageError on a bad image. */
  static open(file: string, options: { backup?: string } = {}): ImageSession {
    recoverPendingSave(file);
    const base = FileStore.open(file, { readOnly: true });
    try {
      const overlay = unsavedOverlay(base);
      let restored = false;
      if (options.backup && fs.existsSync(options.backup)) {
        const ranges = readRangeFile(options.backup, base.size);
        if (ranges) {
          for (const r of ranges) overlay.write(r.offset, r.data);
          restored = true;
        }
      }
      return new ImageSession(file, base, overlay, new RecordingStore(overlay), restored);
    } catch (e) {
      base.close();
      throw e;
    }
  }

  /** The image as it is now (read-only until the first operation boots it). */
  get image(): PmemImage {
    return this.current;
  }

  get isBooted(): boolean {
    return this.booted;
  }

  /** Bytes of unsaved changes held in RAM and in the temporary file beyond UNSAVED_RAM_BUDGET. */
  get unsavedBytes(): { ram: number; spilled: number } {
    return this.overlay.heldBytes;
  }

  /** Changes not in the file (the running machine's own marks, kept out of saves, do not count). */
  get dirty(): boolean {
    return this.overlay.dirty && this.version !== this.savedVersion;
  }

  /**
   * Runs `fn` with the image as a clean shutdown of the running machine would
   * leave it, then puts the running machine back: what is saved (or kept for a
   * hot exit, or copied by Save As) never claims a power failure that did not
   * happen. Putting it back writes the running machine's bytes into the
   * overlay, so after a save the overlay holds just what it differs by from
   * the file. A machine that is off is left as it is, a crash included.
   */
  private asShutDown<T>(fn: () => T): T {
    if (!this.booted || this.current.dead) return fn();
    const volatile = this.current.captureVolatile();
    this.recorder.take();
    this.current.shutdown();
    const writes = this.recorder.take();
    try {
      return fn();
    } finally {
      dropWrites(this.overlay, writes);
      this.current.restoreVolatile(volatile);
    }
  }

  private moment(): Moment {
    return { image: this.current, volatile: this.current.captureVolatile() };
  }

  private edit(label: string, before: Moment & { booted: boolean }, writes: RecordedWrite[], all = false): SessionEdit {
    const after = { ...this.moment(), booted: this.booted };
    const changed = all ? undefined : { ...changeOfWrites(this.current, writes, before.volatile.ram, after.volatile.ram), version: this.version + 1 };
    this.version++;
    const epoch = this.epoch;
    const settle = (m: Moment & { booted: boolean }) => {
      this.current = m.image;
      this.current.restoreVolatile(m.volatile);
      this.booted = m.booted;
      this.version++;
    };
    const go = (m: Moment & { booted: boolean }, apply: () => void) => {
      if (epoch !== this.epoch) return; // made before a reload: the bytes it would restore are gone
      this.assertIdle();
      apply();
      settle(m);
    };
    const goAsync = async (m: Moment & { booted: boolean }, undo: boolean, control: SliceControl) => {
      if (epoch !== this.epoch) return;
      const what = `${undo ? 'Undo' : 'Redo'} of "${label}"`;
      this.assertIdle();
      this.busy = what;
      try {
        await applyWritesAsync(this.overlay, writes, undo, control, what);
      } finally {
        this.busy = undefined;
      }
      settle(m);
    };
    const bytes = writes.reduce((n, w) => n + w.length, 0);
    return {
      label,
      bytes,
      changed,
      undo: () => go(before, () => undoWrites(this.overlay, writes)),
      redo: () => go(after, () => redoWrites(this.overlay, writes)),
      undoAsync: (control = {}) => goAsync(before, true, control),
      redoAsync: (control = {}) => goAsync(after, false, control),
    };
  }

  /**
   * Runs read-only work that yields (a check): changes are refused until it
   * ends, so what it reports is the state the user saw when it began.
   */
  async inspectAsync<R>(label: string, work: (img: PmemImage) => Promise<R>): Promise<R> {
    this.assertIdle();
    this.busy = label;
    try {
      return await work(this.current);
    } finally {
      this.busy = undefined;
    }
  }

  /** Boots the simulated machine if it is off; the returned edit undoes the boot. */
  bootIfNeeded(profile?: string): SessionEdit | undefined {
    this.assertIdle();
    return this.booted ? undefined : this.boot(profile);
  }

  /** Set while an operation that yields (performAsync) is under way: nothing else may change the image meanwhile. */
  private busy: string | undefined;

  private assertIdle(): void {
    if (this.busy) throw new UsageError(`"${this.busy}" is still under way on this image: wait for it or cancel it`);
  }

  /** True while an operation that yields between its transactions is under way. */
  get operationUnderWay(): string | undefined {
    return this.busy;
  }

  /**
   * As perform, for an operation that yields to the event loop between its
   * transactions (a large allocation): other changes are refused meanwhile,
   * and if it fails or is cancelled every byte it wrote is put back.
   */
  async performAsync<R>(label: string, op: (img: PmemImage) => Promise<R>): Promise<{ result: R; edit: SessionEdit }> {
    if (!this.booted) throw new UsageError('the simulated machine is off: boot it first');
    this.assertIdle();
    this.busy = label;
    const before = { ...this.moment(), booted: this.booted };
    this.recorder.take();
    try {
      const result = await op(this.current);
      return { result, edit: this.edit(label, before, this.recorder.take()) };
    } catch (e) {
      // Put back in slices too: what it wrote can be as large as what it did; nothing of it is kept (it is never redone).
      await dropWritesAsync(this.overlay, this.recorder.take());
      this.current.restoreVolatile(before.volatile);
      throw e;
    } finally {
      this.busy = undefined;
    }
  }

  /** Runs an operation on the booted machine (call bootIfNeeded first); all or nothing. */
  perform<R>(label: string, op: (img: PmemImage) => R): { result: R; edit: SessionEdit } {
    if (!this.booted) throw new UsageError('the simulated machine is off: boot it first');
    this.assertIdle();
    const before = { ...this.moment(), booted: this.booted };
    this.recorder.take();
    try {
      const result = op(this.current);
      return { result, edit: this.edit(label, before, this.recorder.take()) };
    } catch (e) {
      // The operation was all-or-nothing in the engine; drop any partial log.
      dropWrites(this.overlay, this.recorder.take());
      this.current.restoreVolatile(before.volatile);
      throw e;
    }
  }

  private boot(profile?: string): SessionEdit {
    this.assertIdle();
    const before = { ...this.moment(), booted: this.booted };
    this.recorder.take();
    this.current = PmemImage.open(this.recorder, { file: this.file, profile, gatheredCheckpointsOnly: true });
    this.booted = true;
    return this.edit(`Boot generation ${this.current.bootGeneration}`, before, this.recorder.take(), true);
  }

  /** A clean reboot (optionally into another profile), as one edit. */
  reboot(profile?: string, onMismatch?: MismatchPolicy): SessionEdit {
    this.assertIdle();
    // As Linux: refused before the shutdown, so the running machine goes on as it was.
    if (onMismatch === 'linux' && profile !== undefined) refuseMismatchAsLinux(this.current.geometry.memmap, knownProfile(profile));
    const before = { ...this.moment(), booted: this.booted };
    this.recorder.take();
    if (this.booted) this.current.shutdown();
    this.current = PmemImage.open(this.recorder, { file: this.file, profile, gatheredCheckpointsOnly: true });
    this.booted = true;
    return this.edit(`Reboot into generation ${this.current.bootGeneration} (${this.current.sb.profile})`, before, this.recorder.take(), true);
  }

  /**
   * The writes `op` would make on the running machine, one per persistence
   * point, none of them kept: what a crash after each point would leave.
   */
  dryRun(op: (img: PmemImage) => void): PointWrite[] {
    if (!this.booted) throw new UsageError('the simulated machine is off: boot it first');
    this.assertIdle();
    const before = this.moment();
    this.recorder.take();
    const img = this.current;
    const base = img.store;
    const log = new PointLog(base);
    img.store = log;
    try {
      op(img);
    } finally {
      img.store = base;
      dropWrites(this.overlay, this.recorder.take());
      img.restoreVolatile(before.volatile);
    }
    return log.writes;
  }

  /**
   * Power failure after `afterPoints` persistence points of `op`, then a boot
   * with recovery, as one edit. Returns whether the failure struck mid-operation.
   */
  crashAndReboot(afterPoints: number, label: string, op: (img: PmemImage) => void, profile?: string): { edit: SessionEdit; crashed: boolean; points: number } {
    if (!this.booted) throw new UsageError('the simulated machine is off: boot it first');
    this.assertIdle();
    const before = { ...this.moment(), booted: this.booted };
    this.recorder.take();
    const r = this.current.simulateCrash(afterPoints, op);
    this.current = PmemImage.open(this.recorder, { file: this.file, profile, gatheredCheckpointsOnly: true });
    const edit = this.edit(`Crash during ${label} after ${r.points} point(s), reboot`, before, this.recorder.take(), true);
    return { crashed: r.crashed, points: r.points, edit };
  }

  /** A read-only view of the image after a history step; never changes anything. */
  viewAt(step: number): PmemImage {
    return stateAt(this.current, step);
  }

  /**
   * Writes the changes into the file crash-safely, as after a clean shutdown
   * (closing the editor is one); the machine keeps running in the session.
   */
  save(): void {
    this.assertIdle();
    if (!this.dirty) return;
    this.asShutDown(() => {
      saveRangesAtomically(this.file, unsavedOf(this.overlay));
      this.overlay.discard();
    });
    this.savedVersion = ++this.version;
  }

  /**
   * Writes the image as it is now to another file (sparse, complete) through a
   * temporary file beside the target and a rename: an existing target is
   * replaced whole, or left as it was if anything fails.
   */
  saveAs(target: string): void {
    this.assertIdle();
    if (path.resolve(target) === path.resolve(this.file) || sameFile(target, this.file)) return this.save();
    writeStoreAtomically(target, this.base.size, (store) => this.asShutDown(() => copyImage(this.current, store)));
  }

  /**
   * Drops unsaved changes, powers the simulated machine off and reads the file
   * again (it may have been replaced on disk). Earlier edits stop applying.
   * Throws ImageError, keeping the session as it was, if the file is no longer a valid image.
   */
  revert(): void {
    this.assertIdle();
    recoverPendingSave(this.file);
    const base = FileStore.open(this.file, { readOnly: true });
    let image: PmemImage;
    const overlay = unsavedOverlay(base);
    try {
      image = PmemImage.open(overlay, { readOnly: true, file: this.file });
    } catch (e) {
      base.close();
      throw e;
    }
    this.overlay.close();
    this.base.close();
    this.base = base;
    this.overlay = overlay;
    this.recorder = new RecordingStore(overlay);
    this.current = image;
    this.booted = false;
    this.epoch++;
    this.version++;
  }

  /** Keeps unsaved changes in `target` so a later session can restore them. */
  backup(target: string): void {
    this.asShutDown(() => writeRangeFile(target, unsavedOf(this.overlay), this.base.size));
  }

  close(): void {
    this.overlay.close();
    this.base.close();
  }

  assertUsable(): void {
    if (this.current.dead) throw new UsageError('the simulated machine crashed and did not reboot');
  }
}
