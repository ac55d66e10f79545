/**
 * The extension host benchmark, run inside a real VS Code extension host
 * (code-server) by bench/host.bench.mjs: on a 1 TiB image with 100,000
 * history steps (made beforehand by bench/host/makeImage.ts), how long the host's event loop is held at most during long
 * work (its own timing: perf_hooks.monitorEventLoopDelay), how long an
 * allocation takes to reach the map's picture, how long a Descriptors page
 * takes to expand, and the host's memory. Writes its figures as JSON to
 * PMEM_BENCH_OUT.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { info } from '../../src/engine';
import type { PmemExplorerApi } from '../../src/extension/extension';
import type { DescriptorNode } from '../../src/extension/trees/descriptorsTree';

const VIEW = 'pmemExplorer.image';

interface Figure {
  name: string;
  value: number;
  unit: 'ms' | 'MiB' | 's';
  target?: string;
  note?: string;
}

const figures: Figure[] = [];
const record = (f: Figure) => {
  figures.push(f);
  console.log(`[host bench] ${f.name}: ${f.value.toFixed(f.unit === 'MiB' ? 0 : 1)} ${f.unit}${f.note ? ` (${f.note})` : ''}`);
};

async function until<T>(what: string, fn: () => T | undefined, ms = 600_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * With PMEM_HOST_PROFILE set to a folder, each long work is also profiled in
 * the host itself (node:inspector) and written there as NAME.cpuprofile, for
 * bench/host/longTasks.mjs to say what ran in the longest tasks.
 */
const profileDir = process.env.PMEM_HOST_PROFILE;
const post = (s: Session, method: string, params?: object) =>
  new Promise<any>((resolve, reject) => s.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r)))); // eslint-disable-line @typescript-eslint/no-explicit-any

async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!profileDir) return work();
  const s = new Session();
  s.connect();
  await post(s, 'Profiler.enable');
  await post(s, 'Profiler.setSamplingInterval', { interval: 500 });
  await post(s, 'Profiler.start');
  const profilerAt = performance.now();
  // Starting the profiler holds the thread 100 ms or more (it logs every function compiled so far): not the work's.
  await new Promise((resolve) => setTimeout(resolve, PROFILER_START_MS));
  // A timer run every turn marks where the loop was held: the stretches between its runs are the tasks longTasks.mjs names.
  const stretches: Array<[number, number]> = [];
  let last = performance.now();
  let watching = true;
  const watch = () => {
    const now = performance.now();
    if (now - last > STRETCH_MS) stretches.push([last - profilerAt, now - profilerAt]);
    last = now;
    if (watching) setTimeout(watch, 0);
  };
  setTimeout(watch, 0);
  try {
    return await work();
  } finally {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    watching = false;
    const { profile } = await post(s, 'Profiler.stop');
    // In the profile's own clock (microseconds from its start), for longTasks.mjs.
    profile.pmemStretches = stretches.map(([a, b]) => [profile.startTime + a * 1000, profile.startTime + b * 1000]);
    fs.mkdirSync(profileDir, { recursive: true });
    fs.writeFileSync(path.join(profileDir, `${name}.cpuprofile`), JSON.stringify(profile));
    s.disconnect();
  }
}

/** How long a profiled run waits after starting the profiler, before the work. */
const PROFILER_START_MS = 300;

/** Stretches the profiled runs keep: the loop held at least this long. */
const STRETCH_MS = 20;

/**
 * The memory of the extension host after a full garbage collection (asked of
 * V8 through the inspector: the host has no gc()), with the parts V8 tells
 * apart: what is held, not garbage that was not yet collected.
 */
async function memory(): Promise<{ mib: number; note: string }> {
  const s = new Session();
  s.connect();
  try {
    await post(s, 'HeapProfiler.collectGarbage');
  } finally {
    s.disconnect();
  }
  const m = process.memoryUsage();
  const mib = (n: number) => (n / 2 ** 20).toFixed(0);
  return { mib: m.rss / 2 ** 20, note: `JS heap ${mib(m.heapUsed)} of ${mib(m.heapTotal)} MiB, external ${mib(m.external)} MiB (array buffers ${mib(m.arrayBuffers)} MiB)` };
}

/** With PMEM_HOST_PROFILE: what `work` allocated that is still alive after it (sampled), as NAME.heapprofile. */
async function heapProfiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!profileDir) return work();
  const s = new Session();
  s.connect();
  await post(s, 'HeapProfiler.enable');
  await post(s, 'HeapProfiler.startSampling', { samplingInterval: 4096 });
  try {
    return await work();
  } finally {
    await post(s, 'HeapProfiler.collectGarbage');
    const { profile } = await post(s, 'HeapProfiler.stopSampling');
    fs.mkdirSync(profileDir, { recursive: true });
    fs.writeFileSync(path.join(profileDir, `${name}.heapprofile`), JSON.stringify(profile));
    s.disconnect();
  }
}

/** How long the loop is watched after a work resolves: the tasks it left (the views' refresh) count too. */
const SETTLE_MS = 100;

/** The longest time the event loop was held while `work` ran (and just after), and how long it ran. */
async function longestTask<T>(name: string, work: () => Promise<T>): Promise<{ value: T; longestMs: number; p99Ms: number; totalMs: number; longestGcMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  // A long task may be the collector's: its longest pause is told beside it.
  let longestGcMs = 0;
  const gc = new PerformanceObserver((list) => list.getEntries().forEach((e) => (longestGcMs = Math.max(longestGcMs, e.duration))));
  gc.observe({ entryTypes: ['gc'] });
  h.enable();
  let t = performance.now();
  // Counted from the work's start: a profiled run starts its profiler first, which holds the thread on its own.
  const value = await profiled(name, () => {
    h.reset();
    longestGcMs = 0;
    t = performance.now();
    return work();
  });
  const totalMs = performance.now() - t;
  // The histogram counts a stretch when its timer fires after it: the work's last stretch (its result made, the views told) ends
  // as the work resolves, so the loop is given a few of its ticks before the histogram stops.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  h.disable();
  gc.disconnect();
  // The histogram counts the delay past the resolution's own timer.
  return { value, longestMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, totalMs, longestGcMs };
}

/** Peak resident set of the extension host while the bench runs, sampled. */
let peakRss = 0;
/** What the host was doing (a step of the bench), and the peak of each: the note of the peak says where it was reached. */
let phase = 'activation';
const phasePeaks = new Map<string, number>();
const sampler = setInterval(() => {
  const rss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  phasePeaks.set(phase, Math.max(phasePeaks.get(phase) ?? 0, rss));
}, 100);

export async function run(): Promise<void> {
  const out = process.env.PMEM_BENCH_OUT;
  const dir = process.env.PMEM_BENCH_DIR;
  if (!out || !dir) throw new Error('PMEM_BENCH_OUT and PMEM_BENCH_DIR must be set');
  const file = path.join(dir, 'tib.pmem');
  try {
    const ext = vscode.extensions.getExtension<PmemExplorerApi>('pmem-explorer.pmem-explorer');
    const api = await ext!.activate();
    const idle = await memory();
    record({ name: 'extension host memory after activation', value: idle.mib, unit: 'MiB', note: idle.note });

    phase = 'open';
    let t = performance.now();
    const { doc, map } = await heapProfiled('open', async () => {
      await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), VIEW);
      const opened = await until('the image to open', () => (api.registry.current?.uri.fsPath === file ? api.registry.current : undefined));
      const itsMap = await until('its map', () => api.registry.mapsOf(opened)[0]);
      await until('the first picture', () => itsMap.drawn);
      return { doc: opened, map: itsMap };
    });
    record({ name: 'open the image until the map is drawn', value: performance.now() - t, unit: 'ms' });
    const open = await memory();
    record({ name: 'extension host memory with the image open', value: open.mib, unit: 'MiB', target: '<= 200 MiB', note: open.note });

    // One allocation, until the map has drawn the new state.
    const exec = async <R>(id: string, ...args: unknown[]): Promise<R> => vscode.commands.executeCommand<R>(`pmemExplorer.${id}`, ...args);
    phase = 'boot and single allocations';
    await exec('allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: 'warm' }); // boots the machine
    await until('the boot drawn', () => (map.drawn && map.lastState && map.drawn.version >= map.lastState.version ? true : undefined));
    const draws: number[] = [];
    for (let i = 0; i < 5; i++) {
      const drawn = await profiled(`alloc-drawn-${i}`, async () => {
        t = performance.now();
        await exec('allocate', { order: 0, count: 1, node: 0, zone: 'normal', owner: 'one' });
        const version = map.lastState!.version;
        return until('the allocation drawn', () => (map.drawn && map.drawn.version >= version ? map.drawn : undefined));
      });
      draws.push(drawn.at - t);
    }
    draws.sort((a, b) => a - b);
    record({ name: 'one allocation until the map has drawn it (median of 5)', value: draws[2], unit: 'ms', note: `${draws.map((d) => d.toFixed(0)).join(', ')} ms` });

    // A Descriptors page: its 256 frames, as the view asks for them.
    const tree = api.views.descriptors;
    const roots = tree.getChildren();
    const section = roots[0].kind === 'sectionGroup' ? tree.getChildren(roots[0])[1] : roots[1];
    t = performance.now();
    const pages = tree.getChildren(section);
    const frames = tree.getChildren(pages[0] as DescriptorNode);
    for (const f of frames) tree.getTreeItem(f);
    record({ name: `expand a Descriptors page (${frames.length} frames)`, value: performance.now() - t, unit: 'ms' });

    // The check's report is a Markdown document: VS Code's Markdown extension, which loads in this host when the
    // first one opens (about 300 ms), is loaded beforehand so that the figure is the check's own.
    await vscode.extensions.getExtension('vscode.markdown-language-features')?.activate();
    // Long work: the longest task the host ran while it went on.
    phase = 'Check Image';
    const check = await longestTask('check', () => exec<{ complete: boolean }>('check'));
    if (!check.value?.complete) throw new Error(`Check Image did not run: ${JSON.stringify(api.commands.since(0).slice(-1))}`);
    record({ name: 'Check Image: longest extension host task', value: check.longestMs, unit: 'ms', target: '<= 50 ms', note: `check took ${(check.totalMs / 1000).toFixed(1)} s, p99 ${check.p99Ms.toFixed(1)} ms, longest GC pause ${check.longestGcMs.toFixed(1)} ms` });
    // The report opened beside the map: back to the image.
    await vscode.commands.executeCommand('workbench.action.focusFirstEditorGroup');
    await vscode.commands.executeCommand('workbench.action.closeEditorsInOtherGroups');
    await until('the image to be active again', () => (api.registry.current === doc ? true : undefined));

    const allocated = () => info(doc.session!.image).frames.allocated;
    const before = allocated();
    phase = 'allocate 1,000,000 frames';
    const big = await longestTask('alloc-million', () => exec<number[]>('allocate', { order: 0, count: 1_000_000, node: 0, zone: 'normal', owner: 'million' }));
    if (big.value?.length !== 1_000_000) throw new Error(`the allocation did not run: ${JSON.stringify(api.commands.since(0).slice(-1))}`);
    record({ name: 'allocate 1,000,000 frames: longest extension host task', value: big.longestMs, unit: 'ms', target: '<= 50 ms', note: `took ${(big.totalMs / 1000).toFixed(1)} s, p99 ${big.p99Ms.toFixed(1)} ms, longest GC pause ${big.longestGcMs.toFixed(1)} ms` });
    phase = 'undo of that allocation';
    const undo = await longestTask('undo-million', async () => {
      await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
      await vscode.commands.executeCommand('undo');
      await until('the undo', () => (allocated() === before && !api.work.underWay ? true : undefined));
    });
    record({ name: 'undo of that allocation: longest extension host task', value: undo.longestMs, unit: 'ms', target: '<= 50 ms', note: `took ${(undo.totalMs / 1000).toFixed(1)} s, p99 ${undo.p99Ms.toFixed(1)} ms, longest GC pause ${undo.longestGcMs.toFixed(1)} ms` });

    // Initialise All on 1 TiB would keep 16 GiB of descriptors: run it 15 s, then cancel.
    phase = 'Initialise All';
    const init = await longestTask('init-all', async () => {
      const running = exec('initAll');
      await new Promise((r) => setTimeout(r, 15_000));
      const asked = performance.now();
      await exec('cancelOperation');
      await running;
      return performance.now() - asked;
    });
    record({ name: 'Initialise All (15 s, then cancelled): longest extension host task', value: init.longestMs, unit: 'ms', target: '<= 50 ms', note: `cancel took ${(init.value / 1000).toFixed(2)} s to roll back, p99 ${init.p99Ms.toFixed(1)} ms, longest GC pause ${init.longestGcMs.toFixed(1)} ms` });
    const byPhase = [...phasePeaks].sort((a, b) => b[1] - a[1]).map(([name, rss]) => `${name} ${(rss / 2 ** 20).toFixed(0)}`);
    record({ name: 'extension host peak memory', value: peakRss / 2 ** 20, unit: 'MiB', target: '<= 200 MiB', note: `the highest sampled in each step, MiB (a step's includes what the steps before it left): ${byPhase.join(', ')}` });
  } finally {
    clearInterval(sampler);
    fs.writeFileSync(out, JSON.stringify({ figures }, null, 2));
    fs.rmSync(file, { force: true });
  }
}
