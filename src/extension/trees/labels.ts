/** Words and icons shared by the tree views. */
import * as vscode from 'vscode';
import { REGION_LABELS, type FrameInfo, type SectionState } from '../../engine';
import { frameStateWords, sectionStateWords } from '../../shared/words';
import { frameTooltipMarkdown } from './frameTooltip';

export function stateLabel(state: SectionState): string {
  return sectionStateWords(state);
}

export function sectionIcon(state: SectionState): vscode.ThemeIcon {
  if (state === 'initialized') return new vscode.ThemeIcon('pass-filled', new vscode.ThemeColor('testing.iconPassed'));
  if (state === 'stale') return new vscode.ThemeIcon('history', new vscode.ThemeColor('list.warningForeground'));
  return new vscode.ThemeIcon('circle-large-outline');
}

/** `keeps`: the image keeps a descriptor for every frame; without (pfn-only, dynamic) an allocated frame has no order to show. */
export function frameDescription(f: FrameInfo, keeps = true): string {
  const unknown = !keeps && f.kind === 'allocated';
  const block = f.blockPfn !== undefined && !unknown ? ` order ${f.order}${f.blockPfn !== f.pfn ? ` (in ${f.blockPfn})` : ''}` : '';
  const owner = f.owner ? ` · ${f.owner}` : '';
  const kind = frameStateWords(f.kind, f.region && REGION_LABELS[f.region]);
  const io = f.io ? ` · under I/O ${f.io}` : unknown ? ' · no descriptor' : '';
  return `${kind}${block}${owner}${io}`;
}

/** Markdown without HTML or command links, so nothing from the image can run or render as markup. */
export function frameTooltip(f: FrameInfo): vscode.MarkdownString {
  const md = new vscode.MarkdownString(frameTooltipMarkdown(f));
  md.supportHtml = false;
  md.isTrusted = false;
  return md;
}
