/**
 * The engine against real peers (PMDK's libpmemobj, dd, truncate), printed as
 * one Markdown table and written with every run to bench/results/<time>.json.
 * Each figure is a median over several runs with its spread; each ratio pairs
 * the engine and its peer measured in the same run. Asserts nothing.
 *
 *   --quick    2 runs, 5,000 frames instead of 100,000, a 4 GiB checked image: a smoke check
 *   --runs N   runs per measurement (default 5)
 *   --only S   only the measurements whose section name contains S (e.g. `--only check`)
 *
 * Run through `npm run bench`, which builds it, the CLI and the PMDK peer first.
 */
import { replayTrace } from '../src/engine/replay/replay';
import { ownerTagOf, parseTraceLine } from '../src/engine/replay/kmemTrace';
import { deferHomeWrites } from '../src/engine/image/deferredHome';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openForReading } from '../src/cli/io';
import { allocatedPfns, allocOp, freedCount, freeOp, freeOwnerOp, initAllOp, MemoryStore, PmemImage } from '../src/engine';
import { checkImageFile } from '../src/engine/node/checkWorkers';
import { BuddyState } from '../src/engine/alloc/buddyState';
import { validateAllocRequest, zonelist } from '../src/engine/alloc/buddy';
import { encodeOwner } from '../src/engine/format/descriptor';
import { FileStore } from '../src/engine/node/fileStore';
import { ReadCacheStore } from '../src/engine/store/readCacheStore';
import { describeMachine, machineLine } from './machine';
import { renderTable, Row, rowJson, Series } from './report';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

// ---------------------------------------------------------------------------
// The engine calls, in one place: adapt these when the engine's API changes.
// ---------------------------------------------------------------------------

function createImageFile(file: string, sizeBytes: number, sectionBytes?: number): void {
  fs.rmSync(file, { force: true });
  const store = FileStore.create(file, sizeBytes, { overwrite: true });
  try {
    PmemImage.create(store, { sizeBytes, sectionBytes });
  } finally {
    store.close();
  }
}

/** A writable open boots the simulated machine; every operation on it is durable when it returns. */
function openImageFile(file: string, writable: boolean): PmemImage {
  return writable
    ? PmemImage.open(new ReadCacheStore(FileStore.open(file, { readOnly: false })))
    : PmemImage.open(new ReadCacheStore(FileStore.open(file, { readOnly: true })), { readOnly: true });
}

function memoryImage(sizeBytes: number): PmemImage {
  const store = new MemoryStore(sizeBytes);
  PmemImage.create(store, { sizeBytes });
  return PmemImage.open(store);
}

/** One 4 KiB frame in one operation. */
function allocFrame(img: PmemImage): number {
  return allocOp(img, { order: 0 }).blocks[0].pfn;
}

function freeFrame(img: PmemImage, pfn: number): void {
  freeOp(img, [pfn]);
}

/**
 * `count` 4 KiB frames allocated, then freed, one at a time through the
 * allocator state in typed arrays (alloc/buddyState.ts) kept across
 * operations, its changes never written: no transaction, journal, history
 * record or change set. The frames' sections are initialised beforehand.
 * Seconds of the loop alone; the image is left as it was.
 */
function allocatorAlone(img: PmemImage, count: number): number {
  const warm = allocFrames(img, count); // initialises the sections the loop will reach
  freeFrames(img, warm);
  const txn = img.fastTxn();
  const state = new BuddyState(img);
  state.attach(txn);
  const where = zonelist(txn, validateAllocRequest(txn, { order: 0 }))[0];
  const owner = encodeOwner('bench');
  const pfns: number[] = new Array(count);
  const s = seconds(() => {
    for (let i = 0; i < count; i++) {
      if (state.allocateFromLists(0, owner, where.node, where.zone) !== 'done') throw new Error(`the allocator state alone could not take frame ${i}`);
      pfns[i] = state.allocatedPfn;
    }
    for (let i = 0; i < count; i++) if (state.freeAllocated(pfns[i]) !== 'done') throw new Error(`the allocator state alone could not free pfn ${pfns[i]}`);
  });
  state.reset();
  return s;
}

/** Owner tag of the frames a one-command run allocates, so one command can free them all. */
const BATCH_OWNER = 'bench-batch';

/** `count` 4 KiB frames in one operation. */
function allocFrames(img: PmemImage, count: number): number[] {
  // The pfns, as `pmem alloc` prints them (a large result makes block objects only when asked).
  const pfns = allocatedPfns(allocOp(img, { order: 0, count, owner: BATCH_OWNER }));
  if (pfns.length !== count) throw new Error(`asked for ${count} frames, got ${pfns.length}`);
  return pfns;
}

/** Frees every pfn in one operation: `pmem free --owner` (a free of listed pfns must fit one journal transaction). */
function freeFrames(img: PmemImage, pfns: number[]): void {
  const freed = freedCount(freeOwnerOp(img, BATCH_OWNER));
  if (freed !== pfns.length) throw new Error(`freed ${freed} frames, expected ${pfns.length}`);
}

/** Untimed set-up: `count` frames to free, allocated in operations small enough for any journal. */
function prepareFrames(img: PmemImage, count: number): number[] {
  const pfns: number[] = [];
  while (pfns.length < count) {
    const n = Math.min(1000, count - pfns.length);
    for (const b of allocOp(img, { order: 0, count: n, owner: BATCH_OWNER }).blocks) pfns.push(b.pfn);
  }
  return pfns;
}

function initialiseAll(img: PmemImage): void {
  initAllOp(img);
}

/** What `pmem check FILE` does once Node.js is up: opens the file read-only as the CLI does, checks with the CLI's scanner (worker threads for a large memmap), closes. */
function checkImageFileAsCli(file: string): { ok: boolean; problems: number; framesChecked: number } {
  const img = openForReading(file, { lenient: true });
  try {
    const r = checkImageFile(img);
    return { ok: r.ok, problems: r.problems.length, framesChecked: r.framesChecked };
  } finally {
    img.close();
  }
}

/** Where the memmap lies in the image file, in bytes. */
function memmapRange(img: PmemImage): { offset: number; bytes: number } {
  const m = img.layout.memmap;
  return { offset: m.startPfn * 4096, bytes: m.frames * 4096 };
}

function closeImage(img: PmemImage): void {
  img.close();
}

// ---------------------------------------------------------------------------

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const runsArg = argv.indexOf('--runs');
const onlyArg = argv.indexOf('--only');
const ONLY = onlyArg >= 0 ? (argv[onlyArg + 1] ?? '') : undefined;
const RUNS = runsArg >= 0 ? Math.max(1, Number(argv[runsArg + 1]) || 1) : quick ? 2 : 5;
const N = quick ? 5_000 : 100_000;
const MILLION = 1_000_000;
const OPS_IMAGE = 4 * GiB;
const CHECK_IMAGE = quick ? 4 * GiB : 16 * GiB;
const n = (x: number) => x.toLocaleString('en-US');
const size = (bytes: number) => (bytes >= 2 ** 40 ? `${bytes / 2 ** 40} TiB` : `${bytes / GiB} GiB`);

function findRoot(from: string): string {
  for (let d = from; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'bench'))) return d;
    if (path.dirname(d) === d) throw new Error(`no project folder above ${from}`);
  }
}

const root = findRoot(__dirname);
const shmBase = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const shm = fs.mkdtempSync(path.join(shmBase, 'pmem-bench-'));
const disk = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-bench-'));

function cleanUp(): void {
  fs.rmSync(shm, { recursive: true, force: true });
  fs.rmSync(disk, { recursive: true, force: true });
}
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    cleanUp();
    process.exit(code);
  });
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const seconds = (fn: () => void) => {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
};
const series = (): Series => ({ runs: [] });

/** Runs `fn` on a new file image, closing it even when `fn` throws. */
function onNewFileImage<T>(file: string, fn: (img: PmemImage) => T): T {
  createImageFile(file, OPS_IMAGE);
  const img = openImageFile(file, true);
  try {
    return fn(img);
  } finally {
    try {
      closeImage(img);
    } catch {
      // a failed operation changed nothing; the result is what counts
    }
    fs.rmSync(file, { force: true });
  }
}

// ---- Peers ----

interface Peers {
  pmdk: { ok: true; binary: string } | { ok: false; reason: string };
  time: { ok: true; path: string } | { ok: false; reason: string };
}

function buildPeers(): Peers {
  const r = spawnSync(process.execPath, [path.join(root, 'bench/peers/build.mjs')], { encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    const why = `bench/peers/build.mjs failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').pop()}`;
    return { pmdk: { ok: false, reason: why }, time: { ok: false, reason: why } };
  }
}

/** The PMDK program in a fresh 1 GiB pool in /dev/shm: seconds of its N allocations and N frees. */
function runPmdk(peers: Peers, count: number): { allocS: number; freeS: number } {
  if (!peers.pmdk.ok) throw new Error(peers.pmdk.reason);
  const pool = path.join(shm, 'pmdk.pool');
  fs.rmSync(pool, { force: true });
  try {
    const r = spawnSync(peers.pmdk.binary, [pool, String(count)], { encoding: 'utf8', env: { ...process.env, PMEM_IS_PMEM_FORCE: '1' } });
    if (r.status !== 0) throw new Error(`exit ${r.status}: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`);
    const out = JSON.parse(r.stdout.trim());
    return { allocS: out.allocSeconds, freeS: out.freeSeconds };
  } finally {
    fs.rmSync(pool, { force: true });
  }
}

/** Wall time and peak RSS of a whole process (RSS from /usr/bin/time when there is one). */
function timeProcess(peers: Peers, cmd: string, args: string[]): { seconds: number; rssBytes?: number } {
  const rssFile = path.join(disk, 'rss.txt');
  const timed = peers.time.ok ? [peers.time.path, ['-f', '%M', '-o', rssFile, cmd, ...args]] as const : [cmd, args] as const;
  const t = performance.now();
  const r = spawnSync(timed[0], [...timed[1]], { encoding: 'utf8', cwd: root });
  const s = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')}: exit ${r.status}: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`);
  if (!peers.time.ok) return { seconds: s };
  const kib = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop());
  return { seconds: s, rssBytes: Number.isFinite(kib) ? kib * 1024 : undefined };
}

// ---- Measurements ----

function perOpOnFile(peers: Peers): Row[] {
  const file = path.join(shm, 'ops.pmem');
  const allocs = series(), frees = series(), total = series();
  const pAllocs = series(), pFrees = series(), pTotal = series();
  const rAlloc: number[] = [], rFree: number[] = [], rTotal: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    let e: { allocS: number; freeS: number } | undefined;
    try {
      e = onNewFileImage(file, (img) => {
        const pfns: number[] = new Array(N);
        deferHomeWrites(img, true);
        const allocS = seconds(() => {
          for (let i = 0; i < N; i++) pfns[i] = allocFrame(img);
        });
        const freeS = seconds(() => {
          for (let i = 0; i < N; i++) freeFrame(img, pfns[i]);
          deferHomeWrites(img, false); // the last write-back
        });
        return { allocS, freeS };
      });
      allocs.runs.push(N / e.allocS);
      frees.runs.push(N / e.freeS);
      total.runs.push(e.allocS + e.freeS);
    } catch (err) {
      allocs.error = frees.error = total.error = message(err);
    }
    let p: { allocS: number; freeS: number } | undefined;
    try {
      p = runPmdk(peers, N);
      pAllocs.runs.push(N / p.allocS);
      pFrees.runs.push(N / p.freeS);
      pTotal.runs.push(p.allocS + p.freeS);
    } catch (err) {
      pAllocs.error = pFrees.error = pTotal.error = message(err);
    }
    if (e && p) {
      rAlloc.push(p.allocS / e.allocS);
      rFree.push(p.freeS / e.freeS);
      rTotal.push((p.allocS + p.freeS) / (e.allocS + e.freeS));
    }
    log(`one op each, /dev/shm file, run ${run}/${RUNS}: engine ${e ? `${(e.allocS + e.freeS).toFixed(2)} s` : `fails: ${total.error}`}, PMDK ${p ? `${(p.allocS + p.freeS).toFixed(3)} s` : `fails: ${pTotal.error}`}`);
    if (!e) break;
  }
  const what = `${n(N)} × 4 KiB frames, one operation each, durable on return (its history record and one flush; home structures written back every ≤ 1,024), on a 4 GiB image file in /dev/shm`;
  return [
    { measurement: `alloc ${what}`, unit: 'ops/s', engine: allocs, peer: { name: 'PMDK pmemobj_alloc', series: pAllocs }, ratio: rAlloc },
    { measurement: `free, as above`, unit: 'ops/s', engine: frees, peer: { name: 'PMDK pmemobj_free', series: pFrees }, ratio: rFree },
    {
      measurement: `alloc + free, as above: total`, unit: 's', engine: total, peer: { name: 'PMDK', series: pTotal }, ratio: rTotal,
      target: { text: 'PMDK ratio ≥ 1.0', of: 'ratio', atLeast: 1 },
    },
  ];
}

/** alloc of `count` frames as one operation, then their free as one; a failed alloc gets its frames by smaller operations so the free is still timed. */
function batchRun(img: PmemImage, count: number, skip: { alloc: boolean; free: boolean }): { allocS?: number; freeS?: number; allocError?: string; freeError?: string } {
  const out: { allocS?: number; freeS?: number; allocError?: string; freeError?: string } = {};
  let pfns: number[] | undefined;
  if (!skip.alloc) {
    try {
      const t = performance.now();
      pfns = allocFrames(img, count);
      out.allocS = (performance.now() - t) / 1000;
    } catch (err) {
      out.allocError = message(err);
    }
  }
  if (!skip.free) {
    pfns ??= prepareFrames(img, count);
    try {
      out.freeS = seconds(() => freeFrames(img, pfns!));
    } catch (err) {
      out.freeError = message(err);
    }
  }
  return out;
}

function batchOnFile(peers: Peers): Row[] {
  const file = path.join(shm, 'batch.pmem');
  const alloc = series(), free = series(), total = series();
  const pAlloc = series(), pFree = series(), pTotal = series();
  const rAlloc: number[] = [], rFree: number[] = [], rTotal: number[] = [];
  for (let run = 1; run <= RUNS && !(alloc.error && free.error); run++) {
    let r: ReturnType<typeof batchRun>;
    try {
      r = onNewFileImage(file, (img) => batchRun(img, N, { alloc: !!alloc.error, free: !!free.error }));
    } catch (err) {
      r = { allocError: message(err), freeError: message(err) };
    }
    if (r.allocS !== undefined) alloc.runs.push(r.allocS);
    if (r.freeS !== undefined) free.runs.push(r.freeS);
    if (r.allocS !== undefined && r.freeS !== undefined) total.runs.push(r.allocS + r.freeS);
    alloc.error ??= r.allocError;
    free.error ??= r.freeError;
    total.error ??= r.allocError ?? r.freeError;
    let p: { allocS: number; freeS: number } | undefined;
    try {
      p = runPmdk(peers, N);
      pAlloc.runs.push(p.allocS);
      pFree.runs.push(p.freeS);
      pTotal.runs.push(p.allocS + p.freeS);
    } catch (err) {
      pAlloc.error = pFree.error = pTotal.error = message(err);
    }
    if (p && r.allocS !== undefined) rAlloc.push(p.allocS / r.allocS);
    if (p && r.freeS !== undefined) rFree.push(p.freeS / r.freeS);
    if (p && r.allocS !== undefined && r.freeS !== undefined) rTotal.push((p.allocS + p.freeS) / (r.allocS + r.freeS));
    const fig = (x: number | undefined, error: string | undefined) => (x !== undefined ? `${x.toFixed(3)} s` : `fails: ${error}`);
    log(`one command each way, /dev/shm file, run ${run}/${RUNS}: alloc ${fig(r.allocS, alloc.error)}, free ${fig(r.freeS, free.error)}`);
  }
  const what = `${n(N)} × 4 KiB frames as one command, durable on return, on a 4 GiB image file in /dev/shm`;
  return [
    { measurement: `alloc ${what}`, unit: 's', engine: alloc, peer: { name: 'PMDK, one call each', series: pAlloc }, ratio: rAlloc },
    { measurement: `free ${what} (\`pmem free --owner\`)`, unit: 's', engine: free, peer: { name: 'PMDK, one call each', series: pFree }, ratio: rFree },
    { measurement: 'alloc + free as one command each way: total', unit: 's', engine: total, peer: { name: 'PMDK, one call each', series: pTotal }, ratio: rTotal },
  ];
}

/**
 * One operation at a time in memory, alloc then free of N frames, timed
 * (with the last write-back); first, until its history ring is full, as
 * many untimed rounds as that takes when `worked`. Operations a second.
 */
function perOpInMemory(worked: boolean): { opsPerS: number; rounds: number } {
  const img = memoryImage(OPS_IMAGE);
  const pfns: number[] = new Array(N);
  deferHomeWrites(img, true);
  const round = () => {
    for (let i = 0; i < N; i++) pfns[i] = allocFrame(img);
    for (let i = 0; i < N; i++) freeFrame(img, pfns[i]);
  };
  let rounds = 0;
  while (worked && img.history.readHeader(img.storeAsIs).firstSeq <= 1) {
    if (++rounds > 50) throw new Error('the history never filled');
    round();
  }
  const s = seconds(() => {
    round();
    deferHomeWrites(img, false); // the last write-back
  });
  return { opsPerS: (2 * N) / s, rounds };
}

function inMemory(): Row[] {
  const target = { text: '≥ 2,000,000 ops/s', of: 'engine' as const, atLeast: 2_000_000 };
  const perOp = series();
  // `worked`: the same on an image already worked on, its history ring full (the oldest steps evicted).
  const worked = series();
  for (const [s, onWorked] of [[perOp, false], [worked, true]] as const) {
    for (let run = 1; run <= RUNS && !s.error; run++) {
      try {
        const r = perOpInMemory(onWorked);
        s.runs.push(r.opsPerS);
        log(`one op each, in memory${onWorked ? `, history full (after ${r.rounds} rounds)` : ''}, run ${run}/${RUNS}: ${((2 * N) / r.opsPerS).toFixed(2)} s`);
      } catch (err) {
        s.error = message(err);
      }
    }
  }
  const batch = series();
  for (let run = 1; run <= RUNS && !batch.error; run++) {
    try {
      const r = batchRun(memoryImage(OPS_IMAGE), N, { alloc: false, free: false });
      if (r.allocS !== undefined && r.freeS !== undefined) batch.runs.push((2 * N) / (r.allocS + r.freeS));
      else batch.error = r.allocError ? `alloc: ${r.allocError}` : `free: ${r.freeError}`;
    } catch (err) {
      batch.error = message(err);
    }
    log(`one command each way, in memory, run ${run}/${RUNS}: ${batch.error ? `fails: ${batch.error}` : 'done'}`);
  }
  const alone = series();
  for (let run = 1; run <= RUNS && !alone.error; run++) {
    try {
      alone.runs.push((2 * N) / allocatorAlone(memoryImage(OPS_IMAGE), N));
      log(`the allocator state alone, in memory, run ${run}/${RUNS}: done`);
    } catch (err) {
      alone.error = message(err);
    }
  }
  return [
    { measurement: `alloc + free ${n(N)} × 4 KiB frames, one operation each (home structures written back every ≤ 1,024), in memory`, unit: 'ops/s', engine: perOp, target },
    { measurement: `the same on an image already worked on: its history ring full, its sections initialised (rounds of the above first)`, unit: 'ops/s', engine: worked, target },
    { measurement: `reference: the allocator state alone, kept across operations, nothing written (no journal, history or change set): alloc + free ${n(N)} frames, one each`, unit: 'ops/s', engine: alone },
    { measurement: `alloc + free ${n(N)} × 4 KiB frames as one command each way, in memory`, unit: 'ops/s', engine: batch, target },
  ];
}

function millionFrames(): Row {
  const file = path.join(shm, 'million.pmem');
  const s = series();
  for (let run = 1; run <= RUNS && !s.error; run++) {
    try {
      s.runs.push(onNewFileImage(file, (img) => seconds(() => allocFrames(img, MILLION))));
    } catch (err) {
      s.error = message(err);
    }
    log(`one command of ${n(MILLION)} frames, run ${run}/${RUNS}: ${s.error ? `fails: ${s.error}` : `${s.runs[s.runs.length - 1].toFixed(3)} s`}`);
  }
  return { measurement: `one command allocating ${n(MILLION)} × 4 KiB frames, 4 GiB image file in /dev/shm`, unit: 's', engine: s, target: { text: '≤ 1 s', of: 'engine', atMost: 1 } };
}

/** dd's own figure for the copy (process start-up left out, as for check), else the wall time. */
function runDd(file: string, range: { offset: number; bytes: number }): number {
  const args = [`if=${file}`, 'of=/dev/null', 'bs=1M', 'iflag=skip_bytes,count_bytes', `skip=${range.offset}`, `count=${range.bytes}`];
  const t = performance.now();
  const r = spawnSync('dd', args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  const wall = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`dd: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`);
  const copied = /^(\d+) bytes .* copied, ([\d.]+) s/m.exec(r.stderr);
  if (copied && Number(copied[1]) !== range.bytes) throw new Error(`dd copied ${copied[1]} bytes, not ${range.bytes}`);
  return copied ? Number(copied[2]) : wall;
}

function checkVsDd(): Row {
  const file = path.join(shm, 'check.pmem');
  const engine = series(), dd = series();
  const ratios: number[] = [];
  let label = `pmem check's open and check of a ${size(CHECK_IMAGE)} image, every 2 MiB section initialised (in process)`;
  try {
    log(`initialising every section of a ${size(CHECK_IMAGE)} image (once)`);
    createImageFile(file, CHECK_IMAGE, 2 * MiB);
    const rw = openImageFile(file, true);
    const initS = seconds(() => initialiseAll(rw));
    closeImage(rw);
    log(`initialised in ${initS.toFixed(1)} s`);
    const img = openImageFile(file, false);
    const range = memmapRange(img);
    closeImage(img);
    label += ` (${(range.bytes / MiB).toFixed(0)} MiB memmap), image file in /dev/shm`;
    try {
      runDd(file, range); // warms the page cache
    } catch (err) {
      dd.error = message(err);
    }
    checkImageFileAsCli(file); // and the checker's compiled code, as round 0 does for create and info: not kept
    for (let run = 1; run <= RUNS; run++) {
      let d: number | undefined;
      if (!dd.error) {
        try {
          d = runDd(file, range);
          dd.runs.push(d);
        } catch (err) {
          dd.error = message(err);
        }
      }
      let report: ReturnType<typeof checkImageFileAsCli> | undefined;
      const c = seconds(() => (report = checkImageFileAsCli(file)));
      if (!report!.ok) throw new Error(`check found ${report!.problems} problem(s) in a sound image`);
      engine.runs.push(c);
      if (d !== undefined) ratios.push(d / c);
      log(`check vs dd, run ${run}/${RUNS}: check ${c.toFixed(3)} s, dd ${d?.toFixed(4) ?? `fails: ${dd.error}`} s`);
    }
  } catch (err) {
    engine.error = message(err);
  } finally {
    fs.rmSync(file, { force: true });
  }
  return { measurement: label, unit: 's', engine, peer: { name: 'dd of the memmap bytes', series: dd }, ratio: ratios, target: { text: 'dd ratio ≥ 0.5', of: 'ratio', atLeast: 0.5 } };
}

function createAndInfo(peers: Peers): Row[] {
  const cli = path.join(root, 'dist/cli.js');
  const image = path.join(disk, 'tib.pmem');
  const sparse = path.join(disk, 'sparse');
  const fsName = os.tmpdir();
  const make = () => ({ time: series(), rss: series() });
  const create = make(), info = make(), truncate = make(), dd = make(), nodeOnly = make();
  const rCreate: number[] = [], rInfo: number[] = [];
  const record = (m: ReturnType<typeof make>, fn: () => { seconds: number; rssBytes?: number }) => {
    try {
      const r = fn();
      m.time.runs.push(r.seconds);
      if (r.rssBytes !== undefined) m.rss.runs.push(r.rssBytes);
      return r.seconds;
    } catch (err) {
      m.time.error ??= message(err);
      return undefined;
    }
  };
  // Round 0 warms the caches (node, the CLI bundle, the file system) and is not kept.
  for (let run = 0; run <= RUNS; run++) {
    const keep = run > 0;
    const pick = (m: ReturnType<typeof make>) => (keep ? m : make());
    fs.rmSync(image, { force: true });
    const c = record(pick(create), () => timeProcess(peers, process.execPath, [cli, 'create', image, '--size', '1T']));
    const i = record(pick(info), () => timeProcess(peers, process.execPath, [cli, 'info', image]));
    fs.rmSync(sparse, { force: true });
    const t = record(pick(truncate), () => timeProcess(peers, 'truncate', ['-s', '1T', sparse]));
    fs.rmSync(sparse, { force: true });
    record(pick(dd), () => timeProcess(peers, 'dd', ['if=/dev/zero', `of=${sparse}`, 'bs=1', 'count=0', 'seek=1T', 'status=none']));
    fs.rmSync(sparse, { force: true });
    const nd = record(pick(nodeOnly), () => timeProcess(peers, process.execPath, ['-e', '0']));
    if (keep && c !== undefined && t !== undefined) rCreate.push(t / c);
    if (keep && i !== undefined && nd !== undefined) rInfo.push(nd / i);
    if (keep) log(`create/info 1 TiB, run ${run}/${RUNS}: create ${c?.toFixed(3) ?? 'fails'} s, info ${i?.toFixed(3) ?? 'fails'} s`);
  }
  fs.rmSync(image, { force: true });
  const where = `image file in ${fsName}`;
  return [
    {
      measurement: `pmem create of a 1 TiB image, whole process (${where})`, unit: 's', engine: create.time, engineRss: create.rss,
      peer: { name: 'truncate -s 1T', series: truncate.time, rss: truncate.rss }, ratio: rCreate, target: { text: '≤ 1 s', of: 'engine', atMost: 1 },
    },
    {
      measurement: `pmem info of that image, whole process`, unit: 's', engine: info.time, engineRss: info.rss,
      peer: { name: 'node -e 0 (Node.js start-up)', series: nodeOnly.time, rss: nodeOnly.rss }, ratio: rInfo, target: { text: '≤ 0.3 s', of: 'engine', atMost: 0.3 },
    },
    {
      measurement: 'reference: dd creating a sparse 1 TiB file (seek=1T count=0)', unit: 's', engine: { runs: [] },
      peer: { name: 'dd', series: dd.time, rss: dd.rss },
    },
  ];
}

/**
 * A synthetic tracefs trace of `events` page-allocator events: order-0 to
 * order-3 allocations at pfns a churning workload would get (each free block
 * handed out whole, then freed again a little later), printed as the kernel prints them.
 */
function syntheticTrace(events: number): string[] {
  const lines = ['# tracer: nop', '#'];
  const live: Array<[number, number]> = [];
  let next = 0x10000;
  let t = 1;
  for (let i = 0; lines.length - 2 < events; i++) {
    t += 0.000013;
    const stamp = t.toFixed(6);
    if (live.length > 64 && i % 3 === 0) {
      const [pfn, order] = live.splice((i * 7919) % live.length, 1)[0];
      lines.push(`  bench-1  [000] .....  ${stamp}: mm_page_free: page=0000000000000000 pfn=0x${pfn.toString(16)} order=${order}`);
      continue;
    }
    const order = i % 4;
    next += 2 ** order - (next % 2 ** order || 2 ** order) + 2 ** order;
    const pfn = next - 2 ** order;
    live.push([pfn, order]);
    lines.push(`  bench-1  [000] .....  ${stamp}: mm_page_alloc: page=0000000000000000 pfn=0x${pfn.toString(16)} order=${order} migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE`);
  }
  return lines;
}

/**
 * Replay of a trace into an image in memory (pmem replay's engine), events a
 * second; and, to show what bounds it, two of its parts alone: reading the
 * lines (each parsed, each allocation's owner tag made) and the allocator
 * state applying the events (sections initialised first, nothing written: no
 * transaction, journal, history or change set).
 */
function replayRows(): Row[] {
  const events = quick ? 20_000 : 200_000;
  const lines = syntheticTrace(events);
  const engine = series();
  const parse = series();
  const alone = series();
  for (let run = 1; run <= RUNS && !engine.error; run++) {
    let offset = 0;
    try {
      const img = memoryImage(OPS_IMAGE);
      let applied = 0;
      const s = seconds(() => {
        const r = replayTrace(img, () => lines, { name: 'synthetic' });
        applied = r.applied.alloc + r.applied.free;
        offset = r.offset;
      });
      if (applied !== events) throw new Error(`applied ${applied} of ${events} events`);
      engine.runs.push(events / s);
      log(`replay, run ${run}/${RUNS}: ${s.toFixed(2)} s`);
    } catch (err) {
      engine.error = message(err);
      break;
    }
    // The two parts alone, each row keeping its own failure.
    let read: ReturnType<typeof readTraceAlone> | undefined;
    try {
      if (!parse.error) read = readTraceAlone(lines);
      if (read) parse.runs.push(lines.length / read.s);
    } catch (err) {
      parse.error = message(err);
    }
    try {
      if (read && !alone.error) alone.runs.push(events / eventsAlone(read.events, offset));
    } catch (err) {
      alone.error = message(err);
    }
  }
  return [
    { measurement: `replay a trace of ${n(events)} mm_page_alloc/mm_page_free events (tracefs text) into a 4 GiB image in memory`, unit: 'ops/s', engine, target: { text: '≥ 1,000,000 events/s', of: 'engine', atLeast: 1_000_000 } },
    { measurement: 'reference: reading that trace alone (each line parsed, each allocation\'s owner tag made)', unit: 'lines/s', engine: parse },
    { measurement: 'reference: the allocator state alone applying its events (sections initialised first; nothing written: no transaction, journal, history or change set)', unit: 'ops/s', engine: alone },
  ];
}

type TracedEvent = { alloc: boolean; pfn: number; order: number; owner: string };

/** Each line of a trace parsed as a replay's reading does; seconds, and the allocations and frees. */
function readTraceAlone(lines: string[]): { s: number; events: TracedEvent[] } {
  const events: TracedEvent[] = [];
  const s = seconds(() => {
    for (let i = 0; i < lines.length; i++) {
      const r = parseTraceLine(lines[i], i + 1);
      if (r.kind !== 'event') continue;
      const e = r.event;
      if (e.event === 'mm_page_alloc') events.push({ alloc: true, pfn: e.pfn, order: e.order, owner: ownerTagOf(e) });
      else if (e.event === 'mm_page_free') events.push({ alloc: false, pfn: e.pfn, order: e.order, owner: '' });
    }
  });
  return { s, events };
}

/** Seconds for the allocator state alone to apply `events` (moved by `offset`) to a fresh image whose sections are all initialised. */
function eventsAlone(events: TracedEvent[], offset: number): number {
  const img = memoryImage(OPS_IMAGE);
  initAllOp(img);
  const state = new BuddyState(img);
  state.attach(img.fastTxn());
  const owners = new Map<string, Uint8Array>();
  const ownerBytes = (tag: string) => owners.get(tag) ?? owners.set(tag, encodeOwner(tag)).get(tag)!;
  return seconds(() => {
    for (const e of events) {
      const out = e.alloc ? state.allocateExactly(e.pfn + offset, e.order, ownerBytes(e.owner)) : state.freeAllocated(e.pfn + offset, e.order);
      if (out !== 'done') throw new Error(`the allocator state alone could not ${e.alloc ? 'allocate' : 'free'} pfn ${e.pfn + offset}: ${out}`);
    }
  });
}

function main(): void {
  const started = new Date();
  if (!fs.existsSync(path.join(root, 'dist/cli.js'))) spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });
  log('building the peers (PMDK program, /usr/bin/time)');
  const peers = buildPeers();
  if (!peers.pmdk.ok) log(`PMDK peer unavailable: ${peers.pmdk.reason}`);
  const machine = describeMachine([shmBase, os.tmpdir()]);
  log(`${RUNS} runs per measurement${quick ? ' (quick)' : ''}, ${n(N)} frames; the results table follows when all are done`);
  const rows: Row[] = [];
  const sections: Array<[string, () => Row[]]> = [
    ['one operation each, on a file', () => perOpOnFile(peers)],
    ['one command each way, on a file', () => batchOnFile(peers)],
    ['in memory', () => inMemory()],
    ['a million frames', () => [millionFrames()]],
    ['check against dd', () => [checkVsDd()]],
    ['create and info of 1 TiB', () => createAndInfo(peers)],
    ['replay of a trace', () => replayRows()],
  ];
  for (const [name, fn] of sections) {
    if (ONLY !== undefined && !name.includes(ONLY)) continue;
    try {
      rows.push(...fn());
    } catch (err) {
      rows.push({ measurement: name, unit: 's', engine: { runs: [], error: message(err) } });
    }
  }
  const loadAfter = os.loadavg();
  const table = renderTable(rows);
  const machineText = machineLine(machine, loadAfter);
  const rss = peers.time.ok ? '' : ` Peak RSS not measured: ${peers.time.reason}.`;
  console.log(`\nEngine against its peers: median of ${RUNS} run${RUNS === 1 ? '' : 's'}${quick ? ' (quick: smaller counts, a smoke check)' : ''}; ratio = peer time / engine time, per run, then the median (1 or more: the engine is at least as fast).${rss}`);
  console.log(`Machine: ${machineText}\n`);
  console.log(table);
  const resultsDir = path.join(root, 'bench/results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = started.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const out = path.join(resultsDir, `${stamp}${quick ? '-quick' : ''}.json`);
  const json = {
    startedAt: started.toISOString(), finishedAt: new Date().toISOString(), quick, runs: RUNS, frames: N,
    machine: { ...machine, loadAverageAfter: loadAfter }, peers, table, rows: rows.map(rowJson),
  };
  fs.writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nwritten to ${path.relative(root, out)}\n`);
}

try {
  main();
} finally {
  cleanUp();
}
