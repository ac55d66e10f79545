/** Work in slices of the thread stops at the step after it is asked to, whether or not a turn came between. */
import { strict as assert } from 'node:assert';
import { runInSlices, Steps } from '../../src/engine/core/timeSlice';

function* counted(counter: { steps: number }, total: number): Steps<string> {
  for (let i = 0; i < total; i++) {
    counter.steps++;
    yield;
  }
  return 'ended';
}

describe('work in slices of the thread', () => {
  it('runs to its end and gives its value', async () => {
    const counter = { steps: 0 };
    assert.equal(await runInSlices(counted(counter, 50), { sliceMs: 0 }), 'ended');
    assert.equal(counter.steps, 50);
  });

  it('stops at the step after it is asked to, within one slice', async () => {
    const counter = { steps: 0 };
    // A slice longer than the whole work: no turn comes between the ask and the next step.
    const r = await runInSlices(counted(counter, 100_000), { sliceMs: 60_000, stopped: () => counter.steps >= 10 });
    assert.equal(r, undefined);
    assert.equal(counter.steps, 10);
  });
});
