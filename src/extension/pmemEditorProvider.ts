/** The custom editor for *.pmem: documents over the engine's ImageSession, edits on VS Code's undo stack. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { escapeNotification } from '../shared/plainText';
import { superblockEditorWarning } from '../engine';
import { Refusal } from './refusal';
import { isWebviewToHost } from '../shared/protocol';
import { errorBody, mapBody } from './imageViews';
import type { LongWork } from './longWork';
import { MapHost } from './mapHost';
import { PmemDocument } from './pmemDocument';
import { ImageRegistry } from './imageRegistry';
import { configureWebview, page } from './webviewHtml';
import { namespaceDetection, openAsNamespace } from './namespace/openAsNamespace';

export const VIEW_TYPE = 'pmemExplorer.image';
/** How long a map may take to load before it is loaded again. */
const RELOAD_AFTER_MS = 15_000;

export class PmemEditorProvider implements vscode.CustomEditorProvider<PmemDocument> {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<PmemDocument>>();
  readonly onDidChangeCustomDocument = this.changeEmitter.event;

  constructor(private readonly extensionUri: vscode.Uri, private readonly registry: ImageRegistry, private readonly work: LongWork) {}

  async openCustomDocument(uri: vscode.Uri, context: vscode.CustomDocumentOpenContext): Promise<PmemDocument> {
    // Opening reads the superblock and section table only; a TiB image still takes a moment, shown in the status bar.
    const doc = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Opening ${path.basename(uri.fsPath)}` }, async () => PmemDocument.open(uri, context.backupId, this.work));
    doc.onDidEdit((e) => this.changeEmitter.fire(e));
    return doc;
  }

  /** Documents whose damaged superblock copy was told of (once, with their first editor). */
  private readonly warned = new WeakSet<PmemDocument>();

  resolveCustomEditor(document: PmemDocument, panel: vscode.WebviewPanel): void {
    // Not while opening: VS Code knows the document only once it is returned, and a Repair edits it.
    if (!this.warned.has(document)) {
      this.warned.add(document);
      warnAboutSuperblock(document);
    }
    configureWebview(panel.webview, this.extensionUri);
    const name = path.basename(document.uri.fsPath);
    if (!document.session) {
      const namespace = namespaceDetection(document.uri.fsPath);
      panel.webview.html = page(panel.webview, this.extensionUri, name, errorBody(name, document.error!, namespace?.description));
      const sub = panel.webview.onDidReceiveMessage((msg: unknown) => {
        if (!isWebviewToHost(msg)) return; // untrusted input: ignore anything off-protocol
        if (msg.type === 'reopenWith') void vscode.commands.executeCommand('workbench.action.reopenWithEditor', document.uri);
        if (msg.type === 'openAsNamespace' && namespace) void openAsNamespace(document.uri);
      });
      panel.onDidDispose(() => sub.dispose());
      this.registry.attach(document, panel);
      return;
    }
    const host = new MapHost(document, panel, this.work);
    const html = page(panel.webview, this.extensionUri, name, mapBody(name), { script: 'dist/webview.js', style: 'media/map.css' });
    panel.webview.html = html;
    // A webview whose resources were lost (several loading at once in a browser-hosted workbench) never says it is
    // ready: it is loaded again, once, after a wait long enough for a busy machine.
    const retry = setTimeout(() => {
      if (host.readies === 0) panel.webview.html = `${html}<!-- loaded again -->`;
    }, RELOAD_AFTER_MS);
    this.registry.attach(document, panel, host);
    panel.onDidDispose(() => {
      clearTimeout(retry);
      host.dispose();
    });
  }

  async saveCustomDocument(document: PmemDocument): Promise<void> {
    await this.workDone(document);
    this.writableSession(document).save();
    document.markSaved();
    document.wroteFile();
    document.changed('nothing'); // only whether it is saved changed
  }

  async saveCustomDocumentAs(document: PmemDocument, destination: vscode.Uri): Promise<void> {
    await this.workDone(document);
    this.writableSession(document).saveAs(destination.fsPath);
  }

  async revertCustomDocument(document: PmemDocument): Promise<void> {
    await document.stopWork(); // a revert wins over long work: it is cancelled first
    document.session?.revert(); // reads the file again: it may have been replaced
    document.markSaved();
    document.wroteFile();
    document.viewStep(undefined);
  }

  async backupCustomDocument(document: PmemDocument, context: vscode.CustomDocumentBackupContext): Promise<vscode.CustomDocumentBackup> {
    await this.workDone(document);
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(context.destination, '..'));
    document.session?.backup(context.destination.fsPath);
    return { id: context.destination.fsPath, delete: () => void vscode.workspace.fs.delete(context.destination).then(undefined, () => undefined) };
  }

  /**
   * A save (auto save included) or a backup during long work on the image
   * waits for it to end: it writes what the work leaves, or, if it was
   * cancelled, what was there before it; never a state halfway through.
   */
  private async workDone(document: PmemDocument): Promise<void> {
    while (this.work.underWay?.doc === document) await this.work.idle();
  }

  private writableSession(document: PmemDocument) {
    if (!document.session) throw new Refusal(`${document.uri.fsPath} is not a valid image`);
    if (document.readOnlyReason) throw new Refusal(`${path.basename(document.uri.fsPath)} is read-only: ${document.readOnlyReason}`);
    return document.session;
  }
}

/**
 * An image opened from one superblock copy because the other is damaged (or
 * out of date) rests on that copy alone until a write rewrites both: say so.
 * Repair reboots the simulated machine, which rewrites both copies as an
 * undoable edit (saved with the image).
 */
function warnAboutSuperblock(doc: PmemDocument): void {
  const name = path.basename(doc.uri.fsPath);
  const repair = doc.writable ? 'Repair' : undefined;
  const text = doc.session && superblockEditorWarning(name, doc.session.image.superblockChoice, !!repair);
  if (!text) return;
  void vscode.window.showWarningMessage(escapeNotification(text), ...(repair ? [repair] : [])).then((choice) => {
    if (choice !== repair || !doc.session || doc.closed) return; // closed meanwhile: nothing left to repair
    try {
      const busy = doc.work.refusal(doc);
      if (busy) throw busy;
      doc.push(doc.session.reboot());
    } catch (e) {
      void vscode.window.showErrorMessage(escapeNotification(`${name}: repair failed: ${(e as Error).message}`));
    }
  });
}
