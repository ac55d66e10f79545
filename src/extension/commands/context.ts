/** What every command group shares: the active image, its views, and how an operation becomes an undoable edit. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatBytes, LargeControl, OperationCancelled, PAGE_SIZE, PmemImage, ZONE_NAMES, ZoneName } from '../../engine';
import type { SessionEdit } from '../../engine/node/session';
import { escapeIcons } from '../../shared/plainText';
import type { CommandRunner } from '../commandRunner';
import type { ImageRegistry } from '../imageRegistry';
import type { LongWork, WorkControl } from '../longWork';
import type { PmemDocument } from '../pmemDocument';
import { Refusal } from '../refusal';
import type { DescriptorNode, DescriptorsTree } from '../trees/descriptorsTree';
import type { FreeListsTree } from '../trees/freeListsTree';
import type { SectionsTree } from '../trees/sectionsTree';

export interface Views {
  descriptors: DescriptorsTree;
  descriptorsView: vscode.TreeView<DescriptorNode>;
  freeLists: FreeListsTree;
  sections: SectionsTree;
}

export interface CommandContext {
  extension: vscode.ExtensionContext;
  registry: ImageRegistry;
  views: Views;
  work: LongWork;
  /** Registers a command through the runner (refusals shown as messages). */
  run(id: string, fn: (...args: unknown[]) => unknown): void;
  /** The active image at the present step (a past step is read-only). */
  present(): PmemDocument;
  /** As present, and writable. */
  writablePresent(): PmemDocument;
  /** Runs an engine operation on the active image as one undoable edit (booting first if needed). */
  operate<R>(label: string, op: (img: PmemImage) => R): R;
  /**
   * As operate, for an operation that yields between its transactions: shown
   * as long work, with progress and a Cancel that rolls it back. Undefined
   * when cancelled (the image is as before, and the user is told).
   */
  operateLong<R>(label: string, op: (img: PmemImage, control: LargeControl) => Promise<R>, unit?: string): Promise<R | undefined>;
}

export function commandContext(extension: vscode.ExtensionContext, registry: ImageRegistry, views: Views, runner: CommandRunner, work: LongWork): CommandContext {
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
    assertNoWork(work, doc);
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
  const operateLong = async <R>(label: string, op: (img: PmemImage, control: LargeControl) => Promise<R>, unit = 'blocks'): Promise<R | undefined> => {
    const doc = writablePresent();
    const session = doc.session!;
    assertNoWork(work, doc);
    const boot = session.bootIfNeeded();
    let done: { result: R; edit: SessionEdit };
    try {
      done = await work.run(doc, label, (control) => session.performAsync(label, (img) => op(img, largeControl(control, unit))));
    } catch (e) {
      boot?.undo();
      if (e instanceof OperationCancelled) {
        void vscode.window.setStatusBarMessage(`$(circle-slash) ${escapeIcons(label)} cancelled ${e.when}: rolled back, the image is as it was before`, 8000);
        return undefined;
      }
      throw e;
    }
    if (boot) doc.push(boot);
    doc.push(done.edit);
    return done.result;
  };
  return {
    extension, registry, views, work, present, writablePresent, operate, operateLong,
    run: (id, fn) => extension.subscriptions.push(runner.register(id, fn)),
  };
}

/** Changes wait for long work to end: refused with the reason, never queued behind it. */
export function assertNoWork(work: LongWork, doc: PmemDocument | undefined): void {
  const busy = work.refusal(doc);
  if (busy) throw busy;
}

/** The engine's progress and cancel, wired to the long work's. */
function largeControl(control: WorkControl, unit: string): LargeControl {
  return {
    cancelled: () => control.cancelled(),
    // The session puts back every write of a cancelled edit: the engine need not roll its parts back first.
    rollBack: false,
    onProgress: (n, total, phase) => {
      // A listed free marks its blocks, then frees them: each phase is half the bar.
      const share = phase === 'marking' ? n / total / 2 : phase === 'freeing' ? 0.5 + n / total / 2 : n / total;
      control.report(share, () => {
        const of = `${n.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} ${unit}`;
        return phase === 'marking' ? `${of} marked` : phase === 'freeing' ? `${of} freed` : of;
      });
    },
  };
}

/** A command's preset argument (from another extension, a keybinding or a test): an object or nothing. */
export function presetOf(arg: unknown, command: string): Record<string, unknown> {
  if (arg === undefined || arg === null) return {};
  if (typeof arg !== 'object' || Array.isArray(arg)) throw new Refusal(`${command} takes an options object, not ${JSON.stringify(arg)}`);
  return arg as Record<string, unknown>;
}

export function wholeNumber(preset: Record<string, unknown>, field: string, min: number, max: number): void {
  const v = preset[field];
  if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max)) throw new Refusal(`"${field}" must be a whole number from ${min} to ${max}, not ${JSON.stringify(v)}`);
}

export function intInput(title: string, prompt: string, value: string, min: number, max: number): Thenable<number | undefined> {
  return vscode.window
    .showInputBox({
      title, prompt, value, ignoreFocusOut: true,
      validateInput: (t) => (/^\d+$/.test(t.trim()) && +t >= min && +t <= max ? undefined : `Enter a whole number from ${min} to ${max}`),
    })
    .then((t) => (t === undefined ? undefined : Number(t)));
}

/** The zones the chosen node really has, highest first; lower zones are the allocator's fallback. */
export async function pickZone(title: string, img: PmemImage, node: number, preferred?: ZoneName): Promise<ZoneName | undefined> {
  const zones = img.nodes[node].zones.filter((z) => z.frames > 0).reverse();
  const items = zones.map((z, i) => ({
    label: ZONE_NAMES[z.id],
    description: `${formatBytes(z.frames * PAGE_SIZE)} from pfn ${z.firstPfn}`,
    detail: i === zones.length - 1 ? 'only this zone' : `falls back to ${zones.slice(i + 1).map((l) => ZONE_NAMES[l.id]).join(', then ')}`,
    zone: ZONE_NAMES[z.id].toLowerCase() as ZoneName,
  }));
  const normal = items.findIndex((i) => i.zone === 'normal');
  if (normal > 0) items.unshift(...items.splice(normal, 1)); // Normal first: the usual request
  const again = items.findIndex((i) => i.zone === preferred);
  if (again > 0) items.unshift(...items.splice(again, 1)); // unless another was asked for last time
  const pick = await vscode.window.showQuickPick(items, { ignoreFocusOut: true, title, placeHolder: `Highest zone accepted on node ${node}`, matchOnDescription: true });
  return pick?.zone;
}
