/** Fewer steps and fewer surprises: Export Map's early refusal, Allocate's remembered answers. */
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { PmemExplorerApi } from '../../../src/extension/extension';
import * as path from 'node:path';
import { activateApi, closeAll, makeImage, openImage, readInfo, refusal, tempDir, until } from './helpers';

let api: PmemExplorerApi;

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
});
