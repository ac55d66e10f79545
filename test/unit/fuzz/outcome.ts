/** What counts as a clean outcome: a result, or one of the engine's located errors. */
import { ImageError, OperationError, UsageError } from '../../../src/engine';

/** Throws (failing the property) unless `e` is a located engine error with a one-line message. */
export function assertLocated(e: unknown, what: string): void {
  const ok = e instanceof ImageError || e instanceof UsageError || e instanceof OperationError;
  if (!ok) throw new Error(`${what}: uncaught ${(e as Error)?.name ?? typeof e}: ${(e as Error)?.stack ?? String(e)}`);
  const err = e as Error;
  if (!err.message || /\n/.test(err.message)) throw new Error(`${what}: ${err.name} message is not one line: ${JSON.stringify(err.message)}`);
  if (e instanceof ImageError) {
    const loc = e.location;
    if (loc.field === undefined && loc.offset === undefined && loc.pfn === undefined && loc.section === undefined) {
      throw new Error(`${what}: ImageError without a location: ${err.message}`);
    }
  }
}

/** Runs `fn`; a located error is an acceptable outcome (returned), anything else fails. */
export function attempt<T>(what: string, fn: () => T): { value?: T; error?: Error } {
  try {
    return { value: fn() };
  } catch (e) {
    assertLocated(e, what);
    return { error: e as Error };
  }
}
