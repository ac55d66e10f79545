/**
 * Lazy-Init Sections view: each section's state and counts, filtered by
 * state, in pages of sections. Nodes are kept by key, so a change refreshes
 * only the sections whose entries it changed (or their page, when one moves
 * in or out of the filter).
 */
import * as vscode from 'vscode';
import { sections, SectionState, SectionSummary } from '../../engine';
import type { ImageChange } from '../../engine/image/changeSet';
import { ImageRegistry } from '../imageRegistry';
import { SECTION_STATES, sectionStateCounts } from '../../engine/inspect/sectionSearch';
import { sectionIcon, stateLabel } from './labels';

export type SectionNode = { kind: 'group'; first: number; last: number } | { kind: 'section'; summary: SectionSummary };

const GROUP = 512;

export class SectionsTree implements vscode.TreeDataProvider<SectionNode> {
  private readonly emitter = new vscode.EventEmitter<SectionNode | SectionNode[] | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  /** States shown; all by default. */
  filter: Set<SectionState> = new Set(['never', 'initialized', 'stale']);
  /** Section nodes handed out, by index; group nodes by first section. */
  private readonly shown = new Map<number, Extract<SectionNode, { kind: 'section' }>>();
  private readonly groups = new Map<number, Extract<SectionNode, { kind: 'group' }>>();
  /** What the last refresh fired, for tests: everything, or the sections ("s:N") and groups ("g:N") refreshed. */
  lastRefresh?: 'all' | string[];

  constructor(private readonly registry: ImageRegistry) {
    registry.onDidChange(({ change }) => this.changed(change));
  }

  /** Sections per state in each group, counted from the section table while a filter hides some states. */
  private census?: Uint32Array;

  private get filtering(): boolean {
    return SECTION_STATES.some((s) => !this.filter.has(s));
  }

  /** How many sections of a group the filter lets through. */
  private matchingIn(first: number): number {
    const img = this.registry.current!.viewImage!;
    this.census ??= sectionStateCounts(img, GROUP);
    const g = Math.floor(first / GROUP) * 3;
    return SECTION_STATES.reduce((n, st, i) => n + (this.filter.has(st) ? this.census![g + i] : 0), 0);
  }

  refresh(): void {
    this.census = undefined;
    this.shown.clear();
    this.groups.clear();
    this.lastRefresh = 'all';
    this.emitter.fire(undefined);
  }

  private changed(change: ImageChange): void {
    const img = this.registry.current?.viewImage;
    // Filtered, the groups listed and their counts follow every section's state: count again.
    if (change.all || !img || (this.filtering && change.sections.length)) return this.refresh();
    const targets = new Set<SectionNode>();
    const keys: string[] = [];
    for (const s of change.sections) {
      const n = this.shown.get(s);
      const summary = sections(img, s, 1)[0];
      if (n && this.filter.has(summary.state)) {
        n.summary = summary; // the same node, with what it shows now
        targets.add(n);
        keys.push(`s:${s}`);
        continue;
      }
      if (!n && !this.filter.has(summary.state)) continue; // not shown before nor now
      // In or out of the filter: its group's list changed (or the top level's, when there are no groups).
      if (img.geometry.sectionCount <= GROUP) return this.refresh();
      const g = this.groups.get(Math.floor(s / GROUP) * GROUP);
      if (!g) continue;
      if (n) this.shown.delete(s);
      targets.add(g);
      keys.push(`g:${g.first}`);
    }
    if (!targets.size) return;
    this.lastRefresh = keys;
    this.emitter.fire([...targets]);
  }

  private matching(first: number, count: number): SectionNode[] {
    const img = this.registry.current?.viewImage;
    if (!img) return [];
    return sections(img, first, count).filter((s) => this.filter.has(s.state)).map((summary) => {
      const n = this.shown.get(summary.index);
      if (n) {
        n.summary = summary;
        return n;
      }
      const made = { kind: 'section' as const, summary };
      this.shown.set(summary.index, made);
      return made;
    });
  }

  getChildren(n?: SectionNode): SectionNode[] {
    const img = this.registry.current?.viewImage;
    if (!img) return [];
    const count = img.geometry.sectionCount;
    if (!n) {
      if (count <= GROUP) return this.matching(0, count);
      const groups: SectionNode[] = [];
      for (let first = 0; first < count; first += GROUP) {
        if (this.filtering && !this.matchingIn(first)) continue; // an empty group is noise
        let g = this.groups.get(first);
        if (!g) this.groups.set(first, (g = { kind: 'group', first, last: Math.min(count, first + GROUP) - 1 }));
        groups.push(g);
      }
      return groups;
    }
    if (n.kind === 'group') return this.matching(n.first, n.last - n.first + 1);
    return [];
  }

  getTreeItem(n: SectionNode): vscode.TreeItem {
    if (n.kind === 'group') {
      const item = new vscode.TreeItem(`Sections ${n.first}–${n.last}`, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `g:${n.first}`;
      if (this.filtering) item.description = `${this.matchingIn(n.first)} ${SECTION_STATES.filter((st) => this.filter.has(st)).map(stateLabel).join(' or ')}`;
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
