/** Ways into the namespace editor: the "Open as Linux Namespace" command, and the image editor noticing a namespace it cannot open. */
import * as vscode from 'vscode';
import { detectKind, DETECT_BYTES, isLinuxNamespace, type Detection } from '../../engine/format/linux/namespace';
import { FileStore } from '../../engine/node/fileStore';
import { NAMESPACE_VIEW_TYPE } from './namespaceEditorProvider';

export function openAsNamespace(uri: vscode.Uri): Thenable<unknown> {
  return vscode.commands.executeCommand('vscode.openWith', uri, NAMESPACE_VIEW_TYPE);
}

/** The file of the explorer's selection, else of the active editor tab, else one the user picks. */
async function targetOf(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input && typeof input === 'object' && 'uri' in input && input.uri instanceof vscode.Uri) return input.uri;
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Open as Linux Namespace' });
  return picked?.[0];
}

export function registerOpenAsNamespace(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.commands.registerCommand('pmemExplorer.openAsNamespace', async (arg?: unknown) => {
    const uri = await targetOf(arg);
    if (uri) await openAsNamespace(uri);
  }));
}

/** What the file is when it is a Linux namespace (read from its first 8 KiB), else undefined; never throws. */
export function namespaceDetection(file: string): Detection | undefined {
  try {
    const store = FileStore.open(file, { readOnly: true });
    try {
      const d = detectKind(store.read(0, Math.min(store.size, DETECT_BYTES)), store.size);
      return isLinuxNamespace(d.kind) ? d : undefined;
    } finally {
      store.close();
    }
  } catch {
    return undefined;
  }
}
