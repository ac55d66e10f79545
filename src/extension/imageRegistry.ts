/** Which image is active: the document of the focused PMem editor. Views and commands follow it. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { MapHost } from './mapHost';
import { Refusal } from './refusal';
import { PmemDocument, SelectionChange } from './pmemDocument';
import { everythingChanged, ImageChange } from '../engine/image/changeSet';

/** The active image, and what changed in what views show of it (everything when another image became active). */
export interface RegistryChange {
  document: PmemDocument | undefined;
  change: ImageChange;
}

export class ImageRegistry implements vscode.Disposable {
  private active?: PmemDocument;
  private readonly emitter = new vscode.EventEmitter<RegistryChange>();
  /** Fires when the active image changes or its state changes. */
  readonly onDidChange = this.emitter.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly selectionEmitter = new vscode.EventEmitter<SelectionChange>();
  /** Fires when the active image's selected frame changes. */
  readonly onDidChangeSelection = this.selectionEmitter.event;
  private readonly mapEmitter = new vscode.EventEmitter<MapHost>();
  /** Fires when a map editor opens. */
  readonly onDidOpenMap = this.mapEmitter.event;
  /** Documents whose events are already forwarded (a document may have several editors). */
  private readonly followed = new WeakSet<PmemDocument>();

  get current(): PmemDocument | undefined {
    return this.active;
  }

  private readonly panels = new Map<PmemDocument, Set<vscode.WebviewPanel>>();
  private readonly maps = new Map<vscode.WebviewPanel, MapHost>();

  /** The editors showing a document (two or more when it is open in several groups). */
  panelsOf(document: PmemDocument): vscode.WebviewPanel[] {
    return [...(this.panels.get(document) ?? [])];
  }

  /** The maps showing a document. */
  mapsOf(document: PmemDocument | undefined): MapHost[] {
    return document ? this.panelsOf(document).flatMap((p) => this.maps.get(p) ?? []) : [];
  }

  /** Every open map, of every image. */
  get allMaps(): MapHost[] {
    return [...this.maps.values()];
  }

  /** The map of the active editor, if the active image is shown in one. */
  get activeMap(): MapHost | undefined {
    const maps = this.mapsOf(this.active);
    return maps.find((m) => m.panel.active) ?? maps[0];
  }

  attach(document: PmemDocument, panel: vscode.WebviewPanel, map?: MapHost): void {
    const open = this.panels.get(document) ?? new Set();
    open.add(panel);
    this.panels.set(document, open);
    if (map) {
      this.maps.set(panel, map);
      this.mapEmitter.fire(map);
    }
    const activate = () => {
      if (panel.active) this.setActive(document);
    };
    activate();
    panel.onDidChangeViewState(activate);
    if (!this.followed.has(document)) {
      this.followed.add(document);
      document.onDidChangeState((change) => {
        if (this.active === document) this.emitter.fire({ document, change });
      });
      document.onDidChangeSelection((c) => {
        if (this.active === document) this.selectionEmitter.fire(c);
      });
    }
    panel.onDidDispose(() => {
      open.delete(panel);
      this.maps.delete(panel);
      if (!open.size) this.panels.delete(document);
      // The image stays active while another of its editors is open (the one brought to the front says so itself).
      // A disposed panel throws on every property, `active` included: it is not asked.
      if (this.active === document && !open.size) this.setActive(undefined);
    });
  }

  private setActive(document: PmemDocument | undefined): void {
    const changed = this.active !== document;
    this.active = document;
    void vscode.commands.executeCommand('setContext', 'pmemExplorer.activeImage', !!document?.session);
    void vscode.commands.executeCommand('setContext', 'pmemExplorer.writable', !!document?.writable);
    // Views refresh when another image becomes active, not each time the same editor is focused again.
    if (changed) this.emitter.fire({ document, change: everythingChanged() });
  }

  /** The active image, or an error message a command can show. */
  require(): PmemDocument {
    const doc = this.active;
    if (doc && !doc.session) throw new Refusal(`${path.basename(doc.uri.fsPath)} cannot be used: ${doc.error?.message}`);
    if (!doc?.session) throw new Refusal('Open a .pmem image first (PMem: New Image… creates one).');
    return doc;
  }

  dispose(): void {
    this.emitter.dispose();
    this.selectionEmitter.dispose();
    this.mapEmitter.dispose();
    this.subscriptions.forEach((s) => s.dispose());
  }
}
