/** Show Info, Show Fragmentation and Check Image show what they found in read-only documents, not in a toast or an untitled file. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatExtfragIndex, formatFragmentationFiles, fragmentation, info, type MachineSnapshot, type ZoneFragmentation } from '../../../src/engine';
import type { PmemExplorerApi } from '../../../src/extension/extension';
import { infoLines } from '../../../src/shared/infoText';
import { activateApi, closeAll, EXT, makeImage, openImage, refusal, until } from './helpers';

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

  it('Show Fragmentation shows Linux\'s three files as pmem frag prints them, read-only, and follows the image', async () => {
    const uri = makeImage('frag.pmem', { sizeBytes: 64 * 2 ** 20 });
    const doc = await openImage(api, uri);
    const figures = await exec<ZoneFragmentation[]>('showFragmentation');
    const text = await until('the fragmentation document', () => (shownReport()?.getText().includes('extfrag_index') ? shownReport() : undefined));
    assert.equal(text.isDirty, false);
    assert.ok(text.getText().endsWith(formatFragmentationFiles(fragmentation(doc.viewImage!))), `shown:\n${text.getText()}`);
    assert.deepEqual(figures, fragmentation(doc.viewImage!));
    const before = text.getText();

    // Every frame of a section, then every other one freed: single frames, unusable for order 1.
    await vscode.commands.executeCommand('vscode.openWith', uri, 'pmemExplorer.image');
    await until('the image to be active', () => api.registry.current === doc || undefined);
    const pfns = await exec<number[]>('allocate', { order: 0, count: 512, node: 0, zone: 'dma32', owner: 'frag' });
    await exec('free', pfns!.filter((_, i) => i % 2 === 0));
    await until('the document to follow the frees', () => (text.getText() !== before && text.getText().endsWith(formatFragmentationFiles(fragmentation(doc.viewImage!))) ? true : undefined));
    const dma32 = fragmentation(doc.viewImage!).find((z) => z.zone === 'DMA32')!;
    assert.ok(dma32.unusableIndex[1] > 0, `single frames are unusable for order 1: ${dma32.unusableIndex}`);
    assert.match(text.getText(), /unsaved changes included/);
  });

  it('Compare Fragmentation shows a real machine\'s figures under the image\'s, follows the history, and refuses a file that is no snapshot, saying why', async () => {
    const uri = makeImage('beside.pmem', { sizeBytes: 64 * 2 ** 20 });
    const doc = await openImage(api, uri);
    const root = vscode.extensions.getExtension(EXT)!.extensionPath;
    const snapshot = path.join(root, 'test/fixtures/kmem/huge-256M/after/pagetypeinfo');
    const kernel = fs.readFileSync(path.join(root, 'test/fixtures/kmem/huge-256M/after/extfrag_index'), 'utf8');
    const s = await exec<MachineSnapshot>('compareFragmentation', { snapshot });
    assert.equal(s?.kind, 'pagetypeinfo');
    const text = await until('the comparison', () => (shownReport()?.getText().includes('beside pagetypeinfo') ? shownReport() : undefined));
    assert.ok(text.getText().includes(`pagetypeinfo (pagetypeinfo, summed over migrate types):\n${kernel}`), `the kernel's own extfrag_index, from its pagetypeinfo:\n${text.getText()}`);
    assert.ok(text.getText().includes(`this image:\n${formatExtfragIndex(fragmentation(doc.viewImage!))}`));

    await vscode.commands.executeCommand('vscode.openWith', uri, 'pmemExplorer.image');
    await until('the image to be active', () => api.registry.current === doc || undefined);
    await exec('allocate', { order: 0, count: 3, node: 0, zone: 'dma32', owner: 'x' });
    const after = text.getText();
    await exec('stepBack');
    await until('the comparison to follow the step shown', () => (text.getText() !== after && /the state after history step \d+ \(read-only\), beside pagetypeinfo/.test(text.getText()) ? true : undefined));
    assert.ok(text.getText().includes(`this image:\n${formatExtfragIndex(fragmentation(doc.viewImage!))}`), 'the figures of the step shown');

    assert.equal(await refusal(api, 'compareFragmentation', { snapshot: uri.fsPath }), "Compare Fragmentation: beside.pmem is not /proc/buddyinfo, /proc/pagetypeinfo, /proc/zoneinfo or crash's kmem -f output (no \"Node N, zone NAME\" line of theirs in it, nor kmem -f's ZONE and AREA tables)");
    assert.equal(await refusal(api, 'compareFragmentation', { snapshot: 7 }), 'Compare Fragmentation: "snapshot" must be a file path');
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
