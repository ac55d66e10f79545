/** The Lazy-Init Sections view filtered by state, and the walk from one stale (or initialised) section to the next. */
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import { sections } from '../../../src/engine';
import type { PmemExplorerApi } from '../../../src/extension/extension';
import type { SectionNode } from '../../../src/extension/trees/sectionsTree';
import { activateApi, closeAll, makeImage, openImage, until } from './helpers';

let api: PmemExplorerApi;
const exec = <T = unknown>(id: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(`pmemExplorer.${id}`, ...args);

describe('PMem sections by state', () => {
  before(async () => {
    api = await activateApi();
  });
  afterEach(async () => {
    await exec('filterSections', ['never', 'initialized', 'stale']);
    await closeAll();
  });

  it('a filter lists only the groups with sections in the chosen states, and says how many', async () => {
    // 2 GiB of 2 MiB sections: 1024 sections, in two groups of 512.
    const doc = await openImage(api, makeImage('groups.pmem', { sizeBytes: 2 * 2 ** 30 }));
    await exec('allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: 'x' });
    const tree = api.views.sections;
    const groups = () => (tree.getChildren() as SectionNode[]).map((n) => tree.getTreeItem(n));
    assert.deepEqual(groups().map((g) => g.label), ['Sections 0–511', 'Sections 512–1023']);

    assert.deepEqual(await exec('filterSections', ['initialised']), ['initialized'], 'the British spelling, as every label says');
    assert.deepEqual(groups().map((g) => [g.label, g.description]), [['Sections 0–511', `${sections(doc.viewImage!).filter((s) => s.state === 'initialized').length} initialised`]]);
    await exec('reboot');
    await until('the stale sections to leave the filtered view', () => groups().length === 0 || undefined);
    await exec('filterSections', ['stale', 'never']);
    assert.deepEqual(groups().map((g) => g.description), ['512 never initialised or stale', '512 never initialised or stale']);
  });

  it('Next Stale Section and Next Initialised Section walk the sections in that state from the selected frame', async () => {
    const doc = await openImage(api, makeImage('walk.pmem', { sizeBytes: 64 * 2 ** 20 }));
    const frames = doc.viewImage!.geometry.sectionFrames;
    for (const s of [4, 9]) await exec('initSection', { kind: 'section', summary: { index: s } });
    await exec('reboot');
    await exec('initSection', { kind: 'section', summary: { index: 12 } });
    const stale = sections(doc.viewImage!).filter((s) => s.state === 'stale').map((s) => s.index);
    assert.ok(stale.includes(4) && stale.includes(9), `stale: ${stale}`);
    await exec('goToFrame', 4 * frames + 7);
    const walked: number[] = [];
    for (let i = 0; i < stale.length; i++) walked.push(await exec<number>('nextStaleSection'));
    assert.deepEqual(walked, [...stale.filter((s) => s > 4), ...stale.filter((s) => s <= 4)]);
    assert.equal(doc.selection?.pfn, 4 * frames, 'round to the first section of the walk, at its first frame');
    assert.equal(await exec<number>('nextInitialisedSection'), 12);
    assert.equal(doc.selection?.pfn, 12 * frames);
  });
});
