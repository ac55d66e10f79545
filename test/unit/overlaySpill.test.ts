/** An overlay over its RAM budget keeps its oldest chunks in a temporary file, and reads, writes and saves exactly as one that keeps all in RAM. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { crc32 } from '../../src/engine/core/bytes';
import { encodedSize, encodeRanges } from '../../src/engine/format/rangeList';
import { readRangeFile, writeRangeFile } from '../../src/engine/node/atomicSave';
import { FileSpill } from '../../src/engine/node/fileSpill';
import { FileStore } from '../../src/engine/node/fileStore';
import { MemoryStore } from '../../src/engine/store/memoryStore';
import { ChunkSpill, OverlayStore } from '../../src/engine/store/overlayStore';

const SIZE = 1 << 20;

function base(): MemoryStore {
  const s = new MemoryStore(SIZE);
  const bytes = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) bytes[i] = (i * 7 + 3) & 0xff;
  s.write(0, bytes);
  return s;
}

describe('an overlay that spills to a temporary file', () => {
  it('reads back what a RAM-only overlay reads, after any writes, keeping at most its budget in RAM', () => {
    const write = fc.record({ offset: fc.integer({ min: 0, max: SIZE - 1 }), length: fc.integer({ min: 1, max: 40_000 }), fill: fc.integer({ min: 0, max: 255 }) });
    fc.assert(
      fc.property(fc.array(write, { minLength: 1, maxLength: 40 }), fc.array(fc.tuple(fc.nat(SIZE - 1), fc.integer({ min: 1, max: 20_000 })), { maxLength: 20 }), (writes, reads) => {
        const budget = 8 * 4096;
        let spills = 0;
        const spilled = new OverlayStore(base(), { ramBudget: budget, spill: () => (spills++, new FileSpill()) });
        const plain = new OverlayStore(base());
        try {
          for (const w of writes) {
            const length = Math.min(w.length, SIZE - w.offset);
            const data = new Uint8Array(length).fill(w.fill);
            spilled.write(w.offset, data);
            plain.write(w.offset, data);
            assert.ok(spilled.heldBytes.ram <= budget, `${spilled.heldBytes.ram} bytes in RAM`);
          }
          for (const [offset, length] of reads) {
            const n = Math.min(length, SIZE - offset);
            assert.deepEqual(spilled.read(offset, n), plain.read(offset, n));
          }
          assert.deepEqual(spilled.changes(), plain.changes());
          assert.deepEqual(spilled.changedSizes().reduce((a, b) => a + b, 0), plain.changes().reduce((n, c) => n + c.data.length, 0));
          assert.ok(spills <= 1, 'one spill file at most');
          if (plain.changes().length * 4096 > budget) assert.ok(spilled.heldBytes.spilled > 0, 'over its budget, it spilled');
          spilled.discard();
          assert.deepEqual(spilled.read(0, SIZE), base().read(0, SIZE), 'discarded: the base again');
          assert.deepEqual(spilled.heldBytes, { ram: 0, spilled: 0 });
        } finally {
          spilled.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('reads into a buffer, over a file below it, the bytes written and the file\'s own, spilled chunks included', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-overlay-'));
    const size = 256 * 1024;
    const write = fc.record({ offset: fc.nat(size - 1), length: fc.integer({ min: 1, max: 20_000 }), fill: fc.integer({ min: 0, max: 255 }) });
    const read = fc.record({ offset: fc.nat(size - 1), length: fc.integer({ min: 1, max: 30_000 }), at: fc.nat(9) });
    try {
      fc.assert(
        fc.property(fc.array(write, { minLength: 1, maxLength: 30 }), fc.array(read, { minLength: 1, maxLength: 20 }), (writes, reads) => {
          const file = FileStore.create(path.join(dir, 'img'), size, { overwrite: true });
          // What the bytes should be, kept apart from the stores.
          const model = Uint8Array.from({ length: size }, (_, i) => (i * 13 + 5) & 0xff);
          file.write(0, model);
          const overlay = new OverlayStore(file, { ramBudget: 4 * 4096, spill: () => new FileSpill() });
          try {
            for (const w of writes) {
              const n = Math.min(w.length, size - w.offset);
              overlay.write(w.offset, new Uint8Array(n).fill(w.fill));
              model.fill(w.fill, w.offset, w.offset + n);
            }
            for (const r of reads) {
              const n = Math.min(r.length, size - r.offset);
              const into = new Uint8Array(n + 20).fill(0xee);
              overlay.readInto(r.offset, n, into, r.at);
              assert.deepEqual(into.subarray(r.at, r.at + n), model.subarray(r.offset, r.offset + n));
              assert.ok(into.subarray(0, r.at).every((b) => b === 0xee) && into.subarray(r.at + n).every((b) => b === 0xee), 'nothing written around them');
              assert.deepEqual(overlay.read(r.offset, n), model.subarray(r.offset, r.offset + n));
            }
          } finally {
            overlay.close();
            file.close();
          }
        }),
        { numRuns: 40 },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('spills the chunks written longest ago, a batch at a time: a chunk written again and again stays in RAM', () => {
    let gets = 0;
    let putManys = 0;
    const spill = new FileSpill();
    const counting: ChunkSpill = {
      put: (c, slot) => spill.put(c, slot),
      putMany: (cs) => (putManys++, spill.putMany(cs)),
      get: (slot) => (gets++, spill.get(slot)),
      clear: () => spill.clear(),
      close: () => spill.close(),
    };
    const overlay = new OverlayStore(base(), { ramBudget: 16 * 4096, spill: () => counting });
    try {
      // Chunk 0 (as a journal is) is written between every two new chunks.
      for (let i = 1; i < 200; i++) {
        overlay.write(i * 4096, new Uint8Array(4096).fill(i & 0xff));
        overlay.write(10, new Uint8Array([i & 0xff]));
      }
      assert.ok(overlay.heldBytes.spilled > 150 * 4096 && overlay.heldBytes.ram <= 16 * 4096, JSON.stringify(overlay.heldBytes));
      assert.ok(putManys >= 2 && putManys < 199, `spilled in ${putManys} batches`);
      gets = 0;
      assert.equal(overlay.read(10, 1)[0], 199);
      assert.equal(gets, 0, 'the chunk written last is in RAM');
      assert.equal(overlay.read(4096 + 5, 1)[0], 1);
      assert.equal(gets, 1, 'the chunk written first was spilled');
    } finally {
      overlay.close();
    }
  });

  it('leaves no file behind, even while open', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-spill-'));
    try {
      const spill = new FileSpill(dir);
      assert.deepEqual(fs.readdirSync(dir), [], 'removed from its folder as soon as it was open');
      const chunk = new Uint8Array(4096).fill(5);
      assert.equal(spill.put(chunk), 0);
      assert.equal(spill.put(new Uint8Array(4096).fill(6)), 1);
      assert.deepEqual(spill.get(0), chunk);
      spill.put(new Uint8Array(4096).fill(8), 0);
      assert.equal(spill.get(0)[100], 8, 'a slot is rewritten where it lies');
      assert.throws(() => spill.get(2), /no spilled chunk in slot 2/);
      assert.throws(() => spill.put(new Uint8Array(10)), /a spilled chunk is 4096 bytes, not 10/);
      // Many at once, in consecutive slots (more than one writev takes).
      const many = Array.from({ length: 600 }, (_, i) => new Uint8Array(4096).fill(i & 0xff));
      assert.equal(spill.putMany(many), 2);
      for (const i of [0, 255, 256, 599]) assert.deepEqual(spill.get(2 + i), many[i]);
      assert.equal(spill.put(new Uint8Array(4096)), 602, 'the next slot after them');
      assert.throws(() => spill.putMany([new Uint8Array(4096), new Uint8Array(1)]), /a spilled chunk is 4096 bytes, not 1/);
      spill.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes a save record in pieces, byte for byte the record written in one buffer, from ranges read a chunk at a time', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-spill-'));
    try {
      const overlay = new OverlayStore(base(), { ramBudget: 64 * 4096, spill: () => new FileSpill(dir) });
      // 3 MiB of ranges: several pieces, most of them from the spill.
      const big = new OverlayStore(new MemoryStore(4 * SIZE), { ramBudget: 64 * 4096, spill: () => new FileSpill(dir) });
      for (let i = 0; i < 3 * 256; i++) big.write(i * 5 * 1024, new Uint8Array(4096).fill(i & 0xff)); // chunks partly rewritten by the next write
      overlay.write(100, new Uint8Array(5000).fill(1));
      for (const o of [overlay, big]) {
        const ranges = o.changes();
        const target = path.join(dir, 'ranges');
        writeRangeFile(target, { lengths: o.changedSizes(), ranges: () => o.changedRanges() }, o.size);
        // The record as one buffer: header, then the encoded ranges, their checksum at byte 12.
        const payload = new Uint8Array(encodedSize(ranges));
        encodeRanges(ranges, payload, 0);
        const written = fs.readFileSync(target);
        assert.equal(written.length, 32 + payload.length);
        assert.deepEqual(new Uint8Array(written.subarray(32)), payload);
        assert.equal(written.readUInt32LE(12), crc32(payload));
        assert.deepEqual(readRangeFile(target, o.size), ranges);
        o.close();
      }
      assert.ok(big.heldBytes.spilled > 2 * SIZE, 'most of the big one was spilled');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
