/** Fewer steps and fewer surprises: Export Map's early refusal, Allocate's remembered answers. */
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { PmemExplorerApi } from '../../../src/extension/extension';
import * as path from 'node:path';
import { activateApi, closeAll, makeImage, openImage, readInfo, refusal, tempDir, until } from './helpers';

let api: PmemExplorerApi;
const exec = <T = unknown>(id: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(`pmemExplorer.${id}`, ...args);

describe('PMem everyday work', () => {
  before(async () => {
    api = await activateApi();
  });
  afterEach(closeAll);

  it('Export Map refuses SVG for a view too large for it before asking for a file name', async () => {
    const doc = await openImage(api, makeImage('large.pmem', { sizeBytes: 64 * 2 ** 30 }));
    const cells = await until('the map to show its cells', () => api.registry.mapsOf(doc)[0]?.viewCells, 30_000);
    assert.ok(cells > 65536, `the whole 64 GiB device takes more than 65 536 cells: ${cells}`);
    // No save dialog comes first: the refusal is the command's only outcome.
    assert.equal(await refusal(api, 'exportMap', { format: 'svg' }), `Export Map: SVG export is for views of at most 65 536 cells (this one has ${cells}); zoom in, or export PNG`);
  });

  it('New Image offers what pmem create does: links placement, maximum order, movable zone', async () => {
    const target = path.join(tempDir(), 'layout.pmem');
    await vscode.commands.executeCommand('pmemExplorer.newImage', { size: '64M', section: '2M', nodes: 1, memmap: 'device', links: 'descriptor', maxOrder: 6, movable: 25, profile: 'default', target });
    const i = readInfo(vscode.Uri.file(target));
    assert.equal(i.links, 'descriptor');
    assert.equal(i.maxOrder, 6);
    assert.deepEqual(i.nodes[0].zones.map((z) => z.name), ['DMA32', 'Movable']);
    assert.equal(i.nodes[0].zones[1].frames, 8 * 512, 'a quarter of 32 sections');
    assert.equal(await refusal(api, 'newImage', { size: '64M', maxOrder: 19 }), 'New Image: "maxOrder" must be a whole number from 0 to 18');
    assert.equal(await refusal(api, 'newImage', { size: '64M', links: 'ram' }), 'New Image: "links" must be "page" or "descriptor"');
  });

  it('a closed map posts nothing more: no "Webview is disposed" for news that arrives as it closes', async () => {
    const uri = makeImage('two.pmem');
    const doc = await openImage(api, uri, vscode.ViewColumn.One);
    await openImage(api, uri, vscode.ViewColumn.Two);
    await until('two maps', () => api.registry.mapsOf(doc).length === 2 || undefined);
    const closing = await until('the active map', () => api.registry.mapsOf(doc).find((m) => m.panel.active));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await until('one map left', () => api.registry.mapsOf(doc).length === 1 || undefined);
    // News the closed map may still be handed (a state, a notice) is dropped, not posted to its disposed webview.
    assert.doesNotThrow(() => closing.sendState());
    assert.doesNotThrow(() => closing.notice('late', 1));
    await exec('allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: 'after' });
    assert.equal(api.registry.current, doc, 'the image stays active in its other editor');
  });
});
