/** Notices when another program changes an open image on disk, and offers to reload it. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PmemDocument } from './pmemDocument';

/** What identifies one version of the file: our own saves update it, so they are not mistaken for outside changes. */
function fingerprint(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

export class DiskWatcher implements vscode.Disposable {
  private known: string | undefined;
  private readonly watcher: vscode.FileSystemWatcher;
  private timer?: NodeJS.Timeout;
  private asking = false;

  constructor(private readonly document: PmemDocument) {
    const file = document.uri.fsPath;
    this.known = fingerprint(file);
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
    const changed = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.check(), 150); // one prompt for a burst of writes
    };
    this.watcher.onDidChange(changed);
    this.watcher.onDidCreate(changed);
  }

  /** Call after writing the file ourselves (save). */
  acceptCurrent(): void {
    this.known = fingerprint(this.document.uri.fsPath);
  }

  private async check(): Promise<void> {
    const now = fingerprint(this.document.uri.fsPath);
    if (now === undefined || now === this.known || this.asking) return;
    this.known = now;
    const name = path.basename(this.document.uri.fsPath);
    const dirty = this.document.isDirty;
    this.asking = true;
    try {
      const choice = dirty
        ? await vscode.window.showWarningMessage(`${name} was changed on disk by another program. Reload it and drop your unsaved changes?`, 'Reload', 'Keep Mine')
        : await vscode.window.showInformationMessage(`${name} was changed on disk by another program.`, 'Reload', 'Ignore');
      if (choice === 'Reload') void this.document.reload();
    } finally {
      this.asking = false;
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.watcher.dispose();
  }
}
