import { strict as assert } from 'node:assert';
import { cell, formatValue, holds, renderTable, Row, rowJson } from '../../bench/report';
import { summarise } from '../../bench/stats';

const seconds = (runs: number[], error?: string): Row => ({
  measurement: 'create', unit: 's', engine: { runs, ...(error ? { error } : {}) }, target: { text: '≤ 1 s', of: 'engine', atMost: 1 },
});

describe('benchmark report', () => {
  it('summarises runs by their median and spread, whatever their order', () => {
    assert.deepEqual(summarise([3, 1, 2]), { median: 2, min: 1, max: 3 });
    assert.deepEqual(summarise([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
    assert.equal(summarise([]), undefined);
  });

  it('judges a target on the median, not on the best or worst run', () => {
    assert.equal(holds(seconds([0.5, 3, 0.9])), 'yes');
    assert.equal(holds(seconds([0.5, 3, 1.1])), 'no');
    assert.equal(holds(seconds([1])), 'yes');
    const ratio: Row = { measurement: 'vs PMDK', unit: 's', engine: { runs: [2, 2] }, ratio: [0.9, 1.2, 1.1], target: { text: 'PMDK ratio ≥ 1.0', of: 'ratio', atLeast: 1 } };
    assert.equal(holds(ratio), 'yes');
    assert.equal(holds({ ...ratio, ratio: [0.9, 1.2, 0.95] }), 'no');
  });

  it('says why a target cannot be judged: a failing engine, a missing peer, no target', () => {
    assert.equal(holds(seconds([], 'journal too small')), 'no (fails)');
    const noPeer: Row = { measurement: 'vs dd', unit: 's', engine: { runs: [1] }, peer: { name: 'dd', series: { runs: [], error: 'no dd' } }, ratio: [], target: { text: 'dd ratio ≥ 0.5', of: 'ratio', atLeast: 0.5 } };
    assert.equal(holds(noPeer), 'unknown (no peer)');
    assert.equal(holds({ measurement: 'x', unit: 's', engine: { runs: [1] } }), '—');
  });

  it('prints a failure in its row instead of a figure, and an unavailable peer as such', () => {
    const row: Row = {
      measurement: 'alloc as one command', unit: 's', engine: { runs: [], error: 'cannot fit | the journal' },
      peer: { name: 'PMDK', series: { runs: [], error: 'apt-get install libpmemobj-dev failed' } }, ratio: [],
    };
    const line = renderTable([row]).split('\n')[2];
    assert.match(line, /\| fails: cannot fit \\\| the journal \|/);
    assert.match(line, /PMDK: unavailable: apt-get install libpmemobj-dev failed/);
    assert.equal(line.split(/(?<!\\)\|/).length - 2, 7, 'seven cells: the escaped pipe does not split the row');
  });

  it('prints one row per measurement with median, spread, peer and ratio', () => {
    const row: Row = {
      measurement: 'info', unit: 's', engine: { runs: [0.25, 0.2, 0.3] }, engineRss: { runs: [60 * 2 ** 20, 64 * 2 ** 20, 62 * 2 ** 20] },
      peer: { name: 'node -e 0', series: { runs: [0.1, 0.1, 0.1] } }, ratio: [0.4, 0.5, 0.33], target: { text: '≤ 0.3 s', of: 'engine', atMost: 0.3 },
    };
    const lines = renderTable([row, seconds([2, 2.5])]).split('\n');
    assert.equal(lines.length, 4);
    assert.equal(lines[2], '| info | 0.250 s, 62.0 MiB peak RSS | 0.200–0.300 s, 60.0–64.0 MiB | node -e 0: 0.100 s | 0.400× | ≤ 0.3 s | yes |');
    assert.match(lines[3], /^\| create \| 2\.25 s \| 2\.00–2\.50 s \| — \| — \| ≤ 1 s \| no \|$/);
  });

  it('keeps every run in the JSON form', () => {
    const j = rowJson(seconds([0.5, 0.7], 'later run failed'));
    assert.deepEqual(j.engine, { median: 0.6, min: 0.5, max: 0.7, runs: [0.5, 0.7], error: 'later run failed' });
    assert.equal(j.holds, 'yes');
  });

  it('formats rates with thousands separators and keeps cells to one short line', () => {
    assert.equal(formatValue(2_345_678.4, 'ops/s'), '2,345,678 ops/s');
    assert.equal(formatValue(123.4, 's'), '123 s');
    assert.equal(cell('a\nb'), 'a b');
    assert.ok(cell('x'.repeat(500)).length <= 160);
  });
});
