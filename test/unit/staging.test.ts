/**
 * Buffers handed over to a transaction's staging (descriptor runs of a large
 * free, fresh descriptors of a section handed over) are kept without a copy:
 * what the staging reads back and what it journals must be exactly what
 * copying them would give. And the stores' long writes that take their new
 * chunks from one buffer must hold the bytes written.
 */
import { strict as assert } from 'node:assert';
import { MemoryStore } from '../../src/engine';
import { ByteRange, mergeOverlapping } from '../../src/engine/format/rangeList';
import { OverlayStore } from '../../src/engine/store/overlayStore';
import { StagingStore } from '../../src/engine/store/stagingStore';
import { rng } from './helpers';

const SIZE = 256 * 1024;


function bytes(random: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** The journaled bytes as offset → value (ranges may be split or merged differently). */
function redoBytes(ranges: ByteRange[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of ranges) r.data.forEach((v, i) => out.set(r.offset + i, v));
  return out;
}

describe('staging buffers handed over', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`reads and journals what copying writes would (seed ${seed})`, () => {
      const random = rng(seed);
      const base = new MemoryStore(SIZE);
      base.write(0, bytes(random, SIZE));
      const kept = new StagingStore(base);
      const copied = new StagingStore(base);
      const handed: Uint8Array[] = [];
      const journaled = new Set<number>();
      const journal = (o: number, n: number) => {
        for (let i = o; i < o + n; i++) journaled.add(i);
      };
      const at = (align: number, n: number) => Math.floor((random() * (SIZE - n)) / align) * align;
      for (let step = 0; step < 120; step++) {
        const kind = random();
        if (kind < 0.35) {
          const n = 1 + Math.floor(random() * 100);
          const data = bytes(random, n);
          const o = at(1, n);
          kept.write(o, data);
          copied.write(o, data);
          journal(o, n);
        } else if (kind < 0.65) {
          // A run of descriptors: line-aligned mostly, sometimes not (then it is copied).
          const n = 64 * (8 + Math.floor(random() * 120)) + (random() < 0.1 ? 8 : 0);
          const data = bytes(random, n);
          const o = at(random() < 0.9 ? 64 : 8, n);
          copied.write(o, data);
          const mine = data.slice();
          handed.push(mine);
          kept.writeOwned(o, mine);
          journal(o, n);
        } else if (kind < 0.85) {
          const n = 64 * (16 + Math.floor(random() * 200));
          const data = bytes(random, n);
          const o = at(64, n);
          copied.writeBulk(o, data);
          kept.writeBulkOwned(o, data.slice());
        } else {
          const n = 1024 + Math.floor(random() * 6000);
          const data = bytes(random, n);
          const o = at(1, n);
          if (random() < 0.5) {
            kept.write(o, data);
            copied.write(o, data);
            journal(o, n);
          } else {
            kept.writeBulk(o, data);
            copied.writeBulk(o, data);
          }
        }
        const n = 1 + Math.floor(random() * 5000);
        const o = at(1, n);
        assert.deepEqual(kept.read(o, n), copied.read(o, n), `read of ${n} bytes at ${o} after step ${step}`);
      }
      const now = copied.read(0, SIZE);
      assert.deepEqual(kept.read(0, SIZE), now);
      // The redo holds every byte a journaled write wrote, each as it is now (it may hold unchanged bytes between them, as they are).
      const ours = kept.changes();
      for (const [redo, name] of [[redoBytes(ours), 'kept'], [redoBytes(copied.changes()), 'copied']] as const) {
        for (const o of journaled) assert.ok(redo.has(o), `${name}: byte ${o} journaled`);
        for (const [o, v] of redo) assert.equal(v, now[o], `${name}: byte ${o} as it is now`);
      }
      // The check above would hold with every buffer copied too: some must have been journaled as they were handed over.
      assert.ok(ours.some((r) => handed.includes(r.data)), 'a handed-over run reaches the redo without a copy');
    });
  }

  it('keeps touching runs as ranges of their own, and the lines under a run out of the redo', () => {
    const base = new MemoryStore(SIZE);
    const s = new StagingStore(base);
    s.write(4096 + 70, new Uint8Array([9, 9])); // a line the run below replaces
    const a = new Uint8Array(2048).fill(1);
    const b = new Uint8Array(2048).fill(2);
    s.writeOwned(4096, a);
    s.writeOwned(4096 + 2048, b);
    s.write(4096 + 100, new Uint8Array([7])); // lands in the run
    s.write(4096 - 4, new Uint8Array([3, 3, 3, 3])); // touches it
    const redo = s.changes();
    assert.deepEqual(redo.map((r) => [r.offset, r.data.length]), [[4092, 4], [4096, 2048], [6144, 2048]]);
    assert.equal(redo[1].data, a);
    assert.equal(a[100], 7);
    assert.equal(a[70], 1, 'the run is newer than the line it covers');
  });

  for (const seed of [21, 22, 23]) {
    it(`journals small writes alone as each line's changed span, touching spans joined (seed ${seed})`, () => {
      // What a one-block operation stages: descriptors (whole lines), link records, fields, some across two lines.
      const random = rng(seed);
      const base = new MemoryStore(SIZE);
      base.write(0, bytes(random, SIZE));
      const s = new StagingStore(base);
      const now = base.read(0, SIZE);
      const span = new Map<number, [number, number]>();
      for (let step = 0; step < 400; step++) {
        const kind = random();
        const n = kind < 0.4 ? 64 : kind < 0.7 ? 1 + Math.floor(random() * 48) : 60 + Math.floor(random() * 200);
        const o = kind < 0.4 ? Math.floor((random() * (SIZE - 64)) / 64) * 64 : Math.floor(random() * (SIZE - n));
        const data = bytes(random, n);
        s.write(o, data);
        now.set(data, o);
        for (let i = Math.floor(o / 64); i * 64 < o + n; i++) {
          const lo = Math.max(o, i * 64) - i * 64;
          const hi = Math.min(o + n, (i + 1) * 64) - i * 64;
          const was = span.get(i);
          span.set(i, was ? [Math.min(was[0], lo), Math.max(was[1], hi)] : [lo, hi]);
        }
        const r = Math.floor(random() * (SIZE - 300));
        assert.deepEqual(s.read(r, 300), now.subarray(r, r + 300), `read at ${r} after step ${step}`);
      }
      const expected: Array<[number, number]> = [];
      for (const i of [...span.keys()].sort((a, b) => a - b)) {
        const [lo, hi] = span.get(i)!;
        const last = expected[expected.length - 1];
        if (last && last[1] === i * 64 + lo) last[1] = i * 64 + hi;
        else expected.push([i * 64 + lo, i * 64 + hi]);
      }
      const redo = s.changes();
      assert.deepEqual(redo.map((x) => [x.offset, x.offset + x.data.length]), expected);
      for (const x of redo) assert.deepEqual(x.data, now.subarray(x.offset, x.offset + x.data.length), `bytes at ${x.offset}`);
    });
  }

  for (const [seed, mixed] of [[41, false], [42, false], [43, true], [44, true]] as const) {
    it(`asked again after more writes, journals what a staging given only those writes would (seed ${seed}${mixed ? ', runs handed over and bulk writes among them' : ''})`, () => {
      // A commit asks twice: the second answer reuses spans of lines not written since; it must be exactly a fresh staging's.
      const random = rng(seed);
      const base = new MemoryStore(SIZE);
      base.write(0, bytes(random, SIZE));
      const s = new StagingStore(base);
      const writes: Array<[string, number, Uint8Array]> = [];
      const replay = () => {
        const fresh = new StagingStore(base);
        for (const [how, o, d] of writes) {
          if (how === 'owned') fresh.writeOwned(o, d.slice());
          else if (how === 'bulk') fresh.writeBulk(o, d);
          else fresh.write(o, d);
        }
        return fresh.changes();
      };
      let asked = 0;
      for (let step = 0; step < 800; step++) {
        const kind = random();
        // Structures in the lower half; now and then a long write (a history record) in the upper half, apart from them.
        const long = kind >= 0.93;
        const n = long ? 1024 + Math.floor(random() * 3000) : kind < 0.4 ? 64 : 1 + Math.floor(random() * 120);
        const o = long ? SIZE / 2 + Math.floor(random() * (SIZE / 2 - n)) : kind < 0.4 ? Math.floor((random() * (SIZE / 2 - n)) / 64) * 64 : Math.floor(random() * (SIZE / 2 - n));
        const data = bytes(random, n);
        // Mixed: a journaled run handed over (the lines under it dropped), or a bulk write under the lines.
        // ... over the lines of an earlier small write, where the bulk bytes change what the lines hold.
        const near = writes.length ? writes[Math.floor(random() * writes.length)][1] : 0;
        const aligned = Math.min(Math.max(0, Math.floor(near / 64) * 64 - 512), SIZE / 2 - 2048);
        const how = mixed && kind < 0.02 ? 'owned' : mixed && kind < 0.1 ? 'bulk' : 'write';
        const at = how === 'write' ? o : aligned;
        const what = how === 'write' ? data : bytes(random, 1024 + 64 * Math.floor(random() * 16));
        if (how === 'owned') s.writeOwned(at, what.slice());
        else if (how === 'bulk') s.writeBulk(at, what);
        else s.write(at, what);
        writes.push([how, at, what]);
        if (random() < 0.2) {
          asked++;
          const got = s.changes();
          assert.deepEqual(got.map((r) => [r.offset, [...r.data]]), replay().map((r) => [r.offset, [...r.data]]), `changes after write ${step}`);
        }
      }
      assert.ok(asked > 100, `asked ${asked} times`);
    });
  }

  for (const [seed, apart, handedOver] of [[31, true, false], [32, true, true], [33, false, false], [34, false, true]] as const) {
    it(`journals small and long writes as their lines' and pages' changed spans, touching spans joined (seed ${seed}, ${apart ? 'apart' : 'mixed'}${handedOver ? ', sections handed over' : ''})`, () => {
      // A replay step: structures in lines, and its history record, a long write into the ring (apart), or both anywhere (mixed).
      const random = rng(seed);
      const base = new MemoryStore(SIZE);
      base.write(0, bytes(random, SIZE));
      const s = new StagingStore(base);
      const now = base.read(0, SIZE);
      const spans = new Map<string, [number, number]>();
      const extend = (key: string, unit: number, i: number, o: number, n: number) => {
        const lo = Math.max(o, i * unit) - i * unit;
        const hi = Math.min(o + n, (i + 1) * unit) - i * unit;
        const was = spans.get(key);
        spans.set(key, was ? [Math.min(was[0], lo), Math.max(was[1], hi)] : [lo, hi]);
      };
      const half = SIZE / 2;
      if (handedOver) {
        // Fresh descriptors of sections handed over: bulk runs, no redo, with small writes landing on them.
        for (const o of [0, 8192, half - 16384]) {
          const data = bytes(random, 4096);
          s.writeBulkOwned(o, data);
          now.set(data, o);
        }
      }
      for (let step = 0; step < 300; step++) {
        const long = random() < 0.15;
        const n = long ? 1024 + Math.floor(random() * 6000) : 1 + Math.floor(random() * 100);
        // Apart: small writes below half - 4 KiB, long ones from half + 4 KiB up, so that no line touches a page's span.
        const o = apart ? (long ? half + 4096 + Math.floor(random() * (half - 4096 - n)) : Math.floor(random() * (half - 4096 - n))) : Math.floor(random() * (SIZE - n));
        const data = bytes(random, n);
        s.write(o, data);
        now.set(data, o);
        if (long) for (let p = Math.floor(o / 4096); p * 4096 < o + n; p++) extend(`p${p}`, 4096, p, o, n);
        else for (let i = Math.floor(o / 64); i * 64 < o + n; i++) extend(`l${i}`, 64, i, o, n);
      }
      const all = [...spans].map(([k, [lo, hi]]) => {
        const unit = k[0] === 'p' ? 4096 : 64;
        const i = Number(k.slice(1));
        return [i * unit + lo, i * unit + hi];
      }).sort((a, b) => a[0] - b[0]);
      const expected: number[][] = [];
      for (const [a, b] of all) {
        const last = expected[expected.length - 1];
        if (last && a <= last[1]) last[1] = Math.max(last[1], b);
        else expected.push([a, b]);
      }
      const redo = s.changes();
      assert.deepEqual(redo.map((x) => [x.offset, x.offset + x.data.length]), expected);
      for (const x of redo) assert.deepEqual(x.data, now.subarray(x.offset, x.offset + x.data.length), `bytes at ${x.offset}`);
    });
  }

  it('journals a bulk run only where journaled writes land on it', () => {
    const s = new StagingStore(new MemoryStore(SIZE));
    const fresh = new Uint8Array(4096).fill(5);
    s.writeBulkOwned(8192, fresh);
    assert.deepEqual(s.changes(), []);
    s.write(8192 + 10, new Uint8Array([1, 2]));
    assert.deepEqual(s.changes(), [{ offset: 8202, data: new Uint8Array([1, 2]) }]);
    assert.deepEqual(s.read(8192 + 8, 6), new Uint8Array([5, 5, 1, 2, 5, 5]));
  });
});

describe('long writes to stores', () => {
  it('hold what was written, around chunks already there and across many new ones', () => {
    const random = rng(11);
    for (const make of [() => new MemoryStore(SIZE), () => new OverlayStore(new MemoryStore(SIZE))]) {
      const store = make();
      const model = new Uint8Array(SIZE);
      for (let i = 0; i < 60; i++) {
        const n = 1 + Math.floor(random() * 30000);
        const o = Math.floor(random() * (SIZE - n));
        const data = bytes(random, n);
        store.write(o, data);
        model.set(data, o);
        data.fill(0); // the store must have copied it
      }
      assert.deepEqual(store.read(0, SIZE), model);
    }
  });

  it('mergeOverlapping keeps apart what does not overlap and lets later writes win', () => {
    const a = { offset: 0, data: new Uint8Array([1, 1, 1, 1]) };
    const b = { offset: 4, data: new Uint8Array([2, 2]) };
    const c = { offset: 10, data: new Uint8Array([3, 3, 3]) };
    const d = { offset: 9, data: new Uint8Array([4, 4]) };
    const out = mergeOverlapping([c, a, b, d]);
    assert.equal(out[0], a, 'not copied');
    assert.equal(out[1], b, 'touching, not merged');
    assert.deepEqual(out[2], { offset: 9, data: new Uint8Array([4, 4, 3, 3]) }, 'd written after c: d wins at 10');
    assert.equal(out.length, 3);
  });
});
