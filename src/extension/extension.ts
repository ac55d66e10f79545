/** Activation: wires the custom editor, the three views, the commands and the status bar to the engine. */
import * as vscode from 'vscode';
import { nothingChanged } from '../engine/image/changeSet';
import { ChainSelection } from './chainSelection';
import { CommandRunner } from './commandRunner';
import { registerCommands } from './commands';
import type { MapsInStep } from './mapsInStep';
import type { ComparePanel } from './comparePanel';
import { DescriptorsSelection } from './descriptorsSelection';
import { ImageRegistry } from './imageRegistry';
import { lastAllocation } from './lastAllocation';
import { LongWork } from './longWork';
import { PmemEditorProvider, VIEW_TYPE } from './pmemEditorProvider';
import { createStatusBar } from './statusBar';
import { NAMESPACE_VIEW_TYPE, NamespaceEditorProvider } from './namespace/namespaceEditorProvider';
import { InspectedStructPage } from './namespace/inspectedStructPage';
import { registerOpenAsNamespace } from './namespace/openAsNamespace';
import { DescriptorNode, DescriptorsTree } from './trees/descriptorsTree';
import { FreeListsTree } from './trees/freeListsTree';
import { SectionsTree } from './trees/sectionsTree';

/** What activation returns: the registry and the views, so tests in the extension host can look at them. */
export interface PmemExplorerApi {
  registry: ImageRegistry;
  views: { descriptors: DescriptorsTree; descriptorsView: vscode.TreeView<DescriptorNode>; freeLists: FreeListsTree; sections: SectionsTree };
  /** Why commands did nothing: their refusals and internal errors. */
  commands: CommandRunner;
  /** The Descriptors view following the active image's selected frame. */
  descriptorsSelection: DescriptorsSelection;
  /** Long work under way (a check, initialising all sections, a large operation, undo or redo). */
  work: LongWork;
  /** The free list drawn on the map as a chain. */
  chains: ChainSelection;
  /** The Compare Designs page. */
  compare: ComparePanel;
  /** The images whose maps move together. */
  inStep: MapsInStep;
}

export function activate(context: vscode.ExtensionContext): PmemExplorerApi {
  // Refusals are logged, internal errors with their stack, for bug reports (the user sees one message).
  const log = vscode.window.createOutputChannel('PMem', { log: true });
  lastAllocation.useStorage(context.workspaceState);
  const runner = new CommandRunner(log);
  const registry = new ImageRegistry();
  const inspectedStructPage = new InspectedStructPage();
  const descriptors = new DescriptorsTree(registry, inspectedStructPage);
  const freeLists = new FreeListsTree(registry);
  const sections = new SectionsTree(registry);
  const descriptorsView = vscode.window.createTreeView('pmemExplorer.descriptors', { treeDataProvider: descriptors, showCollapseAll: true });
  const work = new LongWork();
  const provider = new PmemEditorProvider(context.extensionUri, registry, work);
  const freeListsView = vscode.window.createTreeView('pmemExplorer.freeLists', { treeDataProvider: freeLists, showCollapseAll: true });
  const chains = new ChainSelection(registry, freeListsView);
  const descriptorsSelection = new DescriptorsSelection(registry, descriptorsView, (m) => log.warn(m), (pfn) => descriptors.frameNode(pfn));
  context.subscriptions.push(
    log,
    registry,
    work,
    descriptorsSelection,
    vscode.window.registerCustomEditorProvider(VIEW_TYPE, provider, { supportsMultipleEditorsPerDocument: true, webviewOptions: { enableFindWidget: true } }),
    inspectedStructPage,
    vscode.window.registerCustomEditorProvider(NAMESPACE_VIEW_TYPE, new NamespaceEditorProvider(context.extensionUri, inspectedStructPage), { supportsMultipleEditorsPerDocument: true, webviewOptions: { enableFindWidget: true } }),
    descriptorsView,
    freeListsView,
    chains,
    vscode.window.createTreeView('pmemExplorer.sections', { treeDataProvider: sections }),
    createStatusBar(registry),
  );
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('pmemExplorer.map')) registry.allMaps.forEach((m) => m.sendState(nothingChanged())); // a setting, not the image, changed
    }),
  );
  const views = { descriptors, descriptorsView, freeLists, sections };
  const { compare, inStep } = registerCommands(context, registry, views, runner, work);
  registerOpenAsNamespace(context);
  return { registry, views, commands: runner, descriptorsSelection, work, chains, compare, inStep };
}

export function deactivate(): void {}
