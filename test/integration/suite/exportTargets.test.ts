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

  it('draws the legend under a PNG by default, and leaves it out with legend: false or the setting off', async () => {
    const uri = makeImage('export-legend.pmem');
    const doc = await openImage(api, uri);
    await until('the map to be ready', () => api.registry.mapsOf(doc)[0]?.lastState, 20_000);
    const dir = tempDir();
    // A PNG's width and height are the IHDR chunk's first two words.
    const size = (file: string) => {
      const b = fs.readFileSync(file);
      return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
    };
    const withLegend = path.join(dir, 'with.png');
    const without = path.join(dir, 'without.png');
    assert.equal(await exec('exportMap', { format: 'png', target: withLegend }), withLegend);
    assert.equal(await exec('exportMap', { format: 'png', target: without, legend: false }), without);
    const a = size(withLegend);
    const b = size(without);
    assert.equal(a.width, b.width, 'the legend goes under the map, as wide as it');
    assert.ok(a.height > b.height, `the legend adds rows under the map (${a.height} against ${b.height})`);

    const config = vscode.workspace.getConfiguration('pmemExplorer.map');
    await config.update('exportLegend', false, vscode.ConfigurationTarget.Global);
    try {
      const off = path.join(dir, 'off.png');
      assert.equal(await exec('exportMap', { format: 'png', target: off }), off);
      assert.deepEqual(size(off), b, 'the setting off: the map and its axis alone');
    } finally {
      await config.update('exportLegend', undefined, vscode.ConfigurationTarget.Global);
    }
    assert.equal(await exec('exportMap', { format: 'png', target: path.join(dir, 'bad.png'), legend: 'yes' }), undefined, 'legend must be a boolean');
    assert.ok(!fs.existsSync(path.join(dir, 'bad.png')));
  });
});
