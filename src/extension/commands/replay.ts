/** Replay Trace… and Run Workload…: a kernel trace, or a seeded synthetic workload, applied to the image in the editor as one undoable edit. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { linesOf } from '../../engine/node/textLines';
import { TRACE_FORMATS, TraceFormat } from '../../engine/replay/kmemTrace';
import { replayTraceAsync, ReplayOptions, ReplayReport } from '../../engine/replay/replay';
import { replayReportLines } from '../../shared/replayText';
import { formatFragmentationFiles } from '../../engine';
import { IN_PLACE_KINDS, runWorkloadAsync, WORKLOAD_SUMMARY, WorkloadKind, WorkloadReport } from '../../engine/replay/workload';
import type { ReadOnlyDocs } from '../readOnlyDocs';
import { Refusal } from '../refusal';
import { CommandContext } from './context';

/** What the command takes as an argument (from a test or a keybinding); any part left out is asked for. */
interface ReplayArgs {
  trace?: string;
  assumeAllocated?: boolean;
  base?: number;
  from?: number;
  to?: number;
  format?: TraceFormat | 'auto';
  batch?: number;
}

function argsOf(arg: unknown): ReplayArgs {
  if (typeof arg === 'string') return { trace: arg };
  if (arg instanceof vscode.Uri) return { trace: arg.fsPath };
  if (!arg || typeof arg !== 'object') return {};
  const a = arg as Record<string, unknown>;
  const num = (k: string) => {
    const v = a[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Refusal(`Replay Trace: ${k} must be a number, 0 or more, not ${JSON.stringify(v)}`);
    return v;
  };
  if (a.format !== undefined && a.format !== 'auto' && !(TRACE_FORMATS as readonly unknown[]).includes(a.format)) throw new Refusal(`Replay Trace: format must be auto, ${TRACE_FORMATS.join(', ')}, not ${JSON.stringify(a.format)}`);
  return {
    trace: typeof a.trace === 'string' ? a.trace : undefined, assumeAllocated: a.assumeAllocated === undefined ? undefined : a.assumeAllocated === true,
    base: num('base'), from: num('from'), to: num('to'), format: a.format as ReplayArgs['format'], batch: num('batch'),
  };
}

export function registerReplayCommands(c: CommandContext, docs: ReadOnlyDocs): void {
  c.run('pmemExplorer.replayTrace', async (arg?: unknown): Promise<ReplayReport | undefined> => {
    c.writablePresent();
    const a = argsOf(arg);
    let trace = a.trace;
    if (!trace) {
      const picked = await vscode.window.showOpenDialog({
        title: 'Replay Trace', openLabel: 'Replay', canSelectMany: false,
        filters: { 'Trace text (tracefs, trace-cmd report, perf script)': ['txt', 'trace', 'log', 'out'], 'All files': ['*'] },
      });
      if (!picked?.length) return undefined;
      trace = picked[0].fsPath;
    }
    if (!fs.existsSync(trace) || !fs.statSync(trace).isFile()) throw new Refusal(`Replay Trace: ${trace} is not a file`);
    let assumeAllocated = a.assumeAllocated;
    if (assumeAllocated === undefined) {
      const pick = await vscode.window.showQuickPick([
        { label: 'Skip them', description: 'count them in the report', assume: false },
        { label: 'Allocate them first', description: 'as if allocated before tracing began', assume: true },
      ], { title: 'Replay Trace: frees of blocks the trace never allocated', ignoreFocusOut: true });
      if (!pick) return undefined;
      assumeAllocated = pick.assume;
    }
    const name = path.basename(trace);
    const options: ReplayOptions = { name, assumeAllocated, base: a.base, from: a.from, to: a.to, format: a.format, batch: a.batch };
    const file = trace;
    const report = await c.operateLong(`Replay ${name}`, (img, control) => replayTraceAsync(img, () => linesOf(file), options, control), 'events');
    if (!report) return undefined;
    const n = (x: number) => x.toLocaleString('en-US');
    void vscode.window.setStatusBarMessage(`$(check) Replayed ${name}: ${n(report.applied.alloc)} allocations, ${n(report.applied.free)} frees in ${n(report.steps.length)} steps`, 8000);
    await docs.showText(`Replay of ${name}`, `${replayReportLines(report, trace).join('\n')}\n`, 'plaintext');
    return report;
  });
}


export function registerWorkloadCommands(c: CommandContext, docs: ReadOnlyDocs): void {
  c.run('pmemExplorer.runWorkload', async (arg?: unknown): Promise<WorkloadReport | undefined> => {
    c.writablePresent();
    const a = (arg && typeof arg === 'object' ? arg : {}) as { kind?: unknown; ops?: unknown; seed?: unknown };
    let kind = a.kind as WorkloadKind | undefined;
    if (kind !== undefined && !IN_PLACE_KINDS.includes(kind)) {
      throw new Refusal(`Run Workload: kind must be one of ${IN_PLACE_KINDS.join(', ')}${kind === 'reboots' ? ' (reboots runs with pmem workload: it reboots the machine)' : ''}, not ${JSON.stringify(kind)}`);
    }
    if (!kind) {
      const pick = await vscode.window.showQuickPick(IN_PLACE_KINDS.map((k) => ({ label: k, description: WORKLOAD_SUMMARY[k], workload: k })), { title: 'Run Workload', placeHolder: 'Which workload?', ignoreFocusOut: true });
      if (!pick) return undefined;
      kind = pick.workload;
    }
    const whole = (v: unknown, name: string, max: number) => {
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw new Refusal(`Run Workload: ${name} must be a whole number from 0 to ${max.toLocaleString('en-US')}, not ${JSON.stringify(v)}`);
      return v;
    };
    let ops = whole(a.ops, 'ops', 10_000_000);
    if (ops === undefined) {
      const text = await vscode.window.showInputBox({ title: `Run Workload: ${kind}`, prompt: 'How many operations (each a step of the history)?', value: '10000', ignoreFocusOut: true, validateInput: (t) => (/^\d+$/.test(t.trim()) && Number(t) >= 1 && Number(t) <= 10_000_000 ? undefined : 'A whole number from 1 to 10,000,000') });
      if (!text) return undefined;
      ops = Number(text.trim());
    }
    if (ops < 1) throw new Refusal('Run Workload: ops must be at least 1');
    const seed = whole(a.seed, 'seed', 2 ** 32 - 1) ?? 1;
    const label = `${kind} workload, ${ops.toLocaleString('en-US')} operations`;
    const workloadKind: WorkloadKind = kind;
    const report = await c.operateLong(label, (img, control) => runWorkloadAsync(img, { kind: workloadKind, ops: ops!, seed, deferWriteBack: true }, control), 'operations');
    if (!report) return undefined;
    const orders = Object.keys({ ...report.allocated, ...report.failed }).map(Number).sort((x, y) => x - y);
    const summary = `${label}, seed ${seed}: ${orders.map((o) => `order ${o}: ${report.allocated[o] ?? 0} allocated${report.failed[o] ? `, ${report.failed[o]} failed` : ''}`).join('; ')}; ${report.freed} freed`;
    void vscode.window.setStatusBarMessage(`$(check) ${summary}`, 8000);
    await docs.showText(`Workload ${kind} (seed ${seed})`, `${summary}\n\n${formatFragmentationFiles(report.zones)}`, 'plaintext');
    return report;
  });
}
