/**
 * Engine benchmarks: prints figures, asserts nothing. Run with `npm run bench`.
 *   - create and info of a 1 TiB image file (time, disk used)
 *   - alloc/free operations per second, in memory and on a file (with fdatasync barriers)
 *   - check speed on 64 GiB images
 *   - history: bytes per allocation or free, steps kept on 64 MiB and 1 TiB, and
 *     stepping back to the oldest step kept of a 1 TiB image whose ring is full
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allocOp, check, freeOp, info, initAllOp, MemoryStore, PmemImage, stateAt, stepRange } from '../src/engine';
import { FileStore } from '../src/engine/node/fileStore';
import { fmt, median, timeRuns } from './stats';

const GiB = 2 ** 30;
const TiB = 2 ** 40;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-bench-'));
const quick = process.argv.includes('--quick');
/** `--only=NAME` runs one of: create, ops, check, history. */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

function createFile(file: string, sizeBytes: number, options = {}): void {
  fs.rmSync(file, { force: true });
  const store = FileStore.create(file, sizeBytes, { overwrite: true });
  PmemImage.create(store, { sizeBytes, ...options });
  store.close();
}

function benchCreateInfo(): void {
  const file = path.join(dir, 'tib.pmem');
  const create = timeRuns(quick ? 3 : 5, () => createFile(file, TiB));
  const disk = fs.statSync(file).blocks * 512;
  const open = timeRuns(quick ? 3 : 7, () => {
    const img = PmemImage.open(FileStore.open(file, { readOnly: true }), { readOnly: true });
    info(img);
    img.store.close();
  });
  console.log(`create 1 TiB image: median ${fmt(create.medianMs)} (runs ${create.runsMs.map(fmt).join(', ')}), ${(disk / 2 ** 20).toFixed(2)} MiB on disk (${((disk / TiB) * 100).toExponential(2)} % of its size)`);
  console.log(`open + info on 1 TiB: median ${fmt(open.medianMs)}`);
}

function opsPerSecond(img: PmemImage, n: number): number {
  const t = performance.now();
  const held: number[] = [];
  for (let i = 0; i < n; i++) {
    if (held.length > 64 || (held.length && i % 3 === 0)) freeOp(img, [held.shift()!]);
    else held.push(allocOp(img, { order: i % 4 }).blocks[0].pfn);
  }
  return n / ((performance.now() - t) / 1000);
}

function benchOps(): void {
  const n = quick ? 500 : 3000;
  const size = 4 * GiB;
  const mem = [0, 1, 2].map(() => {
    const store = new MemoryStore(size);
    PmemImage.create(store, { sizeBytes: size });
    return opsPerSecond(PmemImage.open(store), n);
  });
  const file = path.join(dir, 'ops.pmem');
  const onFile = [0, 1, 2].map(() => {
    createFile(file, size);
    const img = PmemImage.open(FileStore.open(file, { readOnly: false }));
    const r = opsPerSecond(img, quick ? 200 : 1000);
    img.close();
    return r;
  });
  const m = median(mem);
  const f = median(onFile);
  console.log(`alloc/free in memory: median ${m.toFixed(0)} ops/s (runs ${mem.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`alloc/free on a file, crash-safe (fdatasync at each barrier): median ${f.toFixed(0)} ops/s; memory is ${(m / f).toFixed(1)}x faster`);
}

function benchCheck(): void {
  // 64 GiB with 1 GiB sections, every section initialised: check reads the whole 1 GiB memmap.
  const full = path.join(dir, 'check-full.pmem');
  createFile(full, 64 * GiB, { sectionBytes: GiB });
  let img = PmemImage.open(FileStore.open(full, { readOnly: false }));
  const initT = performance.now();
  initAllOp(img);
  const initMs = performance.now() - initT;
  for (let i = 0; i < 2000; i++) allocOp(img, { order: i % 6 });
  img.close();
  img = PmemImage.open(FileStore.open(full, { readOnly: true }), { readOnly: true });
  let report = check(img);
  const runs = timeRuns(quick ? 1 : 3, () => (report = check(img)));
  const frames = report.framesChecked;
  console.log(`initialise all 64 x 1 GiB sections: ${fmt(initMs)}`);
  console.log(`check 64 GiB, all sections initialised (${frames} frames, ok=${report.ok}): median ${fmt(runs.medianMs)} = ${(frames / (runs.medianMs / 1000) / 1e6).toFixed(1)} M frames/s`);
  // 64 GiB with 2 MiB sections, lightly used: check only reads the sections in use.
  const sparse = path.join(dir, 'check-sparse.pmem');
  createFile(sparse, 64 * GiB);
  img = PmemImage.open(FileStore.open(sparse, { readOnly: false }));
  for (let i = 0; i < 2000; i++) allocOp(img, { order: i % 6, node: 0 });
  img.close();
  img = PmemImage.open(FileStore.open(sparse, { readOnly: true }), { readOnly: true });
  const sparseRuns = timeRuns(quick ? 1 : 3, () => (report = check(img)));
  console.log(`check 64 GiB, 2 MiB sections, ${info(img).sections.initialized + info(img).sections.stale} of ${info(img).sections.count} in use (ok=${report.ok}): median ${fmt(sparseRuns.medianMs)}`);
}

/** Allocations and frees (most of order 0, up to 400 blocks held) until `steps` are done or the ring has wrapped. */
function fillHistory(img: PmemImage, steps: number): { allocBytes: number; freeBytes: number; allocs: number; frees: number } {
  const held: number[] = [];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const out = { allocBytes: 0, freeBytes: 0, allocs: 0, frees: 0 };
  for (let i = 0; i < steps; i++) {
    const before = img.history.readHeader(img.store).tail;
    const free = held.length > 400 || (held.length > 0 && random() < 0.45);
    if (free) freeOp(img, held.splice(Math.floor(random() * held.length), 1));
    else held.push(allocOp(img, { order: random() < 0.7 ? 0 : Math.floor(random() * 4), owner: 'bench' }).blocks[0].pfn);
    const grown = img.history.readHeader(img.store).tail - before;
    if (grown <= 0) continue; // the ring wrapped
    if (free) {
      out.freeBytes += grown;
      out.frees++;
    } else {
      out.allocBytes += grown;
      out.allocs++;
    }
  }
  return out;
}

function benchHistory(): void {
  const small = new MemoryStore(64 * 2 ** 20);
  PmemImage.create(small, { sizeBytes: 64 * 2 ** 20 });
  let img = PmemImage.open(small);
  const sizes = fillHistory(img, quick ? 20_000 : 100_000);
  let range = stepRange(img.historyRecords());
  console.log(`history records: alloc ${(sizes.allocBytes / sizes.allocs).toFixed(1)} bytes, free ${(sizes.freeBytes / sizes.frees).toFixed(1)} bytes (mean, checkpoints included)`);
  console.log(`history of a 64 MiB image (${info(img).history.bytes / 2 ** 20} MiB region): steps ${range.first} to ${range.last} kept`);
  const big = new MemoryStore(TiB);
  PmemImage.create(big, { sizeBytes: TiB });
  img = PmemImage.open(big);
  fillHistory(img, quick ? 20_000 : 150_000);
  range = stepRange(img.historyRecords());
  const oldest = timeRuns(quick ? 3 : 9, () => stateAt(img, range.first));
  console.log(`history of a 1 TiB image (${info(img).history.bytes / 2 ** 20} MiB region): ${range.last - range.first + 1} steps kept (${range.first} to ${range.last}); the oldest shown in median ${fmt(oldest.medianMs)} (runs ${oldest.runsMs.map(fmt).join(', ')}), target 100 ms`);
}

try {
  const benches: Array<[string, () => void]> = [['create', benchCreateInfo], ['ops', benchOps], ['check', benchCheck], ['history', benchHistory]];
  for (const [name, run] of benches) if (!only || only === name) run();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
