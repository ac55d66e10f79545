import { strict as assert } from 'node:assert';
import { MemoryStore } from '../../src/engine';
import { dropWrites, RECORD_PIECE, RecordingStore, redoWrites, undoWrites } from '../../src/engine/store/recordingStore';

describe('recorded writes (an editor\'s undo and redo)', () => {
  it('undo and redo restore exactly, through overlapping writes, any number of times', () => {
    const store = new MemoryStore(64 * 1024);
    store.write(100, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const rec = new RecordingStore(store);
    const before = store.read(0, store.size).slice();
    rec.write(96, new Uint8Array(16).fill(9)); // over zeros and earlier bytes
    rec.write(100, new Uint8Array([7, 7])); // over the write before it
    rec.write(40_000, new Uint8Array(5000).fill(3)); // across chunks, over zeros
    rec.write(96, new Uint8Array(2)); // zeros over bytes
    const after = store.read(0, store.size).slice();
    const writes = rec.take();
    for (let round = 0; round < 3; round++) {
      undoWrites(store, writes);
      assert.deepEqual(store.read(0, store.size), before, `undo, round ${round}`);
      redoWrites(store, writes);
      assert.deepEqual(store.read(0, store.size), after, `redo, round ${round}`);
    }
  });

  it('drops the writes of a failed edit: the store as before, and nothing kept of what they wrote', () => {
    const store = new MemoryStore(64 * 1024);
    store.write(100, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const rec = new RecordingStore(store);
    const before = store.read(0, store.size).slice();
    rec.write(96, new Uint8Array(16).fill(9));
    rec.write(100, new Uint8Array([7, 7]));
    rec.write(40_000, new Uint8Array(5000).fill(3));
    const writes = rec.take();
    dropWrites(store, writes);
    assert.deepEqual(store.read(0, store.size), before);
    for (const w of writes) assert.deepEqual(w.replaced(), new Uint8Array(w.length), 'a dropped write keeps no bytes');
  });

  it('keeps nothing for bytes that were zero, so initialising untouched sections costs no undo memory', () => {
    const store = new MemoryStore(1 << 20);
    const rec = new RecordingStore(store);
    rec.write(0, new Uint8Array(1 << 19).fill(0xab));
    const writes = rec.take();
    const other = (w: object) => (w as { other: Uint8Array | null }).other;
    assert.equal(writes.length, (1 << 19) / RECORD_PIECE, 'recorded in pieces, each swapped on its own');
    assert.ok(writes.every((w) => other(w) === null));
    undoWrites(store, writes);
    assert.ok(store.read(0, 1 << 19).every((b) => b === 0));
    assert.equal(writes.reduce((n, w) => n + (other(w)?.length ?? 0), 0), 1 << 19, 'while undone it keeps what it wrote');
  });
});
