import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allocOp, freeOp, info, initSectionsOp, PmemImage, stateAt, stepRange, UsageError, sections } from '../../src/engine';
import { FileStore } from '../../src/engine/node/fileStore';
import { MiB, newImage, snapshot, Snapshot } from './helpers';

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
    for (let i = 0; i < 4000; i++) {
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
