import { strict as assert } from 'node:assert';
import { initSectionsOp, PmemImage, sections } from '../../src/engine';
import { nextSectionIn, sectionStateCounts } from '../../src/engine/inspect/sectionSearch';
import { newImage } from './helpers';

/** 32 sections: 3 and 5 initialised in the first boot (stale now), 7 and 20 initialised in this one; 0 holds the metadata. */
function image(): PmemImage {
  const { store, img } = newImage();
  initSectionsOp(img, [3, 5]);
  img.shutdown();
  const again = PmemImage.open(store, {});
  initSectionsOp(again, [7, 20]);
  return again;
}

describe('sections by state', () => {
  it('finds the next section in a state, going round past the end', () => {
    const img = image();
    const stale = sections(img).filter((s) => s.state === 'stale').map((s) => s.index);
    assert.ok(stale.includes(3) && stale.includes(5), `stale: ${stale}`);
    const walk = (state: 'stale' | 'initialized', from: number, steps: number) => {
      const out: number[] = [];
      for (let s = from, i = 0; i < steps; i++) out.push((s = nextSectionIn(img, state, s)!));
      return out;
    };
    const initialised = sections(img).filter((s) => s.state === 'initialized').map((s) => s.index);
    assert.deepEqual(walk('initialized', -1, initialised.length + 1), [...initialised, initialised[0]]);
    assert.deepEqual(walk('stale', 4, stale.length + 1), [...stale.filter((s) => s > 4), ...stale.filter((s) => s <= 4), stale.find((s) => s > 4)]);
    assert.equal(nextSectionIn(newImage().img, 'stale', 0), undefined, 'a first boot has none');
  });

  it('counts each group of sections by state, as the section summaries do', () => {
    const img = image();
    const counts = sectionStateCounts(img, 8);
    assert.equal(counts.length, 4 * 3);
    for (let g = 0; g < 4; g++) {
      const group = sections(img, g * 8, 8);
      assert.deepEqual([...counts.subarray(g * 3, g * 3 + 3)], ['never', 'initialized', 'stale'].map((st) => group.filter((s) => s.state === st).length), `group ${g}`);
    }
    assert.deepEqual([...counts.subarray(0, 3)].reduce((a, b) => a + b), 8);
  });
});
