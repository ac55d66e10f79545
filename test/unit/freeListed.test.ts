/**
 * A free of listed pfns larger than one journal transaction: the heads are
 * marked PG_freeing, then freed in ascending order; all or nothing, across
 * crashes (rolled back while marking, completed while freeing) and cancels.
 */
import { strict as assert } from 'node:assert';
import { allocOp, check, freeListedOpAsync, freeOp, initSectionsOp, MemoryStore, OperationCancelled, PAGE_SIZE, PmemImage, SimulatedCrash } from '../../src/engine';
import { CrashingStore } from '../../src/engine/store/crashingStore';
import { journalCapacity } from '../../src/engine/format/journal';
import { DESC, PG_ALLOCATED, PG_FREEING, sealDescriptor } from '../../src/engine/format/descriptor';
import { DESCRIPTOR_SIZE } from '../../src/engine/format/constants';
import { encodeIntent, intentOffset } from '../../src/engine/format/intent';
import { oracleCheck } from './checkerOracle';
import { assertSameState, MiB, newImage, rng, snapshot } from './helpers';

type Built = { store: MemoryStore; img: PmemImage };

/** Frames whose descriptor carries PG_freeing, over the whole memmap. */
function marks(img: PmemImage): number[] {
  const bytes = img.store.read(img.memmapOffset(0), img.geometry.totalFrames * DESCRIPTOR_SIZE);
  const out: number[] = [];
  for (let p = 0; p < img.geometry.totalFrames; p++) if (bytes[p * DESCRIPTOR_SIZE + DESC.flags] & PG_FREEING) out.push(p);
  return out;
}

const allocatedHeads = (img: PmemImage) => snapshot(img).allocated.map((b) => Number(b.split(':')[0]));

/** Blocks of several orders and owners, some freed between them; `reboot`: shut down and booted again, so every section is stale. */
function populated(options: Parameters<typeof newImage>[0], reboot: boolean): Built {
  let { store, img } = newImage({ sizeBytes: 16 * MiB, maxOrder: 8, ...options });
  allocOp(img, { order: 0, count: 1500, owner: 'a' });
  allocOp(img, { order: 1, count: 200, owner: 'b' });
  allocOp(img, { order: 0, count: 600, owner: 'c' });
  allocOp(img, { order: 3, count: 20, owner: 'd' });
  const heads = allocatedHeads(img);
  freeOp(img, heads.filter((_, i) => i % 7 === 3));
  if (reboot) {
    img.close();
    img = PmemImage.open(store, {});
  }
  return { store, img };
}

/** Most of the allocated heads, in a seeded random order. */
function someHeads(img: PmemImage, seed: number): number[] {
  const r = rng(seed);
  const pfns = allocatedHeads(img).filter(() => r() < 0.8);
  for (let i = pfns.length - 1; i > 0; i--) {
    const k = Math.floor(r() * (i + 1));
    [pfns[i], pfns[k]] = [pfns[k], pfns[i]];
  }
  return pfns;
}

/** Every byte of the two devices but the journal's. */
function assertSameBytesButJournal(a: MemoryStore, b: MemoryStore, img: PmemImage): void {
  const j = img.layout.journal;
  const [from, to] = [j.startPfn * PAGE_SIZE, (j.startPfn + j.frames) * PAGE_SIZE];
  const x = a.read(0, from);
  const y = b.read(0, from);
  const d1 = x.findIndex((v, i) => v !== y[i]);
  assert.equal(d1, -1, `bytes differ at ${d1}`);
  const u = a.read(to, a.size - to);
  const v = b.read(to, b.size - to);
  const d2 = u.findIndex((w, i) => w !== v[i]);
  assert.equal(d2, -1, `bytes differ at ${to + d2}`);
}

describe('freeing listed pfns beyond one journal transaction', () => {
  for (const [name, options, reboot] of [
    ['memmap on device', {}, false],
    ['stale sections (after a reboot)', {}, true],
    ['links in descriptors', { links: 'descriptor' as const }, false],
    ['two nodes, stale sections', { nodes: 2 }, true],
  ] as const) {
    it(`gives the same bytes as freeing the pfns in one-transaction lists in ascending order (${name})`, () => {
      const a = populated(options, reboot);
      const b = populated(options, reboot);
      const pfns = someHeads(a.img, 7);
      assert.ok(pfns.length * DESCRIPTOR_SIZE > journalCapacity(a.img.layout.journal), 'the marks alone take more than one transaction');
      const steps = a.img.historyRecords().length;
      const phases: string[] = [];
      const r = freeOp(a.img, pfns, { onProgress: (_d, _t, phase) => phases.push(phase!) });
      const sorted = [...pfns].sort((x, y) => x - y);
      assert.deepEqual(r.freed.map((f) => f.pfn), sorted);
      assert.ok(phases.filter((p) => p === 'marking').length > 1 && phases.filter((p) => p === 'freeing').length > 1, `several parts of each phase: ${phases.join(' ')}`);
      assert.equal(phases.lastIndexOf('marking') < phases.indexOf('freeing'), true);
      for (let i = 0; i < sorted.length; i += 200) freeOp(b.img, sorted.slice(i, i + 200));
      assert.deepEqual(snapshot(a.img), snapshot(b.img));
      assertSameState(a, b);
      const records = a.img.historyRecords();
      assert.equal(records.length, steps + 1, 'one step for the whole free');
      const rec = records.at(-1)!;
      assert.equal(rec.kind, 'free');
      assert.equal(rec.undoAvailable, false);
      assert.match(rec.summary.text, new RegExp(`^free pfn ${sorted.slice(0, 3).join(', ')}, \\.\\.\\. \\(${sorted.length} blocks\\) \\(order `));
      assert.equal(rec.summary.count, sorted.length);
      assert.deepEqual(rec.summary.pfns, sorted.slice(0, 256));
      assert.equal(a.img.pendingIntent(), undefined);
      assert.deepEqual(marks(a.img), []);
      const report = check(a.img);
      assert.ok(report.ok, JSON.stringify(report.problems.slice(0, 3)));
    });
  }

  it('a free of more than 256 blocks in one transaction keeps its count in the history text', () => {
    const { img } = newImage({ sizeBytes: 256 * MiB });
    const pfns = allocOp(img, { order: 0, count: 300 }).blocks.map((b) => b.pfn);
    const r = freeOp(img, pfns);
    const rec = img.historyRecords().find((x) => x.seq === r.step)!;
    assert.equal(rec.undoAvailable, true, 'one transaction');
    assert.match(rec.summary.text, /\(300 blocks\)/);
  });

  describe('refuses the whole list before writing anything', () => {
    const cases: Array<[string, (img: PmemImage, store: MemoryStore) => number]> = [
      ['a free frame', (img) => snapshot(img).free.map((f) => Number(f.split(':')[0])).at(-1)!],
      ['a frame inside an allocated block', (img) => Number(snapshot(img).allocated.find((b) => b.split(':')[1] === '3')!.split(':')[0]) + 2],
      ['a metadata frame', () => 3],
      ['a frame past the data area', (img) => img.geometry.totalFrames + 5],
      ['a frame of a never-initialised section', (img) => img.geometry.totalFrames - 600],
      ['an allocated head whose descriptor is damaged (stale section)', (img, store) => {
        const p = allocatedHeads(img)[500];
        const at = img.memmapOffset(p) + DESC.owner;
        store.write(at, new Uint8Array([store.read(at, 1)[0] ^ 0x20]));
        return p;
      }],
    ];
    for (const [what, pick] of cases) {
      it(what, () => {
        const { store, img } = populated({}, true);
        const pfns = someHeads(img, 3);
        const bad = pick(img, store);
        const before = store.clone();
        let alone = '';
        assert.throws(() => freeOp(img, [bad]), (e: Error) => ((alone = e.message), true));
        assert.ok(store.sameContentAs(before), 'freeing it alone wrote nothing');
        const list = [...pfns.filter((p) => p !== bad)];
        list.splice(list.length >> 1, 0, bad);
        assert.throws(() => freeOp(img, list), (e: Error) => e.message === alone, `the same error as freeing it alone: ${alone}`);
        assert.ok(store.sameContentAs(before), 'not a byte written');
        assert.equal(img.pendingIntent(), undefined);
        assert.ok(freeOp(img, pfns.filter((p) => p !== bad)).freed.length > 0, 'the image works on');
      });
    }

    it('a pfn given twice, and more than one transaction with the memmap in RAM', () => {
      const { store, img } = populated({}, false);
      const pfns = someHeads(img, 5);
      const before = store.clone();
      assert.throws(() => freeOp(img, [...pfns, pfns[9]]), /the same pfn is given twice/);
      assert.ok(store.sameContentAs(before));
      const ram = populated({ memmap: 'ram' }, false);
      const ramBefore = ram.store.clone();
      assert.throws(() => freeOp(ram.img, allocatedHeads(ram.img)), /takes more than one journal transaction.*memmap in RAM the marks would not survive a crash/);
      assert.ok(ram.store.sameContentAs(ramBefore), 'not a byte written');
      assert.equal(freeOp(ram.img, allocatedHeads(ram.img).slice(0, 20)).freed.length, 20, 'a free that fits one transaction still runs');
    });
  });

  for (const reboot of [false, true]) {
    it(`a crash at any sampled point ends with none or all of the blocks freed, and no mark left${reboot ? ' (stale sections)' : ''}`, function () {
      this.timeout(300_000);
      const { store, img } = populated({}, reboot);
      const pfns = someHeads(img, 11);
      const keep = allocatedHeads(img).filter((p) => !pfns.includes(p));
      img.close();
      const clean = store.clone();
      const memmap = (s: MemoryStore) => s.read(img.memmapOffset(0), img.geometry.totalFrames * DESCRIPTOR_SIZE);
      const memmapBefore = memmap(clean);
      const op = (i: PmemImage) => void freeOp(i, pfns);
      const { points } = PmemImage.open(clean.clone(), {}).simulateCrash(1e7, op);
      const seen = { untouched: 0, rolledBack: 0, completed: 0 };
      const step = Math.max(1, Math.floor(points / 60));
      for (let p = 0; p <= points; p += step) {
        const media = clean.clone();
        PmemImage.open(media, {}).simulateCrash(p, op);
        const after = PmemImage.open(media, {});
        const left = allocatedHeads(after);
        const report = check(after);
        assert.ok(report.ok, `crash after ${p} of ${points} points: ${JSON.stringify(report.problems.slice(0, 2))}`);
        assert.deepEqual(marks(after), [], `crash after ${p}: no mark left`);
        assert.equal(after.pendingIntent(), undefined);
        const resumed = after.bootReport?.resumed;
        if (left.length === keep.length) {
          assert.deepEqual(left, keep, `crash after ${p}: all freed`);
          if (resumed) {
            seen.completed++;
            assert.equal(resumed.rolledBack, undefined);
            assert.match(resumed.text, new RegExp(`^free pfn .* \\(${pfns.length} blocks\\) .*completed after a crash \\(\\d+ of ${pfns.length} blocks were freed before it\\)`));
            const rec = after.historyRecords().find((r) => r.seq === resumed.step)!;
            assert.equal(rec.kind, 'free');
            assert.equal(rec.summary.count, pfns.length);
          }
        } else {
          assert.equal(left.length, keep.length + pfns.length, `crash after ${p}: none freed or all, not ${left.length - keep.length} of ${pfns.length} left`);
          // The boot and its record aside, a rolled-back free leaves the descriptors as they were.
          assert.ok(memmap(media).every((v, i) => v === memmapBefore[i]), `crash after ${p}: the memmap is as before`);
          if (resumed) {
            seen.rolledBack++;
            assert.equal(resumed.rolledBack, true);
            assert.equal(resumed.step, 0);
            assert.match(resumed.text, new RegExp(`^free of ${pfns.length} listed blocks rolled back after a crash`));
            assert.ok(!after.historyRecords().some((r) => r.kind === 'free' && r.bootGeneration === after.bootGeneration - 1 && r.summary.count === pfns.length));
          } else seen.untouched++;
        }
      }
      assert.ok(seen.untouched > 0 && seen.rolledBack > 0 && seen.completed > 0, `crashes in every phase: ${JSON.stringify(seen)}`);
    });
  }

  for (const phase of ['marking', 'freeing'] as const) {
    it(`a crash again during the boot that ${phase === 'marking' ? 'rolls the free back' : 'completes the free'} is handled by the next boot`, () => {
      const { store, img } = populated({}, true);
      const pfns = someHeads(img, 13);
      const keep = allocatedHeads(img).filter((p) => !pfns.includes(p));
      img.close();
      const op = (i: PmemImage) => void freeOp(i, pfns);
      const { points } = PmemImage.open(store.clone(), {}).simulateCrash(1e7, op);
      // A crash in the wanted phase, found by trying points from the start (marking) or the end (freeing).
      let media: MemoryStore | undefined;
      for (let k = 0; k < points && !media; k += 4) {
        const m = store.clone();
        PmemImage.open(m, {}).simulateCrash(phase === 'marking' ? k : points - 1 - k, op);
        if (PmemImage.open(m.clone(), { readOnly: true }).pendingIntent()?.marking === (phase === 'marking')) media = m;
      }
      assert.ok(media, `some crash fell while ${phase}`);
      const bootPoints = new CrashingStore(media.clone(), 1e9);
      PmemImage.open(bootPoints, {});
      assert.ok(bootPoints.writes > 8, 'the boot took several transactions');
      for (let cut = 1; cut < bootPoints.writes; cut += Math.max(1, Math.floor(bootPoints.writes / 12))) {
        const m = media.clone();
        assert.throws(() => PmemImage.open(new CrashingStore(m, cut), {}), SimulatedCrash);
        const after = PmemImage.open(m, {});
        assert.deepEqual(allocatedHeads(after), phase === 'marking' ? [...keep, ...pfns].sort((a, b) => a - b) : keep, `boot cut after ${cut} points`);
        assert.deepEqual(marks(after), []);
        assert.equal(after.pendingIntent(), undefined);
        assert.ok(check(after).ok);
      }
    });
  }

  describe('cancel', () => {
    for (const [name, reboot, cancelPhase] of [
      ['while marking', false, 'marking'],
      ['while freeing', false, 'freeing'],
      ['while freeing, stale sections re-initialised on the way', true, 'freeing'],
    ] as const) {
      it(`${name}: every part rolled back, marks included`, async () => {
        const { store, img } = populated({}, reboot);
        const pfns = someHeads(img, 17);
        const before = store.clone();
        const snap = snapshot(img);
        const steps = img.historyRecords().length;
        let parts = 0;
        let phase: string | undefined;
        await assert.rejects(
          freeListedOpAsync(img, pfns, { onProgress: (_d, _t, p) => { parts++; phase = p; }, cancelled: () => phase === cancelPhase && parts >= (cancelPhase === 'marking' ? 2 : 0) }),
          (e: Error) => e instanceof OperationCancelled && new RegExp(`^free cancelled after ${cancelPhase === 'marking' ? 0 : '[1-9]\\d*'} of ${pfns.length} blocks: rolled back`).test(e.message),
        );
        assert.equal(phase, cancelPhase);
        assert.deepEqual(snapshot(img), snap);
        assert.deepEqual(marks(img), []);
        assert.equal(img.historyRecords().length, steps);
        assert.equal(img.pendingIntent(), undefined);
        if (!reboot) assertSameBytesButJournal(store, before, img);
        else {
          // Re-initialised descriptors stay (idempotent, newer generation); the tables and every block are as before.
          const L = img.layout;
          for (const r of [L.sectionTable, L.freeArea, L.history]) {
            assert.ok(store.read(r.startPfn * PAGE_SIZE, r.frames * PAGE_SIZE).every((v, i) => v === before.read(r.startPfn * PAGE_SIZE + i, 1)[0]));
          }
        }
        const report = check(img);
        assert.ok(report.ok, JSON.stringify(report.problems.slice(0, 3)));
        assert.equal((await freeListedOpAsync(img, pfns)).freed.length, pfns.length, 'the image works on');
      });
    }
  });

  describe('the checker and PG_freeing', () => {
    /** Sets PG_freeing on pfn's descriptor, resealed. */
    const mark = (store: MemoryStore, img: PmemImage, pfn: number) => {
      const at = img.memmapOffset(pfn);
      const d = store.read(at, DESCRIPTOR_SIZE).slice();
      d[DESC.flags] |= PG_FREEING;
      sealDescriptor(d, 0);
      store.write(at, d);
    };
    const messages = (img: PmemImage) => {
      const report = check(img);
      assert.deepEqual(report, oracleCheck(img, { maxProblems: 1000 }), 'the reference checker agrees');
      return report.problems.map((p) => `${p.structure} ${p.pfn}: ${p.message}`);
    };

    it('reports a stray mark: no listed free under way, or outside its range, or on a frame that heads no allocated block', () => {
      const { store, img } = populated({}, false);
      const heads = allocatedHeads(img);
      const free = Number(snapshot(img).free[0].split(':')[0]);
      img.close();
      mark(store, img, heads[10]);
      mark(store, img, free);
      const ro = () => PmemImage.open(store, { readOnly: true });
      assert.deepEqual(messages(ro()), [
        `descriptor ${free}: pfn ${free}: PG_freeing is set on a frame that heads no allocated block`,
        `descriptor ${heads[10]}: pfn ${heads[10]}: PG_freeing is set but no free of listed blocks is under way (the intent slot holds none)`,
      ].sort((a, b) => Number(a.split(' ')[1]) - Number(b.split(' ')[1])));
      // With a listed free under way, a mark on one of its allocated heads is expected; one outside its range is not.
      store.write(intentOffset(img.layout.history), encodeIntent({ kind: 'free-listed', order: 0, zone: 0, node: 0, strict: false, count: 1, done: 0, owner: '', marking: false, lo: heads[10], hi: heads[10] + 1 }));
      mark(store, img, heads[20]);
      assert.deepEqual(messages(ro()).filter((m) => !m.startsWith(`descriptor ${free}:`)), [
        `descriptor ${heads[20]}: pfn ${heads[20]}: PG_freeing is set outside the pfns [${heads[10]}, ${heads[10] + 1}) of the free of listed blocks under way`,
      ]);
    });

    it('a stale section keeps a mark when it is re-initialised', () => {
      const { store, img } = populated({}, false);
      const p = allocatedHeads(img)[40];
      img.close();
      mark(store, img, p);
      store.write(intentOffset(img.layout.history), encodeIntent({ kind: 'free-listed', order: 0, zone: 0, node: 0, strict: false, count: 1, done: 0, owner: '', marking: false, lo: p, hi: p + 1 }));
      // Read-only: a writable open would complete the free at once.
      const ro = PmemImage.open(store, { readOnly: true });
      assert.deepEqual(messages(ro), []);
      const s = Math.floor(p / img.geometry.sectionFrames);
      const live = PmemImage.open(store.clone(), {});
      assert.equal(live.bootReport?.resumed?.rolledBack, undefined, 'the boot completed the free');
      assert.equal(allocatedHeads(live).includes(p), false);
      // Re-initialisation alone: stage it in a transaction-free way through an init of the section.
      const other = store.clone();
      other.write(intentOffset(img.layout.history), new Uint8Array(64));
      const booted = PmemImage.open(other, {});
      initSectionsOp(booted, [s]);
      const flags = other.read(booted.memmapOffset(p) + DESC.flags, 1)[0];
      assert.equal(flags & (PG_FREEING | PG_ALLOCATED), PG_FREEING | PG_ALLOCATED, 'the mark and the allocation kept');
    });
  });
});
