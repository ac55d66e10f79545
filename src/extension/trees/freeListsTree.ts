/**
 * Free Lists view: node > zone > order (block count, as /proc/buddyinfo) >
 * blocks. Nodes are kept by key; a change that moved free-list heads
 * refreshes only the NUMA nodes whose lists differ, one that did not refreshes nothing.
 */
import * as vscode from 'vscode';
import { freeLists, FreeListView } from '../../engine';
import type { ImageChange } from '../../engine/image/changeSet';
import { ImageRegistry } from '../imageRegistry';

export type FreeListNode =
  | { kind: 'node'; node: number }
  | { kind: 'zone'; node: number; zone: string }
  | { kind: 'order'; list: FreeListView }
  | { kind: 'block'; pfn: number; order: number };

const BLOCKS_SHOWN = 256;

const sameList = (a: FreeListView, b: FreeListView) => a.count === b.count && a.blocks.length === b.blocks.length && a.blocks.every((p, i) => p === b.blocks[i]);

export class FreeListsTree implements vscode.TreeDataProvider<FreeListNode> {
  private readonly emitter = new vscode.EventEmitter<FreeListNode | FreeListNode[] | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private cache?: FreeListView[];
  private readonly nodes = new Map<string, FreeListNode>();
  /** What the last refresh fired, for tests: everything, or the keys of the nodes refreshed ("n:0"). */
  lastRefresh?: 'all' | string[];

  constructor(private readonly registry: ImageRegistry) {
    registry.onDidChange(({ change }) => this.changed(change));
  }

  refresh(): void {
    this.cache = undefined;
    this.nodes.clear();
    this.lastRefresh = 'all';
    this.emitter.fire(undefined);
  }

  private changed(change: ImageChange): void {
    if (change.all || !this.cache) return this.refresh();
    if (!change.freeLists) return; // no head or count moved: every list reads as before
    const before = this.cache;
    this.cache = undefined;
    const after = this.lists();
    if (after.length !== before.length) return this.refresh();
    const changedNodes = new Set<number>();
    after.forEach((l, i) => {
      if (!sameList(l, before[i])) changedNodes.add(l.node);
    });
    // Order nodes carry their list: the kept ones take the new one, so the refresh shows it.
    for (const l of after) {
      const n = this.nodes.get(`o:${l.node}:${l.zone}:${l.order}`);
      if (n?.kind === 'order') n.list = l;
    }
    const targets = [...changedNodes].map((id) => this.nodes.get(`n:${id}`)).filter((n): n is FreeListNode => !!n);
    if (!targets.length) return;
    this.lastRefresh = targets.map((n) => `n:${(n as { node: number }).node}`);
    this.emitter.fire(targets);
  }

  private node<N extends FreeListNode>(key: string, make: () => N): N {
    let n = this.nodes.get(key) as N | undefined;
    if (!n) this.nodes.set(key, (n = make()));
    return n;
  }

  private lists(): FreeListView[] {
    const img = this.registry.current?.viewImage;
    if (!img) return [];
    return (this.cache ??= freeLists(img, BLOCKS_SHOWN));
  }

  getChildren(n?: FreeListNode): FreeListNode[] {
    const lists = this.lists();
    if (!n) return [...new Set(lists.map((l) => l.node))].map((node) => this.node(`n:${node}`, () => ({ kind: 'node', node })));
    if (n.kind === 'node') return [...new Set(lists.filter((l) => l.node === n.node).map((l) => l.zone))].map((zone) => this.node(`z:${n.node}:${zone}`, () => ({ kind: 'zone', node: n.node, zone })));
    // Empty orders stay out of the tree (the zone row still lists every order's count, as buddyinfo does).
    if (n.kind === 'zone') {
      return lists.filter((l) => l.node === n.node && l.zone === n.zone && l.count > 0).map((list) => {
        const o = this.node(`o:${list.node}:${list.zone}:${list.order}`, () => ({ kind: 'order', list }));
        o.list = list;
        return o;
      });
    }
    if (n.kind === 'order') return n.list.blocks.map((pfn) => this.node(`b:${pfn}:${n.list.order}`, () => ({ kind: 'block', pfn, order: n.list.order })));
    return [];
  }

  getTreeItem(n: FreeListNode): vscode.TreeItem {
    const C = vscode.TreeItemCollapsibleState;
    switch (n.kind) {
      case 'node': {
        const free = this.lists().filter((l) => l.node === n.node).reduce((s, l) => s + l.count * 2 ** l.order, 0);
        const item = new vscode.TreeItem(`Node ${n.node}`, C.Expanded);
        item.description = `${free} free frames`;
        item.iconPath = new vscode.ThemeIcon('server');
        item.id = `n:${n.node}`;
        return item;
      }
      case 'zone': {
        const lists = this.lists().filter((l) => l.node === n.node && l.zone === n.zone);
        const empty = lists.every((l) => l.count === 0);
        const item = new vscode.TreeItem(`Zone ${n.zone}`, empty ? C.None : C.Expanded);
        item.description = lists.map((l) => l.count).join(' ');
        item.tooltip = `Free blocks per order 0 to ${lists.length - 1}, as in /proc/buddyinfo${empty ? '\nNo free blocks yet: sections join the free lists when first used (lazy init)' : ''}`;
        item.iconPath = new vscode.ThemeIcon('layers');
        item.id = `z:${n.node}:${n.zone}`;
        return item;
      }
      case 'order': {
        const l = n.list;
        const item = new vscode.TreeItem(`Order ${l.order}`, C.Collapsed);
        item.description = `${l.count} block${l.count === 1 ? '' : 's'} of ${2 ** l.order} frame${l.order ? 's' : ''}${l.count > l.blocks.length ? ` (first ${l.blocks.length} shown)` : ''}`;
        item.iconPath = new vscode.ThemeIcon('list-ordered');
        item.id = `o:${l.node}:${l.zone}:${l.order}`;
        return item;
      }
      case 'block': {
        const item = new vscode.TreeItem(`pfn ${n.pfn}–${n.pfn + 2 ** n.order - 1}`, C.None);
        item.description = `${2 ** n.order} frames`;
        item.iconPath = new vscode.ThemeIcon('circle-outline');
        item.contextValue = 'freeBlock';
        item.command = { command: 'pmemExplorer.goToFrame', title: 'Reveal', arguments: [n.pfn] };
        item.id = `b:${n.pfn}`;
        return item;
      }
    }
  }
}
