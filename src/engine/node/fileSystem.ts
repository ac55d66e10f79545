/**
 * The few file operations the crash-safe saves need, behind an interface so
 * that a test can run the same code against a model of a file system's cache
 * (what survives a power cut between two syncs). The real one is node:fs.
 * Node only.
 */
import * as fs from 'node:fs';

export interface FileSystem {
  exists(file: string): boolean;
  size(file: string): number;
  readFile(file: string): Uint8Array;
  /** 'r+': an existing file; 'w': create or empty; 'wx': create, failing if it exists. */
  open(file: string, flags: 'r+' | 'w' | 'wx'): number;
  read(fd: number, length: number, position: number): Uint8Array;
  write(fd: number, data: Uint8Array, position: number): void;
  truncate(fd: number, size: number): void;
  /** Makes the file's data and size durable (fsync). */
  sync(fd: number): void;
  close(fd: number): void;
  /** Atomic replace; durable only once the directory is synced. */
  rename(from: string, to: string): void;
  /** Removes a file if present; durable only once the directory is synced. */
  remove(file: string): void;
  /** Makes creations, renames and removals in `dir` durable. */
  syncDirectory(dir: string): void;
}

export const nodeFileSystem: FileSystem = {
  exists: (file) => fs.existsSync(file),
  size: (file) => fs.statSync(file).size,
  readFile: (file) => new Uint8Array(fs.readFileSync(file)),
  open: (file, flags) => fs.openSync(file, flags),
  read(fd, length, position) {
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, out, done, length - done, position + done);
      if (n === 0) throw new RangeError(`unexpected end of file at byte ${position + done}`);
      done += n;
    }
    return new Uint8Array(out.buffer, out.byteOffset, length);
  },
  write(fd, data, position) {
    let done = 0;
    while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, position + done);
  },
  truncate: (fd, size) => fs.ftruncateSync(fd, size),
  sync: (fd) => fs.fsyncSync(fd),
  close: (fd) => fs.closeSync(fd),
  rename: (from, to) => fs.renameSync(from, to),
  remove: (file) => fs.rmSync(file, { force: true }),
  syncDirectory(dir) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(dir, 'r');
      fs.fsyncSync(fd);
    } catch {
      // platforms that cannot open a directory (Windows): the rename is still atomic, its durability is up to the OS
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  },
};
