import * as assert from 'node:assert/strict';
import { ReadWindow } from '../../src/engine/format/readWindow';

/** A region of bytes whose reads are counted. */
function countedRegion(size: number) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 3) & 0xff;
  const io = {
    reads: 0,
    read(offset: number, length: number): Uint8Array {
      io.reads++;
      if (offset < 0 || offset + length > size) throw new Error(`read of [${offset}, ${offset + length}) past the region's ${size} bytes`);
      return bytes.slice(offset, offset + length);
    },
  };
  return { bytes, io };
}

describe('a read window', () => {
  it('gives the same bytes as each small read would, anywhere in the region, never reading past its end', () => {
    const size = 40_000;
    const { bytes, io } = countedRegion(size);
    const w = new ReadWindow(io, size);
    for (const [offset, length] of [[0, 16], [16, 4], [16_380, 16], [16_384, 16], [39_990, 10], [100, 16], [39_996, 4]]) {
      assert.deepEqual(w.read(offset, length), bytes.subarray(offset, offset + length), `bytes [${offset}, ${offset + length})`);
    }
  });

  it('serves a walk of small reads with a few large ones', () => {
    const size = 64 * 1024;
    const { io } = countedRegion(size);
    const w = new ReadWindow(io, size);
    for (let at = 0; at + 16 <= size; at += 24) w.read(at, 16);
    assert.ok(io.reads <= 5, `${io.reads} reads for a walk of ${Math.floor(size / 24)} small ones`);
  });

  it('refuses a write, which would leave it stale', () => {
    const { io } = countedRegion(1024);
    assert.throws(() => new ReadWindow(io, 1024).write(), /read-only/);
  });
});
