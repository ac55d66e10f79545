/** In an untrusted workspace images open read-only, and every command that would write says why it cannot. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { activateApi, closeAll, makeImage, openImage, refusal, until } from './helpers';

describe('PMem Explorer in an untrusted workspace', () => {
  afterEach(closeAll);

  it('opens images read-only and every writing command says why it is disabled', async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'this suite must run in an untrusted workspace');
    const api = await activateApi();
    const uri = makeImage('untrusted.pmem');
    const before = fs.readFileSync(uri.fsPath);
    const doc = await openImage(api, uri);
    assert.equal(doc.writable, false);
    assert.equal(doc.readOnlyReason, 'the workspace is not trusted');
    const map = await until('the map state', () => api.registry.mapsOf(doc)[0]?.lastState, 20_000);
    assert.equal(map.readOnly, 'the workspace is not trusted', 'the map says why');
    const why = 'untrusted.pmem is read-only: the workspace is not trusted.';
    const writing: Array<[string, ...unknown[]]> = [
      ['allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: 'x' }],
      ['free', 300],
      ['freeOwner', 'x'],
      ['freeBlock', { kind: 'frame', pfn: 300 }],
      ['reboot'],
      ['rebootIntoProfile', 'kmemcheck'],
      ['crash', { order: 0, points: 1 }],
      ['initAll'],
      ['initSection', { kind: 'section', summary: { index: 1 } }],
    ];
    for (const [command, ...args] of writing) assert.equal(await refusal(api, command, ...args), why, command);
    // Reading still works.
    assert.equal(await vscode.commands.executeCommand('pmemExplorer.goToFrame', 300), 300);
    assert.equal(doc.session!.isBooted, false, 'not even a boot');
    assert.deepEqual(fs.readFileSync(uri.fsPath), before, 'nothing was written');
  });
});
