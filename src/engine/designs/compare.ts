/**
 * Compare designs: one image per design, in memory, the same seeded workload
 * on each, and what each design costs and keeps, measured on the image (not
 * computed from a formula, except the VM row and the RAM a real kernel would
 * give the descriptors, which are the costs calculator's):
 *
 *   memmap        bytes on the device, in RAM, and in a VM (host plus guest)
 *   workload      bytes written and flushes per operation, operations a second
 *   boot          a clean boot's time, and the lazy-init work the first
 *                 operations after it do (sections and bytes)
 *   reboot        what a clean reboot loses: allocated blocks whose owner or
 *                 order the next boot no longer knows
 *   crash         a power failure part way through an allocation: the
 *                 allocation is rolled back or forward, and what else is lost
 *   profile       a reboot into the debug profile (extended fields): RAM per
 *                 descriptor, and what the blocks keep
 *   checker       what `pmem check` verifies and cannot, and what it found
 *
 * Every operation is durable before the next begins (no deferred write-back),
 * so the designs are compared on the same guarantee.
 */
import { OperationError, UsageError } from '../core/errors';
import { memmapCosts } from '../costs/costs';
import { DESCRIPTOR_SIZE, PAGE_SIZE } from '../format/constants';
import { descriptorBytesInRam, findProfile, type KernelProfile } from '../format/profiles';
import { structPageMismatch } from '../format/structPageFit';
import { PmemImage } from '../image/imageCore';
import { allocOp, readSectionTable } from '../image/ops';
import { sectionInitGeneration } from '../format/sectionTable';
import { check } from '../inspect/checker';
import { blocks } from '../inspect/views';
import { WORKLOAD_KINDS, WorkloadKind, workloadSteps } from '../replay/workload';
import { runInSlices, runToEnd, Steps } from '../core/timeSlice';
import { LargeControl, OperationCancelled } from '../image/largeOps';
import { CountingStore } from '../store/countingStore';
import { MemoryStore } from '../store/memoryStore';
import { builtDesign, DesignName } from './designs';
import { hasIoPool, IO_POOL_DESCRIPTORS } from '../image/ioPool';
import { hasUnitDescriptors, UNIT_ORDER, unitCount } from '../alloc/units2m';
import { hasMemdescs, poolSlotsUsed } from '../alloc/memdescs';
import { memdescPoolSlots } from '../format/memdesc';
import { descriptorsOnDevice, type Geometry, keepsDescriptors } from '../format/layout';

export interface CompareOptions {
  designs: string[];
  sizeBytes: number;
  workload: WorkloadKind;
  ops: number;
  seed: number;
  /** Told as the workloads run: operations done of every design's together, and the design running. */
  onProgress?: (done: number, total: number, design: string) => void;
  /** Given each design's image as it ends (shut down cleanly), to keep: otherwise nothing is left of it. */
  onImage?: (design: DesignName, image: MemoryStore) => void;
}

/** What a reboot, a crash or a profile change left of the allocated blocks whose owner the image knew. */
export interface BlocksKept {
  /** Allocated blocks before whose owner the image knew (a block an earlier boot forgot is not counted again). */
  blocks: number;
  /** Of them, those the next boot no longer knows the owner of. */
  ownersLost: number;
  /** Of them, those the next boot sees as another order (single frames, for a design that keeps none). */
  ordersLost: number;
}

export interface DesignComparison {
  design: DesignName;
  summary: string;
  source: string;
  memmap: {
    deviceBytes: number;
    /** What a kernel gives the descriptors in RAM under the default profile (and under the debug profile). */
    ramBytes: number;
    ramBytesDebug: number;
    /** The device handed to a VM guest: the guest's memmap and the host's for the same memory. */
    vm: { guestBytes: number; hostBytes: number; totalBytes: number };
  };
  workload: {
    ops: number; seconds: number; opsPerSecond: number; bytesWritten: number; flushes: number; bytesPerOp: number; flushesPerOp: number; allocated: number; failed: number; freed: number; reboots: number; crashes: number;
    /** The dynamic design: I/O started on its blocks, and the most descriptors its pool had attached at once. */
    io?: { started: number; peakAttached: number };
    /** The 2m design: requests below its 2 MiB unit, refused. */
    refused?: number;
  };
  boot: { seconds: number; lazyInit: { ops: number; sections: number; bytesWritten: number } };
  reboot: BlocksKept;
  crash: { outcome: 'rolled back' | 'rolled forward'; kept: BlocksKept };
  /**
   * A reboot into the debug profile, whose descriptor (core and extended part) is larger than 64 bytes: what this
   * design keeps, and what Linux does with the same namespace (it refuses one whose reserved struct page is smaller).
   */
  profileChange: { to: string; ramBytesPerDescriptor: [number, number]; kept: BlocksKept; linux: string };
  checker: { verifies: string; cannot: string; ok: boolean; problems: number; framesChecked: number };
  /** The memdesc design: its pool of per-allocation descriptors on the device, and how many are in use at the end. */
  pool?: { descriptors: number; used: number; bytes: number };
}

export interface CompareReport {
  sizeBytes: number;
  workload: WorkloadKind;
  ops: number;
  seed: number;
  designs: DesignComparison[];
}

/** Operations after a clean boot whose lazy initialisation is measured. */
const LAZY_INIT_OPS = 1000;
/** The profile a reboot changes to: it adds every extended field. */
const PROFILE_CHANGE = 'debug';

type Held = Map<number, { order: number; owner: string }>;

function allocatedBlocks(img: PmemImage): Held {
  const d = img.layout.data;
  const out: Held = new Map();
  for (const b of blocks(img, d.startPfn, d.frames)) if (!b.free) out.set(b.pfn, { order: b.order, owner: b.owner });
  return out;
}

/** Of the blocks in `before` with a known owner, those `after` no longer knows as they were. */
function kept(before: Held, after: Held): BlocksKept {
  let blocks = 0;
  let ownersLost = 0;
  let ordersLost = 0;
  for (const [pfn, b] of before) {
    if (!b.owner) continue;
    blocks++;
    const a = after.get(pfn);
    if (!a || a.owner !== b.owner) ownersLost++;
    if (!a || a.order !== b.order) ordersLost++;
  }
  return { blocks, ownersLost, ordersLost };
}

/** Runs `steps`, pausing where they pause; the time spent in them (not in the pauses), in seconds. */
function* timed<T>(steps: Steps<T>): Generator<void, [T, number]> {
  let busy = 0;
  for (;;) {
    const t = performance.now();
    const r = steps.next();
    busy += performance.now() - t;
    if (r.done) return [r.value, busy / 1000];
    yield;
  }
}

function seconds<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, (performance.now() - t) / 1000];
}

/** Boots the image on `store` again after a clean shutdown (into `profile` when given); the boot's time. */
function reboot(img: PmemImage, store: CountingStore, profile?: string): [PmemImage, number] {
  img.shutdown();
  return seconds(() => PmemImage.open(store, profile ? { profile } : {}));
}

/** What Linux does on the same reboot (format/structPageFit.ts): a memmap in RAM is simply built at the new size. */
function linuxOnProfileChange(g: Pick<Geometry, 'memmap' | 'descriptors'>, profile: KernelProfile): string {
  const memmap = g.memmap;
  // Only core64 (--map=dev) and ram64 (--map=mem) are what Linux builds; the other designs are the threads' own.
  if (g.descriptors !== undefined) return 'has no counterpart: Linux keeps a struct page for every frame';
  if (memmap === 'ram') return `builds the memmap in RAM with ${descriptorBytesInRam(profile)}-byte struct pages`;
  const m = structPageMismatch(memmap, profile);
  return m ? `refuses the namespace: "${m.linux}" (${m.bytes}-byte struct page, ${m.reserved} reserved)` : 'boots';
}

function* compareOne(name: string, o: CompareOptions, before: number): Steps<DesignComparison> {
  const design = builtDesign(name);
  const memory = new MemoryStore(o.sizeBytes);
  const store = new CountingStore(memory);
  PmemImage.create(store, { sizeBytes: o.sizeBytes, ...design.geometry });
  let img = PmemImage.open(store);
  const g = img.geometry;
  const onDevice = img.layout.memmap.frames * PAGE_SIZE;
  // RAM a descriptor takes under a profile: the whole of it with the memmap in RAM (ram64, and the dynamic design's pool),
  // its extended part where the descriptors are on the device; there is one per frame, per 2 MiB unit (2m) or per
  // allocation in the pool (memdesc). Without descriptors there is none to keep anywhere.
  const full = (profile: string) => descriptorBytesInRam(findProfile(profile)!);
  const perDescriptor = (profile: string) => (!keepsDescriptors(g) && !hasIoPool(g) ? 0 : descriptorsOnDevice(g) ? full(profile) - DESCRIPTOR_SIZE : full(profile));
  const descriptorsInRam = hasIoPool(g) ? IO_POOL_DESCRIPTORS : hasUnitDescriptors(g) ? unitCount(g) : hasMemdescs(g) ? memdescPoolSlots(g.totalFrames) : g.totalFrames;
  const ramTotal = (profile: string) => descriptorsInRam * perDescriptor(profile);
  const perPage = memmapCosts({ deviceBytes: o.sizeBytes }).rows.find((r) => r.descriptorBytes === DESCRIPTOR_SIZE && r.granularityBytes === PAGE_SIZE)!.vm;
  const vm = hasUnitDescriptors(g) || g.descriptors === 'twoWord' || hasMemdescs(g) ? { guestMemmapBytes: onDevice, hostMemmapBytes: perPage.hostMemmapBytes, totalBytes: onDevice + perPage.hostMemmapBytes } : !keepsDescriptors(g) ? { guestMemmapBytes: 0, hostMemmapBytes: perPage.hostMemmapBytes, totalBytes: perPage.hostMemmapBytes } : perPage;

  // The workload, every operation durable before the next.
  store.take();
  const total = o.designs.length * o.ops;
  const onProgress = (done: number) => o.onProgress?.(before + done, total, name);
  const [run, runSeconds] = yield* timed(workloadSteps(img, { kind: o.workload, ops: o.ops, seed: o.seed, onProgress }));
  img = run.img;
  const written = store.take();
  const r = run.report;
  const count = (m: Record<number, number>) => Object.values(m).reduce((a, b) => a + b, 0);

  // A clean reboot: what the next boot knows of the allocated blocks (the views read a stale section as its initialisation would leave it).
  const beforeReboot = allocatedBlocks(img);
  let bootSeconds: number;
  [img, bootSeconds] = reboot(img, store);
  const rebootKept = kept(beforeReboot, allocatedBlocks(img));

  // Another clean boot, then the lazy initialisation the first operations after it do.
  [img] = reboot(img, store);
  store.take();
  yield;
  const lazy = yield* workloadSteps(img, { kind: 'churn', ops: LAZY_INIT_OPS, seed: o.seed + 1 });
  img = lazy.img;
  const lazyWritten = store.take();
  const table = readSectionTable(img);
  let lazySections = 0;
  for (let s = 0; s < g.sectionCount; s++) if (sectionInitGeneration(table, s) === img.bootGeneration) lazySections++;

  // A power failure part way through an allocation: rolled back or forward, and what else the next boot no longer knows.
  const beforeCrash = allocatedBlocks(img);
  // The smallest block the design takes: a frame, or a 2m image's 2 MiB unit.
  const smallest = hasUnitDescriptors(g) ? UNIT_ORDER : 0;
  img.simulateCrash(3, (i) => allocOp(i, { order: smallest, owner: 'crash' }));
  img = PmemImage.open(store);
  const afterCrash = allocatedBlocks(img);
  const forward = [...afterCrash].some(([pfn, b]) => b.owner === 'crash' && !beforeCrash.has(pfn));
  const crashKept = kept(beforeCrash, afterCrash);

  // A reboot into a profile with extended fields, over blocks of the five smallest orders allocated in this boot (those that fit).
  for (let order = smallest; order <= Math.min(smallest + 4, g.maxOrder); order++) {
    try {
      allocOp(img, { order, owner: 'profile' });
    } catch (e) {
      if (!(e instanceof OperationError)) throw e;
    }
  }
  const beforeProfile = allocatedBlocks(img);
  [img] = reboot(img, store, PROFILE_CHANGE);
  const profileKept = kept(beforeProfile, allocatedBlocks(img));

  const pool = hasMemdescs(g) ? { descriptors: memdescPoolSlots(g.totalFrames), used: poolSlotsUsed((at, n) => store.read(at, n), img), bytes: memdescPoolSlots(g.totalFrames) * DESCRIPTOR_SIZE } : undefined;
  const report = check(img);
  img.close();
  o.onImage?.(design.name, memory);
  return {
    design: design.name, summary: design.summary, source: design.source,
    memmap: { deviceBytes: onDevice, ramBytes: ramTotal('default'), ramBytesDebug: ramTotal(PROFILE_CHANGE), vm: { guestBytes: vm.guestMemmapBytes, hostBytes: vm.hostMemmapBytes, totalBytes: vm.totalBytes } },
    workload: {
      ops: o.ops, seconds: runSeconds, opsPerSecond: o.ops / runSeconds, bytesWritten: written.bytesWritten, flushes: written.flushes,
      bytesPerOp: written.bytesWritten / o.ops, flushesPerOp: written.flushes / o.ops,
      allocated: count(r.allocated), failed: count(r.failed), freed: r.freed, reboots: r.reboots, crashes: r.crashes,
      ...(r.io ? { io: r.io } : {}),
      ...(r.refused ? { refused: r.refused } : {}),
    },
    boot: { seconds: bootSeconds, lazyInit: { ops: LAZY_INIT_OPS, sections: lazySections, bytesWritten: lazyWritten.bytesWritten } },
    reboot: rebootKept,
    crash: { outcome: forward ? 'rolled forward' : 'rolled back', kept: crashKept },
    profileChange: { to: PROFILE_CHANGE, ramBytesPerDescriptor: [perDescriptor('default'), perDescriptor(PROFILE_CHANGE)], kept: profileKept, linux: linuxOnProfileChange(g, findProfile(PROFILE_CHANGE)!) },
    checker: { ...design.checks!, ok: report.ok, problems: report.problems.length, framesChecked: report.framesChecked },
    ...(pool ? { pool } : {}),
  };
}

/** Runs the comparison: each design in turn, the same workload and seed. */
export function compareDesigns(o: CompareOptions): CompareReport {
  return runToEnd(compareSteps(o));
}

/**
 * As compareDesigns, giving up the thread whenever it has held it for a
 * slice (an editor's extension host), with progress in operations; a cancel
 * stops it at the next pause and throws OperationCancelled. Its images are
 * in memory: nothing is left behind.
 */
export async function compareDesignsAsync(o: CompareOptions, control: LargeControl = {}): Promise<CompareReport> {
  let done = 0;
  const total = o.designs.length * o.ops;
  const steps = compareSteps({ ...o, onProgress: (d, t, design) => {
    done = d;
    o.onProgress?.(d, t, design);
    control.onProgress?.(d, t);
  } });
  const r = await runInSlices(steps, { stopped: () => control.cancelled?.() === true });
  if (!r) throw new OperationCancelled('Compare Designs', done, total, 'operations', 'its images were in memory, nothing is left of them');
  return r;
}

function* compareSteps(o: CompareOptions): Steps<CompareReport> {
  if (!o.designs.length) throw new UsageError('name at least one design to compare');
  const seen = new Set<string>();
  for (const d of o.designs) {
    if (seen.has(d)) throw new UsageError(`design ${d} is named twice`);
    seen.add(d);
    builtDesign(d); // every name checked before the first image is made
  }
  if (!(WORKLOAD_KINDS as readonly string[]).includes(o.workload)) throw new UsageError(`workload must be one of ${WORKLOAD_KINDS.join(', ')}, not "${o.workload}"`);
  if (!Number.isSafeInteger(o.ops) || o.ops < 1) throw new UsageError(`ops must be a whole number, at least 1, not ${o.ops}`);
  const report: CompareReport = { sizeBytes: o.sizeBytes, workload: o.workload, ops: o.ops, seed: o.seed, designs: [] };
  for (const [i, d] of o.designs.entries()) {
    report.designs.push(yield* compareOne(d, o, i * o.ops));
    yield;
  }
  return report;
}
