/** PMem: Compare Designs: the same workload on an image of each design, in memory, shown side by side with charts. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { compareDesignsAsync, CompareReport, DESIGNS, MemoryStore, OperationCancelled, parseSize } from '../../engine';
import { keepImage, keptImagePaths } from '../../engine/node/keptImages';
import type { MapsInStep } from '../mapsInStep';
import { VIEW_TYPE } from '../pmemEditorProvider';
import { WORKLOAD_KINDS, WORKLOAD_SUMMARY, WorkloadKind } from '../../engine/replay/workload';
import { ComparePanel } from '../comparePanel';
import { Refusal } from '../refusal';
import type { CommandContext } from './context';

/** The editor keeps to sizes whose images it can make, run and check in seconds. */
const MAX_SIZE = 16 * 2 ** 30;

interface CompareArgs { designs?: unknown; size?: unknown; workload?: unknown; ops?: unknown; seed?: unknown }

export function registerCompareCommand(c: CommandContext, inStep: MapsInStep): ComparePanel {
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
      const notYet = DESIGNS.filter((d) => !d.built).map((d) => d.name);
      const later = notYet.length ? ` (${notYet.join(', ')} ${notYet.length === 1 ? 'does' : 'do'} not run yet)` : '';
      const picks = await vscode.window.showQuickPick(built.map((d) => ({ label: d.name, description: d.summary, detail: d.source, picked: true })), {
        title: 'Compare Designs', placeHolder: `Which designs?${later}`, canPickMany: true, ignoreFocusOut: true,
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
    const images = new Map<string, MemoryStore>();
    const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Compare Designs', cancellable: true }, async (progress, token) => {
      let shown = 0;
      try {
        return await compareDesignsAsync({
          designs, sizeBytes, workload: kind, ops, seed, onImage: (design, image) => images.set(design, image),
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
    panel.show(report, images);
    return report;
  });

  c.run('pmemExplorer.openComparedImages', async (arg?: unknown): Promise<string[] | undefined> => {
    const images = panel.images;
    if (!images?.size) throw new Refusal('Open the Compared Images: run Compare Designs… first (its images stay in memory while its page is open)');
    const a = (arg && typeof arg === 'object' ? arg : {}) as { folder?: unknown };
    if (a.folder !== undefined && typeof a.folder !== 'string') throw new Refusal(`Open the Compared Images: folder must be a path, not ${JSON.stringify(a.folder)}`);
    let folder = a.folder as string | undefined;
    if (folder === undefined) {
      const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.tmpdir();
      const text = await vscode.window.showInputBox({
        title: 'Open the Compared Images', prompt: 'Folder to write the images to (made if missing; a file already there is never replaced)',
        value: path.join(base, 'compared-designs'), ignoreFocusOut: true,
        validateInput: (t) => (t.trim() && path.isAbsolute(t.trim()) ? undefined : 'Give an absolute path'),
      });
      if (!text) return undefined;
      folder = text.trim();
      fs.mkdirSync(folder, { recursive: true });
    }
    // Every path checked before the first is written: an existing file is never replaced.
    const paths = keptImagePaths(folder, [...images.keys()]);
    for (const [design, file] of paths) keepImage(file, images.get(design)!);
    const uris = [...paths.values()].map((f) => vscode.Uri.file(f));
    inStep.join(uris);
    for (const [i, uri] of uris.entries()) {
      await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { viewColumn: i + 1, preview: false });
      // One at a time: webviews that load together in a browser-hosted workbench can lose their resources to one another.
      await mapLoaded(c, uri, 20_000);
    }
    return uris.map((u) => u.fsPath);
  });
  return panel;
}

/** Resolves once a map of `uri` has loaded (or after `ms`: the next editor opens anyway). */
async function mapLoaded(c: CommandContext, uri: vscode.Uri, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !c.registry.allMaps.some((m) => m.document.uri.toString() === uri.toString() && m.readies > 0)) await new Promise((r) => setTimeout(r, 50));
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
