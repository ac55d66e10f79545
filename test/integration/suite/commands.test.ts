/** Every command and the three views, through the real VS Code API in a real extension host. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type BootReport, frames, freeLists, info, PAGE_SIZE } from '../../../src/engine';
import { CommandRunner } from '../../../src/extension/commandRunner';
import type { PmemExplorerApi } from '../../../src/extension/extension';
import { Refusal } from '../../../src/extension/refusal';
import type { DescriptorNode } from '../../../src/extension/trees/descriptorsTree';
import type { FreeListNode } from '../../../src/extension/trees/freeListsTree';
import type { SectionNode } from '../../../src/extension/trees/sectionsTree';
import { stampRevision } from '../../unit/helpers';
import { FileStore } from '../../../src/engine/node/fileStore';
import { MAX_CRASH_POINTS } from '../../../src/engine/image/limits';
import { mapCells } from '../../../src/engine/inspect/mapCells';
import { OWNER_TAG } from '../../../src/engine/inspect/mapCodes';
import { activateApi, closeAll, editorCommand, makeImage, openImage, readInfo, refusal, tempDir, until, untilEdited, VIEW } from './helpers';

let api: PmemExplorerApi;
const current = () => api.registry.current!;
const image = () => current().viewImage!;
const exec = <T = unknown>(id: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(`pmemExplorer.${id}`, ...args);
const alloc = (order: number, owner = '', count = 1) => exec<number[]>('allocate', { order, count, node: 0, zone: 'normal', owner });

async function treeItems<T>(provider: vscode.TreeDataProvider<T>, parent?: T): Promise<Array<{ node: T; item: vscode.TreeItem }>> {
  const children = (await provider.getChildren(parent)) ?? [];
  return Promise.all(children.map(async (node) => ({ node, item: await provider.getTreeItem(node) })));
}
const label = (i: vscode.TreeItem) => (typeof i.label === 'string' ? i.label : i.label?.label ?? '');

describe('PMem commands and views', () => {
  before(async () => {
    api = await activateApi();
  });
  afterEach(closeAll);

  it('New Image creates the image it is asked for and opens it in the PMem editor', async () => {
    const target = path.join(tempDir(), 'new.pmem');
    const made = await exec<vscode.Uri>('newImage', { size: '32M', section: '2M', nodes: 2, memmap: 'ram', profile: 'numa', target });
    assert.equal(made?.fsPath, target);
    const i = readInfo(vscode.Uri.file(target));
    assert.equal(i.sizeBytes, 32 * 2 ** 20);
    assert.equal(i.nodes.length, 2);
    assert.equal(i.memmap.placement, 'ram');
    assert.equal(i.profile, 'numa');
    const tab = await until('the editor tab', () => vscode.window.tabGroups.activeTabGroup.activeTab);
    assert.ok(tab.input instanceof vscode.TabInputCustom && tab.input.viewType === VIEW && tab.input.uri.fsPath === target);
    assert.equal(await refusal(api, 'newImage', { size: 64 }), 'New Image: "size" must be a size such as "64M"');
    assert.ok(!fs.existsSync(path.join(path.dirname(target), 'image.pmem')));
    assert.equal(await refusal(api, 'newImage', { size: '32M', design: 'core65' }), 'New Image: "design" must be one of "core64", "ram64", "two-word", "memdesc", "2m", "dynamic", "pfn-only"');
    assert.equal(await refusal(api, 'newImage', { size: '32M', design: 'ram64', memmap: 'ram' }), 'New Image: give "design" or "memmap", not both (the design chooses where its descriptors live)');
  });

  it('a pfn-only image: allocations keep no owner or order, Free takes the block as its caller names it, and freeing by owner says why it cannot', async () => {
    const target = path.join(tempDir(), 'none.pmem');
    await exec('newImage', { size: '16M', section: '2M', nodes: 1, design: 'pfn-only', profile: 'default', target, history: '64K' });
    const doc = await until('the pfn-only image to be active', () => (api.registry.current?.uri.fsPath === target ? api.registry.current : undefined));
    assert.equal(info(doc.session!.image).design, 'pfn-only');
    const [pfn] = (await alloc(2, 'web'))!;
    const shown = frames(doc.session!.image, pfn, 4);
    assert.deepEqual(shown.map((f) => [f.kind, f.order, f.owner]), [['allocated', 0, ''], ['allocated', 0, ''], ['allocated', 0, ''], ['allocated', 0, '']]);
    const item = await api.views.descriptors.getTreeItem(api.views.descriptors.frameNode(pfn + 1));
    assert.equal(item.description, 'allocated · no descriptor', 'the Descriptors view shows no order it does not have');
    assert.equal(await refusal(api, 'freeOwner', 'web'), 'a pfn-only image keeps no descriptors, so no owner: free its blocks by pfn and order');
    assert.equal(await refusal(api, 'free', { pfn: pfn + 1, order: 1 }), `pfn ${pfn + 1} is not aligned to order 1: a block of order 1 starts at a multiple of 2`);
    const freed = await exec<Array<{ pfn: number; order: number }>>('free', { pfn, order: 2 });
    assert.deepEqual(freed, [{ pfn, order: 2, owner: '' }]);
    assert.equal(info(doc.session!.image).frames.allocated, 0);
    await editorCommand('undo');
    await until('the free undone', () => info(doc.session!.image).frames.allocated === 4 || undefined);
  });

  it('fills the three views from the active image and follows every change', async () => {
    await openImage(api, makeImage('views.pmem', { sizeBytes: 32 * 2 ** 20 }));
    const { freeLists: fl, sections: st, descriptors: dt } = api.views;
    assert.deepEqual((await treeItems(fl)).map((x) => label(x.item)), ['Node 0'], 'a node row, even before any section is in use');

    const [pfn] = await alloc(3, 'views');
    // Free Lists: node > zone (buddyinfo counts) > non-empty orders > blocks.
    const [nodeRow] = await treeItems(fl);
    assert.equal(nodeRow.item.description, `${info(image()).frames.free} free frames`);
    const [zoneRow] = await treeItems(fl, nodeRow.node);
    assert.match(label(zoneRow.item), /^Zone DMA32$/);
    const lists = freeLists(image()).filter((l) => l.node === 0 && l.zone === 'DMA32');
    assert.equal(zoneRow.item.description, lists.map((l) => l.count).join(' '), 'counts per order, as /proc/buddyinfo');
    const orders = await treeItems(fl, zoneRow.node);
    assert.deepEqual(orders.map((o) => label(o.item)), lists.filter((l) => l.count).map((l) => `Order ${l.order}`), 'only orders that hold blocks');
    const firstOrder = orders[0].node as Extract<FreeListNode, { kind: 'order' }>;
    const blocks = await treeItems<FreeListNode>(fl, firstOrder);
    assert.equal(blocks.length, firstOrder.list.count);
    assert.ok(blocks.every((b) => b.node.kind === 'block' && b.node.order === firstOrder.list.order && b.item.contextValue === 'freeBlock'));
    assert.ok(blocks.every((b) => b.node.kind === 'block' && b.node.pfn !== pfn), 'the allocated block is not in a free list');

    // Lazy-Init Sections: section 0 was handed over by the allocation, the rest were never initialised.
    const secs = await treeItems<SectionNode>(st);
    const states = secs.map((s) => (s.node.kind === 'section' ? s.node.summary.state : 'group'));
    assert.equal(states[0], 'initialized');
    assert.ok(states.slice(1).every((s) => s === 'never'), states.join());
    assert.equal(secs[0].item.contextValue?.includes('section'), true);
    assert.deepEqual(await exec('filterSections', ['never']), ['never']);
    assert.ok((await treeItems<SectionNode>(st)).every((s) => s.node.kind === 'section' && s.node.summary.state === 'never'));
    await exec('filterSections', ['never', 'initialized', 'stale']);

    // Descriptors: sections > pages of frames > frames, each frame described.
    const [sec0] = await treeItems<DescriptorNode>(dt);
    const [page] = await treeItems<DescriptorNode>(dt, sec0.node);
    const frameRows = await treeItems<DescriptorNode>(dt, page.node);
    const row = frameRows.find((f) => f.node.kind === 'frame' && f.node.pfn === pfn)!;
    assert.match(String(row.item.description), /allocated order 3 · views/);
    assert.match((row.item.tooltip as vscode.MarkdownString).value, new RegExp(`pfn ${pfn}\\b[\\s\\S]*owner: views[\\s\\S]*initialised in generation 1`));
    const superRow = frameRows.find((f) => f.node.kind === 'frame' && f.node.pfn === 0)!;
    assert.match(String(superRow.item.description), /^superblock/);

    // A change refreshes the views: free the block through its context action.
    const changed = new Promise<void>((resolve) => { const d = fl.onDidChangeTreeData(() => { d.dispose(); resolve(); }); });
    await exec('freeBlock', { kind: 'frame', pfn });
    await changed;
    const after = await treeItems<DescriptorNode>(dt, page.node);
    assert.match(String(after.find((f) => f.node.kind === 'frame' && f.node.pfn === pfn)!.item.description), /^free/);
    await exec('refresh');
  });

  it('a Descriptors row asked for after its image has closed keeps the id it had, so a later refresh of it finds it', async () => {
    await openImage(api, makeImage('rows.pmem', { sizeBytes: 32 * 2 ** 20 }));
    const dt = api.views.descriptors;
    const [section] = await treeItems<DescriptorNode>(dt);
    const [page] = await treeItems<DescriptorNode>(dt, section.node);
    const [frame] = await treeItems<DescriptorNode>(dt, page.node);
    const shown = [section, page, frame];
    assert.deepEqual(shown.map((r) => r.item.id), ['s:0', 'fp:0', 'f:0']);
    // VS Code may still ask for rows it was handed while a refresh for the closed image is on its way.
    await closeAll();
    await until('no image in front', () => (api.registry.current ? undefined : true));
    for (const row of shown) {
      const late = await dt.getTreeItem(row.node);
      assert.equal(label(late), '(no image in front)');
      assert.equal(late.id, row.item.id, `the row of ${row.item.id} keeps its id`);
    }
  });

  it('refreshes only what an allocation touched: its section in the trees, its node in Free Lists, its frames and one step on the map', async () => {
    const doc = await openImage(api, makeImage('proportional.pmem', { sizeBytes: 32 * 2 ** 20 }));
    const map = await until('the map', () => api.registry.mapsOf(doc)[0]?.lastState && api.registry.mapsOf(doc)[0], 20_000);
    const { freeLists: fl, sections: st, descriptors: dt } = api.views;
    const [first] = await alloc(2, 'first'); // boots: everything changes
    await until('the boot to reach the map', () => (map.lastState!.history.last >= 3 ? true : undefined));
    // The views hold nodes, as when they are shown: the sections, the first section's pages and frames, the lists.
    const sectionOf = (pfn: number) => Math.floor(pfn / image().geometry.sectionFrames);
    const roots = await dt.getChildren();
    assert.ok(roots.length > 1 && roots.every((n) => n.kind === 'section'), 'a small image lists its sections at the top');
    assert.deepEqual(await dt.getChildren(), roots, 'the same nodes each time');
    roots.forEach((n, i) => assert.equal(n, dt.getChildren()[i], 'the same node objects each time'));
    const section = roots[sectionOf(first)];
    const [page] = await dt.getChildren(section);
    assert.equal(dt.getParent(dt.frameNode(page.kind === 'framePage' ? page.first : 0)), page, 'a frame\'s parent is the page node the view holds');
    await dt.getChildren(page);
    for (const n of fl.getChildren()) for (const z of fl.getChildren(n)) fl.getChildren(z);
    st.getChildren();
    const refreshes = dt.refreshes;
    const version = map.lastState!.version;
    const steps = map.lastState!.history.last;

    const [pfn] = await alloc(0, 'second');
    await until('the map to hear of it', () => (map.lastState!.version > version ? true : undefined));
    assert.equal(dt.refreshes, refreshes + 1, 'one refresh of the Descriptors view');
    assert.deepEqual(dt.lastRefresh, [`s:${sectionOf(pfn)}`], 'of the one section the allocation changed');
    assert.deepEqual(st.lastRefresh, [`s:${sectionOf(pfn)}`], 'the Lazy-Init Sections view refreshes that section too');
    assert.deepEqual(fl.lastRefresh, ['n:0'], 'Free Lists refreshes the node whose lists changed');
    const state = map.lastState!;
    assert.equal(state.change.all, false, 'the map is told what changed, not everything');
    assert.ok(state.change.frames.some(([a, b]) => pfn >= a && pfn < b), `the frames changed include pfn ${pfn}: ${JSON.stringify(state.change.frames)}`);
    assert.ok(state.change.frames.reduce((n, [a, b]) => n + b - a, 0) <= 16, 'and few frames besides');
    assert.deepEqual(state.change.sections, [sectionOf(pfn)]);
    assert.equal(state.history.reset, false, 'the steps are not sent again');
    assert.deepEqual(state.history.added.map((x) => x.seq), [steps + 1], 'only the step added');
    assert.match(state.history.added[0].text ?? '', /^alloc order 0 for second/);
    assert.equal(state.frames.allocated, info(image()).frames.allocated, 'the kept counts are the image\'s');
    // Undo: the same section again, and the step dropped.
    await editorCommand('undo');
    await until('the undo to reach the map', () => (map.lastState!.history.last === steps ? true : undefined));
    assert.deepEqual(dt.lastRefresh, [`s:${sectionOf(pfn)}`]);
    assert.deepEqual(map.lastState!.history.added, []);
    assert.equal(map.lastState!.frames.allocated, info(image()).frames.allocated);
    // A reboot is not known frame by frame: everything.
    await exec('reboot');
    await until('the reboot to reach the views', () => (dt.lastRefresh === 'all' ? true : undefined));
    assert.equal(map.lastState!.change.all, true);
  });

  it('Free, Initialise Section, Initialise All, Go to Frame, Copy PFN and Show Info act on the active image', async () => {
    const uri = makeImage('cmds.pmem', { sizeBytes: 32 * 2 ** 20 });
    await openImage(api, uri);
    const pfns = await alloc(0, 'a', 3);
    assert.ok(await exec('free', pfns[1]));
    assert.equal(info(image()).frames.allocated, 2);
    assert.match(await refusal(api, 'free', pfns[1]), new RegExp(`^pfn ${pfns[1]} is already free \\(in the free block at pfn \\d+, order \\d+\\)$`), 'freeing a free frame is refused, saying why');
    assert.equal(info(image()).frames.allocated, 2, 'and changes nothing');

    await exec('initSection', { kind: 'section', summary: { index: 5 } });
    assert.equal(info(image()).sections.initialized, 2);
    await exec('initAll');
    assert.equal(info(image()).sections.untouched, 0);
    assert.equal(info(image()).frames.uninitialized, 0);

    assert.equal(await exec('goToFrame', 700), 700);
    await until('the frame to be selected', () => api.views.descriptorsView.selection.find((n) => n.kind === 'frame' && n.pfn === 700));
    assert.equal(await refusal(api, 'goToFrame', 10 ** 9), 'Go to Frame: pfn 1000000000 is past the last frame (8191)');

    await exec('copyPfn', { kind: 'frame', pfn: 4242 });
    assert.equal(await vscode.env.clipboard.readText(), '4242');
    const shown = await exec<ReturnType<typeof info>>('showInfo');
    assert.equal(shown?.frames.allocated, 2);
  });

  it('reboots, reboots into a profile, and refuses an unknown profile', async () => {
    await openImage(api, makeImage('boot.pmem'));
    await alloc(1);
    assert.equal(info(image()).bootGeneration, 1);
    await exec('reboot');
    assert.equal(info(image()).bootGeneration, 2);
    assert.equal(info(image()).sections.stale, 1, 'a reboot makes every initialised section stale');
    // kmemcheck's struct page (72 bytes) is larger than the 64 the device reserves: Linux refuses it, the seed design boots it.
    assert.equal(await refusal(api, 'rebootIntoProfile', 'kmemcheck', 'linux'),
      'Linux refuses the namespace: "init failed, struct page size mismatch 64" (profile kmemcheck\'s struct page is 72 bytes; the device reserves 64 a frame); the machine did not boot and the image is as it was');
    assert.equal(info(image()).bootGeneration, 2, 'as Linux, no boot');
    const report = await exec<BootReport>('rebootIntoProfile', 'kmemcheck', 'seed');
    assert.equal(report?.mismatch?.bytes, 72, 'the boot says what Linux would have done');
    assert.equal(info(image()).profile, 'kmemcheck');
    assert.deepEqual(info(image()).profileExtendedFields, ['shadow']);
    assert.equal(await refusal(api, 'rebootIntoProfile', 'no-such-profile'), 'Unknown profile "no-such-profile"');
    assert.equal(await refusal(api, 'rebootIntoProfile', 'numa', 'bsd'), '"as" must be "seed" or "linux", not "bsd"');
    assert.equal(info(image()).bootGeneration, 3, 'nothing happened');
    await editorCommand('undo');
    await until('undo of the profile reboot', () => info(image()).profile === 'default');
  });

  it('Check Image reports problems as a report and as diagnostics on the image, cleared by the next change', async () => {
    // An image with a free block whose in-page link record is overwritten.
    const uri = makeImage('check.pmem');
    const clean = await openImage(api, uri);
    await alloc(0);
    const ok = await exec<{ ok: boolean }>('check');
    assert.equal(ok?.ok, true);
    assert.deepEqual(vscode.languages.getDiagnostics(uri), []);
    const victim = freeLists(image()).find((l) => l.blocks.length)!.blocks[0];
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor'); // the report
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW);
    await vscode.commands.executeCommand('workbench.action.files.save');
    await until('the save', () => !clean.session!.dirty);
    await closeAll();
    const store = FileStore.open(uri.fsPath, { readOnly: false });
    store.write(victim * PAGE_SIZE, new Uint8Array(48).fill(0xee));
    store.close();
    await openImage(api, uri);
    const bad = await exec<{ ok: boolean; problems: unknown[] }>('check');
    assert.equal(bad?.ok, false);
    const diags = vscode.languages.getDiagnostics(uri);
    assert.equal(diags.length, bad!.problems.length);
    assert.ok(diags.every((d) => d.source === 'PMem check' && d.severity === vscode.DiagnosticSeverity.Error));
    assert.ok(diags.some((d) => d.message.includes(`pfn ${victim}`)), diags.map((d) => d.message).join('\n'));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor'); // the report
    await exec('initSection', { kind: 'section', summary: { index: 3 } });
    assert.deepEqual(vscode.languages.getDiagnostics(uri), [], 'stale results are dropped');
  });

  it('opens an image of a newer format revision read-only, saying why, and writes nothing', async () => {
    const uri = makeImage('newer.pmem');
    const store = FileStore.open(uri.fsPath, { readOnly: false });
    stampRevision(store, 7);
    store.close();
    const before = fs.readFileSync(uri.fsPath);
    const doc = await openImage(api, uri);
    assert.match(doc.readOnlyReason ?? '', /newer revision of the format \(2\.7/);
    assert.equal(doc.writable, false);
    const why = /^newer\.pmem is read-only: it was written by a newer revision of the format \(2\.7/;
    assert.match(await refusal(api, 'allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: '' }), why);
    assert.match(await refusal(api, 'reboot'), why);
    assert.match(api.registry.mapsOf(doc)[0].lastState?.readOnly ?? '', /^it was written by a newer revision/, 'the map says why');
    assert.deepEqual(fs.readFileSync(uri.fsPath), before);
  });

  it('keeps two editors of one image in sync', async () => {
    const uri = makeImage('two.pmem');
    const doc = await openImage(api, uri, vscode.ViewColumn.One);
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW, vscode.ViewColumn.Two);
    await until('two editors', () => api.registry.panelsOf(doc).length === 2);
    assert.equal(current(), doc, 'one document behind both editors');
    await alloc(2, 'both');
    const shown = () => api.registry.mapsOf(doc).map((m) => m.lastState?.frames.allocated);
    assert.deepEqual(shown(), [4, 4], 'both maps were sent the new state');
    await editorCommand('undo');
    await until('undo', () => info(image()).frames.allocated === 0);
    assert.deepEqual(shown(), [0, 0]);
  });

  it('Start I/O and Complete I/O attach and detach a dynamic image\'s pool descriptors, the map told of each; other designs say why not', async () => {
    await openImage(api, makeImage('core.pmem'));
    await alloc(0);
    assert.match(await refusal(api, 'startIo', { pfn: 400, count: 1, hold: true }), /not a dynamic image: only the dynamic design attaches descriptors for I\/O/);
    const target = path.join(tempDir(), 'dyn.pmem');
    await exec('newImage', { size: '16M', section: '2M', nodes: 1, design: 'dynamic', profile: 'default', target, history: '64K' });
    const doc = await until('the dynamic image to be active', () => (api.registry.current?.uri.fsPath === target ? api.registry.current : undefined));
    const [pfn] = (await alloc(3))!;
    const started = await exec<{ flight: { id: number }; pool: { attached: number } }>('startIo', { pfn, count: 8, hold: true });
    assert.deepEqual([started?.flight.id, started?.pool.attached], [1, 8]);
    const map = await until('the map to show the I/O in flight', () => api.registry.mapsOf(doc).find((m) => m.lastState?.io?.attached === 8));
    assert.deepEqual(map.lastState!.io!.flights, [{ id: 1, pfn, count: 8 }]);
    // Export Map draws the I/O as the map does (on the host: no round trip through the webview).
    const ioRects = (svg: string | Buffer) => (String(svg).match(/<rect class="io" /g) ?? []).length;
    assert.ok(ioRects(await map.renderExport('svg')) >= 1, 'the export outlines the frames under I/O');
    assert.equal((await api.views.descriptors.getTreeItem(api.views.descriptors.frameNode(pfn + 2))).description, 'allocated · under I/O 1');
    assert.equal(await refusal(api, 'free', { pfn, order: 3 }), `pfn ${pfn} is under I/O (I/O 1, pfn ${pfn} + 8): complete the I/O before freeing it (nothing was freed)`);
    assert.equal(await refusal(api, 'startIo', { pfn, count: 2, whenFull: 'later' }), 'Start I/O: "whenFull" must be "wait" or "fail", not "later"');
    assert.deepEqual(await exec('completeIo', 1), [{ id: 1, pfn, count: 8 }]);
    await until('the map to show none in flight', () => map.lastState?.io?.attached === 0 || undefined);
    assert.equal(ioRects(await map.renderExport('svg')), 0, 'and none once it has completed');
    assert.equal(await refusal(api, 'completeIo'), 'Complete I/O: no I/O is in flight');
    await editorCommand('undo');
    await until('the completion undone', () => doc.session!.image.io.attached === 8 || undefined);
  });

  it('opens the compared images side by side, in step, never over a file; Keep Maps in Step needs two images', async () => {
    assert.equal(await refusal(api, 'openComparedImages', { folder: tempDir() }), 'Open the Compared Images: run Compare Designs… first (its images stay in memory while its page is open)');
    await openImage(api, makeImage('alone.pmem'));
    assert.equal(await refusal(api, 'mapsInStep'), 'Keep Maps in Step: open two or more images first (one is open in the map editor)');
    await exec('mapsOutOfStep');
    const report = await exec<{ designs: Array<{ design: string }> }>('compareDesigns', { designs: ['core64', 'ram64'], size: '16M', workload: 'churn', ops: 300 });
    assert.deepEqual(report?.designs.map((d) => d.design), ['core64', 'ram64']);
    const folder = tempDir();
    const opened = await exec<string[]>('openComparedImages', { folder });
    const files = ['core64', 'ram64'].map((d) => path.join(folder, `${d}.pmem`));
    assert.deepEqual(opened, files);
    assert.deepEqual(api.inStep.uris, files.map((f) => vscode.Uri.file(f).toString()));
    for (const [i, f] of files.entries()) {
      const doc = await until(`${f} open in the map editor`, () => api.registry.allMaps.find((m) => m.document.uri.fsPath === f)?.document);
      assert.equal(info(doc.session!.image).design, ['core64', 'ram64'][i]);
      assert.equal(api.registry.panelsOf(doc)[0].viewColumn, i + 1, 'side by side');
    }
    // A frame chosen on one map is selected on the other (the host's part of it; the UI suite moves the maps).
    const [a, b] = files.map((f) => api.registry.allMaps.find((m) => m.document.uri.fsPath === f)!);
    a.document.select(3100, 'map', { origin: a });
    assert.equal(b.document.selection?.pfn, 3100);
    const before = fs.readFileSync(files[0]);
    assert.equal(await refusal(api, 'openComparedImages', { folder }), `${files.join(', ')} exist: the images of a comparison never replace a file (choose another folder)`);
    assert.deepEqual(fs.readFileSync(files[0]), before);
    await exec('mapsOutOfStep');
    assert.deepEqual(api.inStep.uris, []);
    a.document.select(3200, 'map', { origin: a });
    assert.equal(b.document.selection?.pfn, 3100, 'out of step: each its own');
    const joined = await exec<string[]>('mapsInStep');
    for (const f of files) assert.ok(joined?.includes(vscode.Uri.file(f).toString()), `${f} is in step again: ${JSON.stringify(joined)}`);
    a.document.select(3300, 'map', { origin: a });
    assert.equal(b.document.selection?.pfn, 3300);
    await exec('mapsOutOfStep');
  });

  it('Revert reads the file again, dropping unsaved changes', async () => {
    const uri = makeImage('revert.pmem');
    const doc = await openImage(api, uri);
    await alloc(4);
    assert.equal(doc.session!.dirty, true);
    await untilEdited(); // VS Code reverts only an editor it knows to be dirty
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await until('the revert', () => !doc.session!.dirty);
    assert.equal(doc.session!.isBooted, false);
    assert.equal(info(image()).frames.allocated, 0);
  });

  it('exports the map as PNG and SVG, drawn on the host (also while the editor is hidden), and reveals a frame on the map', async () => {
    const doc = await openImage(api, makeImage('export.pmem'));
    await alloc(3, 'exp');
    const dir = tempDir();
    // Drawn: the map has told the host what it shows (an export draws that view).
    await until('the map to be drawn', () => api.registry.mapsOf(doc)[0]?.drawn).catch((e: Error) => {
      // Say how far the map got, so that a map left blank can be told from a slow one.
      const map = api.registry.mapsOf(doc)[0];
      const how = map ? `visible ${map.panel.visible}, active ${map.panel.active}, loaded ${map.readies} time(s), state version ${map.lastState?.version}, view told ${map.viewKnown}` : 'no map';
      throw new Error(`${e.message} (${how})`);
    });
    const direct = await api.registry.mapsOf(doc)[0].renderExport('png').then((d) => d.length, (e: Error) => e.message);
    assert.equal(typeof direct, 'number', `the host draws the export: ${direct}`);
    const png = (await exec<string>('exportMap', { format: 'png', target: path.join(dir, 'map.png') }))!;
    const bytes = fs.readFileSync(png);
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG file');
    assert.ok(bytes.length > 200);
    const svg = (await exec<string>('exportMap', { format: 'svg', target: path.join(dir, 'map.svg') }))!;
    const text = fs.readFileSync(svg, 'utf8');
    assert.match(text, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok((text.match(/<rect /g) ?? []).length >= 4096, 'one rectangle per cell');
    assert.equal(await refusal(api, 'exportMap', { format: 'gif', target: path.join(dir, 'x.gif') }), 'Export Map: "format" must be "png" or "svg"');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['map.png', 'map.svg'], 'no temporary files left');
    // Hidden behind another editor, the map still exports: no round trip through its webview.
    const other = await vscode.workspace.openTextDocument({ content: 'in front of the map' });
    await vscode.window.showTextDocument(other, { viewColumn: vscode.ViewColumn.Active });
    await until('the map hidden', () => !api.registry.mapsOf(doc)[0].panel.visible || undefined);
    const hidden = await api.registry.mapsOf(doc)[0].renderExport('png');
    // A PNG's width is the IHDR chunk's first word: the view's, as when shown (its height follows the editor's, which another editor's bars may change).
    assert.ok(Buffer.isBuffer(hidden) && hidden.subarray(12, 16).toString('latin1') === 'IHDR', 'a PNG');
    assert.equal(hidden.readUInt32BE(16), bytes.readUInt32BE(16), 'the view as wide as while it was shown');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    assert.equal(await exec('revealOnMap', { kind: 'frame', pfn: 321 }), 321);
    assert.equal(await refusal(api, 'revealOnMap', { kind: 'frame', pfn: 10 ** 9 }), 'pfn 1000000000 is past the last frame');
    assert.equal(api.registry.mapsOf(doc).length, 1);
  });

  it('tells open maps at once when the change animation is turned off or on', async () => {
    const doc = await openImage(api, makeImage('animate.pmem'));
    const map = await until('the map to be ready', () => api.registry.mapsOf(doc)[0]?.lastState && api.registry.mapsOf(doc)[0], 20_000);
    assert.equal(map.lastState!.animateChanges, true, 'animated by default');
    const config = vscode.workspace.getConfiguration('pmemExplorer');
    try {
      await config.update('map.animateChanges', false, vscode.ConfigurationTarget.Global);
      await until('the map to hear of it', () => map.lastState!.animateChanges === false || undefined);
    } finally {
      await config.update('map.animateChanges', undefined, vscode.ConfigurationTarget.Global);
    }
    await until('the default again', () => map.lastState!.animateChanges === true || undefined);
  });

  /** The document's map, once it has drawn the newest state it was sent. */
  const mapDrawnUpToDate = (doc: NonNullable<ReturnType<typeof api.registry.mapsOf>[number]>['document'], ms: number) =>
    until('the map drawn', () => {
      const m = api.registry.mapsOf(doc)[0];
      return m?.drawn && m.lastState && m.drawn.version >= m.lastState.version ? m : undefined;
    }, ms);

  it('after a boot the map says it has drawn the new state only once the whole window it asked for has come, not from a change patched in meanwhile', async () => {
    const doc = await openImage(api, makeImage('boot-drawn.pmem'));
    const map = await mapDrawnUpToDate(doc, 20_000);
    // The answers to the map's requests for its whole window wait until the test lets them go.
    const webview = map.panel.webview;
    const post = webview.postMessage.bind(webview);
    const asked = new Set<number>();
    const held: unknown[] = [];
    let holding = true;
    const listening = webview.onDidReceiveMessage((m: { type?: string; window?: string; id: number }) => {
      if (m?.type === 'getCells' && m.window === 'map') asked.add(m.id);
    });
    webview.postMessage = (m: { type?: string; id?: number }) => {
      if (holding && m?.type === 'cells' && asked.has(m.id!)) {
        held.push(m);
        return Promise.resolve(true);
      }
      return post(m);
    };
    try {
      const before = map.drawn!.version;
      await alloc(0, 'boot'); // boots the machine (everything changes), then allocates: a change the map patches in at once
      const allocated = map.lastState!.version;
      await until('the map to ask for its whole window', () => asked.size > 0 || undefined);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(map.drawn!.version, before, 'nothing newer said to be drawn while the boot is drawn in part');
      holding = false;
      for (const m of held) await post(m);
      await until('the boot and the allocation drawn', () => map.drawn!.version >= allocated || undefined);
    } finally {
      holding = false;
      listening.dispose();
      delete (webview as { postMessage?: unknown }).postMessage;
    }
  });

  it('after a boot the map gets its whole window for the newest state while allocations keep coming, not only once they stop', async () => {
    // A TiB: the whole device takes the host many slices to work out, and an allocation comes between them.
    const doc = await openImage(api, makeImage('boot-stream.pmem', { sizeBytes: 2 ** 40 }));
    const map = await mapDrawnUpToDate(doc, 30_000);
    const webview = map.panel.webview;
    const post = webview.postMessage.bind(webview);
    const asked = new Set<number>();
    // The map's whole-window answers, each with the newest state when it was posted and the first cell that differs from the image then.
    const answers: Array<{ version: number; newest: number; differs?: string }> = [];
    const listening = webview.onDidReceiveMessage((m: { type?: string; window?: string; id: number }) => {
      if (m?.type === 'getCells' && m.window === 'map') asked.add(m.id);
    });
    type Answer = { type?: string; id?: number; version?: number; firstPfn: number; framesPerCell: number; cells: number; mix: Uint8Array; tag: Uint16Array; owners: string[] };
    webview.postMessage = (m: Answer) => {
      if (m?.type === 'cells' && asked.has(m.id!) && m.cells > 0) answers.push({ version: m.version!, newest: map.lastState!.version, differs: differsFromImage(m) });
      return post(m);
    };
    const differsFromImage = (m: Answer): string | undefined => {
      const fresh = mapCells(doc.viewImage!, { firstPfn: m.firstPfn, framesPerCell: m.framesPerCell, cells: m.cells });
      const named = (tag: number, owners: string[]) => (tag >= OWNER_TAG ? `owner ${owners[tag - OWNER_TAG]}` : `tag ${tag}`);
      for (let c = 0; c < m.cells; c++) {
        if (named(m.tag[c], m.owners) !== named(fresh.tag[c], fresh.owners)) return `cell ${c}: ${named(m.tag[c], m.owners)}, the image ${named(fresh.tag[c], fresh.owners)}`;
      }
      if (!Buffer.from(m.mix).equals(Buffer.from(fresh.mix))) return 'the mix of frames in a cell';
      return undefined;
    };
    try {
      await alloc(0, 'boot'); // boots the machine (everything changes), then allocates
      const booted = map.lastState!.version;
      await until('the map to ask for its whole window', () => asked.size > 0 || undefined);
      let allocations = 0;
      while (!answers.some((a) => a.version >= booted) && allocations < 300) {
        await alloc(0, 'stream');
        allocations++;
        // A turn of the event loop between them, as between a user's commands (a command run from here is a promise chain that never gives one).
        await new Promise((r) => setImmediate(r));
      }
      const answer = answers.find((a) => a.version >= booted);
      assert.ok(answer, `no whole window came in ${allocations} allocations`);
      assert.equal(answer.version, answer.newest, 'the window is of the newest state when it comes');
      assert.equal(answer.differs, undefined, 'its cells are the image\'s as it is then');
      await until('the newest state drawn', () => map.drawn!.version >= map.lastState!.version || undefined);
    } finally {
      listening.dispose();
      delete (webview as { postMessage?: unknown }).postMessage;
    }
  });

  it('refuses bad arguments, saying why, and leaves the image alone', async () => {
    const doc = await openImage(api, makeImage('args.pmem'));
    const cases: Array<[string, unknown, string | RegExp]> = [
      ['allocate', { order: 99, count: 1, node: 0, zone: 'normal', owner: '' }, '"order" must be a whole number from 0 to 10, not 99'],
      ['allocate', { order: 0, count: 1, node: 0, zone: 'nowhere', owner: '' }, 'Allocate: "zone" must be dma32, normal or movable, not "nowhere"'],
      ['allocate', { order: 0, count: 1, node: 5, zone: 'normal', owner: '' }, '"node" must be a whole number from 0 to 0, not 5'],
      ['allocate', { order: 0, owner: 'x'.repeat(17) }, 'Allocate: "owner" must be a string of at most 16 bytes'],
      ['allocate', 7, 'Allocate takes an options object, not 7'],
      ['crash', { order: 0, points: -1 }, `"points" must be a whole number from 0 to ${MAX_CRASH_POINTS}, not -1`],
      ['goToStep', 999, /^Step 999 is not available: steps \d+ to \d+ can be shown$/],
      ['initSection', {}, 'Choose a section in a PMem view'],
      ['freeBlock', { kind: 'section', index: 0 }, 'Choose an allocated frame in the Descriptors view'],
      ['revealOnMap', 'pfn 3', 'Choose a frame or block to reveal on the map'],
      ['stepForward', undefined, 'Already at the present (the last step)'],
    ];
    for (const [command, arg, why] of cases) {
      const message = await refusal(api, command, ...(arg === undefined ? [] : [arg]));
      if (typeof why === 'string') assert.equal(message, why, command);
      else assert.match(message, why, command);
    }
    assert.equal(doc.session!.dirty, false, 'nothing was done, not even a boot');
    await closeAll();
    assert.equal(await refusal(api, 'allocate', { order: 0 }), 'Open a .pmem image first (PMem: New Image… creates one).');
  });

  it('reports an internal error as one, with its stack in the log, and does not swallow it', async () => {
    const shown: string[] = [];
    const logged: string[] = [];
    const runner = new CommandRunner({ info: (m: string) => logged.push(m), error: (m: string) => logged.push(m) }, (m) => shown.push(m));
    const id = 'pmemExplorerTest.fault';
    const registration = runner.register(id, (arg) => (arg as { missing: { field: number } }).missing.field);
    try {
      assert.equal(await vscode.commands.executeCommand(id, {}), undefined);
      const [outcome] = runner.since(0);
      assert.equal(outcome.kind, 'internal error');
      assert.match(outcome.message, /^PMem: internal error in pmemExplorerTest\.fault: Cannot read properties of undefined \(reading 'field'\) \(details in the PMem output\)$/);
      assert.deepEqual(shown, [outcome.message], 'the user is shown it once');
      assert.match(logged[0], /^internal error in pmemExplorerTest\.fault: TypeError: Cannot read properties of undefined[\s\S]*\n\s+at /, 'logged with its stack');
      // A refusal through the same runner is shown as its reason alone.
      const refused = runner.register('pmemExplorerTest.refuse', () => { throw new Refusal('no, because'); });
      await vscode.commands.executeCommand('pmemExplorerTest.refuse');
      refused.dispose();
      assert.deepEqual(runner.since(1), [{ command: 'pmemExplorerTest.refuse', kind: 'refused', message: 'no, because' }]);
      assert.equal(shown[1], 'no, because');
    } finally {
      registration.dispose();
    }
  });
});
