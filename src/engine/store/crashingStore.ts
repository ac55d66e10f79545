import { SimulatedCrash } from '../errors';
import { Store } from './store';

/**
 * Simulates a power failure: the first `budget` writes reach the base store,
 * then every later write throws SimulatedCrash and is lost. Each write call is
 * one persistence point (the engine issues one call per journal step).
 */
export class CrashingStore implements Store {
  writes = 0;

  constructor(readonly base: Store, private readonly budget: number) {}

  get size(): number {
    return this.base.size;
  }

  read(offset: number, length: number): Uint8Array {
    return this.base.read(offset, length);
  }

  write(offset: number, data: Uint8Array): void {
    if (this.writes >= this.budget) throw new SimulatedCrash(this.writes);
    this.writes++;
    this.base.write(offset, data);
  }

  flush(): void {
    this.base.flush();
  }

  close(): void {}
}

/** Counts writes without interfering: tells how many persistence points an operation has. */
export class CountingStore implements Store {
  writes = 0;

  constructor(readonly base: Store) {}

  get size(): number {
    return this.base.size;
  }

  read(offset: number, length: number): Uint8Array {
    return this.base.read(offset, length);
  }

  write(offset: number, data: Uint8Array): void {
    this.writes++;
    this.base.write(offset, data);
  }

  flush(): void {
    this.base.flush();
  }

  close(): void {}
}
