/** Lazy-Init Sections view: each section's state and counts, filtered by state, in pages of sections. */
import * as vscode from 'vscode';
import { sections, SectionState, SectionSummary } from '../../engine';
import { ImageRegistry } from '../imageRegistry';
import { sectionIcon, stateLabel } from './labels';

export type SectionNode = { kind: 'group'; first: number; last: number } | { kind: 'section'; summary: SectionSummary };

const GROUP = 512;

export class SectionsTree implements vscode.TreeDataProvider<SectionNode> {
  private readonly emitter = new vscode.EventEmitter<SectionNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  /** States shown; all by default. */
  filter: Set<SectionState> = new Set(['never', 'initialized', 'stale']);

  constructor(private readonly registry: ImageRegistry) {
    registry.onDidChange(() => this.refresh());
  }

  refresh(): void {
    this.emitter.fire(undefined);
  }

  private matching(first: number, count: number): SectionSummary[] {
    const img = this.registry.current?.viewImage;
    if (!img) return [];
    return sections(img, first, count).filter((s) => this.filter.has(s.state));
  }

  getChildren(n?: SectionNode): SectionNode[] {
    const img = this.registry.current?.viewImage;
    if (!img) return [];
    const count = img.geometry.sectionCount;
    if (!n) {
      if (count <= GROUP) return this.matching(0, count).map((summary) => ({ kind: 'section', summary }));
      const groups: SectionNode[] = [];
      for (let first = 0; first < count; first += GROUP) groups.push({ kind: 'group', first, last: Math.min(count, first + GROUP) - 1 });
      return groups;
    }
    if (n.kind === 'group') return this.matching(n.first, n.last - n.first + 1).map((summary) => ({ kind: 'section', summary }));
    return [];
  }

  getTreeItem(n: SectionNode): vscode.TreeItem {
    if (n.kind === 'group') {
      const item = new vscode.TreeItem(`Sections ${n.first}–${n.last}`, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `g:${n.first}`;
      return item;
    }
    const s = n.summary;
    const item = new vscode.TreeItem(`Section ${s.index}`, vscode.TreeItemCollapsibleState.None);
    item.id = `sec:${s.index}`;
    item.description = s.reservedFrames === s.frames ? 'metadata only' : s.state === 'never' ? `${s.uninitializedFrames} frames untouched` : `${s.freeFrames} free / ${s.allocatedFrames} used`;
    item.tooltip = `Section ${s.index}: ${stateLabel(s.state)}${s.state === 'stale' ? ` (initialised in boot ${s.initGeneration}, an earlier boot)` : ''}\npfns ${s.firstPfn}–${s.firstPfn + s.frames - 1} · node ${s.node} ${s.zone}\ninitialisation generation ${s.initGeneration}\n${s.reservedFrames} reserved, ${s.uninitializedFrames} not yet handed to the allocator`;
    item.iconPath = sectionIcon(s.state);
    item.contextValue = `section-${s.state}`;
    item.command = { command: 'pmemExplorer.goToFrame', title: 'Reveal', arguments: [s.firstPfn] };
    return item;
  }
}
