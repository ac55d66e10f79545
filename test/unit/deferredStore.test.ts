import { strict as assert } from 'node:assert';
import { allocOp, MemoryStore, PmemImage } from '../../src/engine';
import { DeferredStore } from '../../src/engine/store/deferredStore';
import { StoreWrapper } from '../../src/engine/store/storeWrapper';
import { MiB } from './helpers';

/** Logs every write (offset, length) and barrier that reaches the store under it. */
class EventLog extends StoreWrapper {
  readonly events: string[] = [];
  override write(offset: number, data: Uint8Array): void {
    this.events.push(`w${offset}+${data.length}`);
    super.write(offset, data);
  }
  override flush(): void {
    this.events.push('f');
    super.flush();
  }
}

function fresh(): MemoryStore {
  const store = new MemoryStore(16 * MiB);
  PmemImage.create(store, { sizeBytes: 16 * MiB, uuid: '00000000-0000-4000-8000-000000000003', nowMs: 0 });
  return store;
}

/** A boot, an allocation and a clean shutdown. */
function work(store: StoreWrapper | DeferredStore): void {
  const img = PmemImage.open(store, {});
  allocOp(img, { order: 2, count: 3 });
  img.close();
}

describe('DeferredStore: writes held back until the work is kept', () => {
  it('holds everything back, reads its own writes, and replays them in order with the same barriers', () => {
    const direct = new EventLog(fresh());
    work(direct);

    const base = fresh();
    const untouched = base.clone();
    const log = new EventLog(base);
    const held = new DeferredStore(log);
    work(held);
    assert.deepEqual(log.events, [], 'nothing reached the base before release');
    assert.ok(base.sameContentAs(untouched));
    assert.equal(PmemImage.open(held, { readOnly: true }).bootGeneration, 1, 'reads see the held writes');

    held.release();
    assert.deepEqual(log.events, [...direct.events, 'f'], 'the same writes and barriers, in the same order (and a final barrier)');
    assert.ok(base.sameContentAs(direct.base as MemoryStore));
    held.write(0, new Uint8Array(1));
    assert.equal(log.events.at(-1), 'w0+1', 'after release, writes pass straight through');
  });

  it('dropped without release, leaves the base byte for byte as it was', () => {
    const base = fresh();
    const untouched = base.clone();
    work(new DeferredStore(base));
    assert.ok(base.sameContentAs(untouched));
  });
});
