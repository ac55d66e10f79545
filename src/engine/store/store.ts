/**
 * Positional byte storage under an image. Everything the engine reads or
 * writes goes through this interface, so the same engine runs on a file, in
 * memory, over a copy-on-write overlay, or through a crash simulator.
 */
export interface Store {
  /** Bytes addressable; reads beyond it fail. */
  readonly size: number;
  /**
   * Reads exactly `length` bytes at `offset`; never more than asked. The
   * array is the caller's, but may be a view into a larger buffer (small
   * reads are cut from a shared slab, see newBytes): take its `byteOffset`
   * with its `buffer`.
   */
  read(offset: number, length: number): Uint8Array;
  /** As read, into `dest` at `at`: for a cache that reuses its buffers (a store whose reads are system calls has it). */
  readInto?(offset: number, length: number, dest: Uint8Array, at: number): void;
  /** Writes `data` at `offset`, keeping no reference to it (the caller may reuse it). Each call is one persistence point. */
  write(offset: number, data: Uint8Array): void;
  /** Makes every earlier write durable before any later one (a write barrier). */
  flush(): void;
  close(): void;
}

export function checkRange(store: { size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > store.size) {
    throw new RangeError(`access of ${length} bytes at ${offset} is outside the ${store.size}-byte image`);
  }
}
