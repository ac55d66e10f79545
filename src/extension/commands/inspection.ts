/** Reading an image: the checker, its summary, a frame by number, the sections filter. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CheckReport, checkAsync, fragmentation, info, parsePfn, SectionState } from '../../engine';
import { readMachineSnapshotFile } from '../../engine/node/machineSnapshotFile';
import { nextSectionIn, SECTION_STATES } from '../../engine/inspect/sectionSearch';
import { sectionStateWords } from '../../shared/words';
import { checkReportMarkdown } from '../checkReport';
import { VIEW_TYPE } from '../pmemEditorProvider';
import { ReadOnlyDocs, REPORT_SCHEME } from '../readOnlyDocs';
import { Refusal } from '../refusal';
import { CommandContext } from './context';

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

/** Registers the commands; returns the read-only documents they show (other commands show theirs there too). */
export function registerInspectionCommands(c: CommandContext): ReadOnlyDocs {
  const diagnostics = vscode.languages.createDiagnosticCollection('pmem');
  c.extension.subscriptions.push(diagnostics);
  const diagnosed = new WeakSet<object>();
  const docs = new ReadOnlyDocs();
  c.extension.subscriptions.push(docs, vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, docs));

  // In slices on the extension host, with changes refused meanwhile: the report is of the state the user saw.
  c.run('pmemExplorer.check', async () => {
    const doc = c.registry.require();
    const name = path.basename(doc.uri.fsPath);
    const session = doc.session!;
    const report = await c.work.run(doc, `Checking ${name}`, (control) => session.inspectAsync(`Checking ${name}`, (img) => checkAsync(img, {
      cancelled: () => control.cancelled(),
      onProgress: (d, t) => control.report(d / t, () => `${d.toLocaleString('en-US')} of ${t.toLocaleString('en-US')} sections`),
    })));
    if (!report.complete) {
      void vscode.window.setStatusBarMessage(`$(circle-slash) Check of ${name} cancelled after ${report.sectionsChecked.toLocaleString('en-US')} sections: nothing was changed`, 8000);
      return report;
    }
    diagnostics.set(doc.uri, problemDiagnostics(report.problems));
    if (!diagnosed.has(doc)) {
      diagnosed.add(doc);
      // Results describe the checked state: any later change makes them stale.
      doc.onDidChangeState(() => diagnostics.delete(doc.uri));
    }
    await docs.showText(`Check of ${name}.md`, checkReportMarkdown(name, report), 'markdown');
    return report;
  });

  c.run('pmemExplorer.cancelOperation', () => {
    if (!c.work.cancel()) throw new Refusal('No PMem operation is under way.');
    return true;
  });

  c.run('pmemExplorer.goToFrame', async (arg?: unknown) => {
    const img = c.registry.require().session!.image;
    let pfn = typeof arg === 'number' ? arg : undefined;
    if (pfn === undefined) {
      const text = await vscode.window.showInputBox({ ignoreFocusOut: true, title: 'Go to Frame', prompt: `Frame number (0 to ${img.geometry.totalFrames - 1}, decimal or 0x hex)`, validateInput: (t) => { try { const v = parsePfn(t); return v < img.geometry.totalFrames ? undefined : 'Past the last frame'; } catch (e) { return (e as Error).message; } } });
      if (!text) return;
      pfn = parsePfn(text);
    }
    if (!Number.isSafeInteger(pfn) || pfn < 0 || pfn >= img.geometry.totalFrames) throw new Refusal(`Go to Frame: pfn ${pfn} is past the last frame (${img.geometry.totalFrames - 1})`);
    c.registry.require().select(pfn, 'command', { reveal: true, focusTree: true, zoom: true });
    return pfn;
  });

  c.run('pmemExplorer.showInfo', async () => {
    const doc = c.registry.require();
    await docs.showInfo(doc);
    return info(doc.viewImage!, doc.totals);
  });

  c.run('pmemExplorer.showFragmentation', async () => {
    const doc = c.registry.require();
    await docs.showFragmentation(doc);
    return fragmentation(doc.viewImage!);
  });

  c.run('pmemExplorer.compareFragmentation', async (arg?: unknown) => {
    const doc = c.registry.require();
    const given = arg && typeof arg === 'object' ? (arg as { snapshot?: unknown }).snapshot : undefined;
    if (given !== undefined && typeof given !== 'string') throw new Refusal('Compare Fragmentation: "snapshot" must be a file path');
    let file = given;
    if (file === undefined) {
      const picked = await vscode.window.showOpenDialog({
        title: 'Compare Fragmentation with a Machine', openLabel: 'Compare', canSelectMany: false,
        filters: { 'A machine\'s /proc/buddyinfo, pagetypeinfo or zoneinfo, or crash\'s kmem -f output': ['*'] },
      });
      if (!picked?.length) return undefined;
      file = picked[0].fsPath;
    }
    const snapshot = readMachineSnapshotFile(file, path.basename(file));
    if ('why' in snapshot) throw new Refusal(`Compare Fragmentation: ${snapshot.why}`);
    await docs.showFragmentationBeside(doc, snapshot, path.basename(file));
    return snapshot;
  });

  c.run('pmemExplorer.copyPfn', async (node?: unknown) => {
    const n = node as { pfn?: number } | undefined;
    if (n?.pfn === undefined) return;
    await vscode.env.clipboard.writeText(String(n.pfn));
  });

  c.run('pmemExplorer.filterSections', async (states?: unknown) => {
    // Engine names as arguments (and the British spelling the labels use); words in the picker.
    const named = (s: string): SectionState | undefined => SECTION_STATES.find((x) => x === s || sectionStateWords(x) === s || (x === 'initialized' && s === 'initialised'));
    let chosen = Array.isArray(states) ? (states as string[]).map((s) => named(String(s))).filter((s): s is SectionState => !!s) : undefined;
    if (!chosen) {
      const picks = await vscode.window.showQuickPick(SECTION_STATES.map((s) => ({ label: sectionStateWords(s), state: s, picked: c.views.sections.filter.has(s) })), { ignoreFocusOut: true, canPickMany: true, placeHolder: 'Show sections in these states' });
      if (!picks) return;
      chosen = picks.map((p) => p.state);
    }
    c.views.sections.filter = new Set(SECTION_STATES.filter((s) => chosen!.includes(s)));
    c.views.sections.refresh();
    return [...c.views.sections.filter];
  });

  // From the selected frame's section to the next one in a state, round past the end: a walk through the stale (or initialised) sections.
  const nextSection = (state: SectionState) => {
    const doc = c.registry.require();
    const img = doc.viewImage!;
    const from = doc.selection ? Math.floor(doc.selection.pfn / img.geometry.sectionFrames) : -1;
    const s = nextSectionIn(img, state, from);
    if (s === undefined) throw new Refusal(`No ${sectionStateWords(state)} section in ${path.basename(doc.uri.fsPath)}.`);
    doc.select(s * img.geometry.sectionFrames, 'command', { reveal: true });
    return s;
  };
  c.run('pmemExplorer.nextStaleSection', () => nextSection('stale'));
  c.run('pmemExplorer.nextInitialisedSection', () => nextSection('initialized'));

  c.run('pmemExplorer.revealOnMap', async (node?: unknown) => {
    const pfn = (node as { pfn?: unknown } | undefined)?.pfn ?? node;
    if (typeof pfn !== 'number' || !Number.isSafeInteger(pfn) || pfn < 0) throw new Refusal('Choose a frame or block to reveal on the map');
    const doc = c.registry.require();
    if (pfn >= doc.session!.image.geometry.totalFrames) throw new Refusal(`pfn ${pfn} is past the last frame`);
    const maps = c.registry.mapsOf(doc);
    if (!maps.length) await vscode.commands.executeCommand('vscode.openWith', doc.uri, VIEW_TYPE);
    doc.select(pfn, 'command', { reveal: false, zoom: true }); // it came from the Descriptors view, or from a caller that wants the map
    return pfn;
  });

  c.run('pmemExplorer.refresh', () => {
    c.views.descriptors.refresh();
    c.views.freeLists.refresh();
    c.views.sections.refresh();
  });
  return docs;
}
