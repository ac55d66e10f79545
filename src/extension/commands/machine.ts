/** The simulated machine: reboots, crashes with recovery, and initialising sections ahead of use. */
import * as vscode from 'vscode';
import { allocOp, initAllOpAsync, initSectionsOp, OperationCancelled, PROFILES } from '../../engine';
import { MAX_CRASH_POINTS } from '../../engine/image/limits';
import { escapeNotification } from '../../shared/plainText';
import { Refusal } from '../refusal';
import { assertNoWork, CommandContext, intInput, presetOf, wholeNumber } from './context';

export function registerMachineCommands(c: CommandContext): void {
  c.run('pmemExplorer.reboot', () => {
    const doc = c.writablePresent();
    assertNoWork(c.work, doc);
    doc.push(doc.session!.reboot());
  });

  c.run('pmemExplorer.rebootIntoProfile', async (name?: unknown) => {
    const doc = c.writablePresent();
    const profile = typeof name === 'string' ? name : (await vscode.window.showQuickPick(PROFILES.map((p) => ({ label: p.name, description: p.description })), { ignoreFocusOut: true, title: 'Reboot into Profile', placeHolder: 'Kernel profile to boot' }))?.label;
    if (!profile) return;
    if (!PROFILES.some((p) => p.name === profile)) throw new Refusal(`Unknown profile "${profile}"`);
    assertNoWork(c.work, doc);
    doc.push(doc.session!.reboot(profile));
  });

  c.run('pmemExplorer.crash', async (preset?: unknown) => {
    const doc = c.writablePresent();
    const p = presetOf(preset, 'Crash and Reboot');
    wholeNumber(p, 'order', 0, doc.session!.image.geometry.maxOrder);
    wholeNumber(p, 'points', 0, MAX_CRASH_POINTS);
    const order = (p.order as number | undefined) ?? (await intInput('Crash and Reboot (1/2)', 'Power fails during an allocation of which order?', '0', 0, doc.session!.image.geometry.maxOrder));
    if (order === undefined) return;
    const points = (p.points as number | undefined) ?? (await intInput('Crash and Reboot (2/2)', 'After how many persistence points does the power fail? (0 = before anything is written)', '1', 0, MAX_CRASH_POINTS));
    if (points === undefined) return;
    assertNoWork(c.work, doc);
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
    // The banner says it where the crash was asked for; a notification only when no map shows the image (they would pile up).
    const maps = c.registry.mapsOf(doc);
    maps.forEach((m) => m.notice(text, session.image.bootGeneration));
    if (!maps.length) void vscode.window.showInformationMessage(escapeNotification(text)); // the description comes from the image's journal
    return { crashed: r.crashed, recovery: rec.action };
  });

  // Every section in one edit, a transaction per batch, yielding between them: a Cancel puts every section back.
  c.run('pmemExplorer.initAll', async () => {
    const label = 'Initialise all sections';
    const r = await c.operateLong(label, async (img, control) => {
      const done = await initAllOpAsync(img, { cancelled: control.cancelled, onProgress: (n, total) => control.onProgress?.(n, total) });
      if (done.cancelled) throw new OperationCancelled(label, done.cancelled.done, done.sections, 'sections');
      return done;
    }, 'sections');
    return r && { sections: r.sections, steps: r.steps.length };
  });

  c.run('pmemExplorer.initSection', (node?: unknown) => {
    const n = node as { kind?: string; index?: number; summary?: { index: number } } | undefined;
    const index = n?.summary?.index ?? n?.index;
    if (index === undefined) throw new Refusal('Choose a section in a PMem view');
    return c.operate(`Initialise section ${index}`, (img) => initSectionsOp(img, [index]));
  });
}
