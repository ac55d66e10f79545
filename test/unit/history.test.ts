import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allocOp, blocks, check, freeOp, freeOwnerOp, ImageError, info, initAllOp, initSectionsOp, MemoryStore, OperationError, OverlayStore, PAGE_SIZE, PmemImage, PROFILES, sections, stateAt, stepRange, Store, UsageError } from '../../src/engine';
import { crc32 } from '../../src/engine/core/bytes';
import { CHECKPOINT_SPAN, compactRecordCrc, CR, encodeHistoryHeader, HH, HistoryHeader, HISTORY_KINDS, HistoryRing, HR, RECORD_HEADER_SIZE, RECORD_MAGIC, RECORD_UNDO_DROPPED, SCAN_CHECKPOINT, SCAN_COMPACT, WRAP_MAGIC } from '../../src/engine/format/history';
import { firstFormatHistoryFrames } from '../../src/engine/format/layout';
import { ByteRange, encodedSize, encodeRanges } from '../../src/engine/format/rangeList';
import { SB } from '../../src/engine/format/superblock';
import { ByteWriter } from '../../src/engine/format/compact';
import { allocSummary, encodeBinarySummary, freeSummary, writeOneBlockSummary } from '../../src/engine/format/summaryCodec';
import { decodeUndo, encodeUndo, undoContext, UndoTarget } from '../../src/engine/format/undoCodec';
import { historyStepRange, scanStepRange } from '../../src/engine/inspect/timeline';
import { FileStore } from '../../src/engine/node/fileStore';
import { dataView, MiB, newImage, rng, snapshot, Snapshot } from './helpers';

interface Seen {
  step: number;
  snap: Snapshot;
  generation: number;
  states: string[];
}

function record(img: PmemImage, step: number): Seen {
  return { step, snap: snapshot(img), generation: img.bootGeneration, states: sections(img).map((s) => s.state) };
}

function viewOf(img: PmemImage, step: number): Seen {
  const past = stateAt(img, step);
  return { step, snap: snapshot(past), generation: past.bootGeneration, states: sections(past).map((s) => s.state) };
}

describe('history: stepping back and forth', () => {
  it('reconstructs the state after every step exactly, without writing', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB });
    const seen: Seen[] = [record(img, img.bootReport!.historySeq)];
    const pfns: number[] = [];
    for (let i = 0; i < 12; i++) {
      const r = allocOp(img, { order: i % 4, owner: `o${i}` });
      pfns.push(r.blocks[0].pfn);
      seen.push(record(img, r.step));
      if (i % 3 === 2) {
        const f = freeOp(img, [pfns.shift()!]);
        seen.push(record(img, f.step));
      }
    }
    const init = initSectionsOp(img, [5]);
    seen.push(record(img, init.step));
    const writes = store.writes;
    for (const s of seen) assert.deepEqual(viewOf(img, s.step), s, `step ${s.step}`);
    assert.equal(store.writes, writes, 'stepping never writes');
  });

  it('steps across reboots: sections turn stale and back, generations follow', () => {
    let { store, img } = newImage({ sizeBytes: 16 * MiB });
    const seen: Seen[] = [];
    const a = allocOp(img, { order: 2 });
    seen.push(record(img, a.step));
    img.close();
    img = PmemImage.open(store, { profile: 'kmemcheck' });
    seen.push(record(img, img.bootReport!.historySeq));
    const f = freeOp(img, [a.blocks[0].pfn]);
    seen.push(record(img, f.step));
    for (const s of seen) assert.deepEqual(viewOf(img, s.step), s);
    assert.deepEqual(viewOf(img, seen[1].step).states.slice(0, 1), ['stale']);
    assert.equal(stateAt(img, seen[1].step).sb.profile, 'kmemcheck');
    assert.equal(stateAt(img, a.step).sb.profile, 'default');
  });

  it('survives closing and reopening the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-hist-'));
    const file = path.join(dir, 'h.pmem');
    const store = FileStore.create(file, 16 * MiB, { overwrite: false });
    PmemImage.create(store, { sizeBytes: 16 * MiB });
    const img = PmemImage.open(store, {});
    const seen = [1, 3, 0].map((order) => record(img, allocOp(img, { order }).step));
    img.close();
    const reopened = PmemImage.open(FileStore.open(file, { readOnly: true }), { readOnly: true, file });
    for (const s of seen) assert.deepEqual(viewOf(reopened, s.step), s);
    fs.rmSync(dir, { recursive: true });
  });

  it('is a bounded ring: old records are dropped and the earliest step moves forward', () => {
    const { img } = newImage({ sizeBytes: 4 * MiB, maxOrder: 6, historyBytes: 16 * 4096 }); // the smallest history region
    const seen: Seen[] = [];
    const held: number[] = [];
    for (let i = 0; i < 12000; i++) {
      if (held.length > 20 || (held.length && i % 3 === 0)) {
        const r = freeOp(img, [held.shift()!]);
        seen.push(record(img, r.step));
      } else {
        const r = allocOp(img, { order: i % 3 });
        held.push(r.blocks[0].pfn);
        seen.push(record(img, r.step));
      }
    }
    const records = img.historyRecords();
    const range = stepRange(records);
    assert.ok(range.first > 100, `oldest records were dropped (first step ${range.first})`);
    assert.equal(range.last, seen[seen.length - 1].step);
    assert.equal(info(img).history.firstStep, records[0].seq);
    // The oldest retained steps, the newest, and a sample between (every step would take minutes).
    const retained = seen.filter((x) => x.step >= range.first);
    const sample = retained.filter((_, i) => i < 5 || i >= retained.length - 5 || i % 41 === 0);
    for (const s of sample) assert.deepEqual(viewOf(img, s.step), s);
    assert.throws(() => stateAt(img, range.first - 1), (e: Error) => e instanceof UsageError && /steps \d+ to \d+/.test(e.message));
  });
});

// --- a deep ring of compact records -------------------------------------------------------------

/** Byte ranges [from, to) of an image to leave out of a comparison. */
type Skip = Array<[number, number]>;

/** Asserts that two images hold the same bytes outside `skip`, naming the first difference. */
function assertSameBytes(actual: Store, expected: Store, skip: Skip, what: string): void {
  const CHUNK = 4 * MiB;
  for (let at = 0; at < expected.size; at += CHUNK) {
    const n = Math.min(CHUNK, expected.size - at);
    const a = actual.read(at, n);
    const e = expected.read(at, n);
    if (Buffer.compare(a, e) === 0) continue;
    for (let i = 0; i < n; i++) {
      const offset = at + i;
      if (a[i] !== e[i] && !skip.some(([from, to]) => offset >= from && offset < to)) {
        assert.fail(`${what}: first difference at byte ${offset} (0x${offset.toString(16)}): ${a[i]}, expected ${e[i]}`);
      }
    }
  }
}

const regionBytes = (img: PmemImage, name: 'journal' | 'history'): [number, number] => {
  const r = img.layout[name];
  return [r.startPfn * PAGE_SIZE, (r.startPfn + r.frames) * PAGE_SIZE];
};

/**
 * Records, for every history step appended while it is on, the bytes the
 * step overwrote as the operation handed them over (what the first format
 * stored): the reference the compact records must rebuild.
 */
function recordOverwrittenBytes(): { overwritten: Map<number, ByteRange[]>; stop(): void } {
  const append = HistoryRing.prototype.append;
  const overwritten = new Map<number, ByteRange[]>();
  HistoryRing.prototype.append = function (this: HistoryRing, ...args: Parameters<HistoryRing['append']>) {
    const seq = append.apply(this, args);
    overwritten.set(seq, args[5] ? [] : args[4].map((r) => ({ offset: r.offset, data: r.data.slice() })));
    return seq;
  };
  return { overwritten, stop: () => void (HistoryRing.prototype.append = append) };
}

/** The image after `step` as the overwritten bytes rebuild it: later steps' bytes put back, newest first (none in the history region). */
function referenceAt(img: PmemImage, overwritten: Map<number, ByteRange[]>, step: number, last: number): OverlayStore {
  const out = new OverlayStore(img.store);
  const [hStart, hEnd] = regionBytes(img, 'history');
  for (let seq = last; seq > step; seq--) {
    for (const r of overwritten.get(seq) ?? []) {
      for (let i = 0; i < r.data.length; i++) if (r.offset + i < hStart || r.offset + i >= hEnd) out.write(r.offset + i, r.data.subarray(i, i + 1));
    }
  }
  return out;
}

describe('history: undo entries', () => {
  it('an empty range (in a region or between them) makes no entry, and the others decode back to their old bytes', () => {
    const { img } = newImage({ sizeBytes: 64 * MiB });
    const ctx = undoContext(img.sb);
    const newer = new Uint8Array(4096);
    const readNewer = (_offset: number, length: number) => newer.slice(0, length);
    for (const offset of [8, ctx.memmapAt + 10, ctx.dataStart * PAGE_SIZE + 100, ctx.historyAt + 4, ctx.sectionTableAt - 1]) {
      const w = new ByteWriter();
      encodeUndo(ctx, [{ offset, data: new Uint8Array(0) }], readNewer, { pfn: 0, generation: 1 }, w);
      assert.equal(w.length, 0, `an empty range at byte ${offset}`);
    }
    const w = new ByteWriter();
    const old = Uint8Array.from([1, 2, 3]);
    encodeUndo(ctx, [{ offset: ctx.dataStart * PAGE_SIZE + 100, data: new Uint8Array(0) }, { offset: ctx.dataStart * PAGE_SIZE + 200, data: old }], readNewer, { pfn: 0, generation: 1 }, w);
    const written: ByteRange[] = [];
    decodeUndo(w.result(), 0, w.length, ctx, { pfn: 0, generation: 1 }, undefined, new UndoTarget({ line: () => new Uint8Array(64), write: (offset, data) => void written.push({ offset, data: data.slice() }) }));
    assert.deepEqual(written, [{ offset: ctx.dataStart * PAGE_SIZE + 200, data: old }]);
  });
});

describe('history: a deep ring of compact records', () => {
  it('keeps 100,000 allocations and frees of a 64 MiB image, and rebuilds each sampled step byte for byte', function () {
    this.timeout(900_000);
    const { store, img } = newImage({ sizeBytes: 64 * MiB });
    // Every section initialised first: no descriptor initialisation (which the history does not record) follows.
    const initialised = initAllOp(img).steps.at(-1)!;
    const random = rng(100_000);
    const held: number[] = [];
    const snapshots = new Map<number, MemoryStore>();
    const STEPS = 100_000;
    let last = 0;
    for (let i = 0; i < STEPS; i++) {
      if (held.length > 400 || (held.length && random() < 0.45)) last = freeOp(img, held.splice(Math.floor(random() * held.length), 1)).step;
      else {
        const r = allocOp(img, { order: random() < 0.7 ? 0 : Math.floor(random() * 4), owner: `tag${i % 5}` });
        held.push(r.blocks[0].pfn);
        last = r.step;
      }
      if (i % 9_973 === 0 || i >= STEPS - 2) snapshots.set(last, store.clone());
    }
    const scan = img.history.scan(store);
    const range = scanStepRange(scan);
    assert.deepEqual(range, { first: 1, last }, 'every step since the image was created is kept');
    assert.deepEqual(historyStepRange(img), stepRange(img.historyRecords()), 'the range from a scan is the range from the decoded records');
    assert.equal(last, initialised + STEPS, 'create, boot, initialisation, then the operations');
    const bytesPerRecord = scan.header.tail / scan.count;
    assert.ok(bytesPerRecord < 40, `${bytesPerRecord.toFixed(1)} bytes a record`);
    const skip: Skip = [regionBytes(img, 'journal'), regionBytes(img, 'history')];
    for (const [step, snapshot] of snapshots) assertSameBytes(stateAt(img, step).store, snapshot, skip, `step ${step}`);
  });

  for (const options of [{}, { links: 'descriptor' as const }, { memmap: 'ram' as const }]) {
    it(`rebuilds every step as the overwritten bytes would, across reboots, crashes and initialisations, checkpoints too (${JSON.stringify(options)})`, function () {
      this.timeout(300_000);
      const recorder = recordOverwrittenBytes();
      HistoryRing.checkpointSpan = 32;
      try {
        let { store, img } = newImage({ sizeBytes: 16 * MiB, maxOrder: 6, ...options });
        const random = rng(7 + JSON.stringify(options).length);
        const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
        const heads = () => sections(img).filter((s) => s.state !== 'never').flatMap((s) => blocks(img, s.firstPfn, s.frames)).filter((b) => !b.free);
        const kinds = new Set<string>();
        for (let i = 0; i < 500; i++) {
          const r = random();
          try {
            if (r < 0.45) {
              allocOp(img, { order: Math.floor(random() * 5), count: 1 + Math.floor(random() * 3), owner: pick(['a', 'b', 'c']) });
              kinds.add('alloc');
            } else if (r < 0.78) {
              const live = heads();
              if (live.length) freeOp(img, [pick(live).pfn]);
              kinds.add('free');
            } else if (r < 0.82) {
              freeOwnerOp(img, pick(['a', 'b', 'c']));
              kinds.add('free owner');
            } else if (r < 0.88) {
              initSectionsOp(img, [Math.floor(random() * img.geometry.sectionCount)]);
              kinds.add('init');
            } else if (r < 0.95) {
              img.close();
              img = PmemImage.open(store, { profile: pick(PROFILES).name });
              kinds.add('reboot');
            } else {
              img.simulateCrash(Math.floor(random() * 12), (x) => allocOp(x, { order: Math.floor(random() * 3), owner: 'crash' }));
              img = PmemImage.open(store);
              kinds.add('crash');
            }
          } catch (e) {
            if (!(e instanceof OperationError)) throw e;
          }
        }
        assert.equal(kinds.size, 6, [...kinds].join(', '));
        const records = img.historyRecords();
        const range = stepRange(records);
        assert.ok(range.last - range.first > 400, `steps ${range.first} to ${range.last}`);
        const skip: Skip = [regionBytes(img, 'history')];
        for (let step = range.last; step >= range.first; step -= 1 + Math.floor(random() * 20)) {
          assertSameBytes(stateAt(img, step).store, referenceAt(img, recorder.overwritten, step, range.last), skip, `step ${step} (${records.find((x) => x.seq === step)?.summary.text})`);
        }
        const scan = img.history.scan(store);
        assert.ok(scan.bits.filter((b) => b & SCAN_CHECKPOINT).length >= 5, 'checkpoints were written');
        assert.deepEqual(check(img).problems, []);
        void store;
      } finally {
        recorder.stop();
        HistoryRing.checkpointSpan = CHECKPOINT_SPAN;
      }
    });
  }

  it('rebuilds the steps of a 1 TiB image (pfns beyond 2^32 bytes, a wrapped ring, checkpoints) as the overwritten bytes would', function () {
    this.timeout(300_000);
    const recorder = recordOverwrittenBytes();
    HistoryRing.checkpointSpan = 64;
    try {
      const store = new MemoryStore(2 ** 40);
      PmemImage.create(store, { sizeBytes: 2 ** 40, historyBytes: 128 * 1024, uuid: '00000000-0000-4000-8000-000000000003', nowMs: 0 });
      let img = PmemImage.open(store, {});
      const random = rng(40);
      const held: number[] = [];
      for (let i = 0; i < 6000; i++) {
        // Sections far up the device: their blocks go to the head of the free lists, so later allocations land there.
        if (i % 500 === 0) initSectionsOp(img, [100_000 + Math.floor(random() * 400_000)]);
        if (i === 3000) {
          img.close();
          img = PmemImage.open(store, {});
        }
        if (held.length > 200 || (held.length && random() < 0.45)) freeOp(img, held.splice(Math.floor(random() * held.length), 1));
        else held.push(allocOp(img, { order: random() < 0.7 ? 0 : Math.floor(random() * 5), owner: 'far' }).blocks[0].pfn);
      }
      assert.ok(Math.max(...held) * PAGE_SIZE > 2 ** 32, 'blocks beyond byte 2^32');
      const scan = img.history.scan(store);
      const range = scanStepRange(scan);
      assert.ok(range.first > 1000, `the ring wrapped (steps ${range.first} to ${range.last})`);
      assert.ok(scan.bits.some((b) => b & SCAN_CHECKPOINT), 'checkpoints were written');
      // Compare what the history restores: the tables, both superblocks, and every range a step overwrote.
      const spans: Skip = [[0, PAGE_SIZE], regionBytes(img, 'journal').map((x, k) => (k ? x : img.layout.sectionTable.startPfn * PAGE_SIZE)) as [number, number], [store.size - PAGE_SIZE, store.size]];
      for (let seq = range.first + 1; seq <= range.last; seq++) for (const r of recorder.overwritten.get(seq) ?? []) spans.push([r.offset, r.offset + r.data.length]);
      for (let step = range.last; step >= range.first; step -= 1 + Math.floor(random() * 500)) {
        const past = stateAt(img, step).store;
        const reference = referenceAt(img, recorder.overwritten, step, range.last);
        for (const [from, to] of spans) {
          const [a, e] = [past.read(from, to - from), reference.read(from, to - from)];
          assert.ok(Buffer.compare(a, e) === 0, `step ${step}: bytes ${from}..${to} differ`);
        }
      }
      assert.deepEqual(check(img).problems, []);
    } finally {
      recorder.stop();
      HistoryRing.checkpointSpan = CHECKPOINT_SPAN;
    }
  });

  it('with gathered checkpoints only (an editor), writes none over steps appended before it opened, the next one from its own, and every step still reads back', () => {
    HistoryRing.checkpointSpan = 16;
    try {
      const made = () => {
        const { store, img } = newImage({ sizeBytes: 16 * MiB });
        for (let i = 0; i < 20; i++) allocOp(img, { order: 0, owner: 'before' });
        img.close();
        return store;
      };
      const run = (store: Store, gatheredCheckpointsOnly: boolean) => {
        const img = PmemImage.open(store, { gatheredCheckpointsOnly });
        const held: number[] = [];
        for (let i = 0; i < 40; i++) {
          if (i % 3 === 2) freeOp(img, [held.shift()!]);
          else held.push(allocOp(img, { order: 0, owner: `o${i}` }).blocks[0].pfn);
        }
        return img;
      };
      const checkpoints = (img: PmemImage) => {
        const scan = img.history.scan(img.store, false);
        const first = img.history.readHeader(img.store).firstSeq;
        return [...scan.bits].map((b, k) => (b & SCAN_CHECKPOINT ? first + k : 0)).filter(Boolean);
      };
      const rebuilt = run(made(), false);
      const gathered = run(made(), true);
      // Steps 1-21 before the open (1 is the creation, which has no undo: no checkpoint spans it), so the span ending at 32 was begun before it; the one ending at 48 after it.
      assert.deepEqual(checkpoints(rebuilt), [32, 48]);
      assert.deepEqual(checkpoints(gathered), [48], 'no checkpoint rebuilt from steps appended before the open');
      const last = gathered.history.readHeader(gathered.store).nextSeq - 1;
      for (let step = 1; step <= last; step++) {
        // Every byte but the journal and the history itself (their records differ by the checkpoints).
        const [a, b] = [stateAt(rebuilt, step).store, stateAt(gathered, step).store];
        const L = gathered.layout;
        for (const [from, to] of [[0, L.journal.startPfn * PAGE_SIZE], [(L.history.startPfn + L.history.frames) * PAGE_SIZE, a.size]]) {
          assert.ok(Buffer.compare(a.read(from, to - from), b.read(from, to - from)) === 0, `step ${step} reads back the same (bytes ${from}..${to})`);
        }
      }
      assert.deepEqual(check(gathered).problems, []);
    } finally {
      HistoryRing.checkpointSpan = CHECKPOINT_SPAN;
    }
  });

  it('says which step, and why, when an inverse kept in a record cannot be run (a damaged record, its checksum recomputed)', () => {
    const { store, img } = newImage({ sizeBytes: 16 * MiB });
    allocOp(img, { order: 0, owner: 'x' }); // hands a section over: its bytes are kept
    const b = allocOp(img, { order: 0, owner: 'y' });
    const ring = img.history;
    const scan = ring.scan(store);
    const info = ring.recordInfo(scan, scan.count - 1);
    assert.equal(info.seq, b.step);
    const offset = ring.ringStart + info.pos;
    const record = store.read(offset, info.totalBytes).slice();
    const entry = info.undoAt - info.pos;
    assert.deepEqual([...record.subarray(entry)], [7, 0, 0], 'the allocation is kept as its inverse: free that block, order 0');
    assert.ok(ring.records(store, true).at(-1)!.undoByInverse);
    // Make it free the frame after its block instead (+1 from the summary's pfn, zigzag 2): a free frame.
    const free = b.blocks[0].pfn + 1;
    record[entry + 1] = 2;
    dataView(record).setUint32(CR.crc, compactRecordCrc(info.seq, record), true);
    store.write(offset, record);
    assert.throws(() => stateAt(img, b.step - 1), (e: Error) => e instanceof ImageError && e.location.field === 'historyRecord.undo'
      && e.message.includes(`history step ${b.step}: undo entry is invalid: its inverse (free block ${free} of order 0) cannot be run`) && e.location.offset === offset + entry);
    // Checking the image still works (it reads the entry, without running it); the step itself still shows.
    assert.ok(check(img).problems.every((p) => p.structure !== 'memmap'));
    assert.equal(stateAt(img, b.step).geometry.sizeBytes, 16 * MiB);
  });

  it('goes on writing when a record a checkpoint would stand for is damaged (no checkpoint then); check names the record', () => {
    HistoryRing.checkpointSpan = 8;
    try {
      const { store, img: first } = newImage({ sizeBytes: 16 * MiB });
      for (let i = 0; i < 4; i++) allocOp(first, { order: 0 });
      const scan = first.history.scan(store);
      const victim = first.history.recordInfo(scan, scan.count - 2);
      const at = first.history.ringStart + victim.pos + victim.totalBytes - 1;
      store.write(at, Uint8Array.of(store.read(at, 1)[0] ^ 0x55));
      // A new boot: the bytes gathered in RAM for the checkpoint are gone, so it would have to come from the records.
      first.close();
      const img = PmemImage.open(store);
      for (let i = 0; i < 12; i++) allocOp(img, { order: 0 });
      const after = img.history.scan(store, false);
      // Checkpoints over the steps after it may be written; none stands for it.
      const over = [...after.bits].flatMap((b, i) => (b & SCAN_CHECKPOINT ? [after.header.firstSeq + i] : [])).filter((seq) => seq - 8 < victim.seq);
      assert.deepEqual(over, [], 'no checkpoint over the damaged record');
      const problems = check(img).problems;
      assert.ok(problems.some((p) => p.structure === 'history' && p.message.includes(`historyRecord.crc, byte ${img.history.ringStart + victim.pos + 1} `)), JSON.stringify(problems));
    } finally {
      HistoryRing.checkpointSpan = CHECKPOINT_SPAN;
    }
  });

  it('reads first-format records (version 1 images) and steps back over them, before and after the upgrade', function () {
    this.timeout(120_000);
    const append = HistoryRing.prototype.append;
    const stopLegacy = writeFirstFormatRecords();
    const recorder = recordOverwrittenBytes();
    try {
      // The layout version 1 gave a 16 MiB image.
      let { store, img } = newImage({ sizeBytes: 16 * MiB, historyBytes: firstFormatHistoryFrames(4096) * PAGE_SIZE });
      const seen: Seen[] = [record(img, img.bootReport!.historySeq)];
      const held: number[] = [];
      for (let i = 0; i < 24; i++) {
        if (i === 12) {
          img.close();
          img = PmemImage.open(store, { profile: 'numa' });
          seen.push(record(img, img.bootReport!.historySeq));
        }
        if (held.length && i % 3 === 2) seen.push(record(img, freeOp(img, [held.shift()!]).step));
        else {
          const r = allocOp(img, { order: i % 4, owner: `v1-${i}` });
          held.push(r.blocks[0].pfn);
          seen.push(record(img, r.step));
        }
      }
      img.close();
      stopLegacy();
      stampVersion1(store);

      const ro = PmemImage.open(store, { readOnly: true });
      assert.equal(ro.sb.formatVersion, 1);
      const scan = ro.history.scan(store);
      assert.ok(scan.count > 20 && scan.bits.every((b) => !(b & SCAN_COMPACT)), 'first-format records only');
      assert.equal(ro.historyRecords()[2].summary.text, 'alloc order 0 for v1-0 → pfn ' + ro.historyRecords()[2].summary.pfns + ', node 0 DMA32');
      for (const s of seen) assert.deepEqual(viewOf(ro, s.step), s, `step ${s.step} from first-format records`);

      // The first boot upgrades the image; its records are compact, after the first-format ones.
      img = PmemImage.open(store, {});
      for (let i = 0; i < 10; i++) {
        if (i % 2) seen.push(record(img, freeOp(img, [held.shift()!]).step));
        else {
          const r = allocOp(img, { order: 1, owner: 'v2' });
          held.push(r.blocks[0].pfn);
          seen.push(record(img, r.step));
        }
      }
      const mixed = img.history.scan(store);
      assert.ok(mixed.bits.some((b) => b & SCAN_COMPACT) && mixed.bits.some((b) => !(b & SCAN_COMPACT)), 'both forms in one ring');
      assert.deepEqual(check(img).problems, []);
      const range = stepRange(img.historyRecords());
      assert.equal(range.first, 1);
      for (const s of seen) {
        assert.deepEqual(viewOf(img, s.step), s, `step ${s.step} after the upgrade`);
        assertSameBytes(stateAt(img, s.step).store, referenceAt(img, recorder.overwritten, s.step, range.last), [regionBytes(img, 'history')], `step ${s.step}`);
      }
    } finally {
      HistoryRing.prototype.append = append;
    }
  });
});

/** Stamps both superblock copies with format version 1 (as a version 1 build left them), checksums kept valid. */
function stampVersion1(store: MemoryStore): void {
  for (const at of [0, store.size - PAGE_SIZE]) {
    const sb = store.read(at, PAGE_SIZE).slice();
    dataView(sb).setUint16(SB.formatVersion, 1, true);
    dataView(sb).setUint32(SB.crc, crc32(sb.subarray(0, SB.crc)), true);
    store.write(at, sb);
  }
}

/**
 * Makes the history write first-format records, as builds before compact
 * records did (their writer, kept here): a 40-byte header, the JSON summary,
 * the overwritten bytes whole; 8-byte aligned; header version 1. Returns
 * what turns it off (a wrapper installed after it stays).
 */
function writeFirstFormatRecords(): () => void {
  const append = HistoryRing.prototype.append;
  let on = true;
  const pad8 = (n: number) => (n + 7) & ~7;
  const header = (h: HistoryHeader) => {
    const out = encodeHistoryHeader(h);
    dataView(out).setUint32(HH.version, 1, true);
    dataView(out).setUint32(HH.crc, crc32(out.subarray(0, HH.crc)), true);
    return out;
  };
  HistoryRing.prototype.append = function (this: HistoryRing, io, kind, bootGeneration, summary, undo, dropUndo = false) {
    if (!on) return append.call(this, io, kind, bootGeneration, summary, undo, dropUndo);
    const h = this.readHeader(io);
    let summaryBytes = new TextEncoder().encode(JSON.stringify(summary));
    if (summaryBytes.length > 4096) summaryBytes = new TextEncoder().encode(JSON.stringify({ text: summary.text }));
    let undoBytes = encodedSize(undo);
    let flags = 0;
    if (dropUndo || undoBytes > this.maxUndoBytes || kind === 'create') {
      if (kind !== 'create') flags |= RECORD_UNDO_DROPPED;
      undo = [];
      undoBytes = 0;
    }
    const total = RECORD_HEADER_SIZE + pad8(summaryBytes.length) + undoBytes;
    const rec = new Uint8Array(total);
    const dv = dataView(rec);
    const seq = h.nextSeq;
    dv.setUint32(HR.magic, RECORD_MAGIC, true);
    dv.setUint32(HR.totalBytes, total, true);
    dv.setUint32(HR.seq, seq, true);
    dv.setUint32(HR.kind, HISTORY_KINDS.indexOf(kind), true);
    dv.setUint32(HR.bootGeneration, bootGeneration, true);
    dv.setUint32(HR.summaryBytes, summaryBytes.length, true);
    dv.setUint32(HR.undoBytes, undoBytes, true);
    dv.setUint32(HR.flags, flags, true);
    rec.set(summaryBytes, RECORD_HEADER_SIZE);
    encodeRanges(undo, rec, RECORD_HEADER_SIZE + pad8(summaryBytes.length));
    dv.setUint32(HR.crc, crc32(rec), true);
    const empty = () => h.firstSeq === h.nextSeq;
    const wrapped = () => h.head > h.tail || (h.head === h.tail && !empty());
    const evict = () => {
      h.head += dataView(io.read(this.ringStart + h.head, 8).slice()).getUint32(HR.totalBytes, true);
      h.firstSeq++;
      if (h.firstSeq === h.nextSeq) h.head = h.tail = 0;
      else if (h.head >= this.ringBytes || dataView(io.read(this.ringStart + h.head, 4).slice()).getUint32(0, true) === WRAP_MAGIC) h.head = 0;
    };
    for (;;) {
      if (empty()) {
        h.head = h.tail = 0;
        break;
      }
      if (!wrapped()) {
        if (this.ringBytes - h.tail >= total) break;
        const marker = new Uint8Array(4);
        dataView(marker).setUint32(0, WRAP_MAGIC, true);
        io.write(this.ringStart + h.tail, marker);
        h.tail = 0;
        continue;
      }
      if (h.head - h.tail >= total) break;
      evict();
    }
    io.write(this.ringStart + h.tail, rec);
    h.tail += total;
    h.nextSeq++;
    io.write(this.start, header(h));
    return seq;
  };
  return () => {
    on = false;
  };
}

describe('history: one-block summaries written directly', () => {
  it('writes the bytes encodeBinarySummary gives for the allocation or free summary of the same block', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'alloc' | 'free'>('alloc', 'free'),
        fc.record({
          pfn: fc.oneof(fc.nat({ max: 1023 }), fc.integer({ min: 0, max: 2 ** 40 })),
          order: fc.nat({ max: 31 }),
          owner: fc.oneof(fc.constant(''), fc.string({ unit: 'binary', maxLength: 5 })),
          node: fc.nat({ max: 63 }),
          zone: fc.nat({ max: 2 }),
          generation: fc.nat({ max: 1000 }),
        }),
        (kind, b) => {
          const direct = new ByteWriter();
          writeOneBlockSummary(direct, kind, b);
          const summary = kind === 'alloc' ? allocSummary(b.order, 1, b.owner, [b.pfn], b.node, b.zone, []) : freeSummary([b.pfn], [b.order], 1, []);
          assert.deepEqual(direct.result(), encodeBinarySummary(kind, b.generation, summary));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses an order or zone the binary form cannot hold', () => {
    assert.throws(() => writeOneBlockSummary(new ByteWriter(), 'free', { pfn: 1, order: 32, owner: '', node: 0, zone: 0 }), /order must be 0 to 31, not 32/);
    assert.throws(() => writeOneBlockSummary(new ByteWriter(), 'alloc', { pfn: 1, order: 0, owner: '', node: 0, zone: 3 }), /node and zone are out of range \(0, 3\)/);
  });
});
