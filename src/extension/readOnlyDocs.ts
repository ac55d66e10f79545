/**
 * Read-only text documents the extension shows (an image's info, its
 * fragmentation, a check report): a content provider's documents cannot be edited, so closing one
 * never asks to save it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatBeside, formatFragmentationFiles, fragmentation, info, type MachineSnapshot } from '../engine';
import { infoLines } from '../shared/infoText';
import type { PmemDocument } from './pmemDocument';

export const REPORT_SCHEME = 'pmem-report';

export class ReadOnlyDocs implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, () => string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  /** Per kind of followed document (info, fragmentation), the one each image has. */
  private readonly followed = new Map<string, WeakMap<PmemDocument, vscode.Uri>>();
  private readonly subscriptions: vscode.Disposable[] = [this.changed];
  private serial = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString())?.() ?? 'Nothing to show: the image this described was closed.\n';
  }

  /** The image's info as `pmem info` prints it, of what the editor shows (unsaved changes, a history step), kept up to date. */
  showInfo(doc: PmemDocument): Promise<vscode.TextDocument> {
    return this.showFollowed(doc, 'Info', () => infoText(doc));
  }

  /** Linux's fragmentation files as `pmem frag` prints them, of what the editor shows, kept up to date. */
  showFragmentation(doc: PmemDocument): Promise<vscode.TextDocument> {
    return this.showFollowed(doc, 'Fragmentation', () => fragmentationText(doc));
  }

  /**
   * Linux's fragmentation files of what the editor shows, each with a real
   * machine's figures under it (its snapshot read once), kept up to date as
   * the editor moves through the history.
   */
  showFragmentationBeside(doc: PmemDocument, snapshot: MachineSnapshot, snapshotName: string): Promise<vscode.TextDocument> {
    return this.showFollowed(doc, `Fragmentation beside ${snapshotName}`, () => {
      const img = doc.viewImage;
      if (!img) return `${doc.uri.fsPath}: ${doc.error?.message ?? 'not open'}\n`;
      return `${doc.uri.fsPath}: fragmentation as Linux measures it, of ${shownState(doc)}, beside ${snapshotName}\n\n${formatBeside(fragmentation(img), snapshot, { ours: 'this image', theirs: snapshotName })}`;
    }, true);
  }

  /** A document about an image that follows what its editor shows; one of each kind per image. */
  private async showFollowed(doc: PmemDocument, kind: string, text: () => string, replaceText = false): Promise<vscode.TextDocument> {
    let ofKind = this.followed.get(kind);
    if (!ofKind) this.followed.set(kind, (ofKind = new WeakMap()));
    let uri = ofKind.get(doc);
    if (uri && replaceText) {
      // The same snapshot name read again (a newer file): its new figures.
      this.texts.set(uri.toString(), text);
      this.changed.fire(uri);
    }
    if (!uri) {
      const name = path.basename(doc.uri.fsPath);
      // The path keeps two images of the same name apart; the title is the file name.
      uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${kind} of ${name}`, query: doc.uri.toString() });
      const target = uri;
      ofKind.set(doc, uri);
      this.texts.set(uri.toString(), text);
      this.subscriptions.push(doc.onDidChangeState(() => this.changed.fire(target)));
    }
    return this.show(uri, 'plaintext');
  }

  /** A fixed text (a report) under a new name each time, so an earlier report stays as it was. */
  async showText(title: string, text: string, language: string): Promise<vscode.TextDocument> {
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${title}`, query: String(++this.serial) });
    this.texts.set(uri.toString(), () => text);
    return this.show(uri, language);
  }

  private async show(uri: vscode.Uri, language: string): Promise<vscode.TextDocument> {
    let text = await vscode.workspace.openTextDocument(uri);
    if (text.languageId !== language) text = await vscode.languages.setTextDocumentLanguage(text, language);
    await vscode.window.showTextDocument(text, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    return text;
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
  }
}

/** What the editor shows: unsaved changes included, or a history step. */
function shownState(doc: PmemDocument): string {
  return doc.viewedStep !== undefined ? `the state after history step ${doc.viewedStep} (read-only)` : doc.isDirty ? 'the image as in the editor, unsaved changes included' : 'the image as in the editor';
}

function fragmentationText(doc: PmemDocument): string {
  const img = doc.viewImage;
  if (!img) return `${doc.uri.fsPath}: ${doc.error?.message ?? 'not open'}\n`;
  return `${doc.uri.fsPath}: fragmentation as Linux measures it, of ${shownState(doc)}\n\n${formatFragmentationFiles(fragmentation(img))}`;
}

function infoText(doc: PmemDocument): string {
  const img = doc.viewImage;
  if (!img) return `${doc.uri.fsPath}: ${doc.error?.message ?? 'not open'}\n`;
  const lines = infoLines(doc.uri.fsPath, info(img, doc.totals));
  const state = shownState(doc);
  const machine = doc.session!.isBooted ? 'running' : 'off';
  lines.splice(1, 0, `  shown       ${state}; the machine is ${machine}`);
  if (doc.readOnlyReason && !lines.some((l) => l.includes(doc.readOnlyReason!))) lines.splice(2, 0, `  read-only   ${doc.readOnlyReason}`);
  return lines.join('\n') + '\n';
}
