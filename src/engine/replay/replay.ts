/**
 * Replays a page-allocator trace (kmemTrace.ts) on an image: each
 * mm_page_alloc allocates exactly the block the kernel handed out, each
 * mm_page_free frees it, in the trace's order, a batch of events per history
 * step. The other kmem events are counted, never applied: mm_page_free_batched
 * repeats a free already traced, and mm_page_alloc_zone_locked and
 * mm_page_pcpu_drain move pages between the per-CPU lists and the buddy lists.
 * Real traces miss some allocations (bulk allocation, compaction), so the
 * result is the trace's view of memory, not the kernel's.
 *
 * The trace's pfns are moved onto the image by one offset that keeps the
 * largest blocks aligned: the trace's `base` (by default its lowest pfn,
 * rounded down to a largest block) lands on the image's first whole largest block.
 */
import { allocateExactly, freeAllocated } from '../alloc/buddy';
import { BuddyState } from '../alloc/buddyState';
import { JournalFullError, OperationError, UsageError } from '../core/errors';
import { REVISION_REPLAY } from '../format/constants';
import { keepsDescriptors } from '../format/layout';
import { designOf } from '../designs/designs';
import { hasMemdescs } from '../alloc/memdescs';
import { encodeOwner, OWNER_BYTES, PG_ALLOCATED } from '../format/descriptor';
import { ALLOCATEE_BYTES } from '../format/twoWord';
import type { PmemImage } from '../image/imageCore';
import type { Txn } from '../image/txn';
import { KMEM_EVENTS, KmemEvent, KmemEventName, ownerTagOf, parseTraceLine, TraceFormat } from './kmemTrace';
import { runToEnd, Steps, TimeSlice } from '../core/timeSlice';
import { TraceEvents } from './traceEvents';
import { LargeControl, OperationCancelled } from '../image/largeOps';

export interface ReplayOptions {
  /** Only lines of this form are read (others count as not understood); default: any of them. */
  format?: TraceFormat | 'auto';
  /** The trace pfn that lands on the image's first whole largest block. */
  base?: number;
  /** Only events at or after / at or before these timestamps (seconds). */
  from?: number;
  to?: number;
  /** Blocks the trace frees without having allocated them (allocated before it began) are allocated first. */
  assumeAllocated?: boolean;
  /** Events applied per history step (at most; fewer where the journal needs it). */
  batch?: number;
  /** The trace's name, for the steps' texts. */
  name?: string;
  /** Allocations and frees kept from the first reading of the trace (default about a million); past it the trace is read again. */
  keptEvents?: number;
  /** Told after each step is committed: the CLI lets the steps so far reach the file, so a long trace is not held in memory. */
  onCommitted?: () => void;
}

export interface ReplayReport {
  /** The form of the first event line. */
  format?: TraceFormat;
  lines: number;
  headers: number;
  /** kmem events read, by name (within --from/--to). */
  events: Record<KmemEventName, number>;
  /** Other events (a marker, another subsystem's), not applied. */
  otherEvents: number;
  notUnderstood: { count: number; firstLines: number[] };
  /** Image pfn = trace pfn + offset. */
  base: number;
  offset: number;
  applied: { alloc: number; free: number };
  /** Events not applied, by reason. */
  skipped: Record<string, number>;
  /** Blocks allocated before the replay because the trace frees them first (assumeAllocated). */
  preallocated: number;
  /** The history steps the replay added, oldest first. */
  steps: number[];
}

const DEFAULT_BATCH = 256;
/** Frames (about 100 bytes each) and index pages (2 KiB each) the typed allocator state may hold before it starts again from the image. */
const STATE_FRAMES = 1 << 20;
const STATE_PAGES = 1 << 15;
const SHOWN_BAD_LINES = 5;
/** The first pass pauses every this many lines. */
const PAUSE_LINES = 4096;
/** Allocations and frees kept from the first reading (22 bytes each): a longer trace is read twice. */
const KEPT_EVENTS = 1 << 20;

type Action = { kind: 'alloc' | 'free'; pfn: number; order: number; line: number; owner: string } | { kind: 'prealloc'; pfn: number; order: number };

/** What the lines of a trace are, counted as they are read. */
type LineTally = Pick<ReplayReport, 'format' | 'lines' | 'headers' | 'events' | 'otherEvents' | 'notUnderstood'> & { eventLines: number; lastEventLine: number };

function lineTally(): LineTally {
  return { lines: 0, headers: 0, events: Object.fromEntries(KMEM_EVENTS.map((k) => [k, 0])) as Record<KmemEventName, number>, otherEvents: 0, notUnderstood: { count: 0, firstLines: [] }, eventLines: 0, lastEventLine: 0 };
}

function countLine(t: LineTally, r: ReturnType<typeof parseTraceLine>, n: number): void {
  t.lines = n;
  if (r.kind === 'header') t.headers++;
  else if (r.kind === 'other-event') t.otherEvents++;
  else if (r.kind === 'not-understood') {
    t.notUnderstood.count++;
    if (t.notUnderstood.firstLines.length < SHOWN_BAD_LINES) t.notUnderstood.firstLines.push(n);
  } else {
    t.eventLines++;
    t.format ??= r.format;
  }
}

/** Counts a kmem event within the window. */
function countEvent(t: LineTally, e: KmemEvent): void {
  t.events[e.event]++;
  t.lastEventLine = e.line;
}

/** Whether an event is within the time window. */
function inWindow(e: KmemEvent, o: ReplayOptions): boolean {
  return (o.from === undefined || e.time >= o.from) && (o.to === undefined || e.time <= o.to);
}

/** The events of a trace's lines, told to `onLine` (every line) first; undefined every PAUSE_LINES lines, a place to pause. */
function* eventsOf(lines: Iterable<string>, o: ReplayOptions, onLine?: (r: ReturnType<typeof parseTraceLine>, n: number) => void): Generator<KmemEvent | undefined> {
  let n = 0;
  for (const text of lines) {
    n++;
    if (n % PAUSE_LINES === 0) yield undefined;
    let r = parseTraceLine(text, n);
    if (o.format && o.format !== 'auto' && (r.kind === 'event' || r.kind === 'other-event') && r.format !== o.format) {
      r = { kind: 'not-understood', why: `a line of ${r.format} form, not ${o.format}` };
    }
    onLine?.(r, n);
    if (r.kind === 'event' && inWindow(r.event, o)) yield r.event;
  }
}

/**
 * Replays the trace whose lines `lines()` gives. The first reading finds the
 * base and the blocks freed before they were allocated, and keeps the events
 * to apply; a trace of more than `keptEvents` of them is read a second time
 * (lines() called again) to apply them.
 */
export function replayTrace(img: PmemImage, lines: () => Iterable<string>, o: ReplayOptions = {}): ReplayReport {
  return runToEnd(replaySteps(img, lines, o));
}

/**
 * As replayTrace, giving up the thread between batches (and every few
 * thousand lines of the first pass) once it has held it for a slice, with
 * progress in events. A cancel stops it between two batches and throws
 * OperationCancelled: the batches done are whole history steps, which an
 * editing session puts back (it records every write); elsewhere they stay.
 */
export async function replayTraceAsync(img: PmemImage, lines: () => Iterable<string>, o: ReplayOptions, control: LargeControl = {}): Promise<ReplayReport> {
  const progress = { done: 0, total: 0 };
  const steps = replaySteps(img, lines, o, progress);
  const slice = new TimeSlice();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    control.onProgress?.(progress.done, progress.total);
    // A cancel asked meanwhile (from a progress report, or between turns) stops it at the next batch.
    if (slice.over()) await slice.yieldTurn();
    if (!control.cancelled?.()) continue;
    steps.return(undefined as unknown as ReplayReport);
    throw new OperationCancelled(`Replay of ${o.name ?? 'the trace'}`, progress.done, progress.total, 'events');
  }
}

/** The replay as steps: it pauses after each batch and every few thousand lines read. */
function* replaySteps(img: PmemImage, lines: () => Iterable<string>, o: ReplayOptions, progress = { done: 0, total: 0 }): Steps<ReplayReport> {
  const g = img.geometry;
  const data = img.layout.data;
  const largest = 2 ** g.maxOrder;
  const batch = o.batch ?? DEFAULT_BATCH;
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`batch must be a whole number of events, at least 1, not ${batch}`);
  if (g.descriptors === 'unit2m') throw new UsageError('a 2m image allocates whole 2 MiB units: a trace\'s pages are 4 KiB (replay into a core64, ram64, two-word or memdesc image)');
  if (!keepsDescriptors(g)) throw new UsageError(`a ${designOf(g)} image keeps no descriptors: a replay checks each free against its block's order and owner, which it cannot look up there (replay into a core64, ram64, two-word or memdesc image)`);

  // A two-word allocatee holds 8 bytes: the trace's tags are cut to fit ("HIGHUS/M"), as "pre-trace" is.
  const ownerRoom = g.descriptors === 'twoWord' ? ALLOCATEE_BYTES : OWNER_BYTES;
  const preTrace = ownerRoom < 9 ? 'pretrace' : 'pre-trace';

  // First pass: the lowest pfn, the blocks the trace frees before it allocates them, and the events to apply (kept when not too many).
  let lowest = Number.POSITIVE_INFINITY;
  const live = new Map<number, number>();
  const freedFirst = new Map<number, number>();
  const first = lineTally();
  const kept = new TraceEvents(o.keptEvents ?? KEPT_EVENTS);
  for (const e of eventsOf(lines(), o, (r, n) => countLine(first, r, n))) {
    if (!e) {
      yield;
      continue;
    }
    countEvent(first, e);
    if (e.event === 'mm_page_alloc') kept.push('alloc', e.pfn, e.order, e.line, ownerTagOf(e, ownerRoom));
    else if (e.event === 'mm_page_free') kept.push('free', e.pfn, e.order, e.line, '');
    if (e.event === 'mm_page_alloc' && e.pfn !== 0) {
      lowest = Math.min(lowest, e.pfn);
      live.set(e.pfn, e.order);
    } else if (e.event === 'mm_page_free') {
      lowest = Math.min(lowest, e.pfn);
      // A misaligned free is skipped when applied: nothing to allocate beforehand for it.
      if (!live.delete(e.pfn) && !freedFirst.has(e.pfn) && e.pfn % 2 ** e.order === 0) freedFirst.set(e.pfn, e.order);
    }
    if (e.event === 'mm_page_alloc' || e.event === 'mm_page_free') progress.total++;
  }
  live.clear();
  if (!first.eventLines) {
    const bad = first.notUnderstood.count ? `; ${first.notUnderstood.count} not understood, first at line ${first.notUnderstood.firstLines.join(', ')}` : '';
    throw new UsageError(`no kmem page-allocator events in ${o.name ?? 'the trace'}${o.from !== undefined || o.to !== undefined ? ' between the times given' : ''} (${first.lines} lines${bad})`);
  }
  const base = o.base ?? (Number.isFinite(lowest) ? lowest - (lowest % largest) : 0);
  if (!Number.isSafeInteger(base) || base < 0) throw new UsageError(`base ${o.base} must be a pfn (a whole number, 0 or more)`);
  const start = Math.ceil(data.startPfn / largest) * largest;
  if (start >= data.startPfn + data.frames) throw new UsageError(`the image has no whole block of order ${g.maxOrder} to replay a trace on`);
  const offset = start - base;

  const report: ReplayReport = {
    lines: 0, headers: 0, events: Object.fromEntries(KMEM_EVENTS.map((k) => [k, 0])) as Record<KmemEventName, number>, otherEvents: 0,
    notUnderstood: { count: 0, firstLines: [] }, base, offset, applied: { alloc: 0, free: 0 }, skipped: {}, preallocated: 0, steps: [],
  };
  const skip = (tally: Record<string, number>, reason: string) => {
    tally[reason] = (tally[reason] ?? 0) + 1;
  };
  const inImage = (pfn: number, order: number) => pfn >= data.startPfn && pfn + 2 ** order <= data.startPfn + data.frames;
  // Events go through the allocator state in typed arrays, written into each step's transaction at its end;
  // buddy.ts takes those it cannot do (a section to initialise, an error to report), after it is written out.
  const state = new BuddyState(img);
  const memdescs = hasMemdescs(g);
  const owners = new Map<string, Uint8Array>();
  const ownerBytes = (tag: string) => {
    let bytes = owners.get(tag);
    if (!bytes) owners.set(tag, (bytes = encodeOwner(tag)));
    return bytes;
  };

  /** Applies actions in one step (halves them while the journal cannot hold them). */
  const apply = (actions: Action[], first: number, last: number): void => {
    if (!actions.length) return;
    const tally = { alloc: 0, free: 0, pre: 0, skipped: {} as Record<string, number> };
    try {
      const step = img.runStep('replay', (txn) => {
        if (state.frames > STATE_FRAMES || state.pages > STATE_PAGES) state.reset();
        state.attach(txn);
        for (const a of actions) applyOne(txn, a, tally);
        state.flush();
        const skipped = Object.values(tally.skipped).reduce((x, y) => x + y, 0);
        const what = tally.pre ? `${tally.pre} block(s) the trace frees before allocating them, allocated beforehand` : `${tally.alloc} allocated, ${tally.free} freed${skipped ? `, ${skipped} skipped` : ''}`;
        const text = `replay ${o.name ?? 'trace'}${tally.pre ? '' : ` lines ${first}–${last}`}: ${what}`;
        return { summary: { text, lines: [first, last], allocated: tally.alloc, freed: tally.free, preallocated: tally.pre, skipped: tally.skipped } };
      });
      report.steps.push(step);
      o.onCommitted?.();
    } catch (e) {
      state.reset();
      if (!(e instanceof JournalFullError) || actions.length === 1) throw e;
      const half = Math.ceil(actions.length / 2);
      apply(actions.slice(0, half), first, lineOf(actions[half - 1], last));
      apply(actions.slice(half), lineOf(actions[half], first), last);
      return;
    }
    report.applied.alloc += tally.alloc;
    report.applied.free += tally.free;
    report.preallocated += tally.pre;
    for (const [k, v] of Object.entries(tally.skipped)) report.skipped[k] = (report.skipped[k] ?? 0) + v;
  };
  const lineOf = (a: Action, fallback: number) => (a.kind === 'prealloc' ? fallback : a.line);

  const applyOne = (txn: Txn, a: Action, tally: { alloc: number; free: number; pre: number; skipped: Record<string, number> }) => {
    const order = a.order;
    const pfn = a.pfn + offset;
    if (a.kind === 'alloc' && a.pfn === 0) return skip(tally.skipped, 'failed allocations (pfn=0x0)');
    if (order > g.maxOrder) return skip(tally.skipped, `orders above the image's largest (${g.maxOrder})`);
    if (!inImage(pfn, order)) return skip(tally.skipped, 'outside the image');
    // A block starts at a multiple of its size: a trace saying otherwise is damaged there.
    if (pfn % 2 ** order !== 0) return skip(tally.skipped, 'pfns not aligned to their order');
    const applied = () => (a.kind === 'free' ? tally.free++ : a.kind === 'prealloc' ? tally.pre++ : tally.alloc++);
    const owner = a.kind === 'prealloc' ? preTrace : a.owner;
    // The typed state edits the index alone: a memdesc image's words and pool go with each event through buddy.ts.
    const typed = memdescs ? 'fallback' : a.kind === 'free' ? state.freeAllocated(pfn, order) : state.allocateExactly(pfn, order, ownerBytes(owner));
    if (typed === 'other-order') return skip(tally.skipped, 'frees whose order is not the block\'s');
    if (typed === 'not-allocated') return skip(tally.skipped, 'frees of blocks the image never saw allocated');
    if (typed === 'done') return applied();
    state.flush();
    state.reset();
    try {
      if (a.kind === 'free') {
        const d = txn.descriptor(pfn);
        if (!(d.flags & PG_ALLOCATED)) return skip(tally.skipped, 'frees of blocks the image never saw allocated');
        if (d.order !== order) return skip(tally.skipped, 'frees whose order is not the block\'s');
        freeAllocated(txn, pfn);
      } else {
        allocateExactly(txn, pfn, order, owner);
      }
      applied();
    } catch (e) {
      if (!(e instanceof OperationError) || e instanceof JournalFullError) throw e;
      skip(tally.skipped, a.kind === 'free' ? 'frees of blocks the image never saw allocated' : /^the memdesc pool is full/.test(e.message) ? 'allocations the memdesc pool had no descriptor for' : 'allocations of blocks not free in the image');
    }
  };

  if (o.assumeAllocated && freedFirst.size) {
    img.raiseRevision(REVISION_REPLAY);
    const pre = [...freedFirst].map(([pfn, order]): Action => ({ kind: 'prealloc', pfn, order }));
    for (let i = 0; i < pre.length; i += batch) {
      apply(pre.slice(i, i + batch), 0, 0);
      yield;
    }
  }
  freedFirst.clear();

  // Second pass: the allocations and frees applied in batches, as kept from the first, or read again with every line counted.
  let pending: Action[] = [];
  let firstLine = 0;
  let raised = false;
  const flush = (last: number) => {
    if (!pending.length) return;
    if (!raised) {
      img.raiseRevision(REVISION_REPLAY);
      raised = true;
    }
    apply(pending, firstLine, last);
    pending = [];
  };
  /** Adds an action; true when a batch is full and was applied (a place to pause). */
  const add = (a: Action & { line: number }): boolean => {
    if (!pending.length) firstLine = a.line;
    pending.push(a);
    if (pending.length < batch) return false;
    progress.done += pending.length;
    flush(a.line);
    return true;
  };
  let tally = first;
  if (kept.complete) {
    for (let i = 0; i < kept.length; i++) {
      if (add({ kind: kept.kind(i), pfn: kept.pfn(i), order: kept.order(i), line: kept.line(i), owner: kept.owner(i) })) yield;
    }
  } else {
    tally = lineTally();
    const again = tally;
    for (const e of eventsOf(lines(), o, (r, n) => countLine(again, r, n))) {
      if (!e) {
        yield;
        continue;
      }
      countEvent(again, e);
      if (e.event !== 'mm_page_alloc' && e.event !== 'mm_page_free') continue;
      if (add({ kind: e.event === 'mm_page_alloc' ? 'alloc' : 'free', pfn: e.pfn, order: e.order, line: e.line, owner: e.event === 'mm_page_alloc' ? ownerTagOf(e, ownerRoom) : '' })) yield;
    }
  }
  progress.done += pending.length;
  flush(tally.lastEventLine);
  const { format, lines: lineCount, headers, events, otherEvents, notUnderstood } = tally;
  Object.assign(report, { format, lines: lineCount, headers, events, otherEvents, notUnderstood });
  return report;
}
