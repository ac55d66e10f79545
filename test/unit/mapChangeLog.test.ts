/** The map's record of changes by state version: what a window worked out over several states is patched with. */
import { strict as assert } from 'node:assert';
import { MapChangeLog } from '../../src/extension/mapChangeLog';

const some = (frames: Array<[number, number]>, sections: number[] = []) => ({ all: false, frames, sections });
const everything = { all: true, frames: [], sections: [] };

describe('map change log', () => {
  it('joins the changes after a version into one: their frames and their sections once each', () => {
    const log = new MapChangeLog();
    log.add(1, everything);
    log.add(2, some([[10, 11]], [0]));
    log.add(3, some([[20, 24]], [0, 1]));
    assert.deepEqual(log.since(1, 3), some([[10, 11], [20, 24]], [0, 1]));
    assert.deepEqual(log.since(2, 3), some([[20, 24]], [0, 1]));
    assert.deepEqual(log.since(3, 3), some([], []));
    assert.ok(log.patchable(1, 3));
  });

  it('refuses a span holding a change of everything, or versions it never noted or has forgotten', () => {
    const log = new MapChangeLog();
    log.add(1, some([[0, 1]]));
    log.add(2, everything);
    log.add(3, some([[5, 6]]));
    assert.equal(log.since(1, 3), undefined, 'a change of everything in between');
    assert.equal(log.patchable(1, 3), false);
    assert.deepEqual(log.since(2, 3), some([[5, 6]]));
    assert.equal(log.since(3, 5), undefined, 'versions not noted yet');
    assert.deepEqual(log.since(0, 1), some([[0, 1]]), 'the change that made version 1');
    for (let v = 4; v < 400; v++) log.add(v, some([[v, v + 1]]));
    assert.equal(log.since(3, 399), undefined, 'forgotten');
    assert.deepEqual(log.since(390, 392), some([[391, 393]]), 'touching runs joined');
  });
});
