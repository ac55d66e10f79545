import * as fs from 'node:fs';
import { UsageError } from '../core/errors';
import { kindOf, pathError } from './filePath';
import { checkRange, Store } from '../store/store';

/**
 * A store over an image file with positional I/O: it reads only what is asked
 * and never loads the file whole. Node only (the browser uses MemoryStore).
 */
export class FileStore implements Store {
  private fd: number;

  private constructor(fd: number, readonly size: number, readonly path: string, readonly readOnly: boolean) {
    this.fd = fd;
  }

  /** Opens an existing image file; anything but a regular file is refused with a one-line UsageError. */
  static open(path: string, options: { readOnly: boolean }): FileStore {
    // Non-blocking, so that opening a FIFO returns at once (and is then refused) instead of waiting for a writer.
    const flags = (options.readOnly ? fs.constants.O_RDONLY : fs.constants.O_RDWR) | fs.constants.O_NONBLOCK;
    let fd: number;
    try {
      fd = fs.openSync(path, flags);
    } catch (e) {
      throw pathError(e, path, 'an image file');
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw new UsageError(`${path} is ${kindOf(stat)}, not an image file`);
      return new FileStore(fd, stat.size, path, options.readOnly);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /**
   * Creates a sparse file of `size` bytes: ftruncate allocates no blocks, so a
   * 1 TiB image costs only the bytes later written into it.
   */
  static create(path: string, size: number, options: { overwrite: boolean }): FileStore {
    const fd = fs.openSync(path, options.overwrite ? 'w+' : 'wx+');
    try {
      fs.ftruncateSync(fd, size);
      return new FileStore(fd, size, path, false);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    const out = Buffer.alloc(length);
    this.readInto(offset, length, out, 0);
    return new Uint8Array(out.buffer, out.byteOffset, length);
  }

  readInto(offset: number, length: number, dest: Uint8Array, at: number): void {
    checkRange(this, offset, length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, dest, at + done, length - done, offset + done);
      if (n === 0) throw new RangeError(`unexpected end of file at byte ${offset + done}`);
      done += n;
    }
  }

  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error(`${this.path} is open read-only`);
    checkRange(this, offset, data.length);
    let done = 0;
    while (done < data.length) {
      done += fs.writeSync(this.fd, data, done, data.length - done, offset + done);
    }
  }

  flush(): void {
    if (!this.readOnly) fs.fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}
