import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStore } from '../../src/engine/node/fileStore';
import { MemoryStore, OverlayStore } from '../../src/engine';
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

  it('over a store it reads into one buffer (an overlay over a file), each piece keeps its own replaced bytes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-rec-'));
    const file = FileStore.create(path.join(dir, 'img'), 4 * RECORD_PIECE, { overwrite: true });
    try {
      // What the bytes should be, kept apart from the stores: the file's, the overlay's write, then the recorded ones.
      const model = new Uint8Array(4 * RECORD_PIECE);
      model.set(Uint8Array.from({ length: 3 * RECORD_PIECE }, (_, i) => (i % 251) + 1));
      file.write(0, model.subarray(0, 3 * RECORD_PIECE));
      const overlay = new OverlayStore(file);
      overlay.write(RECORD_PIECE + 10, new Uint8Array(5000).fill(0x5a)); // a chunk held by the overlay, the rest read from the file below it
      model.fill(0x5a, RECORD_PIECE + 10, RECORD_PIECE + 5010);
      const before = model.slice();
      const rec = new RecordingStore(overlay);
      rec.write(0, new Uint8Array(3 * RECORD_PIECE + 100).fill(7)); // four pieces: three over distinct bytes, one over zeros
      model.fill(7, 0, 3 * RECORD_PIECE + 100);
      rec.write(2 * RECORD_PIECE - 50, new Uint8Array(100)); // zeros over the first write, where two of its pieces meet
      model.fill(0, 2 * RECORD_PIECE - 50, 2 * RECORD_PIECE + 50);
      const writes = rec.take();
      assert.equal(writes.length, 5);
      const kept = (w: object) => (w as { other: Uint8Array | null }).other;
      assert.deepEqual(writes.map((w) => kept(w) === null), [false, false, false, true, false], 'the piece over zeros keeps nothing, the others their bytes');
      for (let round = 0; round < 2; round++) {
        undoWrites(overlay, writes);
        assert.deepEqual(overlay.read(0, overlay.size), before, `undo, round ${round}`);
        redoWrites(overlay, writes);
        assert.deepEqual(overlay.read(0, overlay.size), model, `redo, round ${round}`);
      }
    } finally {
      file.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
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
