/** Allocate and free: blocks by order and count, pfns, every block of an owner. */
import * as vscode from 'vscode';
import { allocatedPfns, allocOp, allocOpAsync, firstAllocated, freedCount, freedPfns, freeListedOpAsync, freeOp, freeOrderOp, freeOwnerOpAsync, keepsDescriptors, parsePfn, type PmemImage, ZONE_NAMES, ZoneName } from '../../engine';
import { journalBytes, journalBytesAtLeast, journalGeometryOf, MAX_ALLOC_COUNT, MAX_FREE_COUNT, maxAllocCount } from '../../engine/image/limits';
import { escapeNotification } from '../../shared/plainText';
import { lastAllocation } from '../lastAllocation';
import { Refusal } from '../refusal';
import type { DescriptorNode } from '../trees/descriptorsTree';
import { CommandContext, intInput, pickZone, presetOf, wholeNumber } from './context';

export function registerAllocationCommands(c: CommandContext): void {
  c.run('pmemExplorer.allocate', async (preset?: unknown) => {
    const doc = c.writablePresent();
    const img = doc.session!.image;
    const g = img.geometry;
    const p = presetOf(preset, 'Allocate');
    wholeNumber(p, 'order', 0, g.maxOrder);
    wholeNumber(p, 'count', 1, MAX_ALLOC_COUNT);
    wholeNumber(p, 'node', 0, g.nodeCount - 1);
    if (p.zone !== undefined && !['dma32', 'normal', 'movable'].includes(p.zone as string)) throw new Refusal(`Allocate: "zone" must be dma32, normal or movable, not ${JSON.stringify(p.zone)}`);
    if (p.owner !== undefined && (typeof p.owner !== 'string' || Buffer.byteLength(p.owner) > 16)) throw new Refusal('Allocate: "owner" must be a string of at most 16 bytes');
    const title = (n: number) => `Allocate (${n}/5)`;
    // The last answers come first (within what this image allows): repeating an allocation is Enter five times.
    const last = lastAllocation.answers;
    const order = (p.order as number | undefined) ?? (await intInput(title(1), `Order: a block of 2^order frames (0 to ${g.maxOrder}; order 0 is one 4 KiB frame)`, String(Math.min(last?.order ?? 0, g.maxOrder)), 0, g.maxOrder));
    if (order === undefined) return;
    const count = (p.count as number | undefined) ?? (await intInput(title(2), `How many blocks of ${2 ** order} frame${order ? 's' : ''} (all or none are allocated; beyond ${maxAllocCount(journalGeometryOf(img), order).toLocaleString('en-US')} they take several journal transactions, shown with progress and Cancel)`, String(last?.count ?? 1), 1, MAX_ALLOC_COUNT));
    if (count === undefined) return;
    const lastNode = last && last.node < g.nodeCount ? last.node : 0;
    const node = (p.node as number | undefined) ?? (g.nodeCount > 1 ? await intInput(title(3), `Preferred NUMA node (0 to ${g.nodeCount - 1}); other nodes are the fallback`, String(lastNode), 0, g.nodeCount - 1) : 0);
    if (node === undefined) return;
    const zone = (p.zone as ZoneName | undefined) ?? (await pickZone(title(4), img, node, last?.zone));
    if (!zone) return;
    const owner = (p.owner as string | undefined) ?? (await vscode.window.showInputBox({ ignoreFocusOut: true, title: title(5), value: last?.owner ?? '', prompt: 'Owner tag shown on the map and in the views (optional, at most 16 bytes)', validateInput: (t) => (Buffer.byteLength(t) > 16 ? 'At most 16 bytes' : undefined) }));
    if (owner === undefined) return;
    const label = `Allocate order ${order}${count > 1 ? ` x${count}` : ''}`;
    const request = { order, count, node, zone, owner };
    const r = count > maxAllocCount(journalGeometryOf(img), order)
      ? await c.operateLong(label, (i, control) => allocOpAsync(i, request, control))
      : c.operate(label, (i) => allocOp(i, request));
    if (!r) return undefined; // cancelled, and rolled back
    lastAllocation.remember(request);
    // Read without an object per block: a million of them would hold the host.
    const first = firstAllocated(r);
    const where = `node ${first.node}, zone ${ZONE_NAMES[first.zone]}`;
    const pfns = allocatedPfns(r);
    void vscode.window.setStatusBarMessage(`$(check) Allocated ${count > 1 ? `${count} blocks` : 'a block'} of order ${order}${owner ? ` for "${owner}"` : ''} at pfn ${pfns.slice(0, 8).join(', ')}${pfns.length > 8 ? '…' : ''} (${where})`, 8000);
    doc.select(first.pfn, 'command', { reveal: c.views.descriptorsView.visible }); // the image allocated in, wherever the focus went meanwhile
    return pfns;
  });

  c.run('pmemExplorer.free', async (arg?: unknown) => {
    const doc = c.writablePresent();
    const named = await blockNamed(doc.session!.image, arg);
    if (named === null) return undefined;
    if (named) return c.operate(`Free pfn ${named.pfn} (order ${named.order})`, (i) => freeOrderOp(i, named.pfn, named.order)).freed;
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
    if (journalBytesAtLeast(j, { kind: 'free', count: pfns.length }) <= journalBytes(j)) return c.operate(`Free pfn ${pfns.length > 8 ? `${pfns.slice(0, 8).join(', ')}… (${pfns.length})` : pfns.join(', ')}`, (i) => freeOp(i, pfns)).freed;
    // More than one transaction: marked, then freed, with progress and a Cancel that puts everything back.
    const r = await c.operateLong(`Free ${pfns.length.toLocaleString('en-US')} blocks`, (i, control) => freeListedOpAsync(i, pfns, control));
    if (r) void vscode.window.setStatusBarMessage(`$(check) Freed ${freedCount(r).toLocaleString('en-US')} blocks`, 8000);
    return r?.freed;
  });

  c.run('pmemExplorer.freeOwner', async (arg?: unknown) => {
    c.writablePresent();
    const owner = typeof arg === 'string' ? arg : await vscode.window.showInputBox({
      ignoreFocusOut: true, title: 'Free Every Block of an Owner', prompt: 'Owner tag: every allocated block with it is freed, all or none',
      validateInput: (t) => (t.length === 0 ? 'Give an owner tag' : Buffer.byteLength(t) > 16 ? 'At most 16 bytes' : undefined),
    });
    if (!owner) return undefined;
    const r = await c.operateLong(`Free owner ${owner}`, (i, control) => freeOwnerOpAsync(i, owner, control));
    if (r) void vscode.window.setStatusBarMessage(`$(check) Freed ${freedCount(r).toLocaleString('en-US')} block(s) of owner "${escapeNotification(owner)}"`, 8000);
    return r && freedPfns(r);
  });

  c.run('pmemExplorer.freeBlock', (node?: unknown) => {
    const n = node as DescriptorNode | undefined;
    if (n?.kind !== 'frame') throw new Refusal('Choose an allocated frame in the Descriptors view');
    return vscode.commands.executeCommand('pmemExplorer.free', n.pfn);
  });
}

/**
 * A block named by its caller, { pfn, order } (Linux's free_pages): given as
 * the argument, or asked for on an image that keeps no descriptors (pfn-only),
 * which cannot look the order up. undefined: free by head pfn as usual; null: cancelled.
 */
async function blockNamed(img: PmemImage, arg: unknown): Promise<{ pfn: number; order: number } | undefined | null> {
  if (arg && typeof arg === 'object' && !Array.isArray(arg)) {
    const { pfn, order } = arg as { pfn?: unknown; order?: unknown };
    if (!Number.isSafeInteger(pfn) || (pfn as number) < 0 || !Number.isSafeInteger(order) || (order as number) < 0) throw new Refusal(`Free takes { pfn, order } as whole numbers, not ${JSON.stringify(arg)}`);
    return { pfn: pfn as number, order: order as number };
  }
  if (arg !== undefined || keepsDescriptors(img.geometry)) return undefined;
  const text = await vscode.window.showInputBox({
    ignoreFocusOut: true, title: 'Free (pfn-only: no descriptors)', prompt: 'PFN of the block to free and its order, which a pfn-only image cannot look up (e.g. 0x1200 3; order 0 frees one frame)',
    validateInput: (t) => {
      try {
        parseBlock(t);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  return text ? parseBlock(text) : null;
}

function parseBlock(text: string): { pfn: number; order: number } {
  const [p, o, ...rest] = text.trim().split(/\s+/);
  if (!p || rest.length) throw new Refusal('Give a pfn and, after it, the block\'s order (0 if left out)');
  const order = o === undefined ? 0 : Number(o);
  if (!/^\d+$/.test(o ?? '0') || order > 18) throw new Refusal(`The order is a whole number from 0 to 18, not "${o}"`);
  return { pfn: parsePfn(p), order };
}
