/** The custom-editor document: an ImageSession, or the error that kept the image from opening. */
import * as vscode from 'vscode';
import { escapeIcons, escapeNotification } from '../shared/plainText';
import { formatBytes } from '../engine/core/units';
import type { LongWork } from './longWork';
import { isRefusal } from './refusal';
import { UsageError, writeRefusal } from '../engine';
import { DiskWatcher } from './diskWatcher';
import { EditCancelled, ImageSession, SessionEdit } from '../engine/node/session';
import { ChangeTracker } from '../engine/image/changeTracker';
import { everythingChanged, ImageChange } from '../engine/image/changeSet';
import { imageTotals, ImageTotals } from '../engine/inspect/totals';

/** Where a change of the selected frame came from: a map, the Descriptors view, or a command (Go to Frame, Reveal on Map, Allocate). */
export type SelectionSource = 'map' | 'descriptors' | 'command';

export interface SelectionChange {
  readonly pfn: number;
  /** Bumped by every change: the last one is the selection. */
  readonly seq: number;
  readonly source: SelectionSource;
  /** The map that made the change, when a map did. */
  readonly origin?: object;
  /** Whether the Descriptors view should show it (a click or Enter on the map, a command; not the arrow keys). */
  readonly reveal: boolean;
  /** Whether the Descriptors view should also take the focus (Go to Frame). */
  readonly focusTree?: boolean;
  /** Whether maps should zoom in until the frame is a cell of its own (Go to Frame, Reveal on Map). */
  readonly zoom?: boolean;
}

/** An edit on VS Code's undo stack, and whether the image holds it now. */
interface StackEntry {
  edit: SessionEdit;
  applied: boolean;
  /** Left on the undo stack by a cancelled redo, and overtaken by a newer edit: undo and redo do nothing. */
  dead?: boolean;
}

/** An undo or redo putting back more bytes than this runs in slices, with progress and Cancel. */
export const LARGE_EDIT_BYTES = 4 * 1024 * 1024;

export class PmemDocument implements vscode.CustomDocument {
  private readonly stateEmitter = new vscode.EventEmitter<ImageChange>();
  /** Fires after any change of state (an edit, undo, redo, save, revert, another step shown) with what it changed. */
  readonly onDidChangeState = this.stateEmitter.event;
  private readonly tracker = new ChangeTracker();
  private readonly editEmitter = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<PmemDocument>>();
  readonly onDidEdit = this.editEmitter.event;
  private readonly selectionEmitter = new vscode.EventEmitter<SelectionChange>();
  /** Fires after every change of the selected frame; maps and the Descriptors view follow it. */
  readonly onDidChangeSelection = this.selectionEmitter.event;
  private selectionState?: SelectionChange;

  private constructor(
    readonly uri: vscode.Uri,
    readonly session: ImageSession | undefined,
    readonly error: Error | undefined,
    /** Why the image is read-only (untrusted workspace, newer format revision), or undefined when writable. */
    readonly readOnlyReason: string | undefined,
    /** Where long work on this image runs (shared by every image: one at a time). */
    readonly work: LongWork,
  ) {
    this.watcher = new DiskWatcher(this);
    if (session?.restoredFromBackup) this.savedAt = -1; // unsaved changes came back from a hot exit
  }

  private readonly watcher: DiskWatcher;

  /** Call after this extension wrote the file, so the write is not taken for another program's. */
  wroteFile(): void {
    this.watcher.acceptCurrent();
  }

  static open(uri: vscode.Uri, backupId: string | undefined, work: LongWork): PmemDocument {
    const untrusted = vscode.workspace.isTrusted ? undefined : 'the workspace is not trusted';
    try {
      const session = ImageSession.open(uri.fsPath, { backup: backupId });
      return new PmemDocument(uri, session, undefined, untrusted ?? writeRefusal(session.image.sb), work);
    } catch (e) {
      return new PmemDocument(uri, undefined, e as Error, untrusted, work);
    }
  }

  /** The history step being looked at, or undefined for the present. */
  private step?: number;
  private stepImage?: import('../engine').PmemImage;

  /** What views show: the present image, or the state after the chosen step (read-only). */
  get viewImage(): import('../engine').PmemImage | undefined {
    if (!this.session) return undefined;
    if (this.step === undefined) return this.session.image;
    return (this.stepImage ??= this.session.viewAt(this.step));
  }

  get viewedStep(): number | undefined {
    return this.step;
  }

  /** Shows the state after `step`; undefined returns to the present. Never edits. */
  viewStep(step: number | undefined): void {
    if (step !== undefined && this.session) this.session.viewAt(step); // validates the step, throwing a clear error
    this.step = step;
    this.stepImage = undefined;
    this.stepTotals = undefined;
    this.changed();
  }

  private stepTotals?: ImageTotals;

  /** The frame and section counts of what views show: kept edit by edit for the present, counted once for a step. */
  get totals(): ImageTotals | undefined {
    if (!this.session) return undefined;
    if (this.step === undefined) return this.tracker.totals(this.session.image, this.session.version);
    return (this.stepTotals ??= imageTotals(this.viewImage!));
  }

  /** What the last change of state changed. */
  get lastChange(): ImageChange {
    return this.tracker.lastChange;
  }

  /** The selected frame: the document owns it, every view follows it. */
  get selection(): SelectionChange | undefined {
    return this.selectionState;
  }

  /** Selects a frame; the last call wins. Throws on a pfn the image does not have. */
  select(pfn: number, source: SelectionSource, options: { reveal?: boolean; focusTree?: boolean; origin?: object; zoom?: boolean } = {}): SelectionChange {
    const total = this.session?.image.geometry.totalFrames ?? 0;
    if (!Number.isSafeInteger(pfn) || pfn < 0 || pfn >= total) throw new UsageError(`pfn ${pfn} is past the last frame (${total - 1})`);
    const change: SelectionChange = { pfn, seq: (this.selectionState?.seq ?? 0) + 1, source, origin: options.origin, reveal: options.reveal ?? true, focusTree: options.focusTree, zoom: options.zoom };
    this.selectionState = change;
    this.selectionEmitter.fire(change);
    return change;
  }

  get writable(): boolean {
    return !!this.session && !this.readOnlyReason;
  }

  /** Where the document is on its undo stack, and where it was last saved (-1: a state no longer reachable). */
  private position = 0;
  private savedAt = 0;

  /** Unsaved changes, as VS Code counts them: undoing back to the saved state makes the document clean. */
  get isDirty(): boolean {
    return this.position !== this.savedAt;
  }

  /** Call after a save or revert: the current state is the file's. */
  markSaved(): void {
    this.savedAt = this.position;
  }

  /** Registers an edit with VS Code's undo stack. */
  push(edit: SessionEdit): void {
    if (this.savedAt > this.position) this.savedAt = -1; // the saved state was on the redo branch this edit drops
    this.position++;
    // A new edit was made without the edits whose redo was cancelled: they must never apply again.
    for (const e of this.notRedone) e.dead = true;
    this.notRedone.clear();
    this.record({ edit, applied: true });
    this.fire(this.tracker.edited(edit.changed, 1));
  }

  /** Entries VS Code counts as redone whose redo was cancelled. */
  private readonly notRedone = new Set<StackEntry>();

  private record(entry: StackEntry): void {
    this.editEmitter.fire({ document: this, label: entry.edit.label, undo: () => this.replay(entry, 'undo'), redo: () => this.replay(entry, 'redo') });
  }

  /**
   * Undoes or redoes an edit for VS Code. Work under way is cancelled first
   * (it is not on the undo stack yet), so the undo applies to the state the
   * user saw. A large edit is put back in slices with progress and Cancel.
   * Never throws for a cancel: VS Code drops the whole undo stack on an error.
   */
  private async replay(entry: StackEntry, way: 'undo' | 'redo'): Promise<void> {
    if (!this.session || entry.dead) return;
    // Work under way on this image is cancelled first (on another image it need not be, unless this edit is long work itself).
    while (this.work.underWay?.doc === this) {
      this.work.cancel();
      await this.work.idle();
    }
    // An entry whose redo was cancelled is still on the undo stack: undoing it has nothing to do.
    if (entry.applied !== (way === 'undo')) {
      if (way === 'undo') this.notRedone.delete(entry);
      return;
    }
    const { edit } = entry;
    // An edit made before a revert no longer applies: the session's version says whether it did.
    const version = this.session.version;
    if (edit.bytes < LARGE_EDIT_BYTES) {
      if (way === 'undo') edit.undo();
      else edit.redo();
    } else {
      const title = `${way === 'undo' ? 'Undo' : 'Redo'} ${edit.label}`;
      for (;;) {
        while (this.work.underWay) {
          this.work.cancel();
          await this.work.idle();
        }
        try {
          await this.work.run(this, title, (control) => edit[way === 'undo' ? 'undoAsync' : 'redoAsync']({
            cancelled: () => control.cancelled(),
            onProgress: (done, total) => control.report(total ? done / total : 1, () => `${formatBytes(done)} of ${formatBytes(total)} put back`),
          }));
          break;
        } catch (e) {
          if (isRefusal(e) && !(e instanceof EditCancelled) && this.work.underWay) continue; // other work started first: cancel it too, then again
          if (!(e instanceof EditCancelled)) throw e;
          void vscode.window.setStatusBarMessage(`$(circle-slash) ${escapeIcons(title)} cancelled: the image is as it was before`, 8000);
          // VS Code has moved past the edit, the image has not: an undo is recorded again so the stack matches the image.
          if (way === 'undo') this.record(entry);
          else this.notRedone.add(entry);
          return;
        }
      }
    }
    const change = version !== this.session.version ? this.tracker.edited(edit.changed, way === 'undo' ? -1 : 1, this.session.version) : this.tracker.nothing();
    entry.applied = way === 'redo';
    this.position += way === 'undo' ? -1 : 1;
    this.fire(change);
  }

  /** Reads the file again (dropping unsaved changes); shows the error and keeps the old state if it is no longer valid. */
  async reload(): Promise<void> {
    if (!this.session) return;
    await this.stopWork();
    try {
      this.session.revert();
      this.markSaved();
      this.wroteFile();
    } catch (e) {
      void vscode.window.showErrorMessage(escapeNotification(`Could not reload: ${(e as Error).message}`));
      return;
    }
    this.step = undefined;
    this.changed();
  }

  /**
   * Tells views the state changed in a way not known frame by frame (they
   * reread everything), or, with `nothing`, that what they show is the same
   * (a save: only whether it is saved changed).
   */
  changed(what: 'everything' | 'nothing' = 'everything'): void {
    this.fire(what === 'nothing' ? this.tracker.nothing() : this.tracker.everything());
  }

  private fire(change: ImageChange): void {
    if (change.all || this.step !== undefined) {
      // A step shown is computed from the present: views of it start over.
      this.stepImage = undefined;
      this.stepTotals = undefined;
      if (this.step !== undefined) change = everythingChanged();
    }
    this.stateEmitter.fire(change);
  }

  /** Cancels long work on this image and waits until it has put the image back. */
  async stopWork(): Promise<void> {
    while (this.work.underWay?.doc === this) {
      this.work.cancel();
      await this.work.idle();
    }
  }

  /** Set when its last editor has closed: nothing may edit it any more. */
  closed = false;

  dispose(): void {
    this.closed = true;
    this.watcher.dispose();
    // Work under way is cancelled; the file is closed once it has stopped reading it.
    if (this.work.underWay?.doc === this) void this.stopWork().then(() => this.session?.close());
    else this.session?.close();
    this.stateEmitter.dispose();
    this.editEmitter.dispose();
    this.selectionEmitter.dispose();
  }
}
