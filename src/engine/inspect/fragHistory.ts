/**
 * Free blocks by order over the history, for the fragmentation chart: the
 * free-area counts (what /proc/buddyinfo lists) after each of a set of sampled
 * steps. One walk back from the present undoes each record once, on a patch
 * over the image; after each sample only the free-area table is read.
 */
import type { PmemImage } from '../image/imageCore';
import { UndoTarget } from '../format/undoCodec';
import { PatchStore } from '../store/patchStore';
import { runInSlices, runToEnd, Steps } from '../core/timeSlice';
import { scanStepRange, undoSpanCheck } from './timeline';
import type { ZoneFreeCounts } from './frag';
import { zoneFreeCountsIn } from './views';

export interface FragmentationSample {
  step: number;
  /** Every present zone, node by node, as zoneFreeCounts gives them. */
  zones: ZoneFreeCounts[];
}

export interface FragmentationHistory {
  /** The steps that can be shown: samples lie between them, both included. */
  first: number;
  last: number;
  maxOrder: number;
  /** Oldest first. */
  samples: FragmentationSample[];
}

/** How many steps a chart samples by default: enough for a smooth line, few enough to send at once. */
export const DEFAULT_FRAG_SAMPLES = 240;

/** `count` steps spread evenly from `first` to `last`, both included (every step when there are fewer). */
export function sampleSteps(first: number, last: number, count: number): number[] {
  const span = last - first;
  if (span + 1 <= count) return Array.from({ length: span + 1 }, (_, i) => first + i);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const step = first + Math.round((i * span) / (count - 1));
    if (step !== out[out.length - 1]) out.push(step);
  }
  return out;
}

export function fragmentationHistory(img: PmemImage, samples = DEFAULT_FRAG_SAMPLES): FragmentationHistory {
  return runToEnd(fragmentationHistorySteps(img, samples));
}

/** As fragmentationHistory, in slices that give up the thread; undefined when `stopped()` says so. */
export function fragmentationHistoryAsync(img: PmemImage, samples = DEFAULT_FRAG_SAMPLES, options: { sliceMs?: number; stopped?: () => boolean } = {}): Promise<FragmentationHistory | undefined> {
  return runInSlices(fragmentationHistorySteps(img, samples), options);
}

/** The walk, pausing after each sample. */
export function* fragmentationHistorySteps(img: PmemImage, samples = DEFAULT_FRAG_SAMPLES): Steps<FragmentationHistory> {
  if (!Number.isSafeInteger(samples) || samples < 2) throw new RangeError(`a chart needs at least 2 samples, not ${samples}`);
  const ring = img.history;
  const scan = ring.scan(img.store, false);
  const { first, last } = scanStepRange(scan);
  const steps = sampleSteps(first, last, samples);
  const patch = new PatchStore(img.store);
  const target = new UndoTarget(patch, true);
  const check = undoSpanCheck(img, scan);
  const out: FragmentationSample[] = [];
  let at = last;
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i];
    if (step < at) ring.undoBetween(scan, at, step, target, check);
    at = step;
    out.push({ step, zones: zoneFreeCountsIn(img, patch) });
    yield;
  }
  return { first, last, maxOrder: img.geometry.maxOrder, samples: out.reverse() };
}
