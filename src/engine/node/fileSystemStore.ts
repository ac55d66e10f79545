import { FileSystem } from './fileSystem';
import { checkRange, Store } from '../store/store';

/** A store over a file opened through a FileSystem (so a test can put a crash model under it). Node only. */
export class FileSystemStore implements Store {
  constructor(
    private readonly fsys: FileSystem,
    private readonly fd: number,
    readonly size: number,
  ) {}

  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    return this.fsys.read(this.fd, length, offset);
  }

  write(offset: number, data: Uint8Array): void {
    checkRange(this, offset, data.length);
    this.fsys.write(this.fd, data, offset);
  }

  flush(): void {
    this.fsys.sync(this.fd);
  }

  close(): void {
    this.fsys.close(this.fd);
  }
}
