import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { LineLog } from '../../src/engine/store/lineLog';
import { MemoryStore } from '../../src/engine/store/memoryStore';
import { StagingStore } from '../../src/engine/store/stagingStore';

const SIZE = 8192;
/** The bytes under the log: none zero, so a byte a line never read stands out. */
const before = Uint8Array.from({ length: SIZE }, (_, i) => ((i * 131 + 17) % 251) + 1);

/** A write: whole 64-byte lines (as descriptors are written) or a span anywhere. */
const write = fc.oneof(
  fc.record({ offset: fc.nat({ max: SIZE / 64 - 2 }).map((l) => l * 64), data: fc.uint8Array({ minLength: 64, maxLength: 128 }).map((d) => d.subarray(0, d.length >= 128 ? 128 : 64)) }),
  fc.record({ offset: fc.nat({ max: SIZE - 200 }), data: fc.integer({ min: 1, max: 150 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })) }),
);

describe('LineLog', () => {
  it('reads and gives the changes StagingStore gives for the same writes, whole lines included, over bytes it never read', () => {
    fc.assert(
      // Two rounds on one log, reset between them: the second stages in the line buffers the first left.
      fc.property(fc.array(write, { minLength: 1, maxLength: 60 }), fc.array(write, { minLength: 1, maxLength: 60 }), (first, second) => {
        const base = new MemoryStore(SIZE);
        base.write(0, before);
        const log = new LineLog(base);
        for (const writes of [first, second]) {
          log.reset(base);
          const staging = new StagingStore(base);
          for (const w of writes) {
            log.write(w.offset, w.data);
            staging.write(w.offset, w.data);
          }
          assert.deepEqual(log.changes().map((r) => [r.offset, [...r.data]]), staging.changes().map((r) => [r.offset, [...r.data]]));
          for (let at = 0; at + 40 <= SIZE; at += 40) assert.deepEqual(log.read(at, 40), staging.read(at, 40));
          assert.deepEqual(base.read(0, SIZE), before, 'staging writes nothing to its base');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same changes and reads as StagingStore for thousands of lines (a write-back), past 2^32 lines into a TiB', () => {
    // A write-back stages thousands of lines: past a few dozen the log finds them through a map.
    const tib = 2 ** 40;
    const spots = [0, 2 ** 33, tib - 2 ** 20];
    fc.assert(
      fc.property(fc.array(fc.record({ spot: fc.constantFrom(...spots), line: fc.nat({ max: 4095 }), within: fc.nat({ max: 63 }), length: fc.integer({ min: 1, max: 200 }), seed: fc.nat({ max: 250 }) }), { minLength: 200, maxLength: 3000 }), fc.nat({ max: 2 }), (writes, rounds) => {
        const base = new MemoryStore(tib);
        for (const spot of spots) base.write(spot, before);
        const log = new LineLog(base);
        for (let round = 0; round <= rounds; round++) {
          log.reset(base);
          const staging = new StagingStore(base);
          for (const w of writes.slice(round * 100)) {
            const offset = Math.min(w.spot + w.line * 64 + w.within, tib - w.length);
            const data = Uint8Array.from({ length: w.length }, (_, i) => (w.seed + i * 7) % 256);
            log.write(offset, data);
            staging.write(offset, data);
          }
          assert.deepEqual(log.changes().map((r) => [r.offset, [...r.data]]), staging.changes().map((r) => [r.offset, [...r.data]]));
          for (const spot of spots) {
            for (let at = spot; at + 100 <= spot + 4096 * 64 && at + 100 <= tib; at += 4000) assert.deepEqual(log.read(at, 100), staging.read(at, 100));
            assert.deepEqual(log.read(spot + 64 * 7 + 3, 20), staging.read(spot + 64 * 7 + 3, 20));
          }
        }
      }),
      { numRuns: 25 },
    );
  });

  it('refuses a write beyond the store, a whole line too, as the store would', () => {
    const log = new LineLog(new MemoryStore(SIZE));
    assert.throws(() => log.write(SIZE, new Uint8Array(64)), /access of 64 bytes at 8192 is outside the 8192-byte image/);
    assert.throws(() => log.write(SIZE - 10, new Uint8Array(20)), /access of 20 bytes at 8182 is outside the 8192-byte image/);
    assert.ok(log.empty, 'nothing staged');
  });
});
