/** The history feed tells a view the steps added and dropped, and the view's list stays the ring's. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allocOp, blocks, freeOp, PmemImage, stepRange } from '../../src/engine';
import { scanStepRange } from '../../src/engine/inspect/timeline';
import { applyStepsUpdate, fillStepTexts, HistoryFeed, MAX_STEP_TEXTS, Step } from '../../src/engine/inspect/historyFeed';
import { FileStore } from '../../src/engine/node/fileStore';
import { ImageSession, SessionEdit } from '../../src/engine/node/session';
import { MiB, newImage, rng } from './helpers';

function expected(img: PmemImage): Step[] {
  const records = img.historyRecords();
  const range = stepRange(records);
  return records.filter((r) => r.seq >= range.first).map((r) => ({ seq: r.seq, text: r.summary.text }));
}

describe('history feed (the timeline told step by step)', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-feed-'));
    file = path.join(dir, 'a.pmem');
    const store = FileStore.create(file, 16 * MiB, { overwrite: false });
    // A small ring, so that it fills and drops its oldest steps during the test.
    PmemImage.create(store, { sizeBytes: 16 * MiB, historyBytes: 64 * 1024 });
    store.close();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('follows edits, undos, redos, reboots and a full ring, telling only what changed', () => {
    const s = ImageSession.open(file);
    const feed = new HistoryFeed();
    let list = applyStepsUpdate([], feed.update(s.image));
    assert.deepEqual(list, expected(s.image));
    s.bootIfNeeded();
    list = applyStepsUpdate(list, feed.update(s.image));
    const random = rng(5);
    const done: SessionEdit[] = [];
    const undone: SessionEdit[] = [];
    let appends = 0;
    let resets = 0;
    let evicted = false;
    let before = scanStepRange(s.image.history.scan(s.image.store, false));
    for (let i = 0; i < 3000; i++) {
      const roll = random();
      if (roll < 0.15 && done.length) {
        undone.push(done.pop()!);
        undone[undone.length - 1].undo();
      } else if (roll < 0.25 && undone.length) {
        done.push(undone.pop()!);
        done[done.length - 1].redo();
      } else if (roll < 0.27) {
        done.push(s.reboot());
        undone.length = 0;
      } else {
        undone.length = 0;
        const held = blocks(s.image, 0, s.image.geometry.totalFrames).filter((b) => !b.free && b.owner);
        if (held.length > 20 || (held.length && roll < 0.55)) done.push(s.perform('free', (img) => freeOp(img, [held[Math.floor(random() * held.length)].pfn])).edit);
        else done.push(s.perform('alloc', (img) => allocOp(img, { order: Math.floor(random() * 3), owner: 'fills-the-ring' })).edit);
      }
      const u = feed.update(s.image);
      if (u.reset) resets++;
      list = applyStepsUpdate(list, u);
      // The ends every time (a scan reads no summary), every step now and then.
      const now = scanStepRange(s.image.history.scan(s.image.store, false));
      assert.deepEqual([list[0].seq, list[list.length - 1].seq, list.length], [now.first, now.last, now.last - now.first + 1], `after change ${i}`);
      if (i % 100 === 0) assert.deepEqual(list, expected(s.image), `after change ${i}`);
      if (s.image.history.readHeader(s.image.store).firstSeq > 1) evicted = true;
      // One more step at the end: told as one step added, nothing resent.
      if (now.last === before.last + 1 && now.first >= before.first) {
        assert.equal(u.reset, false, `change ${i} resent the list`);
        assert.equal(u.added.length, 1, `change ${i}: ${JSON.stringify(u)}`);
        appends++;
      }
      before = now;
    }
    assert.deepEqual(list, expected(s.image));
    assert.ok(evicted, 'the ring never filled: the test did not drop old steps');
    assert.ok(appends > 500, `only ${appends} plain appends`);
    assert.equal(resets, 0, 'an undo on a full ring puts its oldest step back: told as one step, not the whole list');
    s.close();
  });

  it('starts over when the ring is not what it knew (changes it did not see, a revert)', () => {
    const s = ImageSession.open(file);
    s.bootIfNeeded();
    const feed = new HistoryFeed();
    s.perform('alloc', (img) => allocOp(img, { order: 1, owner: 'a' }));
    let list = applyStepsUpdate([], feed.update(s.image));
    // Undone and replaced by another step of the same number, unseen by the feed.
    const e = s.perform('alloc', (img) => allocOp(img, { order: 0, owner: 'b' })).edit;
    list = applyStepsUpdate(list, feed.update(s.image));
    e.undo();
    s.perform('alloc', (img) => allocOp(img, { order: 2, owner: 'c' }));
    const u = feed.update(s.image);
    assert.equal(u.reset, true, 'the last step it knew is another record now');
    list = applyStepsUpdate(list, u);
    assert.deepEqual(list, expected(s.image));
    s.revert();
    list = applyStepsUpdate(list, feed.update(s.image));
    assert.deepEqual(list, expected(s.image));
    feed.reset();
    const again = feed.update(s.image);
    assert.equal(again.reset, true);
    assert.deepEqual(again.added, expected(s.image));
    s.close();
  });

  it('sends only the newest texts of a long history; the others come when asked for, a window at a time', () => {
    const { img } = newImage({ sizeBytes: 64 * MiB });
    const pfns: number[] = [];
    for (let i = 0; i < 3 * MAX_STEP_TEXTS; i++) {
      if (i % 3 === 2) freeOp(img, [pfns.pop()!]);
      else pfns.push(allocOp(img, { order: 0, owner: `o${i}` }).blocks[0].pfn);
    }
    const feed = new HistoryFeed();
    const first = feed.update(img);
    const all = expected(img);
    assert.ok(all.length > 2 * MAX_STEP_TEXTS, `a long history (${all.length} steps)`);
    assert.equal(first.added.length, MAX_STEP_TEXTS, 'a bounded first message');
    assert.deepEqual(first.added, all.slice(-MAX_STEP_TEXTS), 'the newest texts, the top of the list');
    const list = applyStepsUpdate([], first);
    assert.deepEqual(list.map((x) => x.seq), all.map((x) => x.seq), 'every step is listed');
    assert.equal(list[0].text, undefined, 'the oldest text is not sent');
    // Asked for in windows: never more than MAX_STEP_TEXTS at once, nothing outside the list.
    const asked = feed.stepTexts(img, all[0].seq - 10, all[all.length - 1].seq + 10);
    assert.equal(asked.length, MAX_STEP_TEXTS);
    assert.equal(asked[0].seq, all[0].seq);
    for (let from = all[0].seq; from <= all[all.length - 1].seq; from += MAX_STEP_TEXTS) fillStepTexts(list, feed.stepTexts(img, from, from + MAX_STEP_TEXTS - 1));
    assert.deepEqual(list, all);
    // One more step: one text sent, the list keeps the texts it has.
    allocOp(img, { order: 1, owner: 'last' });
    const next = feed.update(img);
    assert.equal(next.added.length, 1);
    assert.deepEqual(applyStepsUpdate(list, next), expected(img));
  });
});
