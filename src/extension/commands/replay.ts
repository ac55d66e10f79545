/** Replay Trace…: a kernel page-allocator trace applied to the image in the editor, as undoable history steps. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { linesOf } from '../../engine/node/textLines';
import { TRACE_FORMATS, TraceFormat } from '../../engine/replay/kmemTrace';
import { replayTraceAsync, ReplayOptions, ReplayReport } from '../../engine/replay/replay';
import { replayReportLines } from '../../shared/replayText';
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
