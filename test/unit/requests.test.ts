/** The request helper shared by the host and the webview: ids, answers, timeouts, late answers, dispose. */
import { strict as assert } from 'node:assert';
import { Requests, RequestsClosed, RequestTimeout } from '../../src/shared/requests';

type Kinds = { cells: { request: { first: number }; response: string }; frame: { request: { pfn: number }; response: number | null } };

function channel(timeoutMs = 1000) {
  const sent: Array<{ kind: string; id: number; request: unknown }> = [];
  const requests = new Requests<Kinds>((kind, id, request) => sent.push({ kind, id, request }), { timeoutMs });
  return { sent, requests };
}

describe('request helper (host and webview)', () => {
  it('gives each request a fresh id and settles each with its own answer, in any order', async () => {
    const { sent, requests } = channel();
    const a = requests.request('cells', { first: 1 });
    const b = requests.request('frame', { pfn: 7 });
    const c = requests.request('cells', { first: 2 });
    assert.deepEqual(sent.map((s) => s.id), [1, 2, 3]);
    assert.deepEqual(sent[1], { kind: 'frame', id: 2, request: { pfn: 7 } });
    assert.equal(requests.size, 3);
    assert.equal(requests.answer('cells', 3, 'third'), true);
    assert.equal(requests.answer('frame', 2, null), true);
    assert.equal(requests.answer('cells', 1, 'first'), true);
    assert.deepEqual(await Promise.all([a, b, c]), ['first', null, 'third']);
    assert.equal(requests.size, 0);
  });

  it('drops an answer for an unknown id, a second answer, and an answer of another kind', async () => {
    const { requests } = channel();
    const a = requests.request('cells', { first: 0 });
    assert.equal(requests.answer('frame', 1, 5), false, 'an answer of another kind does not settle it');
    assert.equal(requests.answer('cells', 99, 'nobody asked'), false);
    assert.equal(requests.answer('cells', 1, 'ok'), true);
    assert.equal(requests.answer('cells', 1, 'again'), false);
    assert.equal(await a, 'ok');
  });

  it('times out, and drops the answer that comes after', async () => {
    const { requests } = channel(20);
    const started = Date.now();
    await assert.rejects(requests.request('cells', { first: 0 }), RequestTimeout);
    assert.ok(Date.now() - started >= 15);
    assert.equal(requests.answer('cells', 1, 'late'), false);
    assert.equal(requests.size, 0);
    const custom = new Requests<Kinds>(() => undefined, { timeoutMs: 10, timeoutError: (kind) => new Error(`the map did not answer the ${kind} request`) });
    await assert.rejects(custom.request('frame', { pfn: 1 }), /did not answer the frame request/);
  });

  it('rejects a request the other side failed, and one whose sending threw', async () => {
    const { requests } = channel();
    const a = requests.request('frame', { pfn: 3 });
    assert.equal(requests.fail('frame', 1, new Error('no such frame')), true);
    await assert.rejects(a, /no such frame/);
    const broken = new Requests<Kinds>(() => {
      throw new Error('channel gone');
    }, { timeoutMs: 1000 });
    await assert.rejects(broken.request('cells', { first: 0 }), /channel gone/);
    assert.equal(broken.size, 0);
  });

  it('rejects what is pending on dispose, and every later request', async () => {
    const { requests } = channel(60_000);
    const a = requests.request('cells', { first: 0 });
    const b = requests.request('frame', { pfn: 0 });
    requests.dispose();
    await assert.rejects(a, RequestsClosed);
    await assert.rejects(b, RequestsClosed);
    await assert.rejects(requests.request('cells', { first: 1 }), RequestsClosed);
    assert.equal(requests.answer('cells', 1, 'late'), false);
    const other = channel(60_000).requests;
    const c = other.request('cells', { first: 0 });
    other.dispose(new Error('The map was closed'));
    await assert.rejects(c, /The map was closed/);
  });
});
