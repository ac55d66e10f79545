/**
 * I/O on a dynamic image (image/ioPool.ts): start it on frames in use, which
 * attaches descriptors from the pool, and complete it, which detaches them.
 * Without `hold` the I/O completes at once (the descriptors are attached for
 * its length only); held, it stays in flight until completeIoOp. Nothing is
 * written to the device: the pool is RAM only.
 */
import { frames } from '../inspect/views';
import type { PmemImage } from './imageCore';
import { completeIo, IO_POOL_DESCRIPTORS, IoFlight, ioPoolBytes, startIo, WhenFull } from './ioPool';

export interface IoReport {
  /** The I/O started (and, unless held, completed). */
  flight: IoFlight;
  held: boolean;
  /** I/Os in flight that completed first to make room (the I/O waited for them). */
  waitedFor: IoFlight[];
  /** The pool: its size, descriptors attached now and at most in this boot, the RAM it reserves. */
  pool: { descriptors: number; attached: number; peak: number; inFlight: IoFlight[]; bytes: number };
}

function poolOf(img: PmemImage): IoReport['pool'] {
  return { descriptors: IO_POOL_DESCRIPTORS, attached: img.io.attached, peak: img.io.peak, inFlight: [...img.io.flights], bytes: ioPoolBytes() };
}

export function ioOp(img: PmemImage, pfn: number, count: number, o: { hold?: boolean; whenFull?: WhenFull } = {}): IoReport {
  img.assertWritable();
  const g = img.geometry;
  const shown = Number.isSafeInteger(pfn) && Number.isSafeInteger(count) && pfn >= 0 && count >= 1 && pfn + count <= g.totalFrames ? frames(img, pfn, count) : [];
  const started = startIo(img.io, g, pfn, count, o.whenFull ?? 'wait', (p) => shown[p - pfn]?.kind === 'allocated');
  img.io = started.pool;
  if (!o.hold) img.io = completeIo(img.io, started.flight.id).pool;
  return { flight: started.flight, held: !!o.hold, waitedFor: started.waitedFor, pool: poolOf(img) };
}

/** Completes the I/O `id` (every I/O in flight when undefined); the flights completed. */
export function completeIoOp(img: PmemImage, id?: number): { completed: IoFlight[]; pool: IoReport['pool'] } {
  img.assertWritable();
  const r = completeIo(img.io, id);
  img.io = r.pool;
  return { completed: r.completed, pool: poolOf(img) };
}

export function ioPoolOf(img: PmemImage): IoReport['pool'] {
  return poolOf(img);
}
