/**
 * The free list chosen in the Free Lists view, drawn on the image's maps as a
 * chain of its blocks in list order, walked again after every change so a
 * link broken since is drawn broken.
 */
import * as vscode from 'vscode';
import { freeListChain } from '../engine';
import type { ChainData } from '../shared/protocol';
import type { ImageRegistry } from './imageRegistry';
import type { FreeListNode } from './trees/freeListsTree';

/** Blocks drawn at most: beyond this the chain stops (the map says how many of the list it shows). */
const MAX_CHAIN_BLOCKS = 4096;

export interface ChosenList {
  node: number;
  zone: string;
  order: number;
}

export class ChainSelection implements vscode.Disposable {
  private chosen?: ChosenList;
  /** The chain last sent, for tests. */
  last: ChainData | null = null;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly registry: ImageRegistry, view: vscode.TreeView<FreeListNode>) {
    this.subscriptions.push(
      view.onDidChangeSelection((e) => {
        const n = e.selection[0];
        if (n?.kind === 'order') this.show({ node: n.list.node, zone: n.list.zone, order: n.list.order });
        else if (n?.kind !== 'block') this.show(undefined); // a block keeps its list drawn
      }),
      registry.onDidChange(() => this.send()),
    );
  }

  /** Draws a list (undefined: none) on the active image's maps. */
  show(list: ChosenList | undefined): ChainData | null {
    this.chosen = list;
    return this.send();
  }

  private send(): ChainData | null {
    const doc = this.registry.current;
    const img = doc?.viewImage;
    const c = this.chosen && img ? freeListChain(img, this.chosen.node, this.chosen.zone, this.chosen.order, MAX_CHAIN_BLOCKS) : undefined;
    this.last = c ? {
      label: `node ${c.node} ${c.zone} order ${c.order}: ${c.blocks.length < c.count && !c.blocks.some((b) => b.broken) ? `first ${c.blocks.length} of ${c.count}` : `${c.count}`} block${c.count === 1 ? '' : 's'}`,
      order: c.order,
      blocks: c.blocks,
    } : null;
    if (this.chosen || this.registry.allMaps.some((m) => m.lastChain)) {
      for (const m of this.registry.allMaps) m.showChain(m.document === doc ? this.last : null);
    }
    return this.last;
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
  }
}
