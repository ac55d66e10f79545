/**
 * Properties over mutated images: every inspection and write through the
 * engine API, and every CLI command run in-process, ends in a result or a
 * located error; nothing is written to an image that failed validation.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { scratchDir } from './scratch';
import {
  allocOp, blocks, buddyinfo, check, freeLists, freeOp, frames, info, PmemImage, sections, stateAt, stepRange,
} from '../../../src/engine';
import { mapCells } from '../../../src/engine/inspect/mapCells';
import { build, Built, designRecipeArb, Recipe, recipeArb, storeOf } from './images';
import { describeMutations, mutate, Mutation, mutationsArb } from './mutations';
import { attempt } from './outcome';
import { Instance, structuresOf } from './structures';
import { runCli } from './cliInProcess';

/** A case takes milliseconds; this much means a runaway loop or allocation. */
export const CASE_TIME_LIMIT_MS = 10_000;

export interface Base extends Built {
  instances: Instance[];
}

/** Valid images with history to mutate, built once per run from a seeded sample of recipes. */
export function basePool(size: number, seed: number, recipes: fc.Arbitrary<Recipe> = recipeArb): Base[] {
  return fc.sample(recipes, { numRuns: size, seed }).map((r) => {
    const b = build(r);
    return { ...b, instances: structuresOf(b.bytes) };
  });
}

/** As basePool, of the designs that keep their own structures (or none) beside the engine's index. */
export const designPool = (size: number, seed: number): Base[] => basePool(size, seed, designRecipeArb);

/** A recipe's image with mutations applied, for replaying a counterexample. */
export function structuresOfCase(recipe: Recipe, mutations: Mutation[]): { bytes: Uint8Array; allocated: Array<{ pfn: number }> } {
  const b = build(recipe);
  return { bytes: mutate(b.bytes, structuresOf(b.bytes), mutations), allocated: b.allocated };
}

const caseArb = (pool: Base[]) => fc.record({
  base: fc.integer({ min: 0, max: pool.length - 1 }),
  mutations: mutationsArb,
  from: fc.nat(),
  count: fc.integer({ min: 1, max: 300 }),
  step: fc.integer({ min: -2, max: 40 }),
  order: fc.integer({ min: 0, max: 12 }),
  allocCount: fc.integer({ min: 1, max: 5 }),
  freePick: fc.nat(),
  framesPerCell: fc.constantFrom(1, 2, 64, 512, 4096),
});

type Case = ReturnType<typeof caseArb> extends fc.Arbitrary<infer T> ? T : never;

const within = (started: number, what: string) => {
  const ms = performance.now() - started;
  if (ms > CASE_TIME_LIMIT_MS) throw new Error(`${what} took ${Math.round(ms)} ms (bound ${CASE_TIME_LIMIT_MS} ms)`);
};

/** Every engine query and operation on one mutated image. */
export function exerciseEngine(bytes: Uint8Array, c: Case, allocated: Array<{ pfn: number }>): void {
  const started = performance.now();
  const ro = attempt('open read-only', () => PmemImage.open(storeOf(bytes), { readOnly: true }));
  const img = ro.value;
  if (img) {
    const g = img.geometry;
    attempt('info', () => info(img));
    attempt('sections', () => sections(img));
    attempt('freelists', () => freeLists(img, 64));
    attempt('buddyinfo', () => buddyinfo(img));
    attempt('descriptors', () => frames(img, c.from % g.totalFrames, c.count));
    attempt('blocks', () => blocks(img, c.from % g.totalFrames, c.count));
    const records = attempt('history', () => img.historyRecords(true)).value;
    const range = records ? stepRange(records) : { first: 0, last: 0 };
    const step = c.step < 0 ? c.step : range.first + (c.step % (range.last - range.first + 1));
    attempt('state', () => info(stateAt(img, step)));
    const fpc = c.framesPerCell;
    attempt('map', () => mapCells(img, { firstPfn: 0, framesPerCell: fpc, cells: Math.ceil(g.totalFrames / fpc) }));
  }
  const lenient = attempt('open for check', () => PmemImage.open(storeOf(bytes), { readOnly: true, lenient: true })).value;
  if (lenient) attempt('check', () => check(lenient));
  within(started, 'inspection');

  // A writable open boots the machine; it must write nothing unless the image validated.
  const store = storeOf(bytes);
  const w = attempt('open for writing', () => PmemImage.open(store, {}));
  if (!w.value) {
    if (store.writes !== 0) throw new Error(`a writable open that failed (${w.error?.message}) wrote ${store.writes} time(s)`);
    return;
  }
  const img2 = w.value;
  attempt('alloc', () => allocOp(img2, { order: c.order, count: c.allocCount }));
  const victim = allocated.length ? allocated[c.freePick % allocated.length].pfn : c.freePick;
  attempt('free', () => freeOp(img2, [victim]));
  attempt('shutdown', () => img2.close());
  attempt('reboot', () => PmemImage.open(store, {}).close());
  within(started, 'engine case');
}

export function engineProperty(pool: Base[]): fc.IPropertyWithHooks<[Case]> {
  return fc.property(caseArb(pool), (c) => {
    const base = pool[c.base];
    const bytes = mutate(base.bytes, base.instances, c.mutations);
    try {
      exerciseEngine(bytes, c, base.allocated);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n  image: ${JSON.stringify(base.recipe)}\n  mutations: ${describeMutations(c.mutations)}`, { cause: e });
    }
  });
}

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The CLI commands run on each mutated image, FILE standing for the image's path. */
export function commandLines(c: Case, allocated: Array<{ pfn: number }>): string[][] {
  const pfn = String(allocated.length ? allocated[c.freePick % allocated.length].pfn : c.freePick);
  return [
    ['info', 'FILE'], ['info', 'FILE', '--json'], ['check', 'FILE'], ['descriptors', 'FILE', '--from', String(c.from % 4096), '--count', String(c.count)],
    ['freelists', 'FILE'], ['history', 'FILE', '--json'], ['state', 'FILE', '--at', String(c.step)], ['sections', 'FILE'],
    ['map', 'FILE', '--out', 'OUT', '--width', '64', '--height', '48'],
    ['alloc', 'FILE', '--order', String(c.order % 5), '--count', String(c.allocCount)], ['free', 'FILE', pfn], ['reboot', 'FILE'],
  ];
}

/** Every CLI command, in-process, on one mutated image file. */
/** A failing command's stderr: its error in one line, after any warnings about the image it opened (each one line too). */
export function oneErrorLine(stderr: string): boolean {
  const lines = stderr.split('\n');
  if (lines.pop() !== '' || !lines.length) return false;
  const error = lines.pop()!;
  return error.length > 0 && !error.startsWith('pmem: warning: ') && lines.every((l) => l.startsWith('pmem: warning: '));
}

export function exerciseCli(dir: string, bytes: Uint8Array, c: Case, allocated: Array<{ pfn: number }>): void {
  const file = path.join(dir, 'image.pmem');
  fs.writeFileSync(file, bytes);
  const valid = attempt('open read-only', () => PmemImage.open(storeOf(bytes), { readOnly: true })).value !== undefined;
  const before = sha(file);
  for (const line of commandLines(c, allocated)) {
    const argv = line.map((a) => (a === 'FILE' ? file : a === 'OUT' ? path.join(dir, 'map.png') : a));
    const started = performance.now();
    const r = runCli(argv);
    within(started, line.join(' '));
    const shown = `pmem ${line.join(' ')}`;
    if (![0, 1, 2].includes(r.code)) throw new Error(`${shown}: exit ${r.code}`);
    if (r.code !== 0 && !oneErrorLine(r.stderr) && line[0] !== 'check') throw new Error(`${shown}: exit ${r.code} but stderr is not one line: ${JSON.stringify(r.stderr)}`);
    if (/internal error|\n\s+at /.test(r.stderr)) throw new Error(`${shown}: ${r.stderr}`);
    if (!valid && sha(file) !== before) throw new Error(`${shown} wrote to an image that fails validation`);
  }
}

export function cliProperty(pool: Base[]): fc.IPropertyWithHooks<[Case]> {
  const dir = scratchDir('pmem-fuzz-');
  return fc.property(caseArb(pool), (c) => {
    const base = pool[c.base];
    const bytes = mutate(base.bytes, base.instances, c.mutations);
    try {
      exerciseCli(dir, bytes, c, base.allocated);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n  image: ${JSON.stringify(base.recipe)}\n  mutations: ${describeMutations(c.mutations)}`, { cause: e });
    }
  });
}

const CLI = path.resolve(__dirname, '../../../dist/cli.js');

/** A few commands through the built CLI as a separate process (slower): exit code, one stderr line, no stack, no write. */
export function cliProcessProperty(pool: Base[]): fc.IPropertyWithHooks<[Case]> {
  const dir = scratchDir('pmem-fuzz-proc-');
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  return fc.property(caseArb(pool), (c) => {
    const base = pool[c.base];
    const bytes = mutate(base.bytes, base.instances, c.mutations);
    const file = path.join(dir, 'image.pmem');
    fs.writeFileSync(file, bytes);
    const valid = attempt('open read-only', () => PmemImage.open(storeOf(bytes), { readOnly: true })).value !== undefined;
    const before = sha(file);
    for (const line of [['info', 'FILE'], ['check', 'FILE', '--json'], ['alloc', 'FILE', '--order', '0']]) {
      const argv = line.map((a) => (a === 'FILE' ? file : a));
      const r = spawnSync(process.execPath, [CLI, ...argv], { encoding: 'utf8', timeout: CASE_TIME_LIMIT_MS });
      const shown = `pmem ${line.join(' ')} (mutations: ${describeMutations(c.mutations)})`;
      if (r.error) throw new Error(`${shown}: ${r.error.message}`, { cause: r.error });
      if (![0, 1, 2].includes(r.status ?? -1)) throw new Error(`${shown}: exit ${r.status} (signal ${r.signal})`);
      if (r.status !== 0 && line[0] !== 'check' && !oneErrorLine(r.stderr)) throw new Error(`${shown}: stderr is not one line: ${JSON.stringify(r.stderr)}`);
      if (/internal error|\n\s+at /.test(r.stderr)) throw new Error(`${shown}: ${r.stderr}`);
      if (!valid && sha(file) !== before) throw new Error(`${shown} wrote to an image that fails validation`);
    }
  });
}

export type { Case, Mutation };
