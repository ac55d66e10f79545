/** The history steps a view lists, and the updates that keep its list (no imports: the webview bundles it). */

export interface Step {
  seq: number;
  text: string;
}

/**
 * How the list of steps changed: with `reset`, the list is `added`; without,
 * the steps from `first` to `last` of the list kept, each replaced by the
 * step of `added` with its number, if any, and the other steps of `added`.
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
  if (u.reset) return u.added.slice();
  if (u.last < u.first || u.last === 0) return [];
  const base = steps.length ? steps[0].seq : 0;
  const addedBase = u.added.length ? u.added[0].seq : 0;
  const out: Step[] = new Array(u.last - u.first + 1);
  for (let seq = u.first; seq <= u.last; seq++) {
    const fresh = u.added.length && seq >= addedBase ? findStep(u.added, seq) : undefined;
    out[seq - u.first] = fresh ?? steps[seq - base];
  }
  return out;
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
