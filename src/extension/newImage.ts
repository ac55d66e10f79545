/**
 * New Image: a guided flow (size, section size, nodes, descriptor design,
 * free-list links, maximum order and movable zone as `pmem create` offers
 * them, profile, location), then open it. A preset may also give the history size.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Refusal } from './refusal';
import { builtDesign, DEFAULT_MAX_ORDER, DESIGNS, makeGeometry, MAX_ORDER_LIMIT, parseSize, PmemImage, PROFILES } from '../engine';
import { FileStore } from '../engine/node/fileStore';
import { VIEW_TYPE } from './pmemEditorProvider';

export interface NewImageOptions {
  size?: string;
  section?: '2M' | '1G';
  nodes?: number;
  memmap?: 'device' | 'ram';
  /** A design that runs (README's Designs); it chooses the memmap placement. */
  design?: string;
  /** Where free-list links live: inside the free pages (the design's) or in the descriptors (as Linux). */
  links?: 'page' | 'descriptor';
  maxOrder?: number;
  /** Percentage of each node in ZONE_MOVABLE. */
  movable?: number;
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
  if (o.links !== undefined && o.links !== 'page' && o.links !== 'descriptor') throw bad('links', '"page" or "descriptor"');
  if (o.design !== undefined && !DESIGNS.some((d) => d.built && d.name === o.design)) throw bad('design', `one of ${DESIGNS.filter((d) => d.built).map((d) => `"${d.name}"`).join(', ')}`);
  if (o.design !== undefined && o.memmap !== undefined) throw new Refusal('New Image: give "design" or "memmap", not both (the design chooses where its descriptors live)');
  if (o.maxOrder !== undefined && !(Number.isInteger(o.maxOrder) && (o.maxOrder as number) >= 0 && (o.maxOrder as number) <= MAX_ORDER_LIMIT)) throw bad('maxOrder', `a whole number from 0 to ${MAX_ORDER_LIMIT}`);
  if (o.movable !== undefined && !(Number.isInteger(o.movable) && (o.movable as number) >= 0 && (o.movable as number) <= 90)) throw bad('movable', 'a whole percentage from 0 to 90');
  if (o.profile !== undefined && typeof o.profile !== 'string') throw bad('profile', 'a profile name');
  if (o.history !== undefined && typeof o.history !== 'string') throw bad('history', 'a size such as "8M"');
  let target: vscode.Uri | undefined;
  if (typeof o.target === 'string') target = vscode.Uri.file(o.target);
  else if (o.target instanceof vscode.Uri) target = o.target;
  else if (o.target !== undefined) throw bad('target', 'a path or a file URI');
  return { size: o.size as string | undefined, section: o.section as NewImageOptions['section'], nodes: o.nodes as number | undefined, memmap: o.memmap as NewImageOptions['memmap'], design: o.design as string | undefined, links: o.links as NewImageOptions['links'], maxOrder: o.maxOrder as number | undefined, movable: o.movable as number | undefined, profile: o.profile as string | undefined, history: o.history as string | undefined, target };
}

export async function createImage(_context: vscode.ExtensionContext, preset: NewImageOptions = {}): Promise<vscode.Uri | undefined> {
  const cfg = vscode.workspace.getConfiguration('pmemExplorer.defaults');
  const size = preset.size ?? (await vscode.window.showInputBox({ ignoreFocusOut: true, title: 'New Image (1/7)', prompt: 'Device size (e.g. 64M, 16G, 1T)', value: '256M', validateInput: (t) => { try { makeGeometry({ sizeBytes: parseSize(t) }); return undefined; } catch (e) { return (e as Error).message; } } }));
  if (!size) return;
  const section = preset.section ?? ((await vscode.window.showQuickPick([{ label: '2M', description: 'lazy init in 2 MiB sections' }, { label: '1G', description: 'lazy init in 1 GiB sections' }], { ignoreFocusOut: true, title: 'New Image (2/7): section size', placeHolder: cfg.get('sectionSize') }))?.label as '2M' | '1G' | undefined);
  if (!section) return;
  const nodes = preset.nodes ?? Number((await vscode.window.showQuickPick(['1', '2', '4', '8'], { ignoreFocusOut: true, title: 'New Image (3/7): NUMA nodes', placeHolder: String(cfg.get('nodes')) })) ?? NaN);
  if (!Number.isInteger(nodes)) return;
  const designName = preset.memmap !== undefined ? (preset.memmap === 'ram' ? 'ram64' : 'core64') : preset.design ?? (await vscode.window.showQuickPick(
    DESIGNS.filter((d) => d.built).map((d) => ({ label: d.name, description: d.summary, detail: d.source })),
    { ignoreFocusOut: true, title: 'New Image (4/7): descriptor design', placeHolder: 'Where the state of each page frame lives (pmem compare runs them side by side)' },
  ))?.label;
  if (!designName) return;
  const { memmap, descriptors } = builtDesign(designName).geometry;
  const layout = await layoutOptions(preset);
  if (!layout) return;
  const profile = preset.profile ?? (await vscode.window.showQuickPick(PROFILES.map((p) => ({ label: p.name, description: p.description })), { ignoreFocusOut: true, title: 'New Image (6/7): kernel profile' }))?.label;
  if (!profile) return;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = preset.target ?? (await vscode.window.showSaveDialog({ title: 'New Image (7/7): location', filters: { 'PMem images': ['pmem'] }, defaultUri: folder ? vscode.Uri.joinPath(folder, 'image.pmem') : undefined }));
  if (!target) return;
  const historyBytes = preset.history !== undefined ? parseSize(preset.history, 'history size') : undefined;
  const geometry = makeGeometry({ sizeBytes: parseSize(size), sectionBytes: parseSize(section), nodes, memmap, descriptors, ...layout, profile, historyBytes });
  const temp = path.join(path.dirname(target.fsPath), `.${path.basename(target.fsPath)}.tmp`);
  const store = FileStore.create(temp, geometry.sizeBytes, { overwrite: true });
  try {
    PmemImage.create(store, { sizeBytes: geometry.sizeBytes, sectionBytes: parseSize(section), nodes, memmap, descriptors, ...layout, profile, historyBytes, file: target.fsPath });
  } finally {
    store.close();
  }
  await vscode.workspace.fs.rename(vscode.Uri.file(temp), target, { overwrite: true });
  await vscode.commands.executeCommand('vscode.openWith', target, VIEW_TYPE);
  return target;
}

type Layout = { links: 'page' | 'descriptor'; maxOrder: number; movablePercent: number };

/**
 * Free-list links, maximum order and movable zone: one step that takes the
 * defaults, or three that choose. A preset that gives the size (a caller, not
 * a person) takes the defaults for what it does not give.
 */
async function layoutOptions(preset: NewImageOptions): Promise<Layout | undefined> {
  const given: Layout = { links: preset.links ?? 'page', maxOrder: preset.maxOrder ?? DEFAULT_MAX_ORDER, movablePercent: preset.movable ?? 0 };
  if (preset.size !== undefined || preset.links !== undefined || preset.maxOrder !== undefined || preset.movable !== undefined) return given;
  const title = 'New Image (5/7): free lists and zones';
  const how = await vscode.window.showQuickPick([
    { label: 'Defaults', description: `links inside the free pages, largest block order ${DEFAULT_MAX_ORDER} (4 MiB), no movable zone`, choose: false },
    { label: 'Choose…', description: 'links placement, maximum order, movable zone (as pmem create --links, --max-order, --movable)', choose: true },
  ], { ignoreFocusOut: true, title });
  if (!how) return undefined;
  if (!how.choose) return given;
  const links = (await vscode.window.showQuickPick([
    { label: 'page', description: 'free-list links inside the free blocks (this design)' },
    { label: 'descriptor', description: 'links in the descriptors, as Linux keeps them today' },
  ], { ignoreFocusOut: true, title: `${title}: links placement` }))?.label as Layout['links'] | undefined;
  if (!links) return undefined;
  const whole = (prompt: string, value: number, max: number) => vscode.window.showInputBox({
    ignoreFocusOut: true, title, prompt, value: String(value),
    validateInput: (t) => (/^\d+$/.test(t.trim()) && +t <= max ? undefined : `Enter a whole number from 0 to ${max}`),
  }).then((t) => (t === undefined ? undefined : Number(t)));
  const maxOrder = await whole(`Largest buddy order, 0 to ${MAX_ORDER_LIMIT} (${DEFAULT_MAX_ORDER} = 4 MiB blocks)`, DEFAULT_MAX_ORDER, MAX_ORDER_LIMIT);
  if (maxOrder === undefined) return undefined;
  const movablePercent = await whole('Percentage of each node in ZONE_MOVABLE, 0 to 90', 0, 90);
  if (movablePercent === undefined) return undefined;
  return { links, maxOrder, movablePercent };
}
