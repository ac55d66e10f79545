/**
 * Errors the engine raises. Each says what went wrong and where, so a CLI or an
 * editor can show one clear line instead of a stack trace.
 */

/** Where in an image a problem was found. All fields optional: say what is known. */
export interface Location {
  file?: string;
  /** Byte offset in the image. */
  offset?: number;
  /** The on-media structure and field, e.g. "superblock.magic". */
  field?: string;
  pfn?: number;
  section?: number;
}

export function describeLocation(loc: Location): string {
  const parts: string[] = [];
  if (loc.file) parts.push(loc.file);
  if (loc.field) parts.push(loc.field);
  if (loc.offset !== undefined) parts.push(`byte ${loc.offset} (0x${loc.offset.toString(16)})`);
  if (loc.section !== undefined) parts.push(`section ${loc.section}`);
  if (loc.pfn !== undefined) parts.push(`pfn ${loc.pfn}`);
  return parts.join(', ');
}

/** The image cannot be used: truncated, foreign, corrupt, or of an unknown version. */
export class ImageError extends Error {
  /** What is wrong, without the location (which `message` starts with). */
  readonly reason: string;
  constructor(message: string, readonly location: Location = {}) {
    const where = describeLocation(location);
    super(where ? `${where}: ${message}` : message);
    this.reason = message;
    this.name = 'ImageError';
  }
}

/** The caller asked for something invalid (bad size, pfn out of range, ...). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A valid request on a valid image that could not be done (out of memory, pfn not allocated). */
export class OperationError extends Error {
  constructor(message: string, readonly location: Location = {}) {
    super(message);
    this.name = 'OperationError';
  }
}

/** Thrown by a crash-simulating store when the simulated power failure happens. */
export class SimulatedCrash extends Error {
  constructor(readonly afterWrites: number) {
    super(`simulated power failure after ${afterWrites} persistence point(s)`);
    this.name = 'SimulatedCrash';
  }
}

/** One transaction's changes exceed the journal: the caller may split the operation (nothing was written). */
export class JournalFullError extends OperationError {
  constructor(message: string) {
    super(message);
    this.name = 'JournalFullError';
  }
}
