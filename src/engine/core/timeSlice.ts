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
