/** Start I/O… and Complete I/O: a dynamic image's pool of descriptors, attached to frames while their I/O is in flight. */
import * as vscode from 'vscode';
import { completeIoOp, hasIoPool, IO_POOL_DESCRIPTORS, ioOp, IoReport, parsePfn, WhenFull } from '../../engine';
import { Refusal } from '../refusal';
import { CommandContext, intInput, presetOf, wholeNumber } from './context';

export function registerIoCommands(c: CommandContext): void {
  c.run('pmemExplorer.startIo', async (preset?: unknown): Promise<IoReport | undefined> => {
    const doc = c.writablePresent();
    const img = doc.session!.image;
    if (!hasIoPool(img.geometry)) throw new Refusal(`Start I/O: ${img.file ? `${img.file} is` : 'the image is'} not a dynamic image: only the dynamic design attaches descriptors for I/O (the others keep one for every frame, or none)`);
    const p = presetOf(preset, 'Start I/O');
    wholeNumber(p, 'pfn', 0, img.geometry.totalFrames - 1);
    wholeNumber(p, 'count', 1, IO_POOL_DESCRIPTORS);
    if (p.hold !== undefined && typeof p.hold !== 'boolean') throw new Refusal(`Start I/O: "hold" must be true or false, not ${JSON.stringify(p.hold)}`);
    if (p.whenFull !== undefined && p.whenFull !== 'wait' && p.whenFull !== 'fail') throw new Refusal(`Start I/O: "whenFull" must be "wait" or "fail", not ${JSON.stringify(p.whenFull)}`);
    let pfn = p.pfn as number | undefined;
    if (pfn === undefined) {
      const selected = doc.selection?.pfn;
      const text = await vscode.window.showInputBox({
        ignoreFocusOut: true, title: 'Start I/O (1/3)', prompt: 'First pfn of the I/O: frames in use (decimal or 0x hex)', value: selected !== undefined ? String(selected) : '',
        validateInput: (t) => { try { parsePfn(t.trim()); return undefined; } catch (e) { return (e as Error).message; } },
      });
      if (!text) return undefined;
      pfn = parsePfn(text.trim());
    }
    const count = (p.count as number | undefined) ?? (await intInput('Start I/O (2/3)', `Frames under I/O (1 to ${IO_POOL_DESCRIPTORS}): each takes a descriptor from the pool (${img.io.attached} of ${IO_POOL_DESCRIPTORS} attached now)`, '1', 1, IO_POOL_DESCRIPTORS));
    if (count === undefined) return undefined;
    let hold = p.hold as boolean | undefined;
    if (hold === undefined) {
      const pick = await vscode.window.showQuickPick([
        { label: 'Hold it in flight', description: 'the descriptors stay attached until Complete I/O', hold: true },
        { label: 'Complete it at once', description: 'attached for the I/O\'s length only', hold: false },
      ], { ignoreFocusOut: true, title: 'Start I/O (3/3)' });
      if (!pick) return undefined;
      hold = pick.hold;
    }
    let whenFull = p.whenFull as WhenFull | undefined;
    if (whenFull === undefined && img.io.attached + count > IO_POOL_DESCRIPTORS) {
      const pick = await vscode.window.showQuickPick([
        { label: 'Wait', description: 'for the oldest I/O in flight to complete, until there is room', whenFull: 'wait' as const },
        { label: 'Fail', description: 'the I/O fails; nothing changes', whenFull: 'fail' as const },
      ], { ignoreFocusOut: true, title: `Start I/O: the pool has ${IO_POOL_DESCRIPTORS - img.io.attached} of ${IO_POOL_DESCRIPTORS} descriptors free, the I/O needs ${count}` });
      if (!pick) return undefined;
      whenFull = pick.whenFull;
    }
    const start = pfn;
    return c.operate(`Start I/O on pfn ${start} + ${count}`, (i) => ioOp(i, start, count, { hold, whenFull: whenFull ?? 'wait' }));
  });

  c.run('pmemExplorer.completeIo', async (id?: unknown) => {
    const doc = c.writablePresent();
    const flights = doc.session!.image.io.flights;
    if (id !== undefined && !(Number.isSafeInteger(id) && (id as number) >= 1)) throw new Refusal(`Complete I/O takes the number of an I/O in flight, not ${JSON.stringify(id)}`);
    if (!flights.length) throw new Refusal('Complete I/O: no I/O is in flight');
    let which = id as number | undefined;
    if (which === undefined && flights.length > 1) {
      const pick = await vscode.window.showQuickPick([
        { label: 'All', description: `${flights.length} I/O in flight`, id: undefined },
        ...flights.map((f) => ({ label: `I/O ${f.id}`, description: `pfn ${f.pfn} + ${f.count}`, id: f.id })),
      ], { ignoreFocusOut: true, title: 'Complete I/O' });
      if (!pick) return undefined;
      which = pick.id;
    }
    return c.operate(which === undefined ? 'Complete I/O' : `Complete I/O ${which}`, (i) => completeIoOp(i, which)).completed;
  });
}
