/** Show Info and Check Image show what they found in read-only documents, not in a toast or an untitled file. */
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import { info } from '../../../src/engine';
import type { PmemExplorerApi } from '../../../src/extension/extension';
import { infoLines } from '../../../src/shared/infoText';
import { activateApi, closeAll, makeImage, openImage, until } from './helpers';

let api: PmemExplorerApi;
const exec = <T = unknown>(id: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(`pmemExplorer.${id}`, ...args);
const shownReport = () => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'pmem-report')?.document;

describe('PMem read-only documents', () => {
  before(async () => {
    api = await activateApi();
  });
  afterEach(closeAll);

  it('Show Info shows everything pmem info prints, read-only, and follows the image', async () => {
    const uri = makeImage('info.pmem', { sizeBytes: 32 * 2 ** 20, nodes: 2 });
    const doc = await openImage(api, uri);
    await exec('allocate', { order: 2, count: 1, node: 0, zone: 'normal', owner: 'fs' });
    await exec('showInfo');
    const text = await until('the info document', shownReport);
    assert.equal(text.isUntitled, false);
    for (const line of infoLines(uri.fsPath, info(doc.viewImage!))) assert.ok(text.getText().includes(line), `missing: ${line}\n--- shown:\n${text.getText()}`);
    assert.match(text.getText(), /4 allocated/);

    await vscode.commands.executeCommand('vscode.openWith', uri, 'pmemExplorer.image'); // the map again, the info beside it
    await until('the image to be active', () => api.registry.current === doc || undefined);
    await exec('allocate', { order: 3, count: 1, node: 0, zone: 'normal', owner: 'fs' });
    await until('the info to follow the allocation', () => /12 allocated/.test(text.getText()) || undefined);
  });

  it('Check Image shows its report read-only: nothing to save', async () => {
    await openImage(api, makeImage('report.pmem'));
    const report = await exec<{ ok: boolean }>('check');
    assert.equal(report?.ok, true);
    const text = await until('the report', shownReport);
    assert.equal(text.languageId, 'markdown');
    assert.equal(text.isUntitled, false);
    assert.equal(text.isDirty, false);
    assert.match(text.getText(), /^# Check of report\.pmem\n\n\*\*No problems found\.\*\*/);
  });
});
