/**
 * The checker's memmap scan for an image file (Node only): chunks are read
 * into one buffer kept for the whole check (WebAssembly memory, where the
 * scan's loop runs), and on a large memmap, with CPUs to spare, worker
 * threads scan part of them. check() stays synchronous: the main thread takes
 * chunks from the bottom of the memmap and scans them itself, worker threads
 * take them from the top, and when the main thread reaches a chunk a worker
 * took it waits for that chunk (Atomics.wait) and receives its result without
 * the event loop (receiveMessageOnPort). The file is read directly, so this is
 * used only when nothing in memory changes the memmap (a plain file store, or
 * an overlay with no change there). The report is the same either way.
 * The worker threads are kept for the next check in the process (a while).
 */
import * as fs from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { MessageChannel, MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { DESCRIPTOR_SIZE } from '../format/constants';
import { descriptorCrcTable, descriptorWords, HEAD_STRIDE, newDescriptorScan, scanDescriptorRun, WORDS_ARE_LITTLE_ENDIAN } from '../format/descriptor';
import { descriptorScanModule, newWasmScan, scanRunWasm, WASM_LAYOUT, WasmScan } from '../format/descriptorWasm';
import type { PmemImage } from '../image/imageCore';
import { check, CheckOptions, CheckReport, ChunkScan, MemmapScanner, planChunk, ScanContext } from '../inspect/checker';
import { OverlayStore } from '../store/overlayStore';
import { ReadCacheStore } from '../store/readCacheStore';
import type { Store } from '../store/store';
import { FileStore } from './fileStore';

export interface FileScanOptions {
  /** Start workers from this many bytes of memmap to scan (initialised sections only). */
  workersFrom?: number;
  /** Worker threads besides the main one (default: idleWorkers()). */
  workers?: number;
  /** Let every worker take its first chunk before this thread scans (tests: so that the workers get chunks even of a small memmap). */
  awaitWorkers?: boolean;
  /** Told at the end how many chunks each side scanned. */
  onClose?: (stats: { here: number; workers: number }) => void;
}

/**
 * Below this, workers cost more than they save. A worker starts some 30 ms
 * after it is asked for (while this thread checks the logs and free lists),
 * and this thread reads and scans about 4 MiB of memmap a millisecond.
 */
export const WORKERS_FROM_BYTES = 128 * 2 ** 20;

/** Snapshots of the runnable tasks idleWorkers takes (each a few hundred microseconds). */
const RUNNABLE_SAMPLES = 3;

/**
 * Worker threads worth starting now: one per CPU that other processes leave
 * idle, besides this thread's, at most 3. A worker takes some 30 ms of CPU to
 * start; where other processes keep the CPUs busy it gains little (with
 * autogroup scheduling, Linux's default, CPU time is shared between sessions,
 * not threads) and still costs that. Other processes' load is the 1-minute
 * load average less this process's part (roughly its CPU time over the last
 * minute, or over its life if shorter), and where Linux tells it, no more
 * than the tasks runnable right now besides this process's own threads (the
 * average lags a minute behind a load that has stopped).
 */
export function idleWorkers(): number {
  const cpus = availableParallelism();
  const used = process.cpuUsage();
  const own = (used.user + used.system) / 1e6 / Math.max(60, process.uptime());
  let others = Math.max(0, loadavg()[0] - own);
  try {
    // Runnable tasks are a snapshot, taken apart from this process's own in two reads: the least of a few is the nearest.
    for (let i = 0; i < RUNNABLE_SAMPLES && others > 0; i++) {
      const runnable = Number(/^\S+ \S+ \S+ (\d+)\//.exec(fs.readFileSync('/proc/loadavg', 'utf8'))?.[1]);
      if (runnable >= 1) others = Math.min(others, Math.max(0, runnable - ownRunnableThreads()));
    }
  } catch {
    // Not Linux: the average alone.
  }
  return Math.max(0, Math.min(3, cpus - 1, Math.floor(cpus - 1 - others + 0.5)));
}

/**
 * This process's threads that are runnable now (at least this one): Linux
 * counts them among the runnable tasks too, and a garbage-collector thread or
 * the last check's worker still exiting is not another process's load.
 */
export function ownRunnableThreads(): number {
  let n = 0;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      // The state follows the command name, which is in parentheses and may hold any character.
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      if (stat.charAt(stat.lastIndexOf(')') + 2) === 'R') n++;
    } catch {
      // The thread ended since the directory was read.
    }
  }
  return Math.max(1, n);
}

// Chunk states in the shared array; three more slots: the stop flag, the count workers take chunks down from, workers counted (see count()).
const FREE = 0;
const MAIN = 1;
const TAKEN = 2;
const DONE = 3;
const FAILED = 4;

/** How long the main thread waits for a taken chunk before it scans the chunk itself and stops the workers. */
const GIVE_UP_MS = 10_000;

interface WorkerResult {
  k: number;
  odd: Int32Array;
  heads: Int32Array;
  oddCount: number;
  headCount: number;
  base: number;
  firstPfn: number;
  frames: number;
}

/** The worker's program: the chunk plan and the descriptor scan, by their source (both are self-contained); it scans for one check after another. */
const workerSource = () => `
'use strict';
const __name = (f) => f; // transpilers that keep function names wrap them in __name(...)
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const planChunk = (${planChunk.toString()});
const scanDescriptorRun = (${scanDescriptorRun.toString()});
const newWasmScan = (${newWasmScan.toString()});
const scanRunWasm = (${scanRunWasm.toString()});
const { wasm, layout } = workerData;
const scans = new Map(); // by chunk size: one scan and buffer kept from one check to the next
const check = ({ path, ctx, table, state, port }) => {
  const n = state.length - 3;
  let x = scans.get(ctx.chunkFrames);
  if (x === undefined) {
    x = wasm ? newWasmScan(wasm, ctx.chunkFrames, table, layout) : null;
    scans.set(ctx.chunkFrames, x);
  }
  const buf = x ? x.dataBytes : new Uint8Array(ctx.chunkFrames * ${DESCRIPTOR_SIZE});
  let fd = -1;
  let k = -1;
  let counted = false;
  // Counted once it holds its first chunk (or has none to take): what awaitWorkers waits for.
  const count = () => {
    if (counted) return;
    counted = true;
    Atomics.add(state, n + 2, 1);
    Atomics.notify(state, n + 2);
  };
  try {
    fd = fs.openSync(path, 'r');
    for (;;) {
      if (Atomics.load(state, n) !== 0) break;
      k = Atomics.sub(state, n + 1, 1) - 1;
      if (k < 0) break;
      const plan = planChunk(ctx, k);
      if (!plan) continue;
      if (Atomics.compareExchange(state, k, ${FREE}, ${TAKEN}) !== ${FREE}) break; // the main thread got here first
      count();
      const length = plan.frames * ${DESCRIPTOR_SIZE};
      for (let done = 0; done < length; ) {
        const got = fs.readSync(fd, buf, done, length - done, ctx.memmapStart + plan.firstPfn * ${DESCRIPTOR_SIZE} + done);
        if (got === 0) throw new Error('unexpected end of file');
        done += got;
      }
      const words = x ? x.dataWords : new Int32Array(buf.buffer, 0, length >> 2);
      const out = { odd: new Int32Array(64), oddCount: 0, heads: new Int32Array(64 * ${HEAD_STRIDE}), headCount: 0, base: plan.firstPfn };
      for (const run of plan.runs) {
        if (x) scanRunWasm(words, run, table, out, x, scanDescriptorRun);
        else scanDescriptorRun(words, run, table, out);
      }
      const odd = out.odd.slice(0, out.oddCount);
      const heads = out.heads.slice(0, out.headCount * ${HEAD_STRIDE});
      port.postMessage({ k, odd, heads, oddCount: out.oddCount, headCount: out.headCount, base: out.base, firstPfn: plan.firstPfn, frames: plan.frames }, [odd.buffer, heads.buffer]);
      Atomics.store(state, k, ${DONE});
      Atomics.notify(state, k);
      k = -1;
    }
  } catch (e) {
    if (k >= 0) {
      Atomics.store(state, k, ${FAILED});
      Atomics.notify(state, k);
    }
    Atomics.store(state, n, 1);
  } finally {
    count();
    if (fd >= 0) fs.closeSync(fd);
    port.close();
  }
};
parentPort.on('message', check);
`;

/**
 * Worker threads kept between checks: starting one costs some 30 ms, about
 * what a check of a 256 MiB memmap takes, so an editing session's checks
 * reuse them. They end after IDLE_MS without a check, and never keep the
 * process alive.
 */
const IDLE_MS = 30_000;
const pool: Worker[] = [];
let idleTimer: NodeJS.Timeout | undefined;

/** `n` workers from the pool, started where it has fewer. */
function takeWorkers(n: number, wasm: WebAssembly.Module | undefined): Worker[] {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  const source = workerSource();
  while (pool.length < n) {
    // Plain JavaScript: no loader flags of the parent (a test runner's) are needed.
    const worker = new Worker(source, { eval: true, execArgv: [], workerData: { wasm, layout: WASM_LAYOUT } });
    worker.unref();
    // A worker that dies leaves its chunk TAKEN (the main thread gives up waiting on it) and leaves the pool.
    worker.on('error', () => {});
    worker.on('exit', () => {
      const i = pool.indexOf(worker);
      if (i >= 0) pool.splice(i, 1);
    });
    pool.push(worker);
  }
  return pool.slice(0, n);
}

/** After a check: the pool ends once no check has used it for IDLE_MS. */
function releaseWorkers(): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(endWorkerPool, IDLE_MS);
  idleTimer.unref();
}

/** Ends the worker threads kept between checks (they end by themselves after a while). */
export function endWorkerPool(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  const ending = pool.splice(0).map((w) => w.terminate());
  return Promise.all(ending).then(() => undefined);
}

/** The thread ids of the workers kept for the next check (tests). */
export function pooledWorkerIds(): number[] {
  return pool.map((w) => w.threadId);
}

/** The image file under `store`, when the memmap bytes [from, to) read from it are what the store holds. */
function fileUnder(store: Store, from: number, to: number): string | undefined {
  if (store instanceof ReadCacheStore) return fileUnder(store.base, from, to); // it writes through: the file is never behind it
  if (store instanceof FileStore) return store.path;
  if (store instanceof OverlayStore) {
    return store.holdsAny(from, to - from) ? undefined : fileUnder(store.base, from, to);
  }
  return undefined;
}

/**
 * A memmap scanner factory for check(): for an image file, reads into one
 * buffer and, with enough memmap to scan and more than one CPU, adds worker
 * threads; undefined (the checker reads through the store) otherwise.
 */
export function fileScanner(options: FileScanOptions = {}): (img: PmemImage, ctx: ScanContext) => MemmapScanner | undefined {
  return (img, ctx) => {
    if (!WORDS_ARE_LITTLE_ENDIAN) return undefined;
    const path = fileUnder(img.store, ctx.memmapStart, ctx.memmapStart + ctx.totalFrames * DESCRIPTOR_SIZE);
    if (path === undefined) return undefined;
    let frames = 0;
    ctx.generations.forEach((gen) => (frames += gen ? ctx.sectionFrames : 0));
    const workers = frames * DESCRIPTOR_SIZE < (options.workersFrom ?? WORKERS_FROM_BYTES) ? 0 : (options.workers ?? idleWorkers());
    // With nothing held in memory over the file, small reads may go to it too.
    const direct = fileUnder(img.store, 0, img.store.size) !== undefined;
    return new FileScanner(path, ctx, Math.max(0, workers), direct, options);
  };
}

class FileScanner implements MemmapScanner {
  private readonly chunks: number;
  private readonly state: Int32Array;
  private readonly ports: MessagePort[] = [];
  private readonly received = new Map<number, WorkerResult>();
  private readonly fd: number;
  private readonly buf: Uint8Array;
  private readonly wasm: WasmScan | undefined;
  private readonly table = descriptorCrcTable();
  private readonly scan = newDescriptorScan(0);
  private readonly small = new Uint8Array(256);
  private stopped: boolean;
  private started = false;
  private readonly stats = { here: 0, workers: 0 };

  constructor(path: string, private readonly ctx: ScanContext, private readonly workers: number, private readonly direct: boolean, private readonly options: FileScanOptions) {
    this.chunks = Math.ceil(ctx.totalFrames / ctx.chunkFrames);
    this.state = new Int32Array(new SharedArrayBuffer(4 * (this.chunks + 3)));
    this.state[this.chunks + 1] = this.chunks;
    this.fd = fs.openSync(path, 'r');
    const mod = descriptorScanModule();
    this.wasm = mod && newWasmScan(mod, ctx.chunkFrames, this.table, WASM_LAYOUT);
    this.buf = this.wasm?.dataBytes ?? new Uint8Array(ctx.chunkFrames * DESCRIPTOR_SIZE);
    this.stopped = workers === 0;
    if (workers === 0) return;
    // The generations go to every worker: shared, not copied.
    const generations = new Uint32Array(new SharedArrayBuffer(ctx.generations.byteLength));
    generations.set(ctx.generations);
    const shared = { ...ctx, generations };
    for (const worker of takeWorkers(workers, mod)) {
      const { port1, port2 } = new MessageChannel();
      worker.postMessage({ path, ctx: shared, table: this.table, state: this.state, port: port2 }, [port2]);
      this.ports.push(port1);
    }
  }

  chunk(k: number): ChunkScan {
    if (!this.started && this.options.awaitWorkers) this.awaitStart();
    this.started = true;
    if (!this.stopped && Atomics.compareExchange(this.state, k, FREE, MAIN) !== FREE) {
      const result = this.awaitWorker(k);
      this.stats.workers += result ? 1 : 0;
      if (result) return { scan: { odd: result.odd, oddCount: result.oddCount, heads: result.heads, headCount: result.headCount, base: result.base }, firstPfn: result.firstPfn, frames: result.frames };
    }
    return this.scanHere(k);
  }

  private awaitStart(): void {
    const started = Date.now();
    for (let ready = Atomics.load(this.state, this.chunks + 2); ready < this.workers && Date.now() - started < GIVE_UP_MS; ready = Atomics.load(this.state, this.chunks + 2)) {
      Atomics.wait(this.state, this.chunks + 2, ready, 100);
    }
  }

  /** The worker's result for chunk k, or undefined when it failed or took too long (then workers stop). */
  private awaitWorker(k: number): WorkerResult | undefined {
    const started = Date.now();
    for (;;) {
      const s = Atomics.load(this.state, k);
      if (s === DONE) {
        const r = this.receive(k);
        if (r) return r;
      } else if (s === FAILED) {
        this.stop();
        return undefined;
      }
      if (Date.now() - started > GIVE_UP_MS) {
        this.stop();
        return undefined;
      }
      Atomics.wait(this.state, k, s, s === DONE ? 1 : 100);
    }
  }

  private receive(k: number): WorkerResult | undefined {
    const had = this.received.get(k);
    if (had) {
      this.received.delete(k);
      return had;
    }
    for (const port of this.ports) {
      for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
        const r = m.message as WorkerResult;
        if (r.k === k) return r;
        this.received.set(r.k, r);
      }
    }
    return undefined;
  }

  /** Reads and scans chunk k on this thread, into the buffer and scan kept for every chunk (the checker is done with the last one). */
  private scanHere(k: number): ChunkScan {
    this.stats.here++;
    const plan = planChunk(this.ctx, k);
    if (!plan) return { scan: newDescriptorScan(0), firstPfn: k * this.ctx.chunkFrames, frames: 0 };
    const length = plan.frames * DESCRIPTOR_SIZE;
    for (let done = 0; done < length; ) {
      const got = fs.readSync(this.fd, this.buf, done, length - done, this.ctx.memmapStart + plan.firstPfn * DESCRIPTOR_SIZE + done);
      if (got === 0) throw new RangeError(`unexpected end of file at byte ${this.ctx.memmapStart + plan.firstPfn * DESCRIPTOR_SIZE + done}`);
      done += got;
    }
    const bytes = this.buf.subarray(0, length);
    const { scan, wasm } = this;
    const words = wasm ? wasm.dataWords : descriptorWords(bytes);
    scan.oddCount = scan.headCount = 0;
    scan.base = plan.firstPfn;
    for (const run of plan.runs) {
      if (wasm) scanRunWasm(words, run, this.table, scan, wasm, scanDescriptorRun);
      else scanDescriptorRun(words, run, this.table, scan);
    }
    return { scan, bytes, firstPfn: plan.firstPfn, frames: plan.frames };
  }

  /** A small read straight from the file into one buffer: the store's path allocates and caches a page for each. */
  readSmall(offset: number, length: number): Uint8Array | undefined {
    if (!this.direct || length > this.small.length) return undefined;
    const got = fs.readSync(this.fd, this.small, 0, length, offset);
    return got === length ? this.small.subarray(0, length) : undefined;
  }

  private stop(): void {
    this.stopped = true;
    Atomics.store(this.state, this.chunks, 1);
  }

  close(): void {
    this.stop();
    if (this.workers) releaseWorkers();
    for (const p of this.ports) p.close();
    fs.closeSync(this.fd);
    this.options.onClose?.(this.stats);
  }
}

/** What `pmem check FILE` runs: check() with the file scanner (and its worker threads for a large memmap). */
export function checkImageFile(img: PmemImage, options: Omit<CheckOptions, 'memmapScanner'> = {}): CheckReport {
  return check(img, { ...options, memmapScanner: fileScanner() });
}
