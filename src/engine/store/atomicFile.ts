/**
 * Whole-file writes that never leave half a file: a flushed temporary beside
 * the target, then a rename, then the directory flushed so the rename holds
 * after a power cut. Node only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A temporary name beside `target` (same directory, so the rename stays on one file system). */
export function tempBeside(target: string): string {
  return path.join(path.dirname(path.resolve(target)), `.${path.basename(target)}.${process.pid}.tmp`);
}

/** Writes `data` to `file` (opened with `flags`) and flushes it to the device. */
export function writeDurably(file: string, data: Uint8Array, flags: 'w' | 'wx'): void {
  const fd = fs.openSync(file, flags);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes a file's creation, removal or rename in `dir` durable; platforms that cannot open a directory (Windows) skip it. */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // not supported here: the rename is still atomic, only its durability is up to the OS
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function writeFileAtomically(target: string, data: Uint8Array): void {
  const temp = tempBeside(target);
  try {
    fs.rmSync(temp, { force: true }); // a leftover of an interrupted run; 'wx' never follows a link planted there
    writeDurably(temp, data, 'wx');
    fs.renameSync(temp, target);
    syncDirectory(path.dirname(temp));
  } catch (e) {
    try {
      fs.rmSync(temp, { force: true });
    } catch {
      // best effort: the caller reports the first error
    }
    throw e;
  }
}
