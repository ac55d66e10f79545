/**
 * Runs the inverse undo entries of the history (format/undoCodec.ts,
 * UNDO_INVERSE): a record that says "free this block" or "allocate it again"
 * instead of the bytes its operation replaced. The allocator state runs the
 * inverse on the decoder's target, the state right after the record, exactly
 * as it ran when the record was written (the writer kept the record only
 * because that gives every byte back), putting the blocks it lists back
 * where the entry says they stood.
 */
import { dataView } from '../core/bytes';
import { DESCRIPTOR_SIZE, PAGE_SIZE } from '../format/constants';
import { CodecError } from '../format/compact';
import { DESC } from '../format/descriptor';
import { installInverseRunner, InverseEntry, UndoContext, UndoTarget } from '../format/undoCodec';
import type { ByteRange } from '../format/rangeList';
import { FastTxn } from '../image/fastTxn';
import type { ImageCore } from '../image/imageContext';
import type { Store } from '../store/store';
import { BuddyState } from './buddyState';

const LINE = 64;

/** The image as the allocator sees it, at the record's boot generation, reading and writing the decoder's target. */
function imageAt(ctx: UndoContext, generation: number): ImageCore {
  const { geometry, layout, nodes } = ctx.sb;
  return {
    get store(): Store {
      throw new Error('an inverse undo entry reads its target, not a store');
    },
    geometry, layout, nodes, bootGeneration: generation, ram: new Map(), neverHint: new Map(),
    memmapOffset: (pfn) => layout.memmap.startPfn * PAGE_SIZE + pfn * DESCRIPTOR_SIZE,
  };
}

/** Reads through the target's lines, checksums settled; writes go to the target and are reported. */
function targetLines(target: UndoTarget, onSpan: ((offset: number, length: number) => void) | undefined) {
  return {
    read(offset: number, length: number): Uint8Array {
      const out = new Uint8Array(length);
      for (let at = offset; at < offset + length; ) {
        const index = Math.floor(at / LINE);
        const within = at - index * LINE;
        const n = Math.min(LINE - within, offset + length - at);
        out.set(target.settled(index).subarray(within, within + n), at - offset);
        at += n;
      }
      return out;
    },
    write(offset: number, data: Uint8Array): void {
      onSpan?.(offset, data.length);
      target.write(offset, data);
    },
    changes: (): ByteRange[] => [],
  };
}

/**
 * The staging the allocator state reads and writes through. Descriptors read
 * with the record's boot generation as their initGeneration: when the
 * record was written, every descriptor of a section initialised in that boot
 * had it (lazy initialisation writes them all, and no operation changes the
 * field), but a later boot's re-initialisation rewrites it outside the
 * history, so stepping back finds the later one there.
 */
class TargetTxn extends FastTxn {
  override rawDescriptor(pfn: number): Uint8Array {
    const d = super.rawDescriptor(pfn);
    if (d.some((b) => b !== 0)) dataView(d).setUint32(DESC.initGeneration, this.img.bootGeneration, true);
    return d;
  }
}

/** The allocator state of the last image and generation an entry was run for: a walk back runs thousands of them. */
let last: { ctx: UndoContext; generation: number; img: ImageCore; state: BuddyState } | undefined;

installInverseRunner((ctx: UndoContext, target: UndoTarget, generation: number, entry: InverseEntry, onSpan) => {
  if (!last || last.ctx !== ctx || last.generation !== generation) {
    const img = imageAt(ctx, generation);
    last = { ctx, generation, img, state: new BuddyState(img) };
  }
  const { img, state } = last;
  state.reset(); // it holds nothing between entries: each reads the target as the entries before it left it
  state.attach(new TargetTxn(img, targetLines(target, onSpan)));
  const outcome = entry.kind === 'free' ? state.freeAllocated(entry.pfn, entry.order, entry.after?.[0] ?? 0) : state.allocateExactly(entry.pfn, entry.order, entry.ownerBytes, entry.after);
  if (outcome !== 'done') {
    const what = entry.kind === 'free' ? `free block ${entry.pfn} of order ${entry.order}` : `allocate block ${entry.pfn} of order ${entry.order} again`;
    throw new CodecError(`its inverse (${what}) cannot be run on the state after it (${outcome})`, 0);
  }
  state.flush();
});
