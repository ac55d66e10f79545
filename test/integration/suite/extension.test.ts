/** Runs in a real VS Code extension host against the real API. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { info } from '../../../src/engine';
import type { PmemExplorerApi } from '../../../src/extension/extension';
import { activateApi, closeAll, editorCommand, makeImage, readInfo, until, VIEW } from './helpers';

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
    assert.equal(await vscode.commands.executeCommand('pmemExplorer.allocate', { order: 0, count: 1, ...alloc }), undefined, 'no edits while showing the past');
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
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-int-'));
    const file = path.join(dir, 'bad.pmem');
    fs.writeFileSync(file, Buffer.alloc(65536, 0x41));
    const before = fs.readFileSync(file);
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), VIEW);
    await until('the editor tab', () => vscode.window.tabGroups.activeTabGroup.activeTab);
    const pfns = await vscode.commands.executeCommand('pmemExplorer.allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: '' });
    assert.equal(pfns, undefined, 'no operation on an invalid image');
    assert.deepEqual(fs.readFileSync(file), before);
  });
});
