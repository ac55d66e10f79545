import { strict as assert } from 'node:assert';
import { isHostToWebview, isWebviewToHost, svgRefusal } from '../../src/shared/protocol';

describe('the map toolbar\'s allocate form and notices in the protocol', () => {
  it('takes a whole answer set, and nothing else', () => {
    assert.ok(isWebviewToHost({ type: 'allocate', order: 3, count: 2, node: 1, owner: 'fs' }));
    assert.ok(isWebviewToHost({ type: 'allocate', order: 0, count: 1, node: 0, owner: '' }));
    for (const bad of [
      { type: 'allocate', order: -1, count: 1, node: 0, owner: '' },
      { type: 'allocate', order: 0, count: 1.5, node: 0, owner: '' },
      { type: 'allocate', order: 0, count: 1, owner: '' },
      { type: 'allocate', order: 0, count: 1, node: 0, owner: 7 },
      { type: 'allocate', order: 0, count: 1, node: 0, owner: 'x'.repeat(65) },
      { type: 'allocate', order: 0, count: 1, node: 0, owner: '', zone: 'dma32' },
    ]) assert.equal(isWebviewToHost(bad), false, JSON.stringify(bad));
    assert.ok(isHostToWebview({ type: 'lastAllocation', answers: { order: 3, count: 2, node: 1, owner: 'fs' } }));
    assert.equal(isHostToWebview({ type: 'lastAllocation', answers: { order: 3, count: 2, node: 1 } }), false);
  });

  it('a notice may name the boot it is about', () => {
    assert.ok(isHostToWebview({ type: 'notice', text: 'Recovery: nothing to do.', bootGeneration: 3 }));
    assert.ok(isHostToWebview({ type: 'notice', text: 'Recovery: nothing to do.' }));
    assert.equal(isHostToWebview({ type: 'notice', text: 'x', bootGeneration: -1 }), false);
  });

  it('refuses SVG for views of more than 65 536 cells, in one sentence', () => {
    assert.equal(svgRefusal(65536), undefined);
    assert.equal(svgRefusal(65537), 'SVG export is for views of at most 65 536 cells (this one has 65537); zoom in, or export PNG');
  });
});
