/** The custom-editor document: an ImageSession, or the error that kept the image from opening. */
import * as vscode from 'vscode';
import { escapeNotification } from '../shared/plainText';
import { UsageError, writeRefusal } from '../engine';
import { DiskWatcher } from './diskWatcher';
import { ImageSession, SessionEdit } from '../engine/node/session';
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
}

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
  ) {
    this.watcher = new DiskWatcher(this);
    if (session?.restoredFromBackup) this.savedAt = -1; // unsaved changes came back from a hot exit
  }

  private readonly watcher: DiskWatcher;

  /** Call after this extension wrote the file, so the write is not taken for another program's. */
  wroteFile(): void {
    this.watcher.acceptCurrent();
  }

  static open(uri: vscode.Uri, backupId: string | undefined): PmemDocument {
    const untrusted = vscode.workspace.isTrusted ? undefined : 'the workspace is not trusted';
    try {
      const session = ImageSession.open(uri.fsPath, { backup: backupId });
      return new PmemDocument(uri, session, undefined, untrusted ?? writeRefusal(session.image.sb));
    } catch (e) {
      return new PmemDocument(uri, undefined, e as Error, untrusted);
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
  select(pfn: number, source: SelectionSource, options: { reveal?: boolean; focusTree?: boolean; origin?: object } = {}): SelectionChange {
    const total = this.session?.image.geometry.totalFrames ?? 0;
    if (!Number.isSafeInteger(pfn) || pfn < 0 || pfn >= total) throw new UsageError(`pfn ${pfn} is past the last frame (${total - 1})`);
    const change: SelectionChange = { pfn, seq: (this.selectionState?.seq ?? 0) + 1, source, origin: options.origin, reveal: options.reveal ?? true, focusTree: options.focusTree };
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
    // An edit made before a revert no longer applies: the session's version says whether it did.
    const apply = (go: () => void, sign: 1 | -1) => {
      const version = this.session?.version;
      go();
      return version !== this.session?.version ? this.tracker.edited(edit.changed, sign, this.session!.version) : this.tracker.nothing();
    };
    this.editEmitter.fire({
      document: this,
      label: edit.label,
      undo: () => {
        const change = apply(() => edit.undo(), -1);
        this.position--;
        this.fire(change);
      },
      redo: () => {
        const change = apply(() => edit.redo(), 1);
        this.position++;
        this.fire(change);
      },
    });
    this.fire(this.tracker.edited(edit.changed, 1));
  }

  /** Reads the file again (dropping unsaved changes); shows the error and keeps the old state if it is no longer valid. */
  reload(): void {
    if (!this.session) return;
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

  dispose(): void {
    this.watcher.dispose();
    this.session?.close();
    this.stateEmitter.dispose();
    this.editEmitter.dispose();
    this.selectionEmitter.dispose();
  }
}
