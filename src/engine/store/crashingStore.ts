import { SimulatedCrash } from '../core/errors';
import { Store } from './store';
import { StoreWrapper } from './storeWrapper';

/**
 * Simulates a power failure: the first `budget` writes reach the base store,
 * then every later write throws SimulatedCrash and is lost. Each write call is
 * one persistence point (the engine issues one call per journal step).
 */
export class CrashingStore extends StoreWrapper {
  writes = 0;

  constructor(base: Store, private readonly budget: number) {
    super(base);
  }

  override write(offset: number, data: Uint8Array): void {
    if (this.writes >= this.budget) throw new SimulatedCrash(this.writes);
    this.writes++;
    this.base.write(offset, data);
  }
}
