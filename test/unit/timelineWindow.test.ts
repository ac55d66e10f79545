/** The History list draws a window of rows of a long list, and keeps its steps from the host's updates. */
import { strict as assert } from 'node:assert';
import { applyStepsUpdate, Step } from '../../src/engine/inspect/steps';
import { needsDrawing, rowWindow, UNSIZED_ROWS } from '../../src/shared/timelineWindow';

const steps = (from: number, to: number, tag = ''): Step[] => Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, text: `s${from + i}${tag}` }));

describe('History list window of rows', () => {
  it('draws the rows in view and a margin around them, whatever the length of the list', () => {
    assert.deepEqual(rowWindow(100_000, 18, 0, 180, 20), { from: 0, to: 30 });
    assert.deepEqual(rowWindow(100_000, 18, 18 * 50_000, 180, 20), { from: 49_980, to: 50_030 });
    assert.deepEqual(rowWindow(100_000, 18, 18 * 100_000, 180, 20), { from: 99_979, to: 100_000 }, 'scrolled past the end: the last rows');
    assert.deepEqual(rowWindow(5, 18, 0, 180, 20), { from: 0, to: 5 });
    assert.deepEqual(rowWindow(0, 18, 0, 180), { from: 0, to: 0 });
    assert.deepEqual(rowWindow(100_000, 18, 0, 0), { from: 0, to: UNSIZED_ROWS }, 'a list with no height yet (collapsed) draws a first screenful');
  });

  it('draws again only when a scroll shows rows not drawn', () => {
    const drawn = rowWindow(100_000, 18, 18 * 1000, 180, 20);
    assert.equal(needsDrawing(drawn, 100_000, 18, 18 * 1010, 180), false, 'within the margin');
    assert.equal(needsDrawing(drawn, 100_000, 18, 18 * 1030, 180), true, 'past it');
    assert.equal(needsDrawing(drawn, 100_000, 18, 18 * 975, 180), true, 'before it');
    assert.equal(needsDrawing(undefined, 100_000, 18, 0, 180), true);
  });
});

describe('steps kept from the host\'s updates', () => {
  it('appends, drops undone and evicted steps, puts back steps at the front, replaces renumbered ones, and resets', () => {
    let list = applyStepsUpdate([], { reset: true, first: 1, last: 5, added: steps(1, 5) });
    assert.deepEqual(list, steps(1, 5));
    list = applyStepsUpdate(list, { reset: false, first: 1, last: 6, added: steps(6, 6) });
    assert.deepEqual(list, steps(1, 6), 'one step added');
    list = applyStepsUpdate(list, { reset: false, first: 2, last: 7, added: steps(7, 7) });
    assert.deepEqual(list, steps(2, 7), 'a full ring drops its oldest step as it adds one');
    list = applyStepsUpdate(list, { reset: false, first: 1, last: 6, added: steps(1, 1) });
    assert.deepEqual(list, steps(1, 6), 'an undo drops the last step and the ring puts its oldest back');
    list = applyStepsUpdate(list, { reset: false, first: 1, last: 6, added: steps(5, 6, "'") });
    assert.deepEqual(list, [...steps(1, 4), ...steps(5, 6, "'")], 'steps renumbered by an undo and a new edit are replaced');
    list = applyStepsUpdate(list, { reset: true, first: 3, last: 4, added: steps(3, 4) });
    assert.deepEqual(list, steps(3, 4));
    assert.deepEqual(applyStepsUpdate(list, { reset: false, first: 0, last: 0, added: [] }), [], 'no history');
  });
});
