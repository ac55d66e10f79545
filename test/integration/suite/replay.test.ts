/** Replay Trace… and Run Workload… in a real VS Code: a real kernel trace, or a seeded workload, applied to the image in the editor as one undoable edit, with progress and Cancel. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decompress } from 'fzstd';
import * as vscode from 'vscode';
import { check, info } from '../../../src/engine';
import type { ReplayReport } from '../../../src/engine/replay/replay';
import type { WorkloadReport } from '../../../src/engine/replay/workload';
import type { PmemExplorerApi } from '../../../src/extension/extension';
import { activateApi, closeAll, EXT, editorCommand, fileDigest, makeImage, openImage, refusal, tempDir, until } from './helpers';

let api: PmemExplorerApi;
const session = () => api.registry.current!.session!;
const exec = <T = unknown>(id: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(`pmemExplorer.${id}`, ...args);

/** A real perf script trace of a Linux 6.1 kernel (the unit tests' fixture), `copies` times over, as a file of the workspace. */
function traceFile(copies = 1): string {
  const root = vscode.extensions.getExtension(EXT)!.extensionPath;
  const text = Buffer.from(decompress(fs.readFileSync(path.join(root, 'test/fixtures/kmem/traces/perf.txt.zst'))));
  const file = path.join(tempDir(), copies === 1 ? 'perf.txt' : `perf-${copies}.txt`);
  fs.writeFileSync(file, Buffer.concat(Array<Buffer>(copies).fill(text)));
  return file;
}

describe('Replay Trace', function () {
  this.timeout(300_000);
  before(async () => {
    api = await activateApi();
  });
  afterEach(closeAll);

  it('replays a kernel trace as history steps, shows its report, and one undo takes it all back', async () => {
    const uri = makeImage('replay.pmem', { sizeBytes: 2 ** 30 });
    await openImage(api, uri);
    const trace = traceFile();
    const report = await exec<ReplayReport>('replayTrace', { trace, assumeAllocated: false, batch: 100 });
    assert.ok(report && report.applied.alloc > 1000 && report.applied.free > 200, JSON.stringify(report?.applied));
    assert.equal(report.format, 'perf');
    const img = session().image;
    assert.deepEqual(check(img).problems, []);
    const steps = img.historyRecords().filter((r) => r.kind === 'replay');
    assert.equal(steps.length, report.steps.length);
    assert.equal(info(img).frames.allocated > 0, true);
    const shown = await until('the report', () => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'pmem-report' && /Replay of perf\.txt/.test(e.document.uri.path))?.document);
    assert.match(shown.getText(), /applied: [\d,]+ allocations, [\d,]+ frees, in \d+ history steps/);
    assert.match(shown.getText(), /the trace's view of memory, not the kernel's/);

    await vscode.commands.executeCommand('vscode.openWith', uri, 'pmemExplorer.image');
    await until('the image to be active', () => api.registry.current?.uri.fsPath === uri.fsPath || undefined);
    await editorCommand('undo');
    await until('the replay undone', () => info(session().image).frames.allocated === 0 || undefined);
    assert.equal(session().image.historyRecords().filter((r) => r.kind === 'replay').length, 0);
  });

  it('a Cancel during the replay puts the image back as it was, boot included', async () => {
    const uri = makeImage('cancel-replay.pmem', { sizeBytes: 2 ** 30 });
    const before = await fileDigest(uri.fsPath);
    await openImage(api, uri);
    // Thirty times the real trace (120,000 lines, most of the later copies' events skipped): progress is shown at
    // most every 100 ms, so a replay over in less would show none between its start and its end.
    const trace = traceFile(30);
    let asked = false;
    // Cancelled from within the progress report, so the replay stops at its next batch however fast it runs
    // (the Cancel command is asynchronous: a replay quicker than one time slice could end before it arrives).
    const sub = api.work.onDidChange((e) => {
      if (!asked && e.state && e.state.share > 0.1 && e.state.share < 1) {
        asked = true;
        api.work.cancel();
      }
    });
    try {
      const report = await exec<ReplayReport | undefined>('replayTrace', { trace, assumeAllocated: false, batch: 10 });
      assert.equal(report, undefined, 'cancelled');
    } finally {
      sub.dispose();
    }
    assert.ok(asked, 'the progress moved before the Cancel');
    assert.equal(info(session().image).frames.allocated, 0);
    assert.equal(session().isBooted, false, 'the boot it needed is undone too');
    assert.equal(await fileDigest(uri.fsPath), before, 'the file is untouched');
  });

  it('Run Workload runs a seeded workload as one edit: its report and fragmentation shown, one undo takes it back', async () => {
    const uri = makeImage('workload.pmem', { sizeBytes: 64 * 2 ** 20 });
    await openImage(api, uri);
    const report = await exec<WorkloadReport>('runWorkload', { kind: 'fragmenter', ops: 600, seed: 5 });
    assert.ok(report);
    assert.equal(report.allocated[0], 400);
    assert.equal(report.freed, 200);
    assert.deepEqual(check(session().image).problems, []);
    const shown = await until('the workload report', () => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'pmem-report' && /Workload fragmenter/.test(e.document.uri.path))?.document);
    assert.match(shown.getText(), /order 0: 400 allocated; 200 freed/);
    assert.match(shown.getText(), /==> \/sys\/kernel\/debug\/extfrag\/unusable_index <==/);
    await vscode.commands.executeCommand('vscode.openWith', uri, 'pmemExplorer.image');
    await until('the image to be active', () => api.registry.current?.uri.fsPath === uri.fsPath || undefined);
    await editorCommand('undo');
    await until('the workload undone', () => info(session().image).frames.allocated === 0 || undefined);
    assert.match(await refusal(api, 'runWorkload', { kind: 'reboots', ops: 10 }), /^Run Workload: kind must be one of churn, fragmenter, hugepages \(reboots runs with pmem workload: it reboots the machine\), not "reboots"$/);
    assert.match(await refusal(api, 'runWorkload', { kind: 'churn', ops: -3 }), /^Run Workload: ops must be a whole number from 0 to 10,000,000, not -3$/);
  });

  it('refuses a trace that is not a file and options of the wrong kind, saying which', async () => {
    await openImage(api, makeImage('refuse-replay.pmem'));
    assert.match(await refusal(api, 'replayTrace', { trace: '/nonexistent/trace.txt', assumeAllocated: false }), /^Replay Trace: \/nonexistent\/trace\.txt is not a file$/);
    assert.match(await refusal(api, 'replayTrace', { trace: traceFile(), assumeAllocated: false, format: 'dtrace' }), /^Replay Trace: format must be auto, ftrace, trace-cmd, perf, not "dtrace"$/);
    const junk = path.join(tempDir(), 'junk.txt');
    fs.writeFileSync(junk, 'not a trace\n');
    assert.match(await refusal(api, 'replayTrace', { trace: junk, assumeAllocated: false }), /no kmem page-allocator events in junk\.txt \(1 lines; 1 not understood, first at line 1\)/);
    assert.equal(session().isBooted, false, 'nothing was done');
  });
});
