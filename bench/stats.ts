/** Timing helpers for benchmarks: medians over repeated runs, since these machines are noisy. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median and spread of a series of runs; undefined when there is no run. */
export function summarise(xs: number[]): { median: number; min: number; max: number } | undefined {
  if (xs.length === 0) return undefined;
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

export function timeRuns(runs: number, fn: () => void): { medianMs: number; runsMs: number[] } {
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    runsMs.push(performance.now() - t);
  }
  return { medianMs: median(runsMs), runsMs };
}

export function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}
