/** Webview HTML with a strict Content-Security-Policy: nothing remote, scripts only by nonce. */
import * as vscode from 'vscode';
import { escapeHtml } from '../shared/plainText';

export function nonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64');
}


/** A page whose script and stylesheet are the extension's own files (paths relative to the extension). */
export function page(webview: vscode.Webview, extensionUri: vscode.Uri, title: string, body: string, assets = { script: 'media/view.js', style: 'media/view.css' }): string {
  const n = nonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...assets.script.split('/')));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...assets.style.split('/')));
  const csp = `default-src 'none'; img-src ${webview.cspSource} data:; style-src ${webview.cspSource}; script-src 'nonce-${n}'; font-src ${webview.cspSource};`;
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0"><link rel="stylesheet" href="${style}"><title>${escapeHtml(title)}</title></head>
<body>${body}<script nonce="${n}" src="${script}"></script></body></html>`;
}

export function configureWebview(webview: vscode.Webview, extensionUri: vscode.Uri): void {
  webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media'), vscode.Uri.joinPath(extensionUri, 'dist')] };
}
