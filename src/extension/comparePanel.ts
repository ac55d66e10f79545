/** The Compare Designs page: one panel, shown again (not opened twice) for each comparison. */
import * as vscode from 'vscode';
import type { CompareReport } from '../engine';
import { compareCharts, type CompareView } from '../shared/compareProtocol';
import { checkerLines, compareRows, compareTitle } from '../shared/compareText';
import { configureWebview, page } from './webviewHtml';

export class ComparePanel {
  private panel?: vscode.WebviewPanel;
  private ready = false;
  private view?: CompareView;

  constructor(private readonly extensionUri: vscode.Uri) {}

  show(report: CompareReport): void {
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
        if (m && typeof m === 'object' && (m as { type?: unknown }).type === 'ready') {
          this.ready = true;
          this.post();
        }
      });
      this.panel.onDidDispose(() => {
        this.panel = undefined;
        this.ready = false;
      });
      const body = `<h1>Compare Designs</h1><p id="title" class="note"></p><div id="charts"><div class="chart"><canvas id="memmapChart" role="img"></canvas></div><div class="chart"><canvas id="writesChart" role="img"></canvas></div></div><table id="table"></table><ul id="notes" class="note"></ul>`;
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
