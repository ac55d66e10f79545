import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { MapSelection } from '../../src/shared/mapSelection';

/** A document in the host and one map, joined by two in-order message queues, as the extension and its webview are. */
class Link {
  doc = { pfn: 0, seq: 0 };
  private ack = 0;
  shown = 0;
  private readonly map = new MapSelection();
  private readonly toHost: Array<{ pfn: number; req: number }> = [];
  private readonly toMap: Array<{ pfn: number; seq: number; ack: number }> = [];
  /** Every frame the map showed, in order. */
  readonly history: number[] = [];

  private show(pfn: number): void {
    this.shown = pfn;
    this.history.push(pfn);
  }

  private change(pfn: number): void {
    this.doc = { pfn, seq: this.doc.seq + 1 };
    this.toMap.push({ pfn, seq: this.doc.seq, ack: this.ack });
  }

  /** A click or an arrow key on the map. */
  mapChooses(pfn: number): void {
    this.show(pfn);
    this.toHost.push({ pfn, req: this.map.choose() });
  }

  /** A row chosen in the Descriptors view, Go to Frame, Allocate. */
  elsewhere(pfn: number): void {
    this.change(pfn);
  }

  deliverToHost(): void {
    const m = this.toHost.shift();
    if (!m) return;
    this.ack = m.req;
    this.change(m.pfn);
  }

  deliverToMap(): void {
    const m = this.toMap.shift();
    if (m && this.map.accept(m)) this.show(m.pfn);
  }

  drain(): void {
    while (this.toHost.length || this.toMap.length) {
      this.deliverToHost();
      this.deliverToMap();
    }
  }
}

describe('map selection ordering', () => {
  it('ignores news sent before the map\'s own latest choice reached the host, and ends on the last change', () => {
    const l = new Link();
    l.elsewhere(376); // a row clicked in Descriptors...
    l.mapChooses(355); // ...while the map's click is on its way
    l.deliverToMap(); // 376 was sent before the host had the click: ignored
    assert.equal(l.shown, 355, 'the map does not snap back');
    l.deliverToHost(); // the host takes the click last: the document says 355
    l.deliverToMap();
    assert.deepEqual([l.shown, l.doc.pfn], [355, 355]);
    l.elsewhere(400);
    l.drain();
    assert.deepEqual([l.shown, l.doc.pfn], [400, 400], 'a later change elsewhere is followed');
  });

  it('a burst of arrow keys ends on the last frame, whatever the host sends meanwhile', () => {
    const l = new Link();
    for (let i = 1; i <= 20; i++) {
      l.mapChooses(i);
      if (i % 3 === 0) l.deliverToHost();
      if (i % 2 === 0) l.deliverToMap();
      assert.equal(l.shown, i, `after key ${i}`);
    }
    l.drain();
    assert.deepEqual([l.shown, l.doc.pfn], [20, 20]);
  });

  it('always agrees with the document once the messages are delivered, in any interleaving', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('map' as const), pfn: fc.nat(1000) }),
      fc.record({ kind: fc.constant('elsewhere' as const), pfn: fc.nat(1000) }),
      fc.constant({ kind: 'toHost' as const }),
      fc.constant({ kind: 'toMap' as const }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const l = new Link();
        let lastMapChoice: number | undefined;
        for (const s of steps) {
          if (s.kind === 'map') {
            l.mapChooses(s.pfn);
            lastMapChoice = s.pfn;
          } else if (s.kind === 'elsewhere') l.elsewhere(s.pfn);
          else if (s.kind === 'toHost') l.deliverToHost();
          else l.deliverToMap();
        }
        l.drain();
        assert.equal(l.shown, l.doc.pfn);
        if (steps.at(-1)?.kind === 'map') assert.equal(l.shown, lastMapChoice, 'a last choice on the map stays');
      }),
      { numRuns: 300 },
    );
  });
});
