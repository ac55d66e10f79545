/**
 * Descriptors view: section groups > sections > frame pages > frames. Every
 * level holds at most `pageSize` children, so a TiB image never builds more
 * than a few hundred nodes at a time, and any frame has a fixed parent chain
 * (which is what reveal needs).
 */
import * as vscode from 'vscode';
import { FrameInfo, frames, sections, SectionSummary } from '../../engine';
import type { PmemImage } from '../../engine';
import { ImageRegistry } from '../imageRegistry';
import { frameDescription, frameTooltip, sectionIcon, stateLabel } from './labels';

export type DescriptorNode =
  | { kind: 'sectionGroup'; first: number; count: number }
  | { kind: 'section'; index: number }
  | { kind: 'framePage'; section: number; first: number; count: number }
  | { kind: 'frame'; pfn: number };

export class DescriptorsTree implements vscode.TreeDataProvider<DescriptorNode> {
  private readonly emitter = new vscode.EventEmitter<DescriptorNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly registry: ImageRegistry) {
    registry.onDidChange(() => this.emitter.fire(undefined));
  }

  private get image(): PmemImage | undefined {
    return this.registry.current?.viewImage;
  }

  private get pageSize(): number {
    return vscode.workspace.getConfiguration('pmemExplorer').get<number>('descriptors.pageSize', 256);
  }

  refresh(): void {
    this.emitter.fire(undefined);
  }

  getChildren(node?: DescriptorNode): DescriptorNode[] {
    const img = this.image;
    if (!img) return [];
    const page = this.pageSize;
    const g = img.geometry;
    if (!node) {
      if (g.sectionCount <= page) return Array.from({ length: g.sectionCount }, (_, index) => ({ kind: 'section', index }));
      const groups = Math.ceil(g.sectionCount / page);
      return Array.from({ length: groups }, (_, i) => ({ kind: 'sectionGroup', first: i * page, count: Math.min(page, g.sectionCount - i * page) }));
    }
    if (node.kind === 'sectionGroup') return Array.from({ length: node.count }, (_, i) => ({ kind: 'section', index: node.first + i }));
    if (node.kind === 'section') {
      const first = node.index * g.sectionFrames;
      const pages = Math.ceil(g.sectionFrames / page);
      return Array.from({ length: pages }, (_, i) => ({ kind: 'framePage', section: node.index, first: first + i * page, count: Math.min(page, g.sectionFrames - i * page) }));
    }
    if (node.kind === 'framePage') return Array.from({ length: node.count }, (_, i) => ({ kind: 'frame', pfn: node.first + i }));
    return [];
  }

  getParent(node: DescriptorNode): DescriptorNode | undefined {
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
        return { kind: 'sectionGroup', first, count: Math.min(page, g.sectionCount - first) };
      }
      case 'framePage':
        return { kind: 'section', index: node.section };
      case 'frame': {
        const section = Math.floor(node.pfn / g.sectionFrames);
        const offset = Math.floor((node.pfn - section * g.sectionFrames) / page) * page;
        return { kind: 'framePage', section, first: section * g.sectionFrames + offset, count: Math.min(page, g.sectionFrames - offset) };
      }
    }
  }

  getTreeItem(node: DescriptorNode): vscode.TreeItem {
    const img = this.image!;
    const collapsed = vscode.TreeItemCollapsibleState.Collapsed;
    switch (node.kind) {
      case 'sectionGroup': {
        const item = new vscode.TreeItem(`Sections ${node.first}–${node.first + node.count - 1}`, collapsed);
        item.id = `sg:${node.first}`;
        item.iconPath = new vscode.ThemeIcon('folder');
        return item;
      }
      case 'section': {
        const s: SectionSummary = sections(img, node.index, 1)[0];
        const item = new vscode.TreeItem(`Section ${s.index}`, collapsed);
        item.id = `s:${s.index}`;
        item.description = `${stateLabel(s.state)} · pfn ${s.firstPfn}`;
        item.tooltip = `Section ${s.index}: pfns ${s.firstPfn}–${s.firstPfn + s.frames - 1}, node ${s.node} ${s.zone}\n${stateLabel(s.state)} (generation ${s.initGeneration})\n${s.freeFrames} free, ${s.allocatedFrames} allocated, ${s.reservedFrames} reserved, ${s.uninitializedFrames} uninitialised`;
        item.iconPath = sectionIcon(s.state);
        item.contextValue = `section-${s.state}`;
        return item;
      }
      case 'framePage': {
        const item = new vscode.TreeItem(`pfn ${node.first}–${node.first + node.count - 1}`, collapsed);
        item.id = `fp:${node.first}`;
        item.iconPath = new vscode.ThemeIcon('list-flat');
        return item;
      }
      case 'frame': {
        const f: FrameInfo = frames(img, node.pfn, 1)[0];
        const item = new vscode.TreeItem(`pfn ${f.pfn}`, vscode.TreeItemCollapsibleState.None);
        item.id = `f:${f.pfn}`;
        item.description = frameDescription(f);
        item.tooltip = frameTooltip(f);
        item.iconPath = new vscode.ThemeIcon(f.kind === 'free' ? 'circle-outline' : f.kind === 'allocated' ? 'circle-filled' : f.kind === 'uninitialized' ? 'circle-slash' : 'lock');
        item.contextValue = f.kind === 'allocated' && f.blockPfn === f.pfn ? 'allocatedFrame' : `${f.kind}Frame`;
        return item;
      }
    }
  }
}
