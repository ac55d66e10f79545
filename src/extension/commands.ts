/** Palette and context-menu commands. Each asks for what it needs, validates it, and runs one engine operation as an edit. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  allocOp, allocOpAsync, check, freeListedOpAsync, freeOwnerOpAsync, CheckReport, formatBytes, freeOp, info, initAllOp, initSectionsOp, PAGE_SIZE, parsePfn, PmemImage, PROFILES, stepRange, ZONE_NAMES, ZoneName, OperationCancelled, LargeControl,
} from '../engine';
import type { SessionEdit } from '../engine/node/session';
import { journalBytes, journalBytesAtLeast, journalGeometryOf, MAX_ALLOC_COUNT, MAX_CRASH_POINTS, MAX_FREE_COUNT, maxAllocCount } from '../engine/image/limits';
import { writeFileAtomically } from '../engine/node/atomicFile';
import { escapeIcons, escapeNotification } from '../shared/plainText';
import { checkReportMarkdown } from './checkReport';
import { exportRefusal } from './exportTarget';
import { CommandRunner } from './commandRunner';
import { createImage, newImagePreset } from './newImage';
import { Refusal } from './refusal';
import { ImageRegistry } from './imageRegistry';
import { VIEW_TYPE } from './pmemEditorProvider';
import { DescriptorsTree, DescriptorNode } from './trees/descriptorsTree';
import { FreeListsTree } from './trees/freeListsTree';
import { SectionsTree } from './trees/sectionsTree';

/** One diagnostic per problem, on the image file (a binary file has no lines, so each sits at its start). */
function problemDiagnostics(problems: CheckReport['problems']): vscode.Diagnostic[] {
  return problems.map((p) => {
    const where = [p.section !== undefined ? `section ${p.section}` : '', p.pfn !== undefined ? `pfn ${p.pfn}` : '', p.offset !== undefined ? `byte ${p.offset}` : ''].filter(Boolean).join(', ');
    const d = new vscode.Diagnostic(new vscode.Range(0, 0, 0, 0), `${p.structure}${where ? ` (${where})` : ''}: ${p.message}`, vscode.DiagnosticSeverity.Error);
    d.source = 'PMem check';
    d.code = p.structure;
    return d;
  });
}

/** The files of every image open in a PMem editor (any group). */
function openImageFiles(): string[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).flatMap((t) => (t.input instanceof vscode.TabInputCustom && t.input.viewType === VIEW_TYPE ? [t.input.uri.fsPath] : []));
}

/** A command's preset argument (from another extension, a keybinding or a test): an object or nothing. */
function presetOf(arg: unknown, command: string): Record<string, unknown> {
  if (arg === undefined || arg === null) return {};
  if (typeof arg !== 'object' || Array.isArray(arg)) throw new Refusal(`${command} takes an options object, not ${JSON.stringify(arg)}`);
  return arg as Record<string, unknown>;
}

function wholeNumber(preset: Record<string, unknown>, field: string, min: number, max: number): void {
  const v = preset[field];
  if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max)) throw new Refusal(`"${field}" must be a whole number from ${min} to ${max}, not ${JSON.stringify(v)}`);
}

interface Views {
  descriptors: DescriptorsTree;
  descriptorsView: vscode.TreeView<DescriptorNode>;
  freeLists: FreeListsTree;
  sections: SectionsTree;
}

function intInput(title: string, prompt: string, value: string, min: number, max: number): Thenable<number | undefined> {
  return vscode.window
    .showInputBox({
      title, prompt, value, ignoreFocusOut: true,
      validateInput: (t) => (/^\d+$/.test(t.trim()) && +t >= min && +t <= max ? undefined : `Enter a whole number from ${min} to ${max}`),
    })
    .then((t) => (t === undefined ? undefined : Number(t)));
}

/** The zones the chosen node really has, highest first; lower zones are the allocator's fallback. */
async function pickZone(title: string, img: PmemImage, node: number): Promise<ZoneName | undefined> {
  const zones = img.nodes[node].zones.filter((z) => z.frames > 0).reverse();
  const items = zones.map((z, i) => ({
    label: ZONE_NAMES[z.id],
    description: `${formatBytes(z.frames * PAGE_SIZE)} from pfn ${z.firstPfn}`,
    detail: i === zones.length - 1 ? 'only this zone' : `falls back to ${zones.slice(i + 1).map((l) => ZONE_NAMES[l.id]).join(', then ')}`,
    zone: ZONE_NAMES[z.id].toLowerCase() as ZoneName,
  }));
  const normal = items.findIndex((i) => i.zone === 'normal');
  if (normal > 0) items.unshift(...items.splice(normal, 1)); // Normal first: the usual request
  const pick = await vscode.window.showQuickPick(items, { ignoreFocusOut: true, title, placeHolder: `Highest zone accepted on node ${node}`, matchOnDescription: true });
  return pick?.zone;
}

export function registerCommands(context: vscode.ExtensionContext, registry: ImageRegistry, views: Views, runner: CommandRunner): void {
  const diagnostics = vscode.languages.createDiagnosticCollection('pmem');
  context.subscriptions.push(diagnostics);
  const diagnosed = new WeakSet<object>();
  const run = (id: string, fn: (...args: unknown[]) => unknown) => context.subscriptions.push(runner.register(id, fn));

  /** Runs an engine operation on the active image as one undoable edit (booting first if needed). */
  const present = () => {
    const doc = registry.require();
    if (doc.viewedStep !== undefined) throw new Refusal(`Showing history step ${doc.viewedStep}: return to the present (PMem: Go to Step, last step) before changing the image.`);
    return doc;
  };
  const writablePresent = () => {
    const doc = present();
    if (!doc.writable) throw new Refusal(`${path.basename(doc.uri.fsPath)} is read-only: ${doc.readOnlyReason}.`);
    return doc;
  };
  const operate = <R>(label: string, op: (img: PmemImage) => R): R => {
    const doc = writablePresent();
    const session = doc.session!;
    const boot = session.bootIfNeeded();
    let done: { result: R; edit: SessionEdit };
    try {
      done = session.perform(label, op);
    } catch (e) {
      boot?.undo(); // a refused operation leaves no trace, not even the boot
      throw e;
    }
    if (boot) doc.push(boot);
    doc.push(done.edit);
    return done.result;
  };

  /** Cancels the operation under way (set while one runs). */
  let cancelUnderWay: (() => void) | undefined;

  /**
   * As operate, for an operation that yields between its transactions: shown
   * with progress and a Cancel, which rolls it back (the image is as before).
   */
  const operateWithProgress = async <R>(label: string, op: (img: PmemImage, control: LargeControl) => Promise<R>): Promise<R | undefined> => {
    const doc = writablePresent();
    const session = doc.session!;
    const boot = session.bootIfNeeded();
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: label, cancellable: true }, async (progress, token) => {
      let last = 0; // share of the work reported, 0 to 1
      let done: { result: R; edit: SessionEdit };
      let cancelled = false;
      cancelUnderWay = () => (cancelled = true);
      try {
        done = await session.performAsync(label, (img) => op(img, {
          cancelled: () => cancelled || token.isCancellationRequested,
          onProgress: (n, total, phase) => {
            // A listed free marks its blocks, then frees them: each phase is half the bar.
            const share = phase === 'marking' ? n / total / 2 : phase === 'freeing' ? 0.5 + n / total / 2 : n / total;
            const of = `${n.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} blocks`;
            progress.report({ increment: (share - last) * 100, message: phase === 'marking' ? `${of} marked` : phase === 'freeing' ? `${of} freed` : of });
            last = share;
          },
        }));
      } catch (e) {
        boot?.undo();
        if (e instanceof OperationCancelled) {
          const n = (x: number) => x.toLocaleString('en-US');
          void vscode.window.setStatusBarMessage(`$(circle-slash) ${escapeIcons(label)} cancelled after ${n(e.done)} of ${n(e.total)} blocks: rolled back`, 8000);
          return undefined;
        }
        throw e;
      } finally {
        cancelUnderWay = undefined;
      }
      if (boot) doc.push(boot);
      doc.push(done.edit);
      return done.result;
    });
  };

  run('pmemExplorer.cancelOperation', () => {
    if (!cancelUnderWay) throw new Refusal('No PMem operation is under way.');
    cancelUnderWay();
    return true;
  });

  run('pmemExplorer.newImage', (preset?: unknown) => createImage(context, newImagePreset(preset)));

  run('pmemExplorer.allocate', async (preset?: unknown) => {
    const doc = writablePresent();
    const img = doc.session!.image;
    const g = img.geometry;
    const p = presetOf(preset, 'Allocate');
    wholeNumber(p, 'order', 0, g.maxOrder);
    wholeNumber(p, 'count', 1, MAX_ALLOC_COUNT);
    wholeNumber(p, 'node', 0, g.nodeCount - 1);
    if (p.zone !== undefined && !['dma32', 'normal', 'movable'].includes(p.zone as string)) throw new Refusal(`Allocate: "zone" must be dma32, normal or movable, not ${JSON.stringify(p.zone)}`);
    if (p.owner !== undefined && (typeof p.owner !== 'string' || Buffer.byteLength(p.owner) > 16)) throw new Refusal('Allocate: "owner" must be a string of at most 16 bytes');
    const title = (n: number) => `Allocate (${n}/5)`;
    const order = (p.order as number | undefined) ?? (await intInput(title(1), `Order: a block of 2^order frames (0 to ${g.maxOrder}; order 0 is one 4 KiB frame)`, '0', 0, g.maxOrder));
    if (order === undefined) return;
    const count = (p.count as number | undefined) ?? (await intInput(title(2), `How many blocks of ${2 ** order} frame${order ? 's' : ''} (all or none are allocated; beyond ${maxAllocCount(journalGeometryOf(img), order).toLocaleString('en-US')} they take several journal transactions, shown with progress and Cancel)`, '1', 1, MAX_ALLOC_COUNT));
    if (count === undefined) return;
    const node = (p.node as number | undefined) ?? (g.nodeCount > 1 ? await intInput(title(3), `Preferred NUMA node (0 to ${g.nodeCount - 1}); other nodes are the fallback`, '0', 0, g.nodeCount - 1) : 0);
    if (node === undefined) return;
    const zone = (p.zone as ZoneName | undefined) ?? (await pickZone(title(4), img, node));
    if (!zone) return;
    const owner = (p.owner as string | undefined) ?? (await vscode.window.showInputBox({ ignoreFocusOut: true, title: title(5), prompt: 'Owner tag shown on the map and in the views (optional, at most 16 bytes)', validateInput: (t) => (Buffer.byteLength(t) > 16 ? 'At most 16 bytes' : undefined) }));
    if (owner === undefined) return;
    const label = `Allocate order ${order}${count > 1 ? ` x${count}` : ''}`;
    const request = { order, count, node, zone, owner };
    const r = count > maxAllocCount(journalGeometryOf(img), order)
      ? await operateWithProgress(label, (i, control) => allocOpAsync(i, request, control))
      : operate(label, (i) => allocOp(i, request));
    if (!r) return undefined; // cancelled, and rolled back
    const first = r.blocks[0];
    const where = `node ${first.node}, zone ${ZONE_NAMES[first.zone]}`;
    const pfns = r.blocks.map((b) => b.pfn);
    void vscode.window.setStatusBarMessage(`$(check) Allocated ${count > 1 ? `${count} blocks` : 'a block'} of order ${order}${owner ? ` for "${owner}"` : ''} at pfn ${pfns.slice(0, 8).join(', ')}${pfns.length > 8 ? '…' : ''} (${where})`, 8000);
    writablePresent().select(first.pfn, 'command', { reveal: views.descriptorsView.visible });
    return pfns;
  });

  run('pmemExplorer.free', async (arg?: unknown) => {
    const doc = writablePresent();
    let pfns: number[];
    if (typeof arg === 'number') pfns = [arg];
    else if (Array.isArray(arg)) {
      if (arg.length === 0 || arg.length > MAX_FREE_COUNT || !arg.every((x) => Number.isSafeInteger(x) && x >= 0)) throw new Refusal(`Free takes 1 to ${MAX_FREE_COUNT} pfns (whole numbers), not ${JSON.stringify(arg.slice(0, 4))}${arg.length > 4 ? '…' : ''}`);
      pfns = arg as number[];
    } else {
      const text = await vscode.window.showInputBox({ ignoreFocusOut: true, title: 'Free', prompt: 'PFN(s) of allocated block heads to free, separated by spaces (decimal or 0x hex)', validateInput: (t) => { try { t.trim().split(/\s+/).forEach((x) => parsePfn(x)); return undefined; } catch (e) { return (e as Error).message; } } });
      if (!text) return;
      pfns = text.trim().split(/\s+/).map((x) => parsePfn(x));
    }
    const j = journalGeometryOf(doc.session!.image);
    if (journalBytesAtLeast(j, { kind: 'free', count: pfns.length }) <= journalBytes(j)) return operate(`Free pfn ${pfns.length > 8 ? `${pfns.slice(0, 8).join(', ')}… (${pfns.length})` : pfns.join(', ')}`, (i) => freeOp(i, pfns)).freed;
    // More than one transaction: marked, then freed, with progress and a Cancel that puts everything back.
    const r = await operateWithProgress(`Free ${pfns.length.toLocaleString('en-US')} blocks`, (i, control) => freeListedOpAsync(i, pfns, control));
    if (r) void vscode.window.setStatusBarMessage(`$(check) Freed ${r.freed.length.toLocaleString('en-US')} blocks`, 8000);
    return r?.freed;
  });

  run('pmemExplorer.freeOwner', async (arg?: unknown) => {
    writablePresent();
    const owner = typeof arg === 'string' ? arg : await vscode.window.showInputBox({
      ignoreFocusOut: true, title: 'Free Every Block of an Owner', prompt: 'Owner tag: every allocated block with it is freed, all or none',
      validateInput: (t) => (t.length === 0 ? 'Give an owner tag' : Buffer.byteLength(t) > 16 ? 'At most 16 bytes' : undefined),
    });
    if (!owner) return undefined;
    const r = await operateWithProgress(`Free owner ${owner}`, (i, control) => freeOwnerOpAsync(i, owner, control));
    if (r) void vscode.window.setStatusBarMessage(`$(check) Freed ${r.freed.length.toLocaleString('en-US')} block(s) of owner "${escapeNotification(owner)}"`, 8000);
    return r?.freed.map((f) => f.pfn);
  });

  run('pmemExplorer.freeBlock', (node?: unknown) => {
    const n = node as DescriptorNode | undefined;
    if (n?.kind !== 'frame') throw new Refusal('Choose an allocated frame in the Descriptors view');
    return vscode.commands.executeCommand('pmemExplorer.free', n.pfn);
  });

  run('pmemExplorer.reboot', () => {
    const doc = writablePresent();
    doc.push(doc.session!.reboot());
  });

  run('pmemExplorer.rebootIntoProfile', async (name?: unknown) => {
    const doc = writablePresent();
    const profile = typeof name === 'string' ? name : (await vscode.window.showQuickPick(PROFILES.map((p) => ({ label: p.name, description: p.description })), { ignoreFocusOut: true, title: 'Reboot into Profile', placeHolder: 'Kernel profile to boot' }))?.label;
    if (!profile) return;
    if (!PROFILES.some((p) => p.name === profile)) throw new Refusal(`Unknown profile "${profile}"`);
    doc.push(doc.session!.reboot(profile));
  });

  run('pmemExplorer.crash', async (preset?: unknown) => {
    const doc = writablePresent();
    const p = presetOf(preset, 'Crash and Reboot');
    wholeNumber(p, 'order', 0, doc.session!.image.geometry.maxOrder);
    wholeNumber(p, 'points', 0, MAX_CRASH_POINTS);
    const order = (p.order as number | undefined) ?? (await intInput('Crash and Reboot (1/2)', 'Power fails during an allocation of which order?', '0', 0, doc.session!.image.geometry.maxOrder));
    if (order === undefined) return;
    const points = (p.points as number | undefined) ?? (await intInput('Crash and Reboot (2/2)', 'After how many persistence points does the power fail? (0 = before anything is written)', '1', 0, MAX_CRASH_POINTS));
    if (points === undefined) return;
    const session = doc.session!;
    const boot = session.bootIfNeeded();
    let r: ReturnType<typeof session.crashAndReboot>;
    try {
      r = session.crashAndReboot(points, `alloc order ${order}`, (i) => void allocOp(i, { order }));
    } catch (e) {
      boot?.undo();
      throw e;
    }
    if (boot) doc.push(boot);
    doc.push(r.edit);
    const rec = session.image.bootReport!.recovery;
    const text = `${r.crashed ? `Power failed after ${r.points} persistence point(s) of an order-${order} allocation.` : `The order-${order} allocation completed (${r.points} points) before the power failed.`} Recovery: ${rec.action === 'none' ? 'nothing to do' : `${rec.action === 'rolled-forward' ? 'rolled forward' : 'rolled back'} "${rec.description}"`}.`;
    registry.mapsOf(doc).forEach((m) => m.notice(text));
    void vscode.window.showInformationMessage(escapeNotification(text)); // the description comes from the image's journal
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
    if (index === undefined) throw new Refusal('Choose a section in a PMem view');
    return operate(`Initialise section ${index}`, (img) => initSectionsOp(img, [index]));
  });

  run('pmemExplorer.check', async () => {
    const doc = registry.require();
    const img = doc.session!.image;
    const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Checking ${path.basename(doc.uri.fsPath)}`, cancellable: true }, async (progress, token) => {
      let last = 0;
      return check(img, { cancelled: () => token.isCancellationRequested, onProgress: (d, t) => { if (d - last > t / 50 || d === t) { progress.report({ increment: ((d - last) / t) * 100 }); last = d; } } });
    });
    diagnostics.set(doc.uri, problemDiagnostics(report.problems));
    if (!diagnosed.has(doc)) {
      diagnosed.add(doc);
      // Results describe the checked state: any later change makes them stale.
      doc.onDidChangeState(() => diagnostics.delete(doc.uri));
    }
    const md = await vscode.workspace.openTextDocument({ language: 'markdown', content: checkReportMarkdown(path.basename(doc.uri.fsPath), report) });
    await vscode.window.showTextDocument(md, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    return report;
  });

  run('pmemExplorer.goToFrame', async (arg?: unknown) => {
    const img = registry.require().session!.image;
    let pfn = typeof arg === 'number' ? arg : undefined;
    if (pfn === undefined) {
      const text = await vscode.window.showInputBox({ ignoreFocusOut: true, title: 'Go to Frame', prompt: `Frame number (0 to ${img.geometry.totalFrames - 1}, decimal or 0x hex)`, validateInput: (t) => { try { const v = parsePfn(t); return v < img.geometry.totalFrames ? undefined : 'Past the last frame'; } catch (e) { return (e as Error).message; } } });
      if (!text) return;
      pfn = parsePfn(text);
    }
    if (!Number.isSafeInteger(pfn) || pfn < 0 || pfn >= img.geometry.totalFrames) throw new Refusal(`Go to Frame: pfn ${pfn} is past the last frame (${img.geometry.totalFrames - 1})`);
    registry.require().select(pfn, 'command', { reveal: true, focusTree: true });
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
    if (at <= range.first) throw new Refusal(`Step ${at} is the earliest step kept in the history`);
    return goTo(doc, at - 1, range.last);
  });
  run('pmemExplorer.stepForward', () => {
    const { doc, range, at } = steps();
    if (at >= range.last) throw new Refusal('Already at the present (the last step)');
    return goTo(doc, at + 1, range.last);
  });
  run('pmemExplorer.goToStep', async (arg?: unknown) => {
    const { doc, records, range } = steps();
    let step = typeof arg === 'number' ? arg : undefined;
    if (step === undefined) {
      const pick = await vscode.window.showQuickPick(
        records.filter((r) => r.seq >= range.first).reverse().map((r) => ({ label: `${r.seq}`, description: escapeIcons(r.summary.text), detail: r.seq === range.last ? 'the present' : undefined })),
        { ignoreFocusOut: true, title: 'Go to Step', placeHolder: 'Show the image as it was after this step' },
      );
      if (!pick) return;
      step = Number(pick.label);
    }
    if (!Number.isInteger(step) || step < range.first || step > range.last) throw new Refusal(`Step ${step} is not available: steps ${range.first} to ${range.last} can be shown`);
    return goTo(doc, step, range.last);
  });

  run('pmemExplorer.filterSections', async (states?: unknown) => {
    const all = ['never', 'initialized', 'stale'] as const;
    let chosen = Array.isArray(states) ? (states as string[]) : undefined;
    if (!chosen) {
      const picks = await vscode.window.showQuickPick(all.map((s) => ({ label: s, picked: views.sections.filter.has(s) })), { ignoreFocusOut: true, canPickMany: true, placeHolder: 'Show sections in these states' });
      if (!picks) return;
      chosen = picks.map((p) => p.label);
    }
    views.sections.filter = new Set(all.filter((s) => chosen!.includes(s)));
    views.sections.refresh();
    return [...views.sections.filter];
  });

  run('pmemExplorer.exportMap', async (arg?: unknown) => {
    const doc = registry.require();
    const map = registry.activeMap;
    if (!map) throw new Refusal('Open the image in the PMem editor to export its map.');
    const p = presetOf(arg, 'Export Map');
    if (p.format !== undefined && p.format !== 'png' && p.format !== 'svg') throw new Refusal('Export Map: "format" must be "png" or "svg"');
    if (p.target !== undefined && typeof p.target !== 'string') throw new Refusal('Export Map: "target" must be a file path');
    if (p.overwrite !== undefined && typeof p.overwrite !== 'boolean') throw new Refusal('Export Map: "overwrite" must be true or false');
    const format = (p.format as 'png' | 'svg' | undefined) ?? (await vscode.window.showQuickPick(
      [{ label: 'png', description: 'PNG image of the current view' }, { label: 'svg', description: 'SVG drawing of the current view (small views only)' }],
      { ignoreFocusOut: true, title: 'Export Map', placeHolder: 'Format' },
    ))?.label as 'png' | 'svg' | undefined;
    if (!format) return;
    const base = doc.uri.fsPath.replace(/\.pmem$/i, '');
    // The save dialog asks before replacing a file; a target given as an argument replaces one only with overwrite: true.
    const target = typeof p.target === 'string' ? p.target : (await vscode.window.showSaveDialog({ title: 'Export Map', defaultUri: vscode.Uri.file(`${base}-map.${format}`), filters: { [format.toUpperCase()]: [format] } }))?.fsPath;
    if (!target) return;
    const refusal = exportRefusal(target, { argument: typeof p.target === 'string', overwrite: p.overwrite === true, images: openImageFiles() });
    if (refusal) throw new Refusal(`Export Map: ${refusal}`);
    const data = await map.requestExport(format);
    writeFileAtomically(target, format === 'png' ? Buffer.from(data, 'base64') : Buffer.from(data, 'utf8'));
    void vscode.window.setStatusBarMessage(`$(check) Map exported to ${path.basename(target)}`, 5000);
    return target;
  });

  run('pmemExplorer.revealOnMap', async (node?: unknown) => {
    const pfn = (node as { pfn?: unknown } | undefined)?.pfn ?? node;
    if (typeof pfn !== 'number' || !Number.isSafeInteger(pfn) || pfn < 0) throw new Refusal('Choose a frame or block to reveal on the map');
    const doc = registry.require();
    if (pfn >= doc.session!.image.geometry.totalFrames) throw new Refusal(`pfn ${pfn} is past the last frame`);
    const maps = registry.mapsOf(doc);
    if (!maps.length) await vscode.commands.executeCommand('vscode.openWith', doc.uri, VIEW_TYPE);
    doc.select(pfn, 'command', { reveal: false }); // it came from the Descriptors view, or from a caller that wants the map
    return pfn;
  });

  run('pmemExplorer.refresh', () => {
    views.descriptors.refresh();
    views.freeLists.refresh();
    views.sections.refresh();
  });

}
