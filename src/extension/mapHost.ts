/** The host side of one map editor: sends the image's state, answers the webview's requests for cells and frames. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { escapeNotification } from '../shared/plainText';
import { Refusal } from './refusal';
import { frames, info, REGION_LABELS, REGION_NAMES, stepRange } from '../engine';
import { mapCells } from '../engine/inspect/mapCells';
import { FrameDetails, HostToWebview, isWebviewToHost, MapState, MapWork, WebviewToHost } from '../shared/protocol';
import type { LongWork } from './longWork';
import type { PmemDocument, SelectionChange } from './pmemDocument';

export class MapHost implements vscode.Disposable {
  /** The newest state version the map has drawn, and when it said so (performance.now()). */
  drawn?: { version: number; at: number };
  private readonly drawnEmitter = new vscode.EventEmitter<{ version: number; at: number }>();
  /** Fires when the map has drawn a newer state: benchmarks time a change to its picture by it. */
  readonly onDidDraw = this.drawnEmitter.event;
  /** The last state sent, for tests and for answering late requests. */
  lastState?: MapState;
  /** The last selection sent to the webview, for tests. */
  lastSelection?: { pfn: number; seq: number };
  /** The last of its own selections the webview sent (its `req`), echoed in every select so it can tell stale news. */
  private ack = 0;
  private version = 0;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly exports = new Map<number, { resolve(data: string): void; reject(e: Error): void }>();
  private nextExportId = 1;

  /** Settles when the webview has loaded and said so; a hidden webview is unloaded and must load again. */
  private ready!: Promise<void>;
  private markReady!: () => void;

  constructor(readonly document: PmemDocument, readonly panel: vscode.WebviewPanel, work: LongWork) {
    this.resetReady();
    this.sendState(); // lastState is known at once; the webview asks for it again when it has loaded
    this.subscriptions.push(
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.resetReady();
      }),
      document.onDidChangeState(() => this.sendState()),
      document.onDidChangeSelection((c) => this.sendSelection(c)),
      work.onDidChange((e) => {
        if (e.doc === document) this.sendWork(e.state);
      }),
      panel.webview.onDidReceiveMessage((msg: unknown) => {
        if (!isWebviewToHost(msg)) return; // untrusted input: ignore anything off-protocol
        void this.handle(msg, work).catch((e: Error) => vscode.window.showErrorMessage(escapeNotification(e.message)));
      }),
    );
  }

  private resetReady(): void {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  private post(msg: HostToWebview): void {
    void this.panel.webview.postMessage(msg);
  }

  private async handle(msg: WebviewToHost, work: LongWork): Promise<void> {
    const img = this.document.viewImage;
    switch (msg.type) {
      case 'ready':
        this.ack = 0; // a (re)loaded webview counts its selections from 1 again
        this.markReady();
        this.sendState();
        if (this.document.selection) this.sendSelection(this.document.selection);
        {
          const w = work.underWay;
          if (w?.doc === this.document) this.sendWork(w);
        }
        return;
      case 'reopenWith':
        await vscode.commands.executeCommand('workbench.action.reopenWithEditor', this.document.uri);
        return;
      case 'getCells': {
        if (!img) return;
        const cells = mapCells(img, { firstPfn: msg.firstPfn, framesPerCell: msg.framesPerCell, cells: msg.cells });
        this.post({ type: 'cells', id: msg.id, version: this.version, ...cells });
        return;
      }
      case 'getFrame': {
        const f = img && msg.pfn < img.geometry.totalFrames ? frames(img, msg.pfn, 1)[0] : undefined;
        this.post({ type: 'frame', id: msg.id, frame: f ? details(f) : null });
        return;
      }
      case 'select':
        this.ack = msg.req;
        if (img && msg.pfn < img.geometry.totalFrames) this.document.select(msg.pfn, 'map', { reveal: msg.reveal, origin: this });
        else if (this.document.selection) this.sendSelection(this.document.selection); // refused: the map goes back to the document's
        return;
      case 'command':
        // Only Free takes an argument from the map (the selected frame); the others ask for what they need.
        await vscode.commands.executeCommand(`pmemExplorer.${msg.command}`, msg.command === 'free' ? msg.pfn : undefined);
        return;
      case 'drawn':
        if (msg.version > (this.drawn?.version ?? -1)) {
          this.drawn = { version: msg.version, at: performance.now() };
          this.drawnEmitter.fire(this.drawn);
        }
        return;
      case 'goToStep':
        await vscode.commands.executeCommand('pmemExplorer.goToStep', msg.step);
        return;
      case 'exported':
      case 'exportFailed': {
        const pending = this.exports.get(msg.id);
        this.exports.delete(msg.id);
        if (msg.type === 'exported') pending?.resolve(msg.data);
        else pending?.reject(new Refusal(msg.message));
        return;
      }
    }
  }

  /** Asks the webview for the current view as PNG (base64) or SVG text, showing the editor first if it is hidden. */
  async requestExport(format: 'png' | 'svg'): Promise<string> {
    if (!this.panel.visible) this.panel.reveal(this.panel.viewColumn, true);
    await Promise.race([this.ready, new Promise((r) => setTimeout(r, 15_000))]);
    const id = this.nextExportId++;
    return new Promise<string>((resolve, reject) => {
      this.exports.set(id, { resolve, reject });
      this.post({ type: 'export', id, format });
      setTimeout(() => {
        if (this.exports.delete(id)) reject(new Refusal('The map did not answer the export request (is it visible?)'));
      }, 15_000);
    });
  }

  /** Tells the webview the document's selection; it keeps its own when it has made a newer one the host has not yet taken. */
  private sendSelection(c: SelectionChange): void {
    this.lastSelection = { pfn: c.pfn, seq: c.seq };
    this.post({ type: 'select', pfn: c.pfn, seq: c.seq, ack: this.ack });
  }

  /** The work under way on this image (undefined: none), for the map's progress bar. */
  lastWork?: MapWork | null;

  private sendWork(w: MapWork | undefined): void {
    this.lastWork = w ? { label: w.label, share: w.share, message: w.message, cancelling: w.cancelling } : null;
    this.post({ type: 'work', work: this.lastWork });
  }

  notice(text: string): void {
    this.post({ type: 'notice', text });
  }

  sendState(): void {
    const doc = this.document;
    const img = doc.viewImage;
    if (!img || !doc.session) return;
    this.version++;
    const i = info(img);
    const records = doc.session.image.historyRecords();
    const range = stepRange(records);
    const state: MapState = {
      version: this.version,
      image: {
        name: path.basename(doc.uri.fsPath),
        totalFrames: i.totalFrames,
        sectionFrames: img.geometry.sectionFrames,
        maxOrder: i.maxOrder,
        nodes: i.nodes,
        regions: REGION_NAMES.filter((n) => n !== 'data' && i.regions[n].frames > 0).map((n) => ({ label: REGION_LABELS[n], startPfn: i.regions[n].startPfn, frames: i.regions[n].frames })),
      },
      frames: i.frames,
      sections: { never: i.sections.untouched, initialized: i.sections.initialized, stale: i.sections.stale },
      bootGeneration: i.bootGeneration,
      profile: i.profile,
      machine: doc.session.isBooted ? 'running' : i.clean ? 'off' : 'crashed',
      readOnly: doc.readOnlyReason,
      viewedStep: doc.viewedStep,
      steps: records.filter((r) => r.seq >= range.first).map((r) => ({ seq: r.seq, text: r.summary.text })),
      memmapPlacement: i.memmap.placement,
      animateChanges: vscode.workspace.getConfiguration('pmemExplorer').get<boolean>('map.animateChanges', true),
    };
    this.lastState = state;
    this.post({ type: 'state', state });
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
    this.drawnEmitter.dispose();
    for (const p of this.exports.values()) p.reject(new Refusal('The map was closed'));
  }
}

function details(f: ReturnType<typeof frames>[number]): FrameDetails {
  const { flags, refcount, region, ...rest } = f; // raw descriptor words stay in the host
  return { ...rest, region: region ? REGION_LABELS[region] : undefined };
}
