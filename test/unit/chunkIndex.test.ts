/** The overlay's paged index of chunks answers as a Map of the same entries would, its keys in ascending order. */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { ChunkIndex } from '../../src/engine/store/chunkIndex';

type Op = { kind: 'set'; i: number; v: number } | { kind: 'get'; i: number } | { kind: 'clear' };

describe('the overlay\'s index of chunks', () => {
  it('holds, finds and lists chunks as a Map does, across pages and clears', () => {
    // Chunk numbers near page edges and far apart (a TiB image has 268 million chunks).
    const index = fc.oneof(fc.nat(3000), fc.integer({ min: 28, max: 36 }), fc.integer({ min: 1020, max: 1030 }), fc.integer({ min: 0, max: 2 ** 28 }));
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), i: index, v: fc.nat(1000) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('get' as const), i: index }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const model = new Map<number, number>();
        const chunks = new ChunkIndex<number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            model.set(o.i, o.v);
            chunks.set(o.i, o.v);
          } else if (o.kind === 'get') {
            assert.equal(chunks.get(o.i), model.get(o.i), `chunk ${o.i}`);
            assert.equal(chunks.has(o.i), model.has(o.i), `has chunk ${o.i}`);
          } else {
            model.clear();
            chunks.clear();
          }
          assert.equal(chunks.size, model.size);
        }
        assert.deepEqual([...chunks.keys()], [...model.keys()].sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the value 0 (a spill slot) as held', () => {
    const chunks = new ChunkIndex<number>();
    chunks.set(5000, 0);
    assert.equal(chunks.has(5000), true);
    assert.equal(chunks.get(5000), 0);
    assert.deepEqual([...chunks.keys()], [5000]);
  });
});
