/** Words and icons shared by the tree views. */
import * as vscode from 'vscode';
import { REGION_LABELS, type FrameInfo, type SectionState } from '../../engine';
import { frameStateWords, sectionStateWords } from '../../shared/words';

export function stateLabel(state: SectionState): string {
  return sectionStateWords(state);
}

export function sectionIcon(state: SectionState): vscode.ThemeIcon {
  if (state === 'initialized') return new vscode.ThemeIcon('pass-filled', new vscode.ThemeColor('testing.iconPassed'));
  if (state === 'stale') return new vscode.ThemeIcon('history', new vscode.ThemeColor('list.warningForeground'));
  return new vscode.ThemeIcon('circle-large-outline');
}

export function frameDescription(f: FrameInfo): string {
  const block = f.blockPfn !== undefined ? ` order ${f.order}${f.blockPfn !== f.pfn ? ` (in ${f.blockPfn})` : ''}` : '';
  const owner = f.owner ? ` · ${f.owner}` : '';
  const kind = frameStateWords(f.kind, f.region && REGION_LABELS[f.region]);
  return `${kind}${block}${owner}`;
}

export function frameTooltip(f: FrameInfo): vscode.MarkdownString {
  const lines = [
    `**pfn ${f.pfn}** (physical address 0x${f.physAddr.toString(16)})`,
    `state: ${frameStateWords(f.kind, f.region && REGION_LABELS[f.region])}`,
    f.blockPfn !== undefined ? `block: pfn ${f.blockPfn}, order ${f.order} (${2 ** (f.order ?? 0)} frames)` : '',
    f.owner ? `owner: ${f.owner}` : '',
    `node ${f.node}, zone ${f.zone}; section ${f.section} (${stateLabel(f.sectionState)})`,
    f.descriptorPresent ? `descriptor: flags 0x${f.flags.toString(16)}, refcount ${f.refcount}, initialised in generation ${f.initGeneration}` : 'descriptor: not present in this boot',
    ...Object.entries(f.extended).map(([k, v]) => `${k}: 0x${v.toString(16)}`),
  ].filter(Boolean);
  return new vscode.MarkdownString(lines.join('  \n'));
}
