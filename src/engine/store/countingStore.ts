import { StoreWrapper } from './storeWrapper';

/** A store that counts what reaches its base: writes, bytes written and flushes (what each design costs the device). */
export class CountingStore extends StoreWrapper {
  writes = 0;
  bytesWritten = 0;
  flushes = 0;

  override write(offset: number, data: Uint8Array): void {
    super.write(offset, data);
    this.writes++;
    this.bytesWritten += data.length;
  }

  override flush(): void {
    super.flush();
    this.flushes++;
  }

  /** The counts so far, and counting again from 0. */
  take(): { writes: number; bytesWritten: number; flushes: number } {
    const counts = { writes: this.writes, bytesWritten: this.bytesWritten, flushes: this.flushes };
    this.writes = this.bytesWritten = this.flushes = 0;
    return counts;
  }
}
