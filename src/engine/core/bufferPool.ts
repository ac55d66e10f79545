/**
 * Large buffers lent for one transaction and given back once it is
 * committed (a section's fresh descriptors: 32 KiB each, sixteen a
 * transaction while Initialise All runs): the same few buffers serve every
 * transaction instead of new ones the garbage collector must sweep, whose
 * volume alone makes V8 run full collections.
 */

/** Buffers kept per size: a transaction's worth, and some; and never more than KEPT_BYTES of one size (a 1 GiB section's 16 MiB is not kept). */
const KEPT_PER_SIZE = 32;
const KEPT_BYTES = 4 * 2 ** 20;

const free = new Map<number, Uint8Array[]>();
const lent = new WeakSet<Uint8Array>();

/** A buffer of `bytes` (its contents are whatever it held: the borrower writes every byte). */
export function borrowBuffer(bytes: number): Uint8Array {
  const buffer = free.get(bytes)?.pop() ?? new Uint8Array(bytes);
  lent.add(buffer);
  return buffer;
}

/** Takes back a borrowed buffer nothing refers to any more; any other buffer is left alone. */
export function giveBackBuffer(buffer: Uint8Array): void {
  if (!lent.delete(buffer)) return;
  let kept = free.get(buffer.length);
  if (!kept) free.set(buffer.length, (kept = []));
  if (kept.length < KEPT_PER_SIZE && (kept.length + 1) * buffer.length <= KEPT_BYTES) kept.push(buffer);
}
