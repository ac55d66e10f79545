/** Long work in a real VS Code: progress that moves, a Cancel that cancels, changes refused meanwhile, large undo in slices. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { CheckReport, info } from '../../../src/engine';
import type { PmemExplorerApi } from '../../../src/extension/extension';
import type { WorkState } from '../../../src/extension/longWork';
import { activateApi, closeAll, editorCommand, makeImage, openImage, pmemCli, refusal, until } from './helpers';

let api: PmemExplorerApi;
const session = () => api.registry.current!.session!;
const exec = <T = unknown>(id: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(`pmemExplorer.${id}`, ...args);

/** Records what the long work showed, and optionally cancels it once it has shown some progress. */
function watchWork(cancelAt?: number): { states: WorkState[]; dispose(): void } {
  const states: WorkState[] = [];
  let cancelled = false;
  const sub = api.work.onDidChange((e) => {
    if (!e.state) return;
    states.push(e.state);
    if (cancelAt !== undefined && !cancelled && e.state.share >= cancelAt && e.state.share < 1) {
      cancelled = true;
      void exec('cancelOperation');
    }
  });
  return { states, dispose: () => sub.dispose() };
}

/** The shares shown while the work ran, in order. */
const shares = (states: WorkState[]) => states.filter((s) => !s.cancelling).map((s) => s.share);

const GiB = 2 ** 30;

/** The first `n` bytes of a file (the images here are too large to read whole). */
function head(file: string, n = 64 * 2 ** 20): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const out = Buffer.alloc(n);
    return out.subarray(0, fs.readSync(fd, out, 0, n, 0));
  } finally {
    fs.closeSync(fd);
  }
}

describe('long work on a large image', function () {
  this.timeout(300_000);
  before(async () => {
    api = await activateApi();
  });
  afterEach(closeAll);

  it('Initialise All shows progress that moves, keeps the host answering, and a Cancel puts every section back', async () => {
    const uri = makeImage('initall.pmem', { sizeBytes: 4 * GiB });
    const before = head(uri.fsPath);
    await openImage(api, uri);
    const untouched = info(session().image).sections.untouched;

    // Cancelled a little way in: nothing is left of it, not even the boot it needed.
    const w = watchWork(0.05);
    const cancelled = await exec('initAll');
    w.dispose();
    assert.equal(cancelled, undefined, 'a cancelled Initialise All returns nothing');
    assert.ok(w.states.some((s) => s.cancelling), 'the map and status bar showed it cancelling');
    assert.equal(info(session().image).sections.untouched, untouched, 'every section is as before');
    assert.equal(session().isBooted, false);
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab?.isDirty, false, 'no edit was made');
    assert.equal(api.work.underWay, undefined);

    // Run to the end, while a timer on the same thread keeps firing: the host is not blocked.
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(Date.now()), 20);
    const run = watchWork();
    const r = await exec<{ sections: number }>('initAll');
    clearInterval(timer);
    run.dispose();
    assert.equal(r?.sections, untouched);
    assert.equal(info(session().image).sections.untouched, 0);
    const moved = shares(run.states);
    assert.ok(new Set(moved).size >= 3, `progress moved: ${moved.map((x) => x.toFixed(2)).join(' ')}`);
    assert.deepEqual(moved, moved.slice().sort((a, b) => a - b), 'progress only moves forward');
    assert.ok(ticks.length >= 3, `the host ran a timer ${ticks.length} times meanwhile`);
    assert.ok(head(uri.fsPath).equals(before), 'nothing reached the file');
  });

  it('changes are refused while long work runs, saying what runs; undo of a large edit runs in slices and can be cancelled', async () => {
    const uri = makeImage('busy.pmem', { sizeBytes: 4 * GiB });
    await openImage(api, uri);
    await exec('allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: 'first' });
    const running = exec('initAll');
    await until('Initialise All under way', () => api.work.underWay);
    assert.match(await refusal(api, 'allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: 'x' }), /^"Initialise all sections" is still under way on this image: wait for it or cancel it/);
    assert.match(await refusal(api, 'reboot'), /^"Initialise all sections" is still under way on this image/);
    assert.match(await refusal(api, 'check'), /^"Initialise all sections" is still under way on this image/);
    assert.match(await refusal(api, 'stepBack'), /^"Initialise all sections" is still under way on this image/);
    await running;
    assert.equal(info(session().image).sections.untouched, 0);

    // Undo of 4 GiB of descriptors: long work of its own; cancelled, the image keeps the sections and the edit stays undoable.
    const w = watchWork(0.05);
    await editorCommand('undo');
    await until('the undo to end', () => (api.work.finished >= api.work.started && !api.work.underWay ? true : undefined));
    w.dispose();
    assert.ok(w.states.length > 0 && w.states[0].label === 'Undo Initialise all sections', JSON.stringify(w.states[0]));
    assert.ok(w.states.some((s) => s.cancelling));
    assert.equal(info(session().image).sections.untouched, 0, 'the cancelled undo left every section initialised');
    await editorCommand('undo');
    await until('the undo of Initialise All', () => (info(session().image).sections.untouched > 0 ? true : undefined));
    assert.equal(info(session().image).frames.allocated, 1, 'the allocation before it is still there');
    await editorCommand('redo');
    await until('the redo of Initialise All', () => (info(session().image).sections.untouched === 0 && !api.work.underWay ? true : undefined));
  });

  it('Reload (the offer when the file changed on disk) during long work cancels the work first, then reloads', async () => {
    const uri = makeImage('revert.pmem', { sizeBytes: 4 * GiB });
    await openImage(api, uri);
    await exec('allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: 'x' });
    const running = exec('initAll');
    await until('Initialise All under way', () => api.work.underWay);
    const mark = api.commands.mark;
    await api.registry.current!.reload(); // what the Reload button of the offer runs
    assert.equal(await running, undefined, 'Initialise All was cancelled');
    await until('the revert', () => (!session().isBooted ? true : undefined));
    assert.equal(info(session().image).sections.initialized, 0, 'as the file has it');
    assert.deepEqual(api.commands.since(mark), [], 'nothing failed');
  });

  it('Check Image runs in slices with progress; a Cancel stops it and says the report is incomplete', async () => {
    // Nearly every frame allocated (made outside the editor): each descriptor takes the checker's full check, seconds of work.
    const uri = makeImage('check.pmem', { sizeBytes: 8 * GiB });
    // In a process of its own: seconds of work the extension host (where this test runs) would be held for.
    await pmemCli(['alloc', uri.fsPath, '--order', '0', '--count', '1900000', '--owner', 'held']);
    await openImage(api, uri);
    const w = watchWork(0.05);
    const partial = await exec<CheckReport>('check');
    w.dispose();
    assert.equal(partial?.complete, false);
    assert.ok(partial!.sectionsChecked < session().image.geometry.sectionCount);
    const run = watchWork();
    const full = await exec<CheckReport>('check');
    run.dispose();
    assert.ok(full?.ok && full.complete, JSON.stringify(full?.problems.slice(0, 3)));
    assert.equal(full.sectionsChecked, session().image.geometry.sectionCount);
    assert.ok(new Set(shares(run.states)).size >= 2, `progress moved: ${shares(run.states).join(' ')}`);
  });
});
