/**
 * The in-memory store against a flat array: any writes and reads (within a
 * chunk, across chunks, over chunks never written), its clone and its copy.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { MemoryStore } from '../../src/engine/store/memoryStore';

const SIZE = 1 << 20;

const writeArb = fc.record({
  // Anywhere, or near the start of a page (where a short chunk is made, then grown by a longer write).
  offset: fc.oneof(fc.integer({ min: 0, max: SIZE - 1 }), fc.tuple(fc.integer({ min: 0, max: SIZE / 4096 - 1 }), fc.integer({ min: 0, max: 300 })).map(([page, at]) => page * 4096 + at)),
  length: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 20_000 })),
  fill: fc.integer({ min: 1, max: 255 }),
});

describe('MemoryStore: reads back what was written, as a flat array would', () => {
  it('random writes and reads, a clone apart from its original, a copy with the same content', () => {
    fc.assert(
      fc.property(fc.array(writeArb, { maxLength: 300 }), fc.array(fc.tuple(fc.integer({ min: 0, max: SIZE - 1 }), fc.integer({ min: 0, max: 9000 })), { maxLength: 40 }), (writes, reads) => {
        const store = new MemoryStore(SIZE);
        const model = new Uint8Array(SIZE);
        for (const w of writes) {
          const length = Math.min(w.length, SIZE - w.offset);
          const data = new Uint8Array(length).map((_, i) => (w.fill + i) & 0xff);
          store.write(w.offset, data);
          model.set(data, w.offset);
        }
        for (const [offset, length] of reads) {
          const n = Math.min(length, SIZE - offset);
          assert.deepEqual(store.read(offset, n), model.subarray(offset, offset + n));
        }
        const copy = store.clone();
        assert.ok(copy.sameContentAs(store));
        const target = new MemoryStore(SIZE);
        store.copyInto(target);
        assert.ok(target.sameContentAs(store));
        if (writes.length) {
          // A write to the clone leaves the original as it was (chunks cut from one slab are not shared).
          const at = writes[0].offset;
          copy.write(at, new Uint8Array([model[at] ^ 0xff]));
          assert.equal(store.read(at, 1)[0], model[at]);
          assert.ok(!copy.sameContentAs(store));
        }
        assert.deepEqual(store.read(0, SIZE), model);
      }),
      { numRuns: 100 },
    );
  });

  it('holds only the chunks written: a sparse write of a large device costs a chunk, one near a page\'s start 256 bytes', () => {
    const store = new MemoryStore(2 ** 40);
    store.write(2 ** 39 + 5, new Uint8Array([7]));
    store.write(2 ** 40 - 1, new Uint8Array([9]));
    assert.equal(store.residentBytes, 256 + 4096);
    assert.deepEqual([...store.read(2 ** 39 + 4, 3)], [0, 7, 0]);
    assert.deepEqual([...store.read(2 ** 40 - 2, 2)], [0, 9]);
    // A read past the short chunk's bytes, then a write there: the chunk grows to a page, keeping what it held.
    assert.deepEqual([...store.read(2 ** 39, 4096)].filter((b) => b).length, 1);
    store.write(2 ** 39 + 4000, new Uint8Array([8]));
    assert.equal(store.residentBytes, 2 * 4096);
    assert.deepEqual([...store.read(2 ** 39 + 4, 3)], [0, 7, 0]);
    assert.equal(store.read(2 ** 39 + 4000, 1)[0], 8);
  });
});
