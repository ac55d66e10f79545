/** The simulated machine: reboots, crashes with recovery, and initialising sections ahead of use. */
import * as vscode from 'vscode';
import {
  allocOp, findProfile, frames, freeOp, initAllOpAsync, initSectionsOp, linuxRefusalText, MISMATCH_POLICIES, MismatchPolicy, OperationCancelled, PmemImage, PROFILES, sections,
  StructPageMismatch, structPageMismatch,
} from '../../engine';
import { describePoints } from '../../engine/inspect/persistencePoints';
import { MAX_CRASH_POINTS } from '../../engine/image/limits';
import { escapeNotification } from '../../shared/plainText';
import type { PmemDocument } from '../pmemDocument';
import { Refusal } from '../refusal';
import { assertNoWork, CommandContext, intInput, presetOf, wholeNumber } from './context';

/** Both ways a kernel may treat a descriptor larger than the device reserves, for the user to choose. */
async function askMismatchPolicy(m: StructPageMismatch): Promise<MismatchPolicy | undefined> {
  const items: Array<vscode.QuickPickItem & { policy: MismatchPolicy }> = [
    { label: 'As the seed design proposes', description: 'boots', detail: `the core from the device; ${m.bytes - m.reserved} bytes more in RAM, read as 0 until set`, policy: 'seed' },
    { label: 'As Linux does', description: 'refuses the namespace', detail: `"${m.linux}"; nothing written`, policy: 'linux' },
  ];
  const chosen = await vscode.window.showQuickPick(items, {
    title: `Reboot into ${m.profile}: its struct page is ${m.bytes} bytes, the device reserves ${m.reserved} a frame`,
    placeHolder: 'How does that kernel treat the descriptors on the device?', ignoreFocusOut: true,
  });
  return chosen?.policy;
}

export function registerMachineCommands(c: CommandContext): void {
  c.run('pmemExplorer.reboot', () => {
    const doc = c.writablePresent();
    assertNoWork(c.work, doc);
    doc.push(doc.session!.reboot());
  });

  c.run('pmemExplorer.rebootIntoProfile', async (name?: unknown, as?: unknown) => {
    const doc = c.writablePresent();
    const profile = typeof name === 'string' ? name : (await vscode.window.showQuickPick(PROFILES.map((p) => ({ label: p.name, description: p.description })), { ignoreFocusOut: true, title: 'Reboot into Profile', placeHolder: 'Kernel profile to boot' }))?.label;
    if (!profile) return;
    const kernel = findProfile(profile);
    if (!kernel) throw new Refusal(`Unknown profile "${profile}"`);
    if (as !== undefined && !(MISMATCH_POLICIES as readonly unknown[]).includes(as)) throw new Refusal(`"as" must be ${MISMATCH_POLICIES.map((m) => `"${m}"`).join(' or ')}, not ${JSON.stringify(as)}`);
    const mismatch = structPageMismatch(doc.session!.image.geometry.memmap, kernel);
    const policy = mismatch ? ((as as MismatchPolicy | undefined) ?? (await askMismatchPolicy(mismatch))) : undefined;
    if (mismatch && !policy) return;
    assertNoWork(c.work, doc);
    doc.push(doc.session!.reboot(profile, policy));
    if (mismatch) void vscode.window.showInformationMessage(escapeNotification(`Booted ${profile} as the seed design proposes: ${mismatch.seed}. ${linuxRefusalText(mismatch)}.`));
    return doc.session!.image.bootReport;
  });

  c.run('pmemExplorer.crash', async (preset?: unknown) => {
    const doc = c.writablePresent();
    const img0 = doc.session!.image;
    const g = img0.geometry;
    const p = presetOf(preset, 'Crash and Reboot');
    wholeNumber(p, 'order', 0, g.maxOrder);
    wholeNumber(p, 'points', 0, MAX_CRASH_POINTS);
    wholeNumber(p, 'pfn', 0, g.totalFrames - 1);
    wholeNumber(p, 'section', 0, g.sectionCount - 1);
    if (p.during !== undefined && !CRASH_KINDS.some((k) => k.op === p.during)) throw new Refusal(`"during" must be ${CRASH_KINDS.map((k) => `"${k.op}"`).join(', ')}, not ${JSON.stringify(p.during)}`);
    const kind = (p.during as CrashKind | undefined) ?? (p.order !== undefined ? 'alloc' : p.pfn !== undefined ? 'free' : p.section !== undefined ? 'init' : (await vscode.window.showQuickPick(CRASH_KINDS, { title: 'Crash and Reboot', placeHolder: 'Power fails during which operation?', ignoreFocusOut: true }))?.op);
    if (!kind) return;
    const during = await crashOperation(doc, kind, p);
    if (!during) return;
    assertNoWork(c.work, doc);
    const session = doc.session!;
    const boot = session.bootIfNeeded();
    let r: ReturnType<typeof session.crashAndReboot>;
    try {
      let points = p.points as number | undefined;
      if (points === undefined) {
        // A dry run on the running machine names what each point writes; nothing of it is kept.
        const words = describePoints(session.image, session.dryRun(during.run));
        const items = [{ label: '0', description: 'before anything is written' }, ...words.map((w, i) => ({ label: String(i + 1), description: i === words.length - 1 ? `${w} (the operation completes)` : w }))];
        const chosen = await vscode.window.showQuickPick(items, {
          title: `Crash and Reboot: ${during.noun}, ${words.length} persistence point${words.length === 1 ? '' : 's'}`,
          placeHolder: 'After how many persistence points does the power fail? Each point is one write, in this order:',
          ignoreFocusOut: true,
        });
        if (!chosen) {
          boot?.undo();
          return;
        }
        points = Number(chosen.label);
      }
      r = session.crashAndReboot(points, during.label, during.run);
    } catch (e) {
      boot?.undo();
      throw e;
    }
    if (boot) doc.push(boot);
    doc.push(r.edit);
    const rec = session.image.bootReport!.recovery;
    const article = /^[aeiou]/i.test(during.noun) ? 'an' : 'a';
    const text = `${r.crashed ? `Power failed after ${r.points} persistence point(s) of ${article} ${during.noun}.` : `The ${during.noun} completed (${r.points} points) before the power failed.`} Recovery: ${rec.action === 'none' ? 'nothing to do' : `${rec.action === 'rolled-forward' ? 'rolled forward' : 'rolled back'} "${rec.description}"`}.`;
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

type CrashKind = 'alloc' | 'free' | 'init';
const CRASH_KINDS: Array<{ op: CrashKind; label: string; description: string }> = [
  { op: 'alloc', label: 'An allocation', description: 'of a block of a chosen order' },
  { op: 'free', label: 'A free', description: 'of an allocated block (the selected one by default)' },
  { op: 'init', label: 'An initialisation', description: 'of a never-initialised or stale section' },
];

/** The operation a crash interrupts, asked for (or taken from the preset) and checked before anything runs. */
async function crashOperation(doc: PmemDocument, kind: CrashKind, p: Record<string, unknown>): Promise<{ noun: string; label: string; run: (img: PmemImage) => void } | undefined> {
  const img = doc.session!.image;
  const g = img.geometry;
  const selected = doc.selection ? frames(img, doc.selection.pfn, 1)[0] : undefined;
  if (kind === 'alloc') {
    const order = (p.order as number | undefined) ?? (await intInput('Crash and Reboot', 'Power fails during an allocation of which order?', '0', 0, g.maxOrder));
    if (order === undefined) return undefined;
    return { noun: `order-${order} allocation`, label: `alloc order ${order}`, run: (i) => void allocOp(i, { order }) };
  }
  if (kind === 'free') {
    const suggested = selected?.kind === 'allocated' ? selected.blockPfn : undefined;
    const pfn = (p.pfn as number | undefined) ?? (await intInput('Crash and Reboot', 'Power fails while freeing the block at which pfn (an allocated block\'s head)?', suggested === undefined ? '' : String(suggested), 0, g.totalFrames - 1));
    if (pfn === undefined) return undefined;
    const f = frames(img, pfn, 1)[0];
    if (f.kind !== 'allocated' || f.blockPfn !== pfn) throw new Refusal(`Crash and Reboot: pfn ${pfn} is not the head of an allocated block`);
    return { noun: `free of block ${pfn} (order ${f.order})`, label: `free ${pfn}`, run: (i) => void freeOp(i, [pfn]) };
  }
  const candidates = sections(img).filter((s) => s.state !== 'initialized' && s.reservedFrames < s.frames);
  const suggested = selected && candidates.some((s) => s.index === selected.section) ? selected.section : candidates[0]?.index;
  const section = (p.section as number | undefined) ?? (await intInput('Crash and Reboot', `Power fails while initialising which section? (${candidates.length} never initialised or stale)`, suggested === undefined ? '' : String(suggested), 0, g.sectionCount - 1));
  if (section === undefined) return undefined;
  if (!candidates.some((s) => s.index === section)) throw new Refusal(`Crash and Reboot: section ${section} is already initialised in this boot (or holds only metadata): initialising it writes nothing`);
  return { noun: `initialisation of section ${section}`, label: `init section ${section}`, run: (i) => void initSectionsOp(i, [section]) };
}
