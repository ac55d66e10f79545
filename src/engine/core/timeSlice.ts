/**
 * Long work that shares a thread (an editor's extension host) gives it up
 * after holding it for a slice of time, so input and redraws are not held
 * back: the caller asks `over()` at its pause points and awaits `yieldTurn()`.
 */
export const DEFAULT_SLICE_MS = 12;

export class TimeSlice {
  private start = now();

  constructor(private readonly sliceMs = DEFAULT_SLICE_MS) {}

  /** True once the current slice has run its time. */
  over(): boolean {
    return now() - this.start >= this.sliceMs;
  }

  /** Gives the thread to whatever waits (timers, messages, input), then starts a new slice. */
  async yieldTurn(): Promise<void> {
    await nextTurn();
    this.start = now();
  }
}

/** Resolves on a later turn of the event loop, after pending I/O and timers. */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, 0));
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}

/** Work written as a generator that pauses (yields) wherever a driver may give up the thread. */
export type Steps<T> = Generator<void, T>;

/** Runs `steps` to its end at once, for callers that own their thread (the CLI, tests). */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * Runs `steps` to its end, giving up the thread whenever it has held it for
 * `sliceMs`; when `stopped()` says so after a step (asked meanwhile, by a
 * progress report or between turns), it stops there and resolves to undefined.
 */
export async function runInSlices<T>(steps: Steps<T>, options: { sliceMs?: number; stopped?: () => boolean } = {}): Promise<T | undefined> {
  const slice = new TimeSlice(options.sliceMs);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (slice.over()) await slice.yieldTurn();
    if (options.stopped?.()) {
      steps.return(undefined as T);
      return undefined;
    }
  }
}
