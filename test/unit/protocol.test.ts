import { strict as assert } from 'node:assert';
import { isHostToWebview, isWebviewToHost, MAX_CELLS_PER_REQUEST } from '../../src/shared/protocol';

describe('webview protocol guards', () => {
  it('accepts well-formed messages', () => {
    const good = [
      { type: 'ready' }, { type: 'reopenWith' }, { type: 'pointed' }, { type: 'select', pfn: 4096, req: 3, reveal: true }, { type: 'select', pfn: 0, req: 0, reveal: false },
      { type: 'getCells', id: 1, firstPfn: 0, framesPerCell: 512, cells: 4096 }, { type: 'getCells', id: 1, firstPfn: 0, framesPerCell: 1, cells: 64, window: 'overview' },
      { type: 'getFrame', id: 2, pfn: 7 }, { type: 'command', command: 'allocate' }, { type: 'command', command: 'free', pfn: 300 },
      { type: 'goToStep', step: 3 },
      { type: 'drawn', version: 12 }, { type: 'command', command: 'cancelOperation' }, { type: 'getSteps', id: 4, from: 1, to: 512 },
      { type: 'getCells', id: 1, firstPfn: 0, framesPerCell: 8, cells: 64, window: 'map', overlay: true }, { type: 'getFragHistory', id: 5, samples: 240 },
      { type: 'moved', zoom: null, topPfn: 0 }, { type: 'moved', zoom: -7.25, topPfn: 65536 },
    ];
    for (const m of good) assert.ok(isWebviewToHost(m), JSON.stringify(m));
    assert.ok(isHostToWebview({ type: 'cells', id: 1, version: 1, firstPfn: 0, framesPerCell: 1, cells: 1, detailed: true, mix: new Uint8Array(6), tag: new Uint16Array(1), owners: [], blocks: [] }));
    assert.ok(isHostToWebview({ type: 'select', pfn: 5, seq: 2, ack: 1 }));
    assert.ok(isHostToWebview({ type: 'work', work: { label: 'Checking a.pmem', share: 0.5, message: '10 of 20 sections', cancelling: false } }));
    assert.ok(isHostToWebview({ type: 'work', work: null }));
    assert.ok(isHostToWebview({ type: 'steps', id: 4, steps: [{ seq: 1, text: 'alloc order 0' }] }));
    assert.ok(isHostToWebview({ type: 'cells', id: 1, version: 1, firstPfn: 0, framesPerCell: 1, cells: 2, detailed: true, mix: new Uint8Array(12), tag: new Uint16Array(2), owners: [], blocks: [], largestFree: new Uint8Array([0, 255]) }));
    const history = { first: 1, last: 9, maxOrder: 2, samples: [{ step: 1, zones: [{ node: 0, zone: 'Normal', free: [0, 0, 0] }] }, { step: 9, zones: [{ node: 0, zone: 'Normal', free: [3, 1, 0] }] }] };
    assert.ok(isHostToWebview({ type: 'fragHistory', id: 5, history }));
    assert.ok(isHostToWebview({ type: 'fragHistory', id: 5, history: null, error: 'the history ring is damaged' }));
    assert.ok(isHostToWebview({ type: 'follow', zoom: 3, topPfn: 512 }));
  });

  it('rejects anything else, including commands the map may not run and oversized requests', () => {
    const bad = [
      null, 3, 'ready', [], {}, { type: 'nope' }, { type: 'ready', extra: 1 },
      { type: 'select', pfn: -1, req: 1, reveal: true }, { type: 'select', pfn: 1.5, req: 1, reveal: true }, { type: 'select', pfn: '7', req: 1, reveal: true }, { type: 'select', req: 1, reveal: true },
      { type: 'select', pfn: 7, reveal: true }, { type: 'select', pfn: 7, req: -1, reveal: true }, { type: 'select', pfn: 7, req: 1, reveal: 'yes' }, { type: 'select', pfn: 7, req: 1 },
      { type: 'select', pfn: 7, req: 1, reveal: true, focus: true }, { type: 'revealFrame', pfn: 7 },
      { type: 'command', command: 'workbench.action.files.delete' }, { type: 'command', command: 'allocate', args: [1] },
      { type: 'getCells', id: 1, firstPfn: 0, framesPerCell: 0, cells: 1 }, { type: 'getCells', id: 1, firstPfn: 0, framesPerCell: 1, cells: MAX_CELLS_PER_REQUEST + 1 },
      { type: 'goToStep', step: -2 }, { type: 'exported', id: 1, format: 'png', data: 'iVBOR' }, { type: 'getCells', id: 1, firstPfn: 0, framesPerCell: 1, cells: 1, window: 'everything' },
      { type: 'drawn', version: -1 }, { type: 'drawn', version: 1, at: 5 }, { type: 'drawn' },
      { type: 'getSteps', id: 1, from: -1, to: 5 }, { type: 'getSteps', id: 1, from: 1 }, { type: 'getSteps', id: 1, from: 1, to: 2, all: true },
      { type: 'getCells', id: 1, firstPfn: 0, framesPerCell: 1, cells: 1, overlay: 'yes' }, { type: 'getFragHistory', id: 1, samples: 1 },
      { type: 'getFragHistory', id: 1, samples: 1_000_000 }, { type: 'getFragHistory', id: 1 }, { type: 'getFragHistory', id: 1, samples: 10, zone: 2 },
      { type: 'moved', zoom: Infinity, topPfn: 0 }, { type: 'moved', zoom: 1e9, topPfn: 0 }, { type: 'moved', zoom: '2', topPfn: 0 }, { type: 'moved', zoom: null, topPfn: -1 },
      { type: 'moved', zoom: null }, { type: 'moved', zoom: null, topPfn: 0, selected: 3 },
    ];
    for (const m of bad) assert.equal(isWebviewToHost(m), false, JSON.stringify(m));
    assert.equal(isHostToWebview({ type: 'cells', id: 1, mix: [1, 2], tag: [], owners: [], blocks: [] }), false);
    assert.equal(isHostToWebview({ type: 'error', title: 't', message: 'm' }), false);
    assert.equal(isHostToWebview({ type: 'follow', zoom: NaN, topPfn: 0 }), false);
    const cellsOf = (largestFree: unknown) => ({ type: 'cells', id: 1, version: 1, firstPfn: 0, framesPerCell: 1, cells: 2, detailed: true, mix: new Uint8Array(12), tag: new Uint16Array(2), owners: [], blocks: [], largestFree });
    for (const l of [[0, 1], new Uint8Array(3), new Uint16Array(2)]) assert.equal(isHostToWebview(cellsOf(l)), false, String(l));
    const sample = (free: unknown) => ({ step: 1, zones: [{ node: 0, zone: 'Normal', free }] });
    for (const history of [{}, { first: 1, last: 2, maxOrder: 2, samples: [sample([1, 2])] }, { first: 1, last: 2, maxOrder: 2, samples: [sample([1, -2, 0])] }, { first: 1, last: 2, maxOrder: 99, samples: [] }, { first: -1, last: 2, maxOrder: 2, samples: [] }]) {
      assert.equal(isHostToWebview({ type: 'fragHistory', id: 1, history }), false, JSON.stringify(history));
    }
    assert.equal(isHostToWebview({ type: 'fragHistory', id: 1, history: null }), false, 'a missing history says why');
    for (const steps of [undefined, [{ seq: 1 }], [{ seq: -1, text: 'x' }], [{ seq: 1, text: '<b>' }, 5]]) {
      assert.equal(isHostToWebview({ type: 'steps', id: 1, steps }), false, JSON.stringify(steps));
    }
    for (const work of [undefined, {}, { label: 'x', share: '1', message: '', cancelling: false }, { label: 'x', share: 1, message: '' }]) {
      assert.equal(isHostToWebview({ type: 'work', work }), false, JSON.stringify(work));
    }
    const cells = { firstPfn: 0, framesPerCell: 1, cells: 1, detailed: true, mix: new Uint8Array(6), tag: new Uint16Array(1), owners: [], blocks: [] };
    const state = (patches: unknown) => ({ type: 'state', state: { image: {}, history: { added: [] }, change: { frames: [], sections: [] }, patches } });
    assert.ok(isHostToWebview(state([{ window: 'map', of: { firstPfn: 0, framesPerCell: 1, cells: 8 }, cells }])));
    for (const patches of [undefined, {}, [{ window: 'map', of: {}, cells: { ...cells, mix: [0] } }], [{ window: 'side', of: {}, cells }], [{ window: 'map', cells }]]) {
      assert.equal(isHostToWebview(state(patches)), false, JSON.stringify(patches));
    }
    for (const m of [{ type: 'select', pfn: 5 }, { type: 'select', pfn: 5, seq: 1 }, { type: 'select', pfn: 5, seq: 1, ack: -1 }, { type: 'select', pfn: -5, seq: 1, ack: 0 }]) {
      assert.equal(isHostToWebview(m), false, JSON.stringify(m));
    }
  });
});
