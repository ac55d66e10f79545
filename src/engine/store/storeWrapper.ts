import { Store } from './store';

/** A store that forwards everything to a base store; wrappers override what they change. */
export class StoreWrapper implements Store {
  constructor(readonly base: Store) {}

  get size(): number {
    return this.base.size;
  }

  read(offset: number, length: number): Uint8Array {
    return this.base.read(offset, length);
  }

  write(offset: number, data: Uint8Array): void {
    this.base.write(offset, data);
  }

  flush(): void {
    this.base.flush();
  }

  close(): void {}
}
