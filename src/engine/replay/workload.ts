/**
 * Synthetic workloads, seeded, for seeing how memory fragments without a
 * trace: each operation is an allocation, a free, a reboot or a crash, run
 * through the engine like a user's (one history step each; a crash strikes
 * at a chosen persistence point of an allocation and the next boot recovers).
 *
 *   churn       a filesystem-like mix: mostly order 0 to 3, a few order 9,
 *               allocating until about 70 % of the memory is in use, then
 *               freeing and allocating around that
 *   fragmenter  order-0 allocations (two thirds of the operations), then
 *               every other one of them freed: single free frames everywhere
 *   hugepages   order-9 requests (one operation in eight) over a background
 *               of order-0 allocations and frees that fills memory
 *   reboots     churn with a clean reboot every 500 operations and a crash
 *               in the middle of an allocation every 1,500
 */
import { OperationError, UsageError } from '../core/errors';
import { seededRandom } from '../core/random';
import { runToEnd, Steps, TimeSlice } from '../core/timeSlice';
import { LargeControl, OperationCancelled } from '../image/largeOps';
import { PmemImage } from '../image/imageCore';
import { allocOp, freeOp, freeOrderOp } from '../image/ops';
import { keepsDescriptors } from '../format/layout';
import { completeIoOp, ioOp } from '../image/ioOps';
import { hasIoPool } from '../image/ioPool';
import { hasUnitDescriptors, UNIT_ORDER } from '../alloc/units2m';
import { ALLOCATEE_BYTES } from '../format/twoWord';

/** A dynamic image's workload keeps at most this many I/Os in flight, each on at most IO_FRAMES frames of a block. */
const IO_IN_FLIGHT = 8;
const IO_FRAMES = 64;
import { deferHomeWrites } from '../image/deferredHome';
import { fragmentation } from '../inspect/views';
import type { ZoneFragmentation } from '../inspect/frag';

export const WORKLOAD_KINDS = ['churn', 'fragmenter', 'hugepages', 'reboots'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** Each kind in a line, for pickers. */
export const WORKLOAD_SUMMARY: Record<WorkloadKind, string> = {
  churn: 'a filesystem-like mix of orders 0 to 3 and a few 9, filling about 70 % of memory',
  fragmenter: 'order-0 allocations, then every other one freed',
  hugepages: 'order-9 requests over order-0 churn that fills memory',
  reboots: 'churn with a clean reboot every 500 operations and a crash every 1,500',
};

export interface WorkloadOptions {
  kind: WorkloadKind;
  /** Operations to run (allocations, frees, reboots and crashes together). */
  ops: number;
  seed: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * Holds one-block operations for a deferred write-back (image/deferredHome.ts),
   * all written back before the run returns or throws (an editing session
   * records them with the run's other writes, as one edit).
   */
  deferWriteBack?: boolean;
}

export interface WorkloadReport {
  kind: WorkloadKind;
  ops: number;
  seed: number;
  /** Per order: allocations that succeeded and that failed (out of memory of that order). */
  allocated: Record<number, number>;
  failed: Record<number, number>;
  freed: number;
  reboots: number;
  crashes: number;
  /** Frames allocated by the workload and still allocated at its end. */
  framesInUse: number;
  /** Linux's fragmentation figures at the end. */
  zones: ZoneFragmentation[];
  /** A 2m image: requests below its 2 MiB unit, refused. */
  refused?: number;
  /** A dynamic image: I/O started on blocks just allocated (held, at most IO_IN_FLIGHT at once), and the most descriptors attached at once. */
  io?: { started: number; peakAttached: number };
}

/** Orders of the churn mix, each with its weight. */
const CHURN_ORDERS: Array<[number, number]> = [[0, 50], [1, 20], [2, 12], [3, 10], [4, 5], [9, 3]];

function pick(r: () => number, weights: Array<[number, number]>): number {
  const total = weights.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of weights) if ((x -= w) < 0) return v;
  return weights[weights.length - 1][0];
}

/**
 * Runs a workload on a booted image; returns the image it ends on (a reboot
 * or a crash boots a new one on the same store) and what happened.
 */
export function runWorkload(start: PmemImage, o: WorkloadOptions): { img: PmemImage; report: WorkloadReport } {
  return runToEnd(workloadSteps(start, o));
}

/** Kinds that keep running on the image they started on (no reboot, no crash): what an editing session can take. */
export const IN_PLACE_KINDS: readonly WorkloadKind[] = ['churn', 'fragmenter', 'hugepages'];

/**
 * As runWorkload, giving up the thread once it has held it for a slice, with
 * progress in operations; a cancel stops it between two operations and
 * throws OperationCancelled (an editing session puts back what it did).
 * Only kinds that keep to the image they started on.
 */
export async function runWorkloadAsync(img: PmemImage, o: WorkloadOptions, control: LargeControl = {}): Promise<WorkloadReport> {
  if (!IN_PLACE_KINDS.includes(o.kind)) throw new UsageError(`a ${o.kind} workload reboots the machine; run it with pmem workload`);
  const steps = workloadSteps(img, { ...o, onProgress: (done, total) => control.onProgress?.(done, total) });
  const slice = new TimeSlice();
  let done = 0;
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value.report;
    done++;
    // A cancel asked meanwhile (from a progress report, or between turns) stops it at the next operation.
    if (slice.over()) await slice.yieldTurn();
    if (!control.cancelled?.()) continue;
    steps.return(undefined as unknown as { img: PmemImage; report: WorkloadReport });
    throw new OperationCancelled(`${o.kind} workload`, Math.min(done, o.ops), o.ops, 'operations');
  }
}

/** The workload as steps: it pauses after each operation (for a driver that shares its thread, as compareDesignsAsync does). */
export function* workloadSteps(start: PmemImage, o: WorkloadOptions): Steps<{ img: PmemImage; report: WorkloadReport }> {
  if (!Number.isSafeInteger(o.ops) || o.ops < 1) throw new RangeError(`ops must be a whole number, at least 1, not ${o.ops}`);
  let img = start;
  const hold = (i: PmemImage) => {
    if (o.deferWriteBack && i.geometry.memmap === 'device') deferHomeWrites(i, true);
  };
  hold(img);
  const r = seededRandom(o.seed);
  const maxOrder = img.geometry.maxOrder;
  const capacity = img.layout.data.frames;
  const live: Array<{ pfn: number; order: number }> = [];
  const report: WorkloadReport = { kind: o.kind, ops: o.ops, seed: o.seed, allocated: {}, failed: {}, freed: 0, reboots: 0, crashes: 0, framesInUse: 0, zones: [] };
  let inUse = 0;
  // A two-word image's allocatee holds 8 bytes of an owner tag; the others hold 16.
  const owner = `${o.kind}/${o.seed}`.slice(0, img.geometry.descriptors === 'twoWord' ? ALLOCATEE_BYTES : 16);
  const alloc = (order: number): void => {
    if (order > maxOrder) order = maxOrder;
    // A 2m image takes nothing below its 2 MiB unit: such a request is refused, and counted.
    if (hasUnitDescriptors(img.geometry) && order < UNIT_ORDER) {
      report.refused = (report.refused ?? 0) + 1;
      return;
    }
    try {
      const pfn = allocOp(img, { order, owner }).blocks[0].pfn;
      live.push({ pfn, order });
      io(pfn, order);
      inUse += 2 ** order;
      report.allocated[order] = (report.allocated[order] ?? 0) + 1;
    } catch (e) {
      if (!(e instanceof OperationError)) throw e;
      report.failed[order] = (report.failed[order] ?? 0) + 1;
    }
  };
  // A dynamic image does I/O on a quarter of the blocks it allocates, held in flight, the oldest completed first;
  // its own random numbers, so the allocations and frees are those of every other design.
  const ioRandom = seededRandom(o.seed ^ 0x5eed_0010);
  const io = (pfn: number, order: number): void => {
    if (!hasIoPool(img.geometry) || ioRandom() >= 0.25) return;
    report.io ??= { started: 0, peakAttached: 0 };
    if (img.io.flights.length >= IO_IN_FLIGHT) completeIoOp(img, img.io.flights[0].id);
    ioOp(img, pfn, Math.min(2 ** order, IO_FRAMES), { hold: true, whenFull: 'wait' });
    report.io.started++;
    report.io.peakAttached = Math.max(report.io.peakAttached, img.io.attached);
  };
  const freeAt = (i: number): void => {
    const [b] = live.splice(i, 1);
    // A page under I/O is not freed: its I/O completes first.
    for (const f of img.io.flights) if (f.pfn >= b.pfn && f.pfn < b.pfn + 2 ** b.order) completeIoOp(img, f.id);
    // A design without descriptors cannot look the order up: the caller names it, as Linux's free_pages does.
    if (!keepsDescriptors(img.geometry)) freeOrderOp(img, b.pfn, b.order);
    else freeOp(img, [b.pfn]);
    inUse -= 2 ** b.order;
    report.freed++;
  };
  const freeRandom = (): void => {
    if (live.length) freeAt(Math.floor(r() * live.length));
  };
  const churnStep = (): void => {
    const target = 0.7 * capacity;
    if (!live.length || (inUse < target ? r() < 0.75 : r() < 0.35)) alloc(pick(r, CHURN_ORDERS));
    else freeRandom();
  };
  const reboot = (): void => {
    img.shutdown();
    img = PmemImage.open(img.store, { file: img.file });
    hold(img);
    report.reboots++;
  };
  const crash = (): void => {
    // Power fails part way through an allocation: the next boot rolls it back or forward.
    const order = Math.max(pick(r, CHURN_ORDERS), hasUnitDescriptors(img.geometry) ? UNIT_ORDER : 0);
    const points = 1 + Math.floor(r() * 6);
    img.simulateCrash(points, (i) => allocOp(i, { order, owner }));
    img = PmemImage.open(img.store, { file: img.file });
    hold(img);
    // Recovery may have kept that allocation: it stays allocated, outside the blocks the workload goes on with.
    report.crashes++;
  };

  const fragmenterAllocs = Math.ceil((o.ops * 2) / 3);
  // Whatever ends the run (its last operation, an error, a cancel), what is held is written back before it returns:
  // an editing session records those writes with the workload's own.
  try {
    for (let i = 0; i < o.ops; i++) {
      switch (o.kind) {
        case 'churn':
          churnStep();
          break;
        case 'fragmenter':
          if (i < fragmenterAllocs) alloc(0);
          else {
            // Every other allocation, oldest first: the one at the front, then skip its neighbour.
            const k = i - fragmenterAllocs;
            if (k < live.length) freeAt(k);
          }
          break;
        case 'hugepages':
          if (i % 8 === 7) alloc(9);
          else if (inUse < 0.9 * capacity || r() < 0.5) alloc(0);
          else freeRandom();
          break;
        case 'reboots':
          if (i > 0 && i % 1500 === 0) crash();
          else if (i > 0 && i % 500 === 0) reboot();
          else churnStep();
          break;
      }
      if (i % 64 === 0) o.onProgress?.(i, o.ops);
      yield;
    }
  } finally {
    deferHomeWrites(img, false);
  }
  o.onProgress?.(o.ops, o.ops);
  report.framesInUse = inUse;
  report.zones = fragmentation(img);
  return { img, report };
}
