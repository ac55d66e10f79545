/** Stepping through the image's history: back, forward, to a chosen step (read-only views of the past). */
import * as vscode from 'vscode';
import { historyStepRange } from '../../engine';
import { escapeIcons } from '../../shared/plainText';
import type { PmemDocument } from '../pmemDocument';
import { Refusal } from '../refusal';
import { assertNoWork, CommandContext } from './context';

export function registerHistoryCommands(c: CommandContext): void {
  // Stepping needs only the range of steps (a scan of the ring); the picker decodes every record's summary.
  const steps = () => {
    const doc = c.registry.require();
    // The image is halfway through the work: no step of it is one the user has seen.
    assertNoWork(c.work, doc);
    const range = historyStepRange(doc.session!.image);
    return { doc, range, at: doc.viewedStep ?? range.last };
  };
  const goTo = (doc: PmemDocument, step: number, last: number) => {
    doc.viewStep(step === last ? undefined : step);
    return step;
  };
  c.run('pmemExplorer.stepBack', () => {
    const { doc, range, at } = steps();
    if (at <= range.first) throw new Refusal(`Step ${at} is the earliest step kept in the history`);
    return goTo(doc, at - 1, range.last);
  });
  c.run('pmemExplorer.stepForward', () => {
    const { doc, range, at } = steps();
    if (at >= range.last) throw new Refusal('Already at the present (the last step)');
    return goTo(doc, at + 1, range.last);
  });
  c.run('pmemExplorer.goToStep', async (arg?: unknown) => {
    const { doc, range } = steps();
    let step = typeof arg === 'number' ? arg : undefined;
    if (step === undefined) {
      const records = doc.session!.image.historyRecords();
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
}
