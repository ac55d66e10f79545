/**
 * Long work on an image (a check, initialising every section, a large
 * allocation or free, a large undo or redo) runs in slices on the extension
 * host, one at a time. It is shown where the user looks: a status bar item
 * (click to cancel), a bar on the image's maps with a Cancel button, and a
 * notification with progress and Cancel once it has run a few seconds.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { escapeIcons } from '../shared/plainText';
import type { PmemDocument } from './pmemDocument';
import { Refusal } from './refusal';

/** What a piece of long work is given: whether to stop, and where to say how far it got. */
export interface WorkControl {
  cancelled(): boolean;
  /**
   * `share` of the work done, 0 to 1, and a few words such as "120 of 512
   * sections" (or what makes them: work may report at every step, and the
   * words are made only when shown).
   */
  report(share: number, message: string | (() => string)): void;
}

/** Long work as the maps show it. */
export interface WorkState {
  label: string;
  share: number;
  message: string;
  cancelling: boolean;
}

/** Work shorter than this (pmemExplorer.longWork.notifyAfterSeconds) raises no notification: the status bar and the map are enough. */
function notifyAfterMs(): number {
  const s = vscode.workspace.getConfiguration('pmemExplorer').get<number>('longWork.notifyAfterSeconds', 2.5);
  return Math.max(0, Math.min(60, Number.isFinite(s) ? s : 2.5)) * 1000;
}
/** The maps hear of progress at most this often. */
const MAP_UPDATE_MS = 100;

interface Running {
  doc: PmemDocument;
  state: WorkState;
  cancelled: boolean;
  ended: Promise<void>;
}

export class LongWork implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('pmemExplorer.work', vscode.StatusBarAlignment.Left, 49);
  private running?: Running;
  private readonly emitter = new vscode.EventEmitter<{ doc: PmemDocument; state: WorkState | undefined }>();
  /** Fires when work starts, moves on (throttled), is being cancelled, or ends (state undefined). */
  readonly onDidChange = this.emitter.event;
  /** Counts started and finished work, for tests that wait for a state. */
  started = 0;
  finished = 0;

  constructor() {
    this.item.name = 'PMem work under way';
    this.item.command = 'pmemExplorer.cancelOperation';
  }

  /** The work under way, if any. */
  get underWay(): (WorkState & { doc: PmemDocument }) | undefined {
    return this.running && { ...this.running.state, doc: this.running.doc };
  }

  /** Settles when no work is under way (at once if none is). */
  idle(): Promise<void> {
    return this.running?.ended ?? Promise.resolve();
  }

  /** Why a change to `doc` must wait, while work is under way (on it or on another image). */
  refusal(doc: PmemDocument | undefined): Refusal | undefined {
    const r = this.running;
    if (!r) return undefined;
    const where = r.doc === doc ? 'this image' : path.basename(r.doc.uri.fsPath);
    return new Refusal(`"${r.state.label}" is still under way on ${where}: wait for it or cancel it (PMem: Cancel Operation, or click it in the status bar).`);
  }

  /** Asks the work under way to stop at its next pause; false when there is none. */
  cancel(): boolean {
    const r = this.running;
    if (!r) return false;
    r.cancelled = true;
    r.state = { ...r.state, cancelling: true, message: 'cancelling…' };
    this.show(r);
    return true;
  }

  /**
   * Runs `work` as the one long work under way, showing its progress;
   * refused while other work runs. The work itself stops when asked and
   * undoes what it did (the engine and the session do that).
   */
  async run<R>(doc: PmemDocument, label: string, work: (control: WorkControl) => Promise<R>): Promise<R> {
    const busy = this.refusal(doc);
    if (busy) throw busy;
    let end!: () => void;
    const r: Running = { doc, state: { label, share: 0, message: 'starting…', cancelling: false }, cancelled: false, ended: new Promise<void>((resolve) => (end = resolve)) };
    this.running = r;
    this.started++;
    void vscode.commands.executeCommand('setContext', 'pmemExplorer.operationUnderWay', true);
    this.show(r);
    let lastShown = 0;
    const notify = setTimeout(() => this.notify(r, label), notifyAfterMs());
    const control: WorkControl = {
      cancelled: () => r.cancelled,
      report: (share, message) => {
        if (r.cancelled) return;
        // Each update of the status bar and the maps is a message to the window: at most one per MAP_UPDATE_MS, however often the work reports.
        const now = Date.now();
        if (now - lastShown < MAP_UPDATE_MS) return;
        lastShown = now;
        r.state = { ...r.state, share: Math.max(0, Math.min(1, share)), message: typeof message === 'function' ? message() : message };
        this.show(r);
      },
    };
    try {
      return await work(control);
    } finally {
      clearTimeout(notify);
      this.running = undefined;
      this.finished++;
      this.item.hide();
      void vscode.commands.executeCommand('setContext', 'pmemExplorer.operationUnderWay', false);
      this.emitter.fire({ doc, state: undefined });
      end();
    }
  }

  /** Updates the status bar and the maps. */
  private show(r: Running): void {
    const pct = Math.floor(r.state.share * 100);
    this.item.text = `$(sync~spin) ${escapeIcons(r.state.label)}: ${r.state.cancelling ? 'cancelling…' : `${pct} %`}`;
    this.item.tooltip = `${r.state.label}: ${r.state.message}\nClick to cancel: the image goes back to how it was before.`;
    this.item.show();
    this.emitter.fire({ doc: r.doc, state: { ...r.state } });
  }

  /** Work that outlasts notifyAfterMs() also gets a notification with progress and Cancel. */
  private notify(r: Running, label: string): void {
    if (this.running !== r) return;
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: label, cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => {
        if (this.running === r) this.cancel();
      });
      let shown = 0;
      const tick = () => {
        const share = r.state.share;
        if (share > shown || r.state.cancelling) {
          progress.report({ increment: (share - shown) * 100, message: r.state.message });
          shown = share;
        }
      };
      tick();
      const sub = this.onDidChange((e) => {
        if (e.doc === r.doc && e.state) tick();
      });
      try {
        await r.ended;
      } finally {
        sub.dispose();
      }
    });
  }

  dispose(): void {
    this.cancel();
    this.item.dispose();
    this.emitter.dispose();
  }
}
