/** New Image: a guided flow (size, section size, nodes, memmap placement, profile, location), then open it. A preset may also give the history size. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Refusal } from './refusal';
import { makeGeometry, parseSize, PmemImage, PROFILES } from '../engine';
import { FileStore } from '../engine/node/fileStore';
import { VIEW_TYPE } from './pmemEditorProvider';

export interface NewImageOptions {
  size?: string;
  section?: '2M' | '1G';
  nodes?: number;
  memmap?: 'device' | 'ram';
  profile?: string;
  /** History region size such as "8M" (no prompt: the default unless given). */
  history?: string;
  target?: vscode.Uri;
}

/** Checks a preset given as a command argument: anything else is an error that says which field is wrong. */
export function newImagePreset(arg: unknown): NewImageOptions {
  if (arg === undefined) return {};
  if (typeof arg !== 'object' || arg === null) throw new Refusal('New Image takes an options object');
  const o = arg as Record<string, unknown>;
  const bad = (field: string, want: string) => new Refusal(`New Image: "${field}" must be ${want}`);
  if (o.size !== undefined && typeof o.size !== 'string') throw bad('size', 'a size such as "64M"');
  if (o.section !== undefined && o.section !== '2M' && o.section !== '1G') throw bad('section', '"2M" or "1G"');
  if (o.nodes !== undefined && !(Number.isInteger(o.nodes) && (o.nodes as number) >= 1)) throw bad('nodes', 'a whole number from 1');
  if (o.memmap !== undefined && o.memmap !== 'device' && o.memmap !== 'ram') throw bad('memmap', '"device" or "ram"');
  if (o.profile !== undefined && typeof o.profile !== 'string') throw bad('profile', 'a profile name');
  if (o.history !== undefined && typeof o.history !== 'string') throw bad('history', 'a size such as "8M"');
  let target: vscode.Uri | undefined;
  if (typeof o.target === 'string') target = vscode.Uri.file(o.target);
  else if (o.target instanceof vscode.Uri) target = o.target;
  else if (o.target !== undefined) throw bad('target', 'a path or a file URI');
  return { size: o.size as string | undefined, section: o.section as NewImageOptions['section'], nodes: o.nodes as number | undefined, memmap: o.memmap as NewImageOptions['memmap'], profile: o.profile as string | undefined, history: o.history as string | undefined, target };
}

export async function createImage(_context: vscode.ExtensionContext, preset: NewImageOptions = {}): Promise<vscode.Uri | undefined> {
  const cfg = vscode.workspace.getConfiguration('pmemExplorer.defaults');
  const size = preset.size ?? (await vscode.window.showInputBox({ ignoreFocusOut: true, title: 'New Image (1/6)', prompt: 'Device size (e.g. 64M, 16G, 1T)', value: '256M', validateInput: (t) => { try { makeGeometry({ sizeBytes: parseSize(t) }); return undefined; } catch (e) { return (e as Error).message; } } }));
  if (!size) return;
  const section = preset.section ?? ((await vscode.window.showQuickPick([{ label: '2M', description: 'lazy init in 2 MiB sections' }, { label: '1G', description: 'lazy init in 1 GiB sections' }], { ignoreFocusOut: true, title: 'New Image (2/6): section size', placeHolder: cfg.get('sectionSize') }))?.label as '2M' | '1G' | undefined);
  if (!section) return;
  const nodes = preset.nodes ?? Number((await vscode.window.showQuickPick(['1', '2', '4', '8'], { ignoreFocusOut: true, title: 'New Image (3/6): NUMA nodes', placeHolder: String(cfg.get('nodes')) })) ?? NaN);
  if (!Number.isInteger(nodes)) return;
  const memmap = preset.memmap ?? ((await vscode.window.showQuickPick([{ label: 'device', description: 'descriptors on the pmem itself' }, { label: 'ram', description: 'descriptors in RAM, rebuilt at every boot' }], { ignoreFocusOut: true, title: 'New Image (4/6): memmap placement' }))?.label as 'device' | 'ram' | undefined);
  if (!memmap) return;
  const profile = preset.profile ?? (await vscode.window.showQuickPick(PROFILES.map((p) => ({ label: p.name, description: p.description })), { ignoreFocusOut: true, title: 'New Image (5/6): kernel profile' }))?.label;
  if (!profile) return;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = preset.target ?? (await vscode.window.showSaveDialog({ title: 'New Image (6/6): location', filters: { 'PMem images': ['pmem'] }, defaultUri: folder ? vscode.Uri.joinPath(folder, 'image.pmem') : undefined }));
  if (!target) return;
  const historyBytes = preset.history !== undefined ? parseSize(preset.history, 'history size') : undefined;
  const geometry = makeGeometry({ sizeBytes: parseSize(size), sectionBytes: parseSize(section), nodes, memmap, profile, historyBytes });
  const temp = path.join(path.dirname(target.fsPath), `.${path.basename(target.fsPath)}.tmp`);
  const store = FileStore.create(temp, geometry.sizeBytes, { overwrite: true });
  try {
    PmemImage.create(store, { sizeBytes: geometry.sizeBytes, sectionBytes: parseSize(section), nodes, memmap, profile, historyBytes, file: target.fsPath });
  } finally {
    store.close();
  }
  await vscode.workspace.fs.rename(vscode.Uri.file(temp), target, { overwrite: true });
  await vscode.commands.executeCommand('vscode.openWith', target, VIEW_TYPE);
  return target;
}
