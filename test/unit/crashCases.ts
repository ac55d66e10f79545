/**
 * The crash cases to try for one recorded run: for each epoch, which of its
 * unflushed writes landed and how (whole or torn). Exhaustive over subsets
 * when an epoch is small, seeded samples beyond; torn writes are tried alone,
 * with all the other writes, with the writes before them (the old prefix
 * model), and in random mixes.
 */
import { Landing, CachedWrite, tornShapes } from '../../src/engine/store/writeBackCacheStore';
import { rng } from './helpers';

export interface CrashCase {
  epoch: number;
  landings: Landing[];
  label: string;
}

export interface CaseBudget {
  /** Epochs with at most this many writes get every subset. */
  exhaustiveUpTo: number;
  /** Random mixes per epoch (subsets beyond the exhaustive limit, and torn mixes). */
  samplesPerEpoch: number;
  /** Keep at most this many cases per run (a seeded sample; 0 = all). */
  maxCases: number;
  seed: number;
}


function labelOf(epoch: number, landings: Landing[]): string {
  const parts = landings.map((l) => (l.torn ? `${l.index}~${l.torn.side[0]}${l.torn.units}x${l.torn.granularity}` : `${l.index}`));
  return `epoch ${epoch} [${parts.join(' ')}]`;
}

export function crashCases(epochs: CachedWrite[][], budget: CaseBudget): CrashCase[] {
  const random = rng(budget.seed);
  const out: CrashCase[] = [];
  const seen = new Set<string>();
  const add = (epoch: number, landings: Landing[]) => {
    const label = labelOf(epoch, landings);
    if (seen.has(label)) return;
    seen.add(label);
    out.push({ epoch, landings, label });
  };
  epochs.forEach((writes, epoch) => {
    const n = writes.length;
    if (n === 0) return;
    // Nothing of this epoch landed: the same media as all of the previous epoch.
    if (epoch === 0) add(0, []);
    if (n <= budget.exhaustiveUpTo) {
      for (let mask = 1; mask < 2 ** n; mask++) {
        const landings: Landing[] = [];
        for (let i = 0; i < n; i++) if (mask & (1 << i)) landings.push({ index: i });
        add(epoch, landings);
      }
    } else {
      add(epoch, writes.map((_, i) => ({ index: i })));
      for (let k = 0; k < budget.samplesPerEpoch; k++) {
        const landings: Landing[] = [];
        for (let i = 0; i < n; i++) if (random() < 0.5) landings.push({ index: i });
        add(epoch, landings);
      }
    }
    writes.forEach((w, i) => {
      for (const torn of tornShapes(w.offset, w.data.length)) {
        const others = (keep: (j: number) => boolean) => writes.flatMap((_, j) => (j !== i && keep(j) ? [{ index: j }] : []));
        add(epoch, [{ index: i, torn }]);
        add(epoch, [...others(() => true), { index: i, torn }]);
        add(epoch, [...others((j) => j < i), { index: i, torn }]);
      }
    });
    for (let k = 0; k < budget.samplesPerEpoch; k++) {
      const landings: Landing[] = [];
      writes.forEach((w, i) => {
        const r = random();
        if (r < 0.4) return;
        const shapes = tornShapes(w.offset, w.data.length);
        if (r < 0.7 || shapes.length === 0) landings.push({ index: i });
        else landings.push({ index: i, torn: shapes[Math.floor(random() * shapes.length)] });
      });
      add(epoch, landings);
    }
  });
  if (!budget.maxCases || out.length <= budget.maxCases) return out;
  // Keep the first case (nothing landed) and a seeded sample of the rest.
  const rest = out.slice(1);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rest[i], rest[j]] = [rest[j], rest[i]];
  }
  return [out[0], ...rest.slice(0, budget.maxCases - 1)];
}
