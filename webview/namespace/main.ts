/**
 * The Linux namespace editor's webview (read-only): header, info block,
 * layout, page map and struct page inspector, filled from the host's
 * messages, each validated before use.
 */
import { formatBytes } from '../../src/engine/core/units';
import { isNamespaceHostMessage, type NamespaceMapShape, type NamespaceView, type NamespaceWebviewMessage } from '../../src/shared/namespaceProtocol';
import { $ } from './dom';
import { renderInfoBlock } from './infoBlock';
import { renderPage, renderPageError } from './inspector';
import { renderLayout } from './layoutBar';
import { PageMap } from './pageMap';
import { keepTextFieldKeys } from '../textFieldKeys';

keepTextFieldKeys(document);

declare function acquireVsCodeApi(): { postMessage(msg: NamespaceWebviewMessage): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

/** What survives the editor being hidden: the inspected page. */
const saved = (vscode.getState() ?? {}) as { page?: number };
let map: PageMap | undefined;
let shape: NamespaceMapShape | undefined;
let inspected: number | undefined;
let nextId = 1;
let pending = 0;

function inspect(page: number): void {
  if (!shape) return;
  inspected = page;
  ($('pageInput') as HTMLInputElement).value = String(page);
  pending = nextId++;
  vscode.postMessage({ type: 'getPage', id: pending, page });
  vscode.setState({ page });
  map?.showPage(page);
}

/** A page number in decimal or 0x hex, or a reason it is not one. */
function parsePage(text: string): number | string {
  const t = text.trim().toLowerCase();
  const n = /^0x[0-9a-f]+$/.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n)) return `“${text}” is not a page number: write it in decimal or 0x hex`;
  if (shape && (n < shape.described.from || n >= shape.described.to)) return `page ${n} has no struct page in the file (pages ${shape.described.from}–${shape.described.to - 1} do)`;
  return n;
}

function showView(view: NamespaceView): void {
  $('description').textContent = `${view.description[0].toUpperCase()}${view.description.slice(1)}. ${view.size} bytes (${formatBytes(view.size)}), read-only.`;
  if (view.note) {
    $('note').textContent = view.note;
    $('note').hidden = false;
  }
  renderInfoBlock(view);
  renderLayout(view);
  if (!view.map) {
    $('app').setAttribute('aria-busy', 'false');
    return;
  }
  $('mapSection').hidden = false;
  if ('none' in view.map) {
    $('mapInfo').textContent = view.map.none;
    $('pageMap').hidden = true;
    $('app').setAttribute('aria-busy', 'false');
    return;
  }
  shape = view.map;
  map = new PageMap(shape, inspect);
  $('inspectSection').hidden = false;
  const start = typeof saved.page === 'number' && typeof parsePage(String(saved.page)) === 'number' ? saved.page : shape.firstDataPage;
  inspect(start);
}

$('pageForm').addEventListener('submit', (e) => {
  e.preventDefault();
  const p = parsePage(($('pageInput') as HTMLInputElement).value);
  if (typeof p === 'string') renderPageError(p);
  else inspect(p);
});
const step = (d: number) => {
  if (!shape || inspected === undefined) return;
  const p = Math.min(Math.max(inspected + d, shape.described.from), shape.described.to - 1);
  inspect(p);
};
$('pagePrev').addEventListener('click', () => step(-1));
$('pageNext').addEventListener('click', () => step(1));
$('pageFirstData').addEventListener('click', () => shape && inspect(shape.firstDataPage));

window.addEventListener('message', (e: MessageEvent) => {
  const msg: unknown = e.data;
  if (!isNamespaceHostMessage(msg)) return;
  if (msg.type === 'view') showView(msg.view);
  else if (msg.type === 'mapSlice') map?.add(msg);
  else if (msg.type === 'mapFailed') map?.failed(msg.message);
  else if (msg.type === 'page' && msg.id === pending) {
    if (msg.page) renderPage(msg.page);
    else renderPageError(msg.error ?? 'no answer');
  }
});
vscode.postMessage({ type: 'ready' });
