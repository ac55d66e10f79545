/** PMem: Compare Designs: the same workload on an image of each design, in memory, shown side by side with charts. */
import * as vscode from 'vscode';
import { compareDesignsAsync, CompareReport, DESIGNS, OperationCancelled, parseSize } from '../../engine';
import { WORKLOAD_KINDS, WORKLOAD_SUMMARY, WorkloadKind } from '../../engine/replay/workload';
import { ComparePanel } from '../comparePanel';
import { Refusal } from '../refusal';
import type { CommandContext } from './context';

/** The editor keeps to sizes whose images it can make, run and check in seconds. */
const MAX_SIZE = 16 * 2 ** 30;

interface CompareArgs { designs?: unknown; size?: unknown; workload?: unknown; ops?: unknown; seed?: unknown }

export function registerCompareCommand(c: CommandContext): ComparePanel {
  const panel = new ComparePanel(c.extension.extensionUri);
  c.extension.subscriptions.push({ dispose: () => panel.dispose() });
  c.run('pmemExplorer.compareDesigns', async (arg?: unknown): Promise<CompareReport | undefined> => {
    const a = (arg && typeof arg === 'object' ? arg : {}) as CompareArgs;
    const built = DESIGNS.filter((d) => d.built);
    let designs: string[] | undefined;
    if (a.designs !== undefined) {
      if (!Array.isArray(a.designs) || !a.designs.every((d) => typeof d === 'string')) throw new Refusal(`Compare Designs: designs must be a list of names, not ${JSON.stringify(a.designs)}`);
      designs = a.designs as string[];
    } else {
      const later = DESIGNS.filter((d) => !d.built).map((d) => d.name).join(', ');
      const picks = await vscode.window.showQuickPick(built.map((d) => ({ label: d.name, description: d.summary, detail: d.source, picked: true })), {
        title: 'Compare Designs', placeHolder: `Which designs? (${later} do not run yet)`, canPickMany: true, ignoreFocusOut: true,
      });
      if (!picks?.length) return undefined;
      designs = picks.map((p) => p.label);
    }
    let sizeBytes: number;
    if (a.size !== undefined) sizeBytes = sizeOf(String(a.size));
    else {
      const text = await vscode.window.showInputBox({ title: 'Compare Designs', prompt: 'Device size for each image (in memory), 4M to 16G', value: '1G', ignoreFocusOut: true, validateInput: (t) => sizeProblem(t) });
      if (!text) return undefined;
      sizeBytes = sizeOf(text);
    }
    let workload = a.workload as WorkloadKind | undefined;
    if (workload !== undefined && !WORKLOAD_KINDS.includes(workload)) throw new Refusal(`Compare Designs: workload must be one of ${WORKLOAD_KINDS.join(', ')}, not ${JSON.stringify(workload)}`);
    if (!workload) {
      const pick = await vscode.window.showQuickPick((['reboots', 'churn', 'fragmenter', 'hugepages'] as const).map((k) => ({ label: k, description: WORKLOAD_SUMMARY[k], workload: k })), { title: 'Compare Designs', placeHolder: 'Which workload?', ignoreFocusOut: true });
      if (!pick) return undefined;
      workload = pick.workload;
    }
    const whole = (v: unknown, name: string, min: number, max: number) => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw new Refusal(`Compare Designs: ${name} must be a whole number from ${min} to ${max.toLocaleString('en-US')}, not ${JSON.stringify(v)}`);
      return v;
    };
    let ops: number;
    if (a.ops !== undefined) ops = whole(a.ops, 'ops', 1, 1_000_000);
    else {
      const text = await vscode.window.showInputBox({ title: `Compare Designs: ${workload}`, prompt: 'How many operations on each image?', value: '10000', ignoreFocusOut: true, validateInput: (t) => (/^\d+$/.test(t.trim()) && Number(t) >= 1 && Number(t) <= 1_000_000 ? undefined : 'A whole number from 1 to 1,000,000') });
      if (!text) return undefined;
      ops = Number(text.trim());
    }
    const seed = a.seed === undefined ? 1 : whole(a.seed, 'seed', 0, 2 ** 32 - 1);
    const kind: WorkloadKind = workload;
    const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Compare Designs', cancellable: true }, async (progress, token) => {
      let shown = 0;
      try {
        return await compareDesignsAsync({
          designs, sizeBytes, workload: kind, ops, seed,
          onProgress: (done, total, design) => {
            const share = done / total;
            if (share - shown < 0.01 && done < total) return;
            progress.report({ increment: (share - shown) * 100, message: `${design}: ${Math.round(share * 100)} %` });
            shown = share;
          },
        }, { cancelled: () => token.isCancellationRequested });
      } catch (e) {
        if (e instanceof OperationCancelled) {
          void vscode.window.showInformationMessage(e.message);
          return undefined;
        }
        throw e;
      }
    });
    if (!report) return undefined;
    panel.show(report);
    return report;
  });
  return panel;
}

function sizeProblem(text: string): string | undefined {
  try {
    sizeOf(text);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function sizeOf(text: string): number {
  const bytes = parseSize(text.trim());
  if (bytes > MAX_SIZE) throw new Refusal(`Compare Designs: the editor compares devices of up to 16G (pmem compare takes any size), not ${text.trim()}`);
  return bytes;
}
