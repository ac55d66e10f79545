/** The history steps a view lists, and the updates that keep its list (no imports: the webview bundles it). */

export interface Step {
  seq: number;
  /** Undefined until the view has asked for it (a long history sends only its newest texts). */
  text?: string;
}

/** The most step texts one update or one request carries: the rest are asked for as they scroll into view. */
export const MAX_STEP_TEXTS = 512;

/**
 * How the list of steps changed: the list becomes the steps from `first` to
 * `last`, each the step of `added` with its number, if any; else, without
 * `reset`, the one the list kept; else a step whose text is still to be asked for.
 */
export interface StepsUpdate {
  reset: boolean;
  /** The earliest step that can be shown, and the last (0 and 0 without history). */
  first: number;
  last: number;
  /** In step order. */
  added: Step[];
}

/** Applies an update to a list of consecutive steps (what the view keeps); the result is consecutive too. */
export function applyStepsUpdate(steps: readonly Step[], u: StepsUpdate): Step[] {
  if (u.last < u.first || u.last === 0) return [];
  if (u.reset) steps = [];
  const base = steps.length ? steps[0].seq : 0;
  const addedBase = u.added.length ? u.added[0].seq : 0;
  const out: Step[] = new Array(u.last - u.first + 1);
  for (let seq = u.first; seq <= u.last; seq++) {
    const fresh = u.added.length && seq >= addedBase ? findStep(u.added, seq) : undefined;
    out[seq - u.first] = fresh ?? steps[seq - base] ?? { seq };
  }
  return out;
}

/** Puts texts received on request into a list of steps (those it no longer holds are dropped). */
export function fillStepTexts(steps: Step[], texts: readonly Step[]): void {
  const base = steps.length ? steps[0].seq : 0;
  for (const t of texts) {
    const i = t.seq - base;
    if (i >= 0 && i < steps.length && typeof t.text === 'string') steps[i] = { seq: t.seq, text: t.text };
  }
}

/** The step numbered `seq` in a sorted list with few gaps. */
function findStep(list: readonly Step[], seq: number): Step | undefined {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].seq === seq) return list[mid];
    if (list[mid].seq < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}
