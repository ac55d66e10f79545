/**
 * The limits of one transaction, in one place for the engine, the CLI and the
 * editor. A transaction must fit the journal (its payload: the changed byte
 * ranges, plus the history record with a compact undo entry per changed
 * structure). How much an operation writes depends on the state of the free
 * lists, so it is only known exactly once done; what is known up front is a
 * floor: bytes that every allocated or freed block writes wherever it lies.
 * An allocation or a free of listed pfns whose floor exceeds the journal runs
 * as several transactions (image/largeOps.ts), as does one found too large at
 * commit; an initialisation beyond the floor is refused before any work.
 */
import { UsageError } from '../core/errors';
import { DESCRIPTOR_SIZE } from '../format/constants';
import { FREE_LINK_SIZE } from '../format/freeLink';
import { journalCapacity } from '../format/journal';
import { Geometry, Layout } from '../format/layout';
import { rangeEntrySize } from '../format/rangeList';
import { SECTION_ENTRY_SIZE } from '../format/layout';
import type { PmemImage } from './imageCore';

/** Most blocks one allocation may ask for, on any image (the journal usually allows far fewer). */
export const MAX_ALLOC_COUNT = 4 * 1024 * 1024;
/** Most pfns one free may name. */
export const MAX_FREE_COUNT = 1_000_000;
/** Most persistence points a simulated crash may wait for. */
export const MAX_CRASH_POINTS = 1_000_000;

export interface JournalGeometry {
  geometry: Geometry;
  layout: Layout;
  /** Undo bytes larger than this are not kept in the history record (HistoryRing.maxUndoBytes). */
  maxUndoBytes: number;
}

export function journalGeometryOf(img: PmemImage): JournalGeometry {
  return { geometry: img.geometry, layout: img.layout, maxUndoBytes: img.history.maxUndoBytes };
}

export type SizedOperation =
  | { kind: 'alloc'; order: number; count: number }
  | { kind: 'free'; count: number }
  | { kind: 'init'; neverSections: number; staleSections: number };

/** Journal bytes a descriptor write takes (0 when the memmap is in RAM: not journaled). */
function descriptorBytes(g: Geometry): number {
  return g.memmap === 'device' ? rangeEntrySize(DESCRIPTOR_SIZE) : 0;
}

/** Journal bytes a free-list link record write takes, when links live in the free pages (each in its own page, never adjacent to another write). */
function linkBytes(g: Geometry): number {
  return g.links === 'page' ? rangeEntrySize(FREE_LINK_SIZE) : 0;
}

/**
 * The fewest payload bytes the operation's own changes can take, and the
 * fewest structures they change. Per allocated block: its head descriptor
 * (heads may be adjacent in the memmap, so 64 bytes each without an entry
 * header); and one erased link record in all (blocks cut from one larger free
 * block share its record). Per freed block: its head descriptor. Per
 * initialised section: its section table entry (adjacent entries coalesce: 16
 * bytes each), and for a never-initialised one at least one free block linked
 * in its pages.
 */
function changedAtLeast(g: Geometry, op: SizedOperation): { bytes: number; structures: number } {
  const desc = g.memmap === 'device' ? DESCRIPTOR_SIZE : 0;
  const links = g.links === 'page' ? 1 : 0;
  if (op.kind === 'alloc') return { bytes: op.count * desc + linkBytes(g), structures: op.count * (desc ? 1 : 0) + links };
  if (op.kind === 'free') return { bytes: op.count * desc, structures: op.count * (desc ? 1 : 0) };
  const linked = linkBytes(g) || descriptorBytes(g);
  return {
    bytes: (op.neverSections + op.staleSections) * SECTION_ENTRY_SIZE + op.neverSections * linked,
    structures: op.neverSections + op.staleSections + (linked ? op.neverSections : 0),
  };
}

/** Fewest bytes one undo entry of a history record takes: its tag and its target (format/undoCodec.ts). */
const UNDO_ENTRY_AT_LEAST = 2;

/** The fewest journal payload bytes the operation can take, its history record's undo entries included when they would be kept. */
export function journalBytesAtLeast(j: JournalGeometry, op: SizedOperation): number {
  const { bytes, structures } = changedAtLeast(j.geometry, op);
  const undo = structures * UNDO_ENTRY_AT_LEAST;
  return undo <= j.maxUndoBytes ? bytes + undo : bytes;
}

export function journalBytes(j: JournalGeometry): number {
  return journalCapacity(j.layout.journal);
}

/** The most blocks of `order` one allocation could ever take on this image (often fewer fit: see the file comment). */
export function maxAllocCount(j: JournalGeometry, order: number): number {
  let lo = 0;
  let hi = MAX_ALLOC_COUNT;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (journalBytesAtLeast(j, { kind: 'alloc', order, count: mid }) <= journalBytes(j)) lo = mid;
    else hi = mid - 1;
  }
  return Math.max(1, lo);
}

function describe(op: SizedOperation): string {
  if (op.kind === 'alloc') return `an allocation of ${op.count} block(s) of order ${op.order}`;
  if (op.kind === 'free') return `freeing ${op.count} block(s)`;
  return `initialising ${op.neverSections + op.staleSections} section(s)`;
}

/** Refuses, before any work, an operation that cannot fit the journal however the free lists lie. */
export function assertFitsJournal(j: JournalGeometry, op: SizedOperation): void {
  const need = journalBytesAtLeast(j, op);
  const capacity = journalBytes(j);
  if (need <= capacity) return;
  const hint = op.kind === 'alloc' ? `; at most ${maxAllocCount(j, op.order)} blocks of order ${op.order} per allocation on this image` : '; split it into smaller operations';
  throw new UsageError(`${describe(op)} cannot fit this image's journal (${capacity} bytes; it needs at least ${need})${hint}`);
}
