/** The Compare Designs page: one panel, shown again (not opened twice) for each comparison. */
import * as vscode from 'vscode';
import type { CompareReport, MemoryStore } from '../engine';
import { compareCharts, type CompareView } from '../shared/compareProtocol';
import { checkerLines, compareRows, compareTitle } from '../shared/compareText';
import { configureWebview, page } from './webviewHtml';

export class ComparePanel {
  private panel?: vscode.WebviewPanel;
  private ready = false;
  private view?: CompareView;
  /** The last comparison's images (in memory until this panel closes), by design, to open side by side. */
  images?: ReadonlyMap<string, MemoryStore>;

  constructor(private readonly extensionUri: vscode.Uri) {}

  show(report: CompareReport, images: ReadonlyMap<string, MemoryStore>): void {
    this.images = images;
    const { header, rows } = compareRows(report);
    this.view = {
      type: 'compare',
      title: compareTitle(report),
      header, rows, notes: checkerLines(report), charts: compareCharts(report),
    };
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('pmemExplorer.compare', 'Compare Designs', vscode.ViewColumn.Active, { retainContextWhenHidden: false });
      configureWebview(this.panel.webview, this.extensionUri);
      this.ready = false;
      this.panel.webview.onDidReceiveMessage((m: unknown) => {
        const type = m && typeof m === 'object' ? (m as { type?: unknown }).type : undefined;
        if (type === 'ready') {
          this.ready = true;
          this.post();
        }
        if (type === 'openImages') void vscode.commands.executeCommand('pmemExplorer.openComparedImages');
      });
      this.panel.onDidDispose(() => {
        this.panel = undefined;
        this.ready = false;
        this.images = undefined; // their memory goes with the page
      });
      const body = `<h1>Compare Designs</h1><p id="title" class="note"></p><div id="charts"><div class="chart"><canvas id="memmapChart" role="img"></canvas></div><div class="chart"><canvas id="writesChart" role="img"></canvas></div></div><table id="table"></table><ul id="notes" class="note"></ul><p><button id="openImages" title="Write each design's image to a folder and open them in editors side by side, their maps in step">Open the images side by side…</button></p>`;
      this.panel.webview.html = page(this.panel.webview, this.extensionUri, 'Compare Designs', body, { script: 'dist/compare.js', style: 'media/compare.css' });
    } else {
      this.panel.reveal();
      this.post();
    }
  }

  private post(): void {
    if (!this.panel || !this.ready || !this.view) return;
    void this.panel.webview.postMessage(this.view);
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
