/** Export Map never replaces a file silently: the extension's own logic, in a real extension host (the reasons are unit-tested with exportRefusal). */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PmemExplorerApi } from '../../../src/extension/extension';
import { activateApi, closeAll, makeImage, openImage, tempDir, until } from './helpers';

const exec = <T = unknown>(id: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(`pmemExplorer.${id}`, ...args);
const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('Export Map targets', () => {
  let api: PmemExplorerApi;
  before(async () => {
    api = await activateApi();
  });
  afterEach(closeAll);

  it('replaces an existing file given as an argument only with overwrite: true, and never the open image', async () => {
    const uri = makeImage('export-target.pmem');
    const doc = await openImage(api, uri);
    await until('the map to be ready', () => api.registry.mapsOf(doc)[0]?.lastState, 20_000);
    const dir = tempDir();
    const png = path.join(dir, 'map.png');
    fs.writeFileSync(png, 'an earlier export');

    assert.equal(await exec('exportMap', { format: 'png', target: png }), undefined, 'refused without overwrite');
    assert.equal(fs.readFileSync(png, 'utf8'), 'an earlier export');
    assert.equal(await exec('exportMap', { format: 'png', target: png, overwrite: 'yes' }), undefined, 'overwrite must be a boolean');
    assert.equal(fs.readFileSync(png, 'utf8'), 'an earlier export');

    assert.equal(await exec('exportMap', { format: 'png', target: png, overwrite: true }), png);
    assert.deepEqual([...fs.readFileSync(png).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'replaced by a PNG');

    const before = sha(uri.fsPath);
    assert.equal(await exec('exportMap', { format: 'svg', target: uri.fsPath, overwrite: true }), undefined, 'the image itself is refused');
    assert.equal(sha(uri.fsPath), before);
    assert.deepEqual(fs.readdirSync(dir), ['map.png'], 'no temporary files left');
    assert.ok(!fs.readdirSync(path.dirname(uri.fsPath)).some((n) => n.endsWith('.tmp')));
  });
});
