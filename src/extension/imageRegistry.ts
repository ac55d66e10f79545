/** Which image is active: the document of the focused PMem editor. Views and commands follow it. */
import * as vscode from 'vscode';
import type { MapHost } from './mapHost';
import { PmemDocument } from './pmemDocument';

export class ImageRegistry implements vscode.Disposable {
  private active?: PmemDocument;
  private readonly emitter = new vscode.EventEmitter<PmemDocument | undefined>();
  /** Fires when the active image changes or its state changes. */
  readonly onDidChange = this.emitter.event;
  private readonly subscriptions: vscode.Disposable[] = [];

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
    if (map) this.maps.set(panel, map);
    const activate = () => {
      if (panel.active) this.setActive(document);
    };
    activate();
    panel.onDidChangeViewState(activate);
    document.onDidChangeState(() => {
      if (this.active === document) this.emitter.fire(document);
    });
    panel.onDidDispose(() => {
      open.delete(panel);
      this.maps.delete(panel);
      if (!open.size) this.panels.delete(document);
      if (this.active === document && !panel.active) this.setActive(undefined);
    });
  }

  private setActive(document: PmemDocument | undefined): void {
    this.active = document;
    void vscode.commands.executeCommand('setContext', 'pmemExplorer.activeImage', !!document?.session);
    void vscode.commands.executeCommand('setContext', 'pmemExplorer.writable', !!document?.writable);
    this.emitter.fire(document);
  }

  /** The active image, or an error message a command can show. */
  require(): PmemDocument {
    const doc = this.active;
    if (!doc?.session) throw new Error('Open a .pmem image first (PMem: New Image… creates one).');
    return doc;
  }

  dispose(): void {
    this.emitter.dispose();
    this.subscriptions.forEach((s) => s.dispose());
  }
}
