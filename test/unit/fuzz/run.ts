/**
 * Runs the fuzz properties with fast-check: a bounded, seeded run for mocha
 * and a timed one for `npm run fuzz`. A failure names the property, the seed,
 * the path and the shrunk counterexample, so the case can be replayed.
 */
import fc from 'fast-check';
import { argvFixture, argvProperty } from './argvProperties';
import { basePool, cliProcessProperty, cliProperty, designPool, engineProperty } from './imageProperties';
import { protocolProperty } from './protocolProperties';
import { traceProperty } from './traceProperties';
import { snapshotProperty } from './snapshotProperties';

export interface FuzzProperty {
  name: string;
  /** Runs in the bounded run (mocha); the timed run goes on until its time is up. */
  boundedRuns: number;
  make(poolSize: number, seed: number): fc.IProperty<unknown>;
}

export const PROPERTIES: FuzzProperty[] = [
  { name: 'engine on mutated images', boundedRuns: 40, make: (n, seed) => engineProperty(basePool(n, seed)) as unknown as fc.IProperty<unknown> },
  { name: 'engine on mutated images of the designs', boundedRuns: 30, make: (n, seed) => engineProperty(designPool(n, seed)) as unknown as fc.IProperty<unknown> },
  { name: 'cli on mutated images', boundedRuns: 8, make: (n, seed) => cliProperty(basePool(Math.min(n, 4), seed)) as unknown as fc.IProperty<unknown> },
  { name: 'cli on mutated images of the designs', boundedRuns: 4, make: (n, seed) => cliProperty(designPool(Math.min(n, 4), seed)) as unknown as fc.IProperty<unknown> },
  { name: 'cli process on mutated images', boundedRuns: 3, make: (n, seed) => cliProcessProperty(basePool(Math.min(n, 3), seed)) as unknown as fc.IProperty<unknown> },
  { name: 'cli argument vectors', boundedRuns: 150, make: (_, seed) => argvProperty(argvFixture(basePool(1, seed)[0].bytes)) as unknown as fc.IProperty<unknown> },
  { name: 'webview messages', boundedRuns: 300, make: (_, seed) => protocolProperty(seed) as unknown as fc.IProperty<unknown> },
  { name: 'kmem traces', boundedRuns: 60, make: (_, seed) => traceProperty(seed) as unknown as fc.IProperty<unknown> },
  { name: 'machine snapshots', boundedRuns: 300, make: (_, seed) => snapshotProperty(seed) as unknown as fc.IProperty<unknown> },
];

export interface FuzzResult {
  name: string;
  runs: number;
  failed: boolean;
  report?: string;
}

/** Runs one property; `seconds` set: as many runs as fit, else `boundedRuns`. */
export function runProperty(p: FuzzProperty, seed: number, options: { seconds?: number; poolSize?: number } = {}): FuzzResult {
  const property = p.make(options.poolSize ?? 6, seed);
  const timed = options.seconds !== undefined;
  const details = fc.check(property, {
    seed,
    numRuns: timed ? Number.MAX_SAFE_INTEGER : p.boundedRuns,
    interruptAfterTimeLimit: timed ? options.seconds! * 1000 : undefined,
    markInterruptAsFailure: false,
  });
  if (!details.failed) return { name: p.name, runs: details.numRuns, failed: false };
  const error = details.errorInstance as Error | undefined;
  const report = [
    `${p.name}: failed after ${details.numRuns} run(s)`,
    `  replay: seed ${details.seed}, path "${details.counterexamplePath}"`,
    `  shrunk counterexample: ${fc.stringify(details.counterexample)}`,
    `  ${error?.message ?? String(details.errorInstance)}`,
  ].join('\n');
  return { name: p.name, runs: details.numRuns, failed: true, report };
}
