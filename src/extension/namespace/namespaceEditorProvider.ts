/**
 * The read-only custom editor for Linux namespaces (fsdax, devdax, sector):
 * the info block, its checks, the layout, a page map of the struct pages and
 * a struct page inspector. Any file may be reopened with it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { areaOfPage, readStructPages } from '../../engine/format/linux/structPage';
import { isNamespaceWebviewMessage, type NamespaceHostMessage, type NamespaceMapShape } from '../../shared/namespaceProtocol';
import { configureWebview, page } from '../webviewHtml';
import { NamespaceDocument } from './namespaceDocument';
import { namespaceBody } from './namespaceHtml';
import { isPfn, namespaceView } from './namespaceView';
import { computePageMap } from './pageMapJob';
import type { InspectedStructPage } from './inspectedStructPage';

export const NAMESPACE_VIEW_TYPE = 'pmemExplorer.linuxNamespace';

export class NamespaceEditorProvider implements vscode.CustomReadonlyEditorProvider<NamespaceDocument> {
  constructor(private readonly extensionUri: vscode.Uri, private readonly inspected?: InspectedStructPage) {}

  openCustomDocument(uri: vscode.Uri): NamespaceDocument {
    return NamespaceDocument.open(uri);
  }

  resolveCustomEditor(doc: NamespaceDocument, panel: vscode.WebviewPanel): void {
    configureWebview(panel.webview, this.extensionUri);
    const name = path.basename(doc.uri.fsPath);
    const view = namespaceView(doc, name);
    const post = (m: NamespaceHostMessage) => void panel.webview.postMessage(m);
    /** Bumped when the map is asked again (the webview reloaded) or the editor closes: the running map stops. */
    let mapRun = 0;
    let disposed = false;
    const sub = panel.webview.onDidReceiveMessage((msg: unknown) => {
      if (!isNamespaceWebviewMessage(msg)) return; // untrusted input: ignore anything off-protocol
      if (msg.type === 'ready') {
        post({ type: 'view', view });
        if (view.map && !('none' in view.map)) void this.sendMap(doc, view.map, post, ++mapRun, () => mapRun, () => disposed);
      } else {
        const answer = this.inspect(doc, msg.page);
        post({ type: 'page', id: msg.id, ...answer });
        last = answer.page;
        if (last && panel.active) this.inspected?.show(panel, { file: name, page: last });
      }
    });
    /** The page this editor inspected last, shown in the Descriptors view whenever the editor comes to the front. */
    let last: ReturnType<NamespaceEditorProvider['inspect']>['page'];
    const front = panel.onDidChangeViewState(() => {
      if (panel.active && last) this.inspected?.show(panel, { file: name, page: last });
      else if (!panel.active) this.inspected?.hide(panel);
    });
    panel.onDidDispose(() => {
      disposed = true;
      sub.dispose();
      front.dispose();
      this.inspected?.hide(panel);
    });
    panel.webview.html = page(panel.webview, this.extensionUri, name, namespaceBody(name), { script: 'dist/namespace.js', style: 'media/namespace.css' });
  }

  private async sendMap(doc: NamespaceDocument, shape: NamespaceMapShape, post: (m: NamespaceHostMessage) => void, run: number, current: () => number, disposed: () => boolean): Promise<void> {
    const m = doc.memmap;
    if (!m || 'none' in m) return;
    try {
      await computePageMap((o, l) => doc.read(o, l), m, shape, doc.decode, (s) => post({ type: 'mapSlice', ...s }), () => disposed() || current() !== run);
    } catch (e) {
      if (!disposed()) post({ type: 'mapFailed', message: (e as Error).message });
    }
  }

  private inspect(doc: NamespaceDocument, pageNo: number): { page?: ReturnType<typeof readStructPages>[number] & { area?: string }; error?: string } {
    const m = doc.memmap;
    if (!m || 'none' in m || !isPfn(doc.report)) return { error: 'This file holds no struct pages.' };
    try {
      const [decoded] = readStructPages((o, l) => doc.read(o, l), m, pageNo, 1, doc.decode);
      return { page: { ...decoded, area: areaOfPage(doc.report, pageNo) } };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }
}
