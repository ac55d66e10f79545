/**
 * The dynamic design's pool (seed 003: a dynamic struct page; a pool of
 * struct pages pointed at pmem pfns while I/O is in flight). The image keeps
 * no descriptor for any frame; a fixed pool of IO_POOL_DESCRIPTORS 64-byte
 * descriptors in RAM is attached to the frames of an I/O when it starts and
 * detached when it completes. When the pool has too few free, the I/O waits
 * (for the oldest I/O in flight to complete) or fails, as the caller chooses.
 * The pool is RAM only: a boot (clean or after a crash) starts it empty.
 */
import { OperationError, UsageError } from '../core/errors';
import { DESCRIPTOR_SIZE } from '../format/constants';
import type { Geometry } from '../format/layout';

/** Descriptors in the pool: 64 KiB of RAM, whatever the size of the device. */
export const IO_POOL_DESCRIPTORS = 1024;

/** One I/O in flight: the frames it has descriptors attached to. */
export interface IoFlight {
  id: number;
  pfn: number;
  count: number;
}

/** The pool as it is: replaced, never changed in place, so a copy of the reference is a snapshot. */
export interface IoPool {
  readonly flights: readonly IoFlight[];
  /** Descriptors attached now (the sum of the flights' counts). */
  readonly attached: number;
  /** The most ever attached at once in this boot. */
  readonly peak: number;
  readonly nextId: number;
}

export const EMPTY_IO_POOL: IoPool = { flights: [], attached: 0, peak: 0, nextId: 1 };

export type WhenFull = 'wait' | 'fail';

export interface IoStarted {
  flight: IoFlight;
  /** The I/Os in flight that completed first to make room (when it waited). */
  waitedFor: IoFlight[];
  pool: IoPool;
}

/** Bytes of RAM the pool takes: all of it reserved, whatever is attached. */
export const ioPoolBytes = (): number => IO_POOL_DESCRIPTORS * DESCRIPTOR_SIZE;

/** Whether the image runs the dynamic design. */
export const hasIoPool = (g: Pick<Geometry, 'descriptors'>): boolean => g.descriptors === 'pool';

/**
 * The pool after I/O on frames [pfn, pfn + count) starts: `pool` with a new
 * flight. `inUse(p)` says whether frame p is allocated (I/O is on pages in use).
 */
export function startIo(pool: IoPool, g: Pick<Geometry, 'descriptors' | 'totalFrames'>, pfn: number, count: number, whenFull: WhenFull, inUse: (pfn: number) => boolean): IoStarted {
  if (!hasIoPool(g)) throw new UsageError('only a dynamic image attaches descriptors for I/O: the other designs keep one for every frame (or none at all)');
  if (!Number.isSafeInteger(count) || count < 1) throw new UsageError(`the I/O needs at least one frame, not ${count}`);
  if (count > IO_POOL_DESCRIPTORS) throw new UsageError(`an I/O of ${count} frames needs more descriptors than the pool has (${IO_POOL_DESCRIPTORS}): it could never start`);
  if (!Number.isSafeInteger(pfn) || pfn < 0 || pfn + count > g.totalFrames) throw new UsageError(`pfn ${pfn} + ${count} frames is outside the image (${g.totalFrames} frames)`);
  for (let p = pfn; p < pfn + count; p++) {
    if (!inUse(p)) throw new OperationError(`pfn ${p} is not allocated: I/O is on pages in use (nothing was attached)`, { pfn: p });
    const busy = pool.flights.find((f) => p >= f.pfn && p < f.pfn + f.count);
    if (busy) throw new OperationError(`pfn ${p} is under I/O already (I/O ${busy.id}, pfn ${busy.pfn} + ${busy.count}): a frame has one descriptor at a time (nothing was attached)`, { pfn: p });
  }
  const waitedFor: IoFlight[] = [];
  const flights = [...pool.flights];
  let attached = pool.attached;
  if (attached + count > IO_POOL_DESCRIPTORS) {
    if (whenFull === 'fail') {
      throw new OperationError(`the I/O pool has ${IO_POOL_DESCRIPTORS - attached} of ${IO_POOL_DESCRIPTORS} descriptors free and the I/O needs ${count}: it fails (it could wait for I/O in flight to complete)`, { pfn });
    }
    // Waiting: the oldest I/O in flight completes first, then the next, until there is room.
    while (attached + count > IO_POOL_DESCRIPTORS) {
      const done = flights.shift()!;
      attached -= done.count;
      waitedFor.push(done);
    }
  }
  const flight = { id: pool.nextId, pfn, count };
  flights.push(flight);
  attached += count;
  return { flight, waitedFor, pool: { flights, attached, peak: Math.max(pool.peak, attached), nextId: pool.nextId + 1 } };
}

/** The pool after the I/O `id` completes (every I/O in flight when `id` is undefined), and the flights that completed. */
export function completeIo(pool: IoPool, id?: number): { pool: IoPool; completed: IoFlight[] } {
  if (id !== undefined && !pool.flights.some((f) => f.id === id)) {
    throw new UsageError(`no I/O ${id} is in flight${pool.flights.length ? ` (in flight: ${pool.flights.map((f) => f.id).join(', ')})` : ''}`);
  }
  const completed = pool.flights.filter((f) => id === undefined || f.id === id);
  const flights = pool.flights.filter((f) => !completed.includes(f));
  return { pool: { ...pool, flights, attached: flights.reduce((n, f) => n + f.count, 0) }, completed };
}

/** The flight whose frames hold `pfn`, if any. */
export function flightAt(pool: IoPool, pfn: number): IoFlight | undefined {
  return pool.flights.find((f) => pfn >= f.pfn && pfn < f.pfn + f.count);
}
