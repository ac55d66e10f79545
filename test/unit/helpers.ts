/** Shared test helpers: images in memory, and a logical snapshot of allocator state. */
import { seededRandom } from '../../src/engine/core/random';
import { PmemImage, CreateOptions, MemoryStore, blocks, sections, Store, PAGE_SIZE } from '../../src/engine';
import { SB } from '../../src/engine/format/superblock';
import { crc32, dataView } from '../../src/engine/core/bytes';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export function newImage(options: Partial<CreateOptions> & { sizeBytes?: number } = {}): { store: MemoryStore; img: PmemImage } {
  const sizeBytes = options.sizeBytes ?? 64 * MiB;
  const store = new MemoryStore(sizeBytes);
  PmemImage.create(store, { uuid: '00000000-0000-4000-8000-000000000001', nowMs: 0, ...options, sizeBytes });
  const img = PmemImage.open(store, {});
  return { store, img };
}

export interface Snapshot {
  /** "pfn:order" of every free block head. */
  free: string[];
  /** "pfn:order:owner" of every allocated block head. */
  allocated: string[];
  /** Sections handed to the allocator. */
  handedOver: number[];
}

/** The allocator's logical state, independent of boot generation and volatile fields. */
export function snapshot(img: PmemImage): Snapshot {
  const free: string[] = [];
  const allocated: string[] = [];
  const handedOver: number[] = [];
  for (const s of sections(img)) {
    if (s.state === 'never') continue;
    if (s.reservedFrames < s.frames) handedOver.push(s.index);
    for (const b of blocks(img, s.firstPfn, s.frames)) {
      if (b.free) free.push(`${b.pfn}:${b.order}`);
      else allocated.push(`${b.pfn}:${b.order}:${b.owner}`);
    }
  }
  return { free, allocated, handedOver };
}

/** Stamps both superblock copies with another format revision (as a newer build would write), CRCs kept valid. */
export function stampRevision(store: Store, revision: number): void {
  stampSuperblockField(store, SB.formatRevision, revision);
}

/** Stamps both superblock copies with another format version (as an older or newer build would write), CRCs kept valid. */
export function stampVersion(store: Store, version: number): void {
  stampSuperblockField(store, SB.formatVersion, version);
}

function stampSuperblockField(store: Store, field: number, value: number): void {
  for (const at of [0, store.size - PAGE_SIZE]) {
    const sb = store.read(at, PAGE_SIZE).slice();
    const dv = dataView(sb);
    dv.setUint16(field, value, true);
    dv.setUint32(SB.crc, crc32(sb.subarray(0, SB.crc)), true);
    store.write(at, sb);
  }
  store.flush();
}

/** A small seeded generator, so a failing case can be replayed from its seed (the engine's, as workloads use). */
export const rng = seededRandom;

/** Asserts two images hold the same bytes outside the journal and the history (which record operations, not state), RAM descriptors included. */
export function assertSameState(a: { store: Store; img: PmemImage }, b: { store: Store; img: PmemImage }): void {
  const L = a.img.layout;
  for (const name of ['sectionTable', 'freeArea', 'memmap', 'data'] as const) {
    const r = L[name];
    const at = r.startPfn * PAGE_SIZE;
    const x = a.store.read(at, r.frames * PAGE_SIZE);
    const y = b.store.read(at, r.frames * PAGE_SIZE);
    const diff = x.findIndex((v, i) => v !== y[i]);
    if (diff !== -1) throw new Error(`${name} differs at byte ${at + diff}`);
  }
  for (let s = 0; s < a.img.geometry.sectionCount; s++) {
    const x = a.img.ram.get(s);
    const y = b.img.ram.get(s);
    if ((x && [...x].join()) !== (y && [...y].join())) throw new Error(`RAM descriptors of section ${s} differ`);
  }
}

/** The first byte at which two stores differ, or -1 when they hold the same bytes. */
export function firstDifference(a: MemoryStore, b: MemoryStore): number {
  const chunk = 1 << 20;
  for (let at = 0; at < a.size; at += chunk) {
    const n = Math.min(chunk, a.size - at);
    const x = a.read(at, n);
    const y = b.read(at, n);
    if (Buffer.compare(x, y) !== 0) return at + x.findIndex((v, k) => v !== y[k]);
  }
  return -1;
}

/** The engine's: a DataView of exactly an array's bytes (its small arrays share slabs). */
export { dataView };

/** Counts the turns of the event loop (setImmediate) from now until `stop()`. */
export function turnCounter(): { turns: () => number; stop: () => void } {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return { turns: () => turns, stop: () => (running = false) };
}

/**
 * The turns an asynchronous operation gave up (each a timer of its own, as
 * TimeSlice.yieldTurn waits for) before its first progress report. Counted by
 * a chain of timers started first: timers of one delay run in the order they
 * were set, so each of the chain's runs before the operation's next one,
 * however loaded the machine (turns counted by setImmediate were not: a timer
 * already due runs before the loop's immediates).
 */
export async function turnsBeforeFirstProgress(run: (onProgress: () => void) => Promise<unknown>): Promise<number> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  let atFirst = -1;
  try {
    await run(() => {
      if (atFirst < 0) atFirst = turns;
    });
  } finally {
    running = false;
  }
  return atFirst;
}
