/** Runs in a real VS Code extension host against the real API. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { info } from '../../../src/engine';
import type { PmemExplorerApi } from '../../../src/extension/extension';
import { activateApi, closeAll, editorCommand, fileDigest, makeImage, openImage, readInfo, refusal, tempDir, until, VIEW } from './helpers';

let api: PmemExplorerApi;
const session = () => api.registry.current?.session;

describe('PMem Explorer in VS Code', () => {
  before(async () => {
    api = await activateApi();
  });

  afterEach(closeAll);

  it('opens a .pmem image in the custom editor and allocates, undoes, redoes and saves', async () => {
    const uri = makeImage('a.pmem');
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW);
    const tab = await until('the editor tab', () => vscode.window.tabGroups.activeTabGroup.activeTab);
    assert.ok(tab.input instanceof vscode.TabInputCustom && tab.input.viewType === VIEW);
    const pfns = (await vscode.commands.executeCommand('pmemExplorer.allocate', { order: 3, count: 2, node: 0, zone: 'normal', owner: 'int' })) as number[];
    assert.equal(pfns.length, 2);
    assert.equal(readInfo(uri).frames.allocated, 0, 'not saved yet');
    const allocated = () => info(session()!.image).frames.allocated;
    assert.equal(allocated(), 16);
    await editorCommand('undo');
    await until('undo of the allocation', () => allocated() === 0);
    await editorCommand('redo');
    await until('redo of the allocation', () => allocated() === 16);
    await vscode.commands.executeCommand('workbench.action.files.save');
    await until('the save', () => !session()!.dirty);
    const saved = readInfo(uri);
    assert.equal(saved.frames.allocated, 16, 'two order-3 blocks reached the file');
    assert.equal(saved.bootGeneration, 1);
  });

  it('allocates more blocks than one journal transaction holds as one edit, refusing other changes meanwhile, and frees them by owner', async () => {
    const uri = makeImage('large.pmem');
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW);
    await until('the editor tab', () => vscode.window.tabGroups.activeTabGroup.activeTab);
    const allocated = () => info(session()!.image).frames.allocated;
    const large = vscode.commands.executeCommand('pmemExplorer.allocate', { order: 0, count: 3000, node: 0, zone: 'normal', owner: 'bulk' }) as Thenable<number[]>;
    // The allocation yields between its transactions: a change asked for meanwhile is refused, saying why.
    await until('the allocation under way', () => session()?.operationUnderWay);
    assert.match(await refusal(api, 'allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: 'x' }), /"Allocate order 0 x3000" is still under way on this image: wait for it or cancel it/);
    const pfns = await large;
    assert.equal(pfns.length, 3000);
    assert.equal(allocated(), 3000);
    await editorCommand('undo');
    await until('undo of the whole allocation at once', () => allocated() === 0);
    await editorCommand('redo');
    await until('redo of the allocation', () => allocated() === 3000);
    const freed = (await vscode.commands.executeCommand('pmemExplorer.freeOwner', 'bulk')) as number[];
    assert.equal(freed.length, 3000);
    assert.equal(allocated(), 0);
  });

  it('a large allocation cancelled from its progress notification is rolled back: the image is as before', async () => {
    const uri = makeImage('cancel.pmem', { sizeBytes: 2 ** 30 });
    const before = await fileDigest(uri.fsPath);
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW);
    await until('the editor tab', () => vscode.window.tabGroups.activeTabGroup.activeTab);
    const large = vscode.commands.executeCommand('pmemExplorer.allocate', { order: 0, count: 250_000, node: 0, zone: 'normal', owner: 'never' }) as Thenable<number[] | undefined>;
    await until('the allocation under way', () => session()?.operationUnderWay);
    // The command does what the notification's Cancel button does.
    assert.equal(await vscode.commands.executeCommand('pmemExplorer.cancelOperation'), true);
    assert.equal(await large, undefined, 'cancelled: no pfns');
    assert.equal(session()!.operationUnderWay, undefined);
    assert.equal(info(session()!.image).frames.allocated, 0);
    assert.equal(session()!.isBooted, false, 'the boot it needed is undone too');
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab?.isDirty, false, 'no edit was made');
    assert.equal(await fileDigest(uri.fsPath), before, 'the file is untouched');
  });

  it('undo removes an allocation before it is saved', async () => {
    const uri = makeImage('b.pmem');
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW);
    await until('the editor tab', () => vscode.window.tabGroups.activeTabGroup.activeTab);
    await vscode.commands.executeCommand('pmemExplorer.allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: '' });
    await editorCommand('undo'); // the allocation
    await until('undo of the allocation', () => info(session()!.image).frames.allocated === 0);
    await editorCommand('undo'); // the boot
    await until('undo of the boot', () => !session()!.isBooted);
    await vscode.commands.executeCommand('workbench.action.files.save');
    await until('the save', () => !session()!.dirty);
    assert.equal(readInfo(uri).bootGeneration, 0);
    assert.equal(readInfo(uri).frames.allocated, 0);
  });

  it('crashes mid-allocation and recovers', async () => {
    const uri = makeImage('c.pmem');
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW);
    await until('the editor tab', () => vscode.window.tabGroups.activeTabGroup.activeTab);
    // Allocate first so the section is initialised: then persistence point 1 is the journal's intent record.
    await vscode.commands.executeCommand('pmemExplorer.allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: '' });
    const r = (await vscode.commands.executeCommand('pmemExplorer.crash', { order: 2, points: 1 })) as { crashed: boolean; recovery: string };
    assert.deepEqual(r, { crashed: true, recovery: 'rolled-back' });
  });

  it('steps back and forward through history without editing', async () => {
    const uri = makeImage('d.pmem');
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW);
    await until('the editor tab', () => vscode.window.tabGroups.activeTabGroup.activeTab);
    const alloc = { node: 0, zone: 'normal', owner: 's' };
    await vscode.commands.executeCommand('pmemExplorer.allocate', { order: 1, count: 1, ...alloc });
    await vscode.commands.executeCommand('pmemExplorer.allocate', { order: 4, count: 1, ...alloc });
    const viewed = () => info(api.registry.current!.viewImage!).frames.allocated;
    assert.equal(viewed(), 18);
    const back = (await vscode.commands.executeCommand('pmemExplorer.stepBack')) as number;
    assert.equal(viewed(), 2, `after step ${back} only the first allocation exists`);
    assert.equal(info(session()!.image).frames.allocated, 18, 'the present is unchanged');
    assert.match(await refusal(api, 'allocate', { order: 0, count: 1, ...alloc }), /^Showing history step \d+: return to the present/, 'no edits while showing the past');
    await vscode.commands.executeCommand('pmemExplorer.stepBack');
    assert.equal(viewed(), 0, 'before any allocation: just booted');
    await vscode.commands.executeCommand('pmemExplorer.stepForward');
    await vscode.commands.executeCommand('pmemExplorer.stepForward');
    assert.equal(api.registry.current!.viewedStep, undefined, 'back at the present');
    assert.equal(viewed(), 18);
    await vscode.commands.executeCommand('pmemExplorer.goToStep', back);
    assert.equal(viewed(), 2);
  });

  it('shows a bad image as an error view and writes nothing', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'bad.pmem');
    fs.writeFileSync(file, Buffer.alloc(65536, 0x41));
    const before = fs.readFileSync(file);
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), VIEW);
    await until('the editor tab', () => vscode.window.tabGroups.activeTabGroup.activeTab);
    assert.match(await refusal(api, 'allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: '' }), /^bad\.pmem cannot be used: .*not a pmem image/, 'no operation on an invalid image');
    assert.deepEqual(fs.readFileSync(file), before);
  });

  it('closes as a clean shutdown: reopened, the image is off after a clean shutdown and boots clean', async () => {
    const uri = makeImage('close.pmem');
    const doc = await openImage(api, uri);
    await vscode.commands.executeCommand('pmemExplorer.allocate', { order: 2, count: 1, node: 0, zone: 'normal', owner: 'kept' });
    await vscode.commands.executeCommand('workbench.action.files.save');
    await until('the save', () => !doc.session!.dirty || undefined);
    assert.equal(doc.session!.isBooted, true, 'the machine keeps running in the editor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await until('the editor to close', () => !api.registry.panelsOf(doc).length || undefined);
    const onDisk = readInfo(uri);
    assert.equal(onDisk.clean, true, 'the file says it was shut down cleanly');
    assert.equal(onDisk.frames.allocated, 4);
    const again = await openImage(api, uri);
    const map = await until('the map state', () => api.registry.mapsOf(again)[0]?.lastState, 20_000);
    assert.equal(map.machine, 'off', 'the summary says off after a clean shutdown, not crashed');
    await vscode.commands.executeCommand('pmemExplorer.allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: '' });
    const boot = again.session!.image.historyRecords().filter((r) => r.kind === 'boot').at(-1)!;
    assert.match(boot.summary.text, /^boot 2 \(clean, profile default\)/);
  });

  it('keeps one selection in the document: the map, the Descriptors view and Go to Frame change it, the last change wins', async () => {
    const doc = await openImage(api, makeImage('select.pmem', { sizeBytes: 32 * 2 ** 20 }));
    const map = await until('the map', () => api.registry.mapsOf(doc)[0]?.lastState && api.registry.mapsOf(doc)[0], 20_000);
    const view = api.views.descriptorsView;
    const shown = () => (view.selection[0]?.kind === 'frame' ? view.selection[0].pfn : undefined);
    const settle = async (pfn: number, what: string) => {
      await until(what, () => doc.selection?.pfn === pfn || undefined);
      await api.descriptorsSelection.settled();
      assert.equal(doc.selection?.pfn, pfn, `${what}: the document`);
      assert.equal(shown(), pfn, `${what}: the Descriptors view`);
      assert.equal(map.lastSelection?.pfn, pfn, `${what}: the map`);
    };
    // A burst of map clicks (revealed) and arrow keys (not revealed): the view and the map end on the last click.
    for (let i = 0; i < 12; i++) doc.select(200 + i * 40, 'map', { reveal: i % 3 !== 1, origin: map });
    // An allocation refreshes the view (and selects its block) while those reveals are under way.
    await vscode.commands.executeCommand('pmemExplorer.allocate', { order: 3, count: 1, node: 0, zone: 'normal', owner: 'sel' });
    doc.select(4321, 'map', { reveal: true, origin: map });
    await settle(4321, 'the last map click of a burst');
    // A row chosen in the view (here by the API, as a click would) becomes the selection of the document and the map.
    await view.reveal({ kind: 'frame', pfn: 7000 }, { select: true, focus: false });
    await settle(7000, 'a row chosen in the view');
    assert.equal(doc.selection?.source, 'descriptors');
    // Arrow keys move the map and the document, not the view; Go to Frame moves all three.
    doc.select(7001, 'map', { reveal: false, origin: map });
    await api.descriptorsSelection.settled();
    assert.equal(shown(), 7000, 'the arrow keys alone leave the view where it was');
    assert.equal(map.lastSelection?.pfn, 7001);
    assert.equal(await vscode.commands.executeCommand('pmemExplorer.goToFrame', 5000), 5000);
    await settle(5000, 'Go to Frame');
  });
});
