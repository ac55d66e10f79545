/** Tree items of an inspected struct page in the Descriptors view: the page, then each word of it. */
import * as vscode from 'vscode';
import type { InspectedPage } from './inspectedStructPage';

export function structPageItem(i: InspectedPage): vscode.TreeItem {
  const p = i.page;
  const item = new vscode.TreeItem(`page ${p.page}${p.pfn === undefined ? '' : ` · pfn 0x${p.pfn.toString(16)}`}`, p.written ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
  item.id = `ns:${i.file}:${p.page}`;
  item.description = p.written
    ? `${p.kind} · ${p.flags.names.map((n) => `PG_${n}`).join(' ') || 'no flags'} · node ${p.flags.node} ${p.flags.zoneName} · ref ${p.refcount}`
    : 'never written';
  item.tooltip = `${i.file}: struct page of namespace page ${p.page}${p.area ? ` (${p.area})` : ''}, at byte ${p.offset}\n${p.written ? `flags ${p.flags.hex}` : 'all zeros: the kernel never wrote it'}${p.problems.length ? `\n${p.problems.join('\n')}` : ''}`;
  item.iconPath = new vscode.ThemeIcon(p.problems.length ? 'warning' : p.written ? 'symbol-struct' : 'circle-slash');
  item.contextValue = 'linuxStructPage';
  return item;
}

export function structPageWordItem(i: InspectedPage, index: number): vscode.TreeItem {
  const w = i.page.words[index];
  const item = new vscode.TreeItem(`+${w.offset} ${w.name}`, vscode.TreeItemCollapsibleState.None);
  item.id = `ns:${i.file}:${i.page.page}:${w.offset}`;
  item.description = `${w.hex} · ${w.meaning}`;
  item.tooltip = `${w.name} (${w.size} bytes at offset ${w.offset})\n${w.hex}\n${w.meaning}`;
  return item;
}
