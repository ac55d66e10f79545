// The bytes a checkpoint restores: for every byte the span's records change, the value before the first change.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { CheckpointAccumulator } from '../../src/engine/format/checkpointAccumulator';
import type { ByteRange } from '../../src/engine/format/rangeList';

/** The same, one byte at a time: the first value seen of each byte wins, and touching bytes make one range. */
function byteByByte(records: ByteRange[][]): ByteRange[] {
  const first = new Map<number, number>();
  for (const ranges of records) for (const r of ranges) r.data.forEach((v, i) => { if (!first.has(r.offset + i)) first.set(r.offset + i, v); });
  const out: Array<{ offset: number; bytes: number[] }> = [];
  for (const at of [...first.keys()].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && last.offset + last.bytes.length === at) last.bytes.push(first.get(at)!);
    else out.push({ offset: at, bytes: [first.get(at)!] });
  }
  return out.map((r) => ({ offset: r.offset, data: Uint8Array.from(r.bytes) }));
}

// Offsets over a few 64-byte lines, so that ranges overlap, straddle lines and cover whole halves.
const range = fc.record({ offset: fc.integer({ min: 0, max: 300 }), data: fc.uint8Array({ minLength: 1, maxLength: 140 }) });

/** Whether the accumulator, given these records in turn, keeps what byteByByte keeps. */
function keepsFirstValues(records: ByteRange[][]): void {
  const acc = new CheckpointAccumulator(1);
  for (const ranges of records) acc.add(ranges);
  const got = acc.ranges().map((r) => ({ offset: r.offset, data: [...r.data] }));
  const want = byteByByte(records).map((r) => ({ offset: r.offset, data: [...r.data] }));
  assert.deepEqual(got, want);
}

describe('checkpoint accumulator', () => {
  it('keeps the first value of every byte any record changes, as ranges in order', () => {
    fc.assert(fc.property(fc.array(fc.array(range, { maxLength: 6 }), { maxLength: 8 }), keepsFirstValues), { numRuns: 2000 });
  });

  it('keeps them as well over more lines than it first has room for, gathered in any order', () => {
    const wide = fc.record({ offset: fc.integer({ min: 0, max: 6000 }), data: fc.uint8Array({ minLength: 1, maxLength: 400 }) });
    fc.assert(fc.property(fc.array(fc.array(wide, { maxLength: 8 }), { maxLength: 12 }), keepsFirstValues), { numRuns: 300 });
  });

  it('keeps a line\'s first bytes when a later record covers the whole line, and fills only what was unknown', () => {
    const acc = new CheckpointAccumulator(1);
    acc.add([{ offset: 64 + 40, data: new Uint8Array(8).fill(1) }]); // bytes 40–47 of line 1 (the upper half)
    acc.add([{ offset: 64 + 4, data: new Uint8Array(4).fill(2) }]); // bytes 4–7 (the lower half)
    acc.add([{ offset: 64, data: new Uint8Array(64).fill(3) }]);
    const [r] = acc.ranges();
    assert.equal(r.offset, 64);
    const want = new Uint8Array(64).fill(3);
    want.fill(2, 4, 8);
    want.fill(1, 40, 48);
    assert.deepEqual([...r.data], [...want]);
  });
});
