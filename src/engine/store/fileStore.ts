import * as fs from 'node:fs';
import { ImageError } from '../errors';
import { checkRange, Store } from './store';

/**
 * A store over an image file with positional I/O: it reads only what is asked
 * and never loads the file whole. Node only (the browser uses MemoryStore).
 */
export class FileStore implements Store {
  private fd: number;

  private constructor(fd: number, readonly size: number, readonly path: string, readonly readOnly: boolean) {
    this.fd = fd;
  }

  static open(path: string, options: { readOnly: boolean }): FileStore {
    const fd = fs.openSync(path, options.readOnly ? 'r' : 'r+');
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw new ImageError(`not a regular file (${stat.isDirectory() ? 'a directory' : 'a device, pipe or socket'}): an image is a file`, { file: path });
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
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) throw new RangeError(`unexpected end of file at byte ${offset + done}`);
      done += n;
    }
    return new Uint8Array(out.buffer, out.byteOffset, length);
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
