/** The read cache in front of a file: always what the base holds, bounded, written through. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryStore } from '../../src/engine';
import { FileStore } from '../../src/engine/node/fileStore';
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

/** Random writes (a share `writes` of the steps) and reads at the places `place` picks, the cache and a mirror given the same writes: every read matches. */
function sameAsMirror(cache: ReadCacheStore, mirror: MemoryStore, random: () => number, steps: number, writes: number, place: () => [number, number]): void {
  for (let i = 0; i < steps; i++) {
    const [offset, length] = place();
    if (random() < writes) {
      const data = new Uint8Array(length).map(() => Math.floor(random() * 256));
      cache.write(offset, data);
      mirror.write(offset, data);
    } else {
      assert.deepEqual(cache.read(offset, length), mirror.read(offset, length), `read ${offset}+${length} at step ${i}`);
    }
  }
}

describe('read cache store', () => {
  it('reads what the base holds after any mix of reads and writes, and writes through', () => {
    const base = new MemoryStore(64 * 4096);
    const counting = new CountingStore(base);
    const cache = new ReadCacheStore(counting, 8);
    const mirror = new MemoryStore(64 * 4096);
    const random = rng(3);
    sameAsMirror(cache, mirror, random, 3000, 0.4, () => [Math.floor(random() * (64 * 4096 - 20000)), 1 + Math.floor(random() * (random() < 0.1 ? 20000 : 200))]);
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

  it('reads a file into the buffers of the pages it drops, its short last page too, always what the file holds', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-cache-'));
    const size = 40 * 4096 + 100; // the last page is 100 bytes
    const file = FileStore.create(path.join(dir, 'image'), size, { overwrite: false });
    try {
      const cache = new ReadCacheStore(file, 3);
      const mirror = new MemoryStore(size);
      const random = rng(11);
      // Small reads and writes over every page, the last one often, so that pages are dropped and their buffers taken again.
      sameAsMirror(cache, mirror, random, 4000, 0.3, () => {
        const offset = random() < 0.2 ? size - 1 - Math.floor(random() * 150) : Math.floor(random() * (size - 300));
        return [offset, 1 + Math.floor(random() * Math.min(200, size - offset - 1))];
      });
      assert.throws(() => cache.read(size - 10, 11), /outside the/, 'a read past the end is refused');
    } finally {
      file.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
