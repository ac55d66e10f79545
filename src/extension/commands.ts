/** Palette and context-menu commands. Each asks for what it needs, validates it, and runs one engine operation as an edit. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  allocOp, check, formatBytes, freeOp, info, initAllOp, initSectionsOp, parsePfn, PmemImage, PROFILES, stepRange, ZoneName,
} from '../engine';
import { createImage } from './newImage';
import { ImageRegistry } from './imageRegistry';
import { VIEW_TYPE } from './pmemEditorProvider';
import { DescriptorsTree, DescriptorNode } from './trees/descriptorsTree';
import { FreeListsTree } from './trees/freeListsTree';
import { SectionsTree } from './trees/sectionsTree';

interface Views {
  descriptors: DescriptorsTree;
  descriptorsView: vscode.TreeView<DescriptorNode>;
  freeLists: FreeListsTree;
  sections: SectionsTree;
}

function intInput(prompt: string, value: string, min: number, max: number): Thenable<number | undefined> {
  return vscode.window
    .showInputBox({
      prompt, value,
      validateInput: (t) => (/^\d+$/.test(t.trim()) && +t >= min && +t <= max ? undefined : `Enter a whole number from ${min} to ${max}`),
    })
    .then((t) => (t === undefined ? undefined : Number(t)));
}

export function registerCommands(context: vscode.ExtensionContext, registry: ImageRegistry, views: Views): void {
  const run = (id: string, fn: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await fn(...args);
        } catch (e) {
          void vscode.window.showErrorMessage((e as Error).message);
          return undefined;
        }
      }),
    );

  /** Runs an engine operation on the active image as one undoable edit (booting first if needed). */
  const present = () => {
    const doc = registry.require();
    if (doc.viewedStep !== undefined) throw new Error(`Showing history step ${doc.viewedStep}: return to the present (PMem: Go to Step, last step) before changing the image.`);
    return doc;
  };
  const operate = <R>(label: string, op: (img: PmemImage) => R): R => {
    const doc = present();
    if (!doc.writable) throw new Error(`${path.basename(doc.uri.fsPath)} is read-only: ${doc.readOnlyReason}`);
    const session = doc.session!;
    const boot = session.bootIfNeeded();
    if (boot) doc.push(boot);
    const { result, edit } = session.perform(label, op);
    doc.push(edit);
    return result;
  };

  run('pmemExplorer.newImage', () => createImage(context));

  run('pmemExplorer.allocate', async (preset?: unknown) => {
    const img = registry.require().session!.image;
    const g = img.geometry;
    const p = (preset ?? {}) as { order?: number; count?: number; node?: number; zone?: ZoneName; owner?: string };
    const order = p.order ?? (await intInput(`Order (block of 2^order frames, 0 to ${g.maxOrder})`, '0', 0, g.maxOrder));
    if (order === undefined) return;
    const count = p.count ?? (await intInput('How many blocks', '1', 1, 100000));
    if (count === undefined) return;
    const node = p.node ?? (g.nodeCount > 1 ? await intInput(`Preferred node (0 to ${g.nodeCount - 1})`, '0', 0, g.nodeCount - 1) : 0);
    if (node === undefined) return;
    const zone = p.zone ?? (await vscode.window.showQuickPick(['normal', 'dma32', 'movable'], { placeHolder: 'Highest zone accepted (lower zones are the fallback)' })) as ZoneName | undefined;
    if (!zone) return;
    const owner = p.owner ?? (await vscode.window.showInputBox({ prompt: 'Owner tag (optional, 16 bytes at most)', validateInput: (t) => (Buffer.byteLength(t) > 16 ? 'At most 16 bytes' : undefined) }));
    if (owner === undefined) return;
    const r = operate(`Allocate order ${order}${count > 1 ? ` x${count}` : ''}`, (i) => allocOp(i, { order, count, node, zone, owner }));
    void vscode.window.setStatusBarMessage(`Allocated pfn ${r.blocks.map((b) => b.pfn).slice(0, 8).join(', ')}${r.blocks.length > 8 ? '…' : ''}`, 5000);
    return r.blocks.map((b) => b.pfn);
  });

  run('pmemExplorer.free', async (arg?: unknown) => {
    let pfns: number[];
    if (typeof arg === 'number') pfns = [arg];
    else {
      const text = await vscode.window.showInputBox({ prompt: 'PFN(s) of allocated block heads to free, separated by spaces', validateInput: (t) => { try { t.trim().split(/\s+/).forEach((x) => parsePfn(x)); return undefined; } catch (e) { return (e as Error).message; } } });
      if (!text) return;
      pfns = text.trim().split(/\s+/).map((x) => parsePfn(x));
    }
    return operate(`Free pfn ${pfns.join(', ')}`, (i) => freeOp(i, pfns)).freed;
  });

  run('pmemExplorer.freeBlock', (node?: unknown) => {
    const n = node as DescriptorNode | undefined;
    if (n?.kind !== 'frame') throw new Error('Choose an allocated frame in the Descriptors view');
    return vscode.commands.executeCommand('pmemExplorer.free', n.pfn);
  });

  run('pmemExplorer.reboot', () => {
    const doc = present();
    if (!doc.writable) throw new Error('The image is read-only');
    doc.push(doc.session!.reboot());
  });

  run('pmemExplorer.rebootIntoProfile', async (name?: unknown) => {
    const doc = present();
    const profile = typeof name === 'string' ? name : (await vscode.window.showQuickPick(PROFILES.map((p) => ({ label: p.name, description: p.description }))))?.label;
    if (!profile) return;
    if (!PROFILES.some((p) => p.name === profile)) throw new Error(`Unknown profile "${profile}"`);
    doc.push(doc.session!.reboot(profile));
  });

  run('pmemExplorer.crash', async (preset?: unknown) => {
    const doc = present();
    if (!doc.writable) throw new Error('The image is read-only');
    const p = (preset ?? {}) as { order?: number; points?: number };
    const order = p.order ?? (await intInput('Crash during an allocation of which order?', '0', 0, doc.session!.image.geometry.maxOrder));
    if (order === undefined) return;
    const points = p.points ?? (await intInput('Power fails after how many persistence points? (0 = before anything is written)', '1', 0, 100000));
    if (points === undefined) return;
    const session = doc.session!;
    const boot = session.bootIfNeeded();
    if (boot) doc.push(boot);
    const r = session.crashAndReboot(points, `alloc order ${order}`, (i) => void allocOp(i, { order }));
    doc.push(r.edit);
    const rec = session.image.bootReport!.recovery;
    void vscode.window.showInformationMessage(`${r.crashed ? `Power failed after ${r.points} persistence point(s).` : `The allocation completed (${r.points} points) before the power failed.`} Recovery: ${rec.action === 'none' ? 'nothing to do' : `${rec.action} "${rec.description}"`}.`);
    return { crashed: r.crashed, recovery: rec.action };
  });

  run('pmemExplorer.initAll', async () => {
    const doc = registry.require();
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Initialising sections', cancellable: true }, async (progress, token) => {
      let last = 0;
      operate('Initialise all sections', (img) => initAllOp(img, {
        cancelled: () => token.isCancellationRequested,
        onProgress: (done, total) => {
          progress.report({ increment: ((done - last) / total) * 100, message: `${done} of ${total}` });
          last = done;
        },
      }));
    });
    doc.changed();
  });

  run('pmemExplorer.initSection', (node?: unknown) => {
    const n = node as { kind?: string; index?: number; summary?: { index: number } } | undefined;
    const index = n?.summary?.index ?? n?.index;
    if (index === undefined) throw new Error('Choose a section in a PMem view');
    return operate(`Initialise section ${index}`, (img) => initSectionsOp(img, [index]));
  });

  run('pmemExplorer.check', async () => {
    const doc = registry.require();
    const img = doc.session!.image;
    const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Checking ${path.basename(doc.uri.fsPath)}`, cancellable: true }, async (progress, token) => {
      let last = 0;
      return check(img, { cancelled: () => token.isCancellationRequested, onProgress: (d, t) => { if (d - last > t / 50 || d === t) { progress.report({ increment: ((d - last) / t) * 100 }); last = d; } } });
    });
    const lines = [
      `# Check of ${path.basename(doc.uri.fsPath)}`, '',
      report.ok ? '**No problems found.**' : `**${report.problems.length}${report.truncated ? '+' : ''} problem(s).**`, '',
      `${report.framesChecked} frames in ${report.sectionsChecked} sections; ${report.freeBlocks} free and ${report.allocatedBlocks} allocated blocks${report.complete ? '' : ' (cancelled before the end)'}.`, '',
      ...report.problems.map((p) => `- **${p.structure}**${p.section !== undefined ? ` section ${p.section}` : ''}${p.pfn !== undefined ? ` pfn ${p.pfn}` : ''}${p.offset !== undefined ? ` byte ${p.offset}` : ''}: ${p.message}`),
    ];
    const md = await vscode.workspace.openTextDocument({ language: 'markdown', content: lines.join('\n') });
    await vscode.window.showTextDocument(md, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    return report;
  });

  run('pmemExplorer.goToFrame', async (arg?: unknown) => {
    const img = registry.require().session!.image;
    let pfn = typeof arg === 'number' ? arg : undefined;
    if (pfn === undefined) {
      const text = await vscode.window.showInputBox({ prompt: `Frame number (0 to ${img.geometry.totalFrames - 1}, decimal or 0x hex)`, validateInput: (t) => { try { const v = parsePfn(t); return v < img.geometry.totalFrames ? undefined : 'Past the last frame'; } catch (e) { return (e as Error).message; } } });
      if (!text) return;
      pfn = parsePfn(text);
    }
    if (pfn < 0 || pfn >= img.geometry.totalFrames) throw new Error(`pfn ${pfn} is past the last frame (${img.geometry.totalFrames - 1})`);
    await views.descriptorsView.reveal({ kind: 'frame', pfn }, { select: true, focus: true, expand: true });
    return pfn;
  });

  run('pmemExplorer.showInfo', async () => {
    const doc = registry.require();
    const i = info(doc.session!.image);
    const detail = `${formatBytes(i.sizeBytes)}, ${i.totalFrames} frames; memmap on ${i.memmap.placement} (${i.memmapPercent.toFixed(4)} %); boot generation ${i.bootGeneration}, profile ${i.profile}; ${i.frames.free} free, ${i.frames.allocated} allocated, ${i.frames.uninitialized} uninitialised, ${i.frames.reserved} reserved frames.`;
    void vscode.window.showInformationMessage(path.basename(doc.uri.fsPath), { modal: false, detail }, 'Open in Editor').then((c) => {
      if (c) void vscode.commands.executeCommand('vscode.openWith', doc.uri, VIEW_TYPE);
    });
    return i;
  });

  run('pmemExplorer.copyPfn', async (node?: unknown) => {
    const n = node as { pfn?: number } | undefined;
    if (n?.pfn === undefined) return;
    await vscode.env.clipboard.writeText(String(n.pfn));
  });

  const steps = () => {
    const doc = registry.require();
    const records = doc.session!.image.historyRecords();
    const range = stepRange(records);
    return { doc, records, range, at: doc.viewedStep ?? range.last };
  };
  const goTo = (doc: ReturnType<typeof registry.require>, step: number, last: number) => {
    doc.viewStep(step === last ? undefined : step);
    return step;
  };
  run('pmemExplorer.stepBack', () => {
    const { doc, range, at } = steps();
    if (at <= range.first) throw new Error(`Step ${at} is the earliest step kept in the history`);
    return goTo(doc, at - 1, range.last);
  });
  run('pmemExplorer.stepForward', () => {
    const { doc, range, at } = steps();
    if (at >= range.last) throw new Error('Already at the present (the last step)');
    return goTo(doc, at + 1, range.last);
  });
  run('pmemExplorer.goToStep', async (arg?: unknown) => {
    const { doc, records, range } = steps();
    let step = typeof arg === 'number' ? arg : undefined;
    if (step === undefined) {
      const pick = await vscode.window.showQuickPick(
        records.filter((r) => r.seq >= range.first).reverse().map((r) => ({ label: `${r.seq}`, description: r.summary.text, detail: r.seq === range.last ? 'the present' : undefined })),
        { placeHolder: 'Show the image as it was after this step' },
      );
      if (!pick) return;
      step = Number(pick.label);
    }
    if (!Number.isInteger(step) || step < range.first || step > range.last) throw new Error(`Step ${step} is not available: steps ${range.first} to ${range.last} can be shown`);
    return goTo(doc, step, range.last);
  });

  run('pmemExplorer.filterSections', async (states?: unknown) => {
    const all = ['never', 'initialized', 'stale'] as const;
    let chosen = Array.isArray(states) ? (states as string[]) : undefined;
    if (!chosen) {
      const picks = await vscode.window.showQuickPick(all.map((s) => ({ label: s, picked: views.sections.filter.has(s) })), { canPickMany: true, placeHolder: 'Show sections in these states' });
      if (!picks) return;
      chosen = picks.map((p) => p.label);
    }
    views.sections.filter = new Set(all.filter((s) => chosen!.includes(s)));
    views.sections.refresh();
    return [...views.sections.filter];
  });

  run('pmemExplorer.refresh', () => {
    views.descriptors.refresh();
    views.freeLists.refresh();
    views.sections.refresh();
  });

}
