import { OverlayStore } from './overlayStore';
import { Store } from './store';

type Step = { offset: number; data: Uint8Array } | 'flush';

/**
 * Holds back every write and barrier until the caller knows the work will not
 * be refused: reads see the held writes (an overlay), `release` replays them on
 * the base in their order with the same barriers (so each is the same
 * persistence point as a direct write would have been), and then passes
 * everything through. Dropping the store instead leaves the base untouched: a
 * refused command changes nothing, not even by its boot.
 */
export class DeferredStore implements Store {
  private readonly overlay: OverlayStore;
  private steps: Step[] = [];
  private passing = false;

  constructor(readonly base: Store) {
    this.overlay = new OverlayStore(base);
  }

  get size(): number {
    return this.base.size;
  }

  read(offset: number, length: number): Uint8Array {
    return this.passing ? this.base.read(offset, length) : this.overlay.read(offset, length);
  }

  write(offset: number, data: Uint8Array): void {
    if (this.passing) return this.base.write(offset, data);
    this.overlay.write(offset, data);
    this.steps.push({ offset, data: data.slice() });
  }

  flush(): void {
    if (this.passing) this.base.flush();
    else this.steps.push('flush');
  }

  /** Replays the held writes on the base and passes later ones straight through. */
  release(): void {
    if (this.passing) return;
    for (const step of this.steps) {
      if (step === 'flush') this.base.flush();
      else this.base.write(step.offset, step.data);
    }
    this.base.flush();
    this.steps = [];
    this.overlay.discard();
    this.passing = true;
  }

  /** True once release() ran: writes now go straight to the base. */
  get released(): boolean {
    return this.passing;
  }

  close(): void {}
}
