/** Activation: wires the custom editor, the three views, the commands and the status bar to the engine. */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { ImageRegistry } from './imageRegistry';
import { PmemEditorProvider, VIEW_TYPE } from './pmemEditorProvider';
import { createStatusBar } from './statusBar';
import { DescriptorNode, DescriptorsTree } from './trees/descriptorsTree';
import { FreeListsTree } from './trees/freeListsTree';
import { SectionsTree } from './trees/sectionsTree';

/** What activation returns: the registry and the views, so tests in the extension host can look at them. */
export interface PmemExplorerApi {
  registry: ImageRegistry;
  views: { descriptors: DescriptorsTree; descriptorsView: vscode.TreeView<DescriptorNode>; freeLists: FreeListsTree; sections: SectionsTree };
}

export function activate(context: vscode.ExtensionContext): PmemExplorerApi {
  const registry = new ImageRegistry();
  const descriptors = new DescriptorsTree(registry);
  const freeLists = new FreeListsTree(registry);
  const sections = new SectionsTree(registry);
  const descriptorsView = vscode.window.createTreeView('pmemExplorer.descriptors', { treeDataProvider: descriptors, showCollapseAll: true });
  // Map and Descriptors view follow each other's selected frame.
  // The selection a reveal from the map causes is not sent back to the map: by
  // then its arrow keys may have moved on, and the echo would pull them back.
  let revealing: number | undefined;
  const reveal = async (pfn: number) => {
    revealing = pfn;
    try {
      await descriptorsView.reveal({ kind: 'frame', pfn }, { select: true, focus: false, expand: true });
    } finally {
      revealing = undefined;
    }
  };
  const provider = new PmemEditorProvider(context.extensionUri, registry, reveal);
  descriptorsView.onDidChangeSelection((e) => {
    const node = e.selection[0];
    if (node?.kind === 'frame' && node.pfn !== revealing) registry.mapsOf(registry.current).forEach((m) => m.select(node.pfn));
  });
  context.subscriptions.push(
    registry,
    vscode.window.registerCustomEditorProvider(VIEW_TYPE, provider, { supportsMultipleEditorsPerDocument: true, webviewOptions: { enableFindWidget: true } }),
    descriptorsView,
    vscode.window.createTreeView('pmemExplorer.freeLists', { treeDataProvider: freeLists, showCollapseAll: true }),
    vscode.window.createTreeView('pmemExplorer.sections', { treeDataProvider: sections }),
    createStatusBar(registry),
  );
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('pmemExplorer.map')) registry.allMaps.forEach((m) => m.sendState());
    }),
  );
  const views = { descriptors, descriptorsView, freeLists, sections };
  registerCommands(context, registry, views);
  return { registry, views };
}

export function deactivate(): void {}
