/** Refusals: errors that say why a command did not do what it was asked, as opposed to faults in the extension. */
import { ImageError, OperationError, UsageError } from '../engine';

/** A command declining to do what it was asked, with the reason as its message. */
export class Refusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Refusal';
  }
}

/** Whether an error is a refusal (the engine's UsageError, OperationError and ImageError included). */
export function isRefusal(e: unknown): e is Error {
  if (e instanceof Refusal || e instanceof UsageError || e instanceof OperationError || e instanceof ImageError) return true;
  // The system turning a file operation down (no permission, no space) is the user's to fix, not a fault.
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return e instanceof Error && typeof code === 'string' && /^E[A-Z]+$/.test(code) && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}
