/** The design's own structures as actions: following a free block's list link to the next block. */
import * as vscode from 'vscode';
import { frames } from '../../engine';
import { Refusal } from '../refusal';
import type { CommandContext } from './context';

export interface FollowedLink {
  from: number;
  to: number;
  /** Why the link is broken (the block reached does not point back, or is not a free block of the order). */
  broken?: string;
}

export function registerStructureCommands(c: CommandContext): void {
  // From a free frame (Descriptors view), a free block (Free Lists view), a pfn, or the selected frame.
  c.run('pmemExplorer.followLink', (node?: unknown): FollowedLink | undefined => {
    const doc = c.registry.require();
    const img = doc.viewImage!;
    const given = (node as { pfn?: unknown } | undefined)?.pfn ?? node;
    const pfn = typeof given === 'number' ? given : doc.selection?.pfn;
    if (pfn === undefined || !Number.isSafeInteger(pfn) || pfn < 0 || pfn >= img.geometry.totalFrames) throw new Refusal('Follow Link: choose a frame of a free block');
    const f = frames(img, pfn, 1)[0];
    if (f.kind !== 'free' || !f.links || f.blockPfn === undefined) throw new Refusal(`Follow Link: pfn ${pfn} is not in a free block`);
    if (f.links.problem) throw new Refusal(`Follow Link: block ${f.blockPfn}'s links cannot be read: ${f.links.problem}`);
    const next = f.links.next;
    if (!next) {
      void vscode.window.showInformationMessage(`Block ${f.blockPfn} is the last on its list (node ${f.links.node} ${f.links.zone} order ${f.links.order}).`);
      return { from: f.blockPfn, to: 0 };
    }
    if (next >= img.geometry.totalFrames) throw new Refusal(`Follow Link: block ${f.blockPfn} links to pfn ${next}, past the last frame: the link is broken`);
    doc.select(next, 'command', { reveal: true });
    const t = frames(img, next, 1)[0];
    const broken = t.kind !== 'free' || t.blockPfn !== next ? `pfn ${next} is not the head of a free block (${t.kind})`
      : t.links?.problem ? `its links cannot be read: ${t.links.problem}`
        : t.order !== f.order ? `it is a free block of order ${t.order}, not ${f.order}`
          : t.links && t.links.prev !== f.blockPfn ? `its prev link is ${t.links.prev}, not ${f.blockPfn}` : undefined;
    if (broken) void vscode.window.showWarningMessage(`Broken link: block ${f.blockPfn} links to pfn ${next}, but ${broken}.`);
    return { from: f.blockPfn, to: next, ...(broken ? { broken } : {}) };
  });
}
