/** The read cache in front of a file: always what the base holds, bounded, written through. */
import { strict as assert } from 'node:assert';
import { MemoryStore } from '../../src/engine';
import { ReadCacheStore } from '../../src/engine/store/readCacheStore';
import { StoreWrapper } from '../../src/engine/store/storeWrapper';
import { rng } from './helpers';

class CountingStore extends StoreWrapper {
  reads = 0;
  override read(offset: number, length: number): Uint8Array {
    this.reads++;
    return super.read(offset, length);
  }
}

describe('read cache store', () => {
  it('reads what the base holds after any mix of reads and writes, and writes through', () => {
    const base = new MemoryStore(64 * 4096);
    const counting = new CountingStore(base);
    const cache = new ReadCacheStore(counting, 8);
    const mirror = new MemoryStore(64 * 4096);
    const random = rng(3);
    for (let i = 0; i < 3000; i++) {
      const offset = Math.floor(random() * (64 * 4096 - 20000));
      const length = 1 + Math.floor(random() * (random() < 0.1 ? 20000 : 200));
      if (random() < 0.4) {
        const data = new Uint8Array(length).map(() => Math.floor(random() * 256));
        cache.write(offset, data);
        mirror.write(offset, data);
      } else {
        assert.deepEqual(cache.read(offset, length), mirror.read(offset, length), `read ${offset}+${length} at step ${i}`);
      }
    }
    assert.ok(base.sameContentAs(mirror), 'every write reached the base');
  });

  it('serves repeated small reads from memory, keeping at most its bound of pages', () => {
    const counting = new CountingStore(new MemoryStore(64 * 4096));
    const cache = new ReadCacheStore(counting, 4);
    for (let i = 0; i < 100; i++) cache.read(4096 + (i % 64), 48);
    assert.equal(counting.reads, 1, 'one page read, then hits');
    for (let p = 0; p < 10; p++) cache.read(p * 4096, 16);
    const before = counting.reads;
    cache.read(9 * 4096, 16);
    assert.equal(counting.reads, before, 'a recent page is still held');
    cache.read(0, 16);
    assert.equal(counting.reads, before + 1, 'the first page cached was dropped (bound of 4)');
  });
});
