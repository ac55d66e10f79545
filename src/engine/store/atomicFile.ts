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

/**
 * Replaces `target` whole or not at all: `fill` writes a new temporary file
 * beside it (it must create the file exclusively, 'wx', and flush it), which
 * is then renamed over the target. Until the rename the target is untouched,
 * so a failure at any step leaves it as it was, and the temporary is removed.
 */
export function replaceFileAtomically(target: string, fill: (temp: string) => void): void {
  const temp = tempBeside(target);
  try {
    fs.rmSync(temp, { force: true }); // a leftover of an interrupted run; 'wx' never follows a link planted there
    fill(temp);
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

export function writeFileAtomically(target: string, data: Uint8Array): void {
  replaceFileAtomically(target, (temp) => writeDurably(temp, data, 'wx'));
}

/** True when both paths name the same existing file (through links or different spellings). */
export function sameFile(a: string, b: string): boolean {
  try {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}
