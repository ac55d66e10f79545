/**
 * Descriptors view: section groups > sections > frame pages > frames. Every
 * level holds at most `pageSize` children, so a TiB image never builds more
 * than a few hundred nodes at a time, and any frame has a fixed parent chain
 * (which is what reveal needs). Nodes are kept by key, so a change refreshes
 * just the sections, pages and frames it touched (VS Code knows an element by
 * its identity), and an item costs one section entry or one descriptor read.
 */
import * as vscode from 'vscode';
import { FrameInfo, frames, keepsDescriptors, sections, SectionSummary } from '../../engine';
import type { PmemImage } from '../../engine';
import type { ImageChange } from '../../engine/image/changeSet';
import { ImageRegistry } from '../imageRegistry';
import { descriptorTargets, frameKey, pageKey, sectionKey } from './refreshTargets';
import { frameDescription, frameTooltip, sectionIcon, stateLabel } from './labels';
import type { InspectedStructPage } from '../namespace/inspectedStructPage';
import { structPageItem, structPageWordItem } from '../namespace/structPageItems';

export type DescriptorNode =
  | { kind: 'sectionGroup'; first: number; count: number }
  | { kind: 'section'; index: number }
  | { kind: 'framePage'; section: number; first: number; count: number }
  | { kind: 'frame'; pfn: number }
  | { kind: 'structPage' }
  | { kind: 'structPageWord'; index: number };

/** Nodes kept at most, past which the next change refreshes everything and starts afresh. */
const MAX_KEPT_NODES = 50_000;

export class DescriptorsTree implements vscode.TreeDataProvider<DescriptorNode> {
  private readonly emitter = new vscode.EventEmitter<DescriptorNode | DescriptorNode[] | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  /** The nodes handed out, by key: the same object each time, as VS Code needs to match a refresh. */
  private readonly nodes = new Map<string, DescriptorNode>();
  /** The frames of the pages last listed, read a page at a time; dropped at every change. */
  private readonly pageFrames = new Map<number, FrameInfo>();
  /** What the last refresh fired, for tests: every node (`all`), or the keys of the nodes refreshed. */
  lastRefresh?: 'all' | string[];
  refreshes = 0;

  constructor(private readonly registry: ImageRegistry, private readonly namespace?: InspectedStructPage) {
    registry.onDidChange(({ change }) => this.changed(change));
    namespace?.onDidChange(() => this.refresh());
  }

  private get image(): PmemImage | undefined {
    return this.registry.current?.viewImage;
  }

  private get pageSize(): number {
    return vscode.workspace.getConfiguration('pmemExplorer').get<number>('descriptors.pageSize', 256);
  }

  refresh(): void {
    this.nodes.clear();
    this.pageFrames.clear();
    this.fire(undefined);
  }

  /** The node of a frame, as the view knows it. */
  frameNode(pfn: number): DescriptorNode {
    return this.node(frameKey(pfn), () => ({ kind: 'frame', pfn }));
  }

  private node<N extends DescriptorNode>(key: string, make: () => N): N {
    let n = this.nodes.get(key) as N | undefined;
    if (!n) this.nodes.set(key, (n = make()));
    return n;
  }

  private section(index: number): DescriptorNode {
    return this.node(sectionKey(index), () => ({ kind: 'section', index }));
  }

  private page(section: number, first: number, count: number): DescriptorNode {
    return this.node(pageKey(first, count), () => ({ kind: 'framePage', section, first, count }));
  }

  private group(first: number, count: number): DescriptorNode {
    return this.node(`sg:${first}:${count}`, () => ({ kind: 'sectionGroup', first, count }));
  }

  /** Refreshes the sections whose entries changed, and the frames (or pages of frames) that changed elsewhere. */
  private changed(change: ImageChange): void {
    this.pageFrames.clear();
    const img = this.image;
    // Kept nodes are dropped only together with a refresh of everything: a node VS Code holds must stay the one refreshed.
    if (change.all || !img || this.nodes.size > MAX_KEPT_NODES) return this.refresh();
    const keys = descriptorTargets(change, img.geometry, this.pageSize, (key) => this.nodes.has(key));
    if (keys.length) this.fire(keys.map((k) => this.nodes.get(k)!));
  }

  private fire(targets: DescriptorNode[] | undefined): void {
    this.refreshes++;
    this.lastRefresh = targets ? targets.map(keyOf) : 'all';
    this.emitter.fire(targets);
  }

  getChildren(node?: DescriptorNode): DescriptorNode[] {
    // A Linux namespace editor in front: its inspected struct page, word by word.
    const inspected = this.namespace?.current;
    if (inspected) {
      if (!node) return [this.node('ns', () => ({ kind: 'structPage' }))];
      if (node.kind === 'structPage') return inspected.page.words.map((_, index) => this.node(`ns:${index}`, () => ({ kind: 'structPageWord', index })));
      return [];
    }
    const img = this.image;
    if (!img) return [];
    const page = this.pageSize;
    const g = img.geometry;
    if (!node) {
      if (g.sectionCount <= page) return Array.from({ length: g.sectionCount }, (_, index) => this.section(index));
      const groups = Math.ceil(g.sectionCount / page);
      return Array.from({ length: groups }, (_, i) => this.group(i * page, Math.min(page, g.sectionCount - i * page)));
    }
    if (node.kind === 'sectionGroup') return Array.from({ length: node.count }, (_, i) => this.section(node.first + i));
    if (node.kind === 'section') {
      const first = node.index * g.sectionFrames;
      const pages = Math.ceil(g.sectionFrames / page);
      return Array.from({ length: pages }, (_, i) => this.page(node.index, first + i * page, Math.min(page, g.sectionFrames - i * page)));
    }
    if (node.kind === 'framePage') {
      // One walk over the page's descriptors for its items, instead of one lookup of the block per frame.
      if (this.pageFrames.size > 4096) this.pageFrames.clear();
      for (const f of frames(img, node.first, node.count)) this.pageFrames.set(f.pfn, f);
      return Array.from({ length: node.count }, (_, i) => this.frameNode(node.first + i));
    }
    return [];
  }

  getParent(node: DescriptorNode): DescriptorNode | undefined {
    if (node.kind === 'structPage') return undefined;
    if (node.kind === 'structPageWord') return this.node('ns', () => ({ kind: 'structPage' }));
    const img = this.image;
    if (!img) return undefined;
    const page = this.pageSize;
    const g = img.geometry;
    switch (node.kind) {
      case 'sectionGroup':
        return undefined;
      case 'section': {
        if (g.sectionCount <= page) return undefined;
        const first = Math.floor(node.index / page) * page;
        return this.group(first, Math.min(page, g.sectionCount - first));
      }
      case 'framePage':
        return this.section(node.section);
      case 'frame': {
        const section = Math.floor(node.pfn / g.sectionFrames);
        const offset = Math.floor((node.pfn - section * g.sectionFrames) / page) * page;
        return this.page(section, section * g.sectionFrames + offset, Math.min(page, g.sectionFrames - offset));
      }
    }
  }

  getTreeItem(node: DescriptorNode): vscode.TreeItem {
    const inspected = this.namespace?.current;
    if (node.kind === 'structPage' || node.kind === 'structPageWord') {
      if (!inspected) return new vscode.TreeItem('(no namespace in front)');
      return node.kind === 'structPage' ? structPageItem(inspected) : structPageWordItem(inspected, node.index);
    }
    const img = this.image;
    // VS Code may still ask for a row of an image just closed (its refresh crossed the request): nothing to read then.
    // The row keeps its id: VS Code finds a node it refreshes later by the id its item had.
    if (!img) return Object.assign(new vscode.TreeItem('(no image in front)'), { id: keyOf(node) });
    const collapsed = vscode.TreeItemCollapsibleState.Collapsed;
    switch (node.kind) {
      case 'sectionGroup': {
        const item = new vscode.TreeItem(`Sections ${node.first}–${node.first + node.count - 1}`, collapsed);
        item.id = keyOf(node);
        item.iconPath = new vscode.ThemeIcon('folder');
        return item;
      }
      case 'section': {
        const s: SectionSummary = sections(img, node.index, 1)[0]; // one entry read
        const item = new vscode.TreeItem(`Section ${s.index}`, collapsed);
        item.id = keyOf(node);
        item.description = `${stateLabel(s.state)} · pfn ${s.firstPfn}`;
        item.tooltip = `Section ${s.index}: pfns ${s.firstPfn}–${s.firstPfn + s.frames - 1}, node ${s.node} ${s.zone}\n${stateLabel(s.state)} (generation ${s.initGeneration})\n${s.freeFrames} free, ${s.allocatedFrames} allocated, ${s.reservedFrames} reserved, ${s.uninitializedFrames} uninitialised`;
        item.iconPath = sectionIcon(s.state);
        item.contextValue = `section-${s.state}`;
        return item;
      }
      case 'framePage': {
        const item = new vscode.TreeItem(`pfn ${node.first}–${node.first + node.count - 1}`, collapsed);
        item.id = keyOf(node);
        item.iconPath = new vscode.ThemeIcon('list-flat');
        return item;
      }
      case 'frame': {
        // Read with its page, or alone: one section entry and the descriptors that lead to its block's head.
        const f: FrameInfo = this.pageFrames.get(node.pfn) ?? frames(img, node.pfn, 1)[0];
        const item = new vscode.TreeItem(`pfn ${f.pfn}`, vscode.TreeItemCollapsibleState.None);
        item.id = keyOf(node);
        item.description = frameDescription(f, keepsDescriptors(img.geometry));
        item.tooltip = frameTooltip(f);
        item.iconPath = new vscode.ThemeIcon(f.kind === 'free' ? 'circle-outline' : f.kind === 'allocated' ? 'circle-filled' : f.kind === 'uninitialized' ? 'circle-slash' : 'lock');
        item.contextValue = f.kind === 'allocated' && f.blockPfn === f.pfn ? 'allocatedFrame' : `${f.kind}Frame`;
        return item;
      }
    }
  }
}

function keyOf(n: DescriptorNode): string {
  switch (n.kind) {
    case 'sectionGroup':
      return `sg:${n.first}`;
    case 'section':
      return `s:${n.index}`;
    case 'framePage':
      return `fp:${n.first}`;
    case 'frame':
      return `f:${n.pfn}`;
    case 'structPage':
      return 'ns';
    case 'structPageWord':
      return `ns:${n.index}`;
  }
}
