import { strict as assert } from 'node:assert';
import { isHostToWebview, isWebviewToHost } from '../../src/shared/protocol';

describe('webview protocol guards', () => {
  it('accepts well-formed messages', () => {
    assert.ok(isWebviewToHost({ type: 'ready' }));
    assert.ok(isWebviewToHost({ type: 'revealFrame', pfn: 4096 }));
    assert.ok(isHostToWebview({ type: 'error', title: 't', message: 'm', location: { offset: 3 } }));
  });

  it('rejects anything else', () => {
    for (const bad of [null, 3, 'ready', [], {}, { type: 'nope' }, { type: 'ready', extra: 1 }, { type: 'revealFrame', pfn: -1 }, { type: 'revealFrame', pfn: 1.5 }, { type: 'revealFrame', pfn: '7' }, { type: 'revealFrame' }]) {
      assert.equal(isWebviewToHost(bad), false, JSON.stringify(bad));
    }
    assert.equal(isHostToWebview({ type: 'error', title: 't', message: 'm' }), false);
  });
});
