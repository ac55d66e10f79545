/**
 * Whole-file writes that never leave half a file: a flushed temporary beside
 * the target, then a rename, then the directory flushed so the rename holds
 * after a power cut. Node only.
 */
import { statSync as fsStat } from 'node:fs';
import * as path from 'node:path';
import { FileSystem, nodeFileSystem } from './fileSystem';
import { FileSystemStore } from './fileSystemStore';
import type { Store } from '../store/store';

/** A temporary name beside `target` (same directory, so the rename stays on one file system). */
export function tempBeside(target: string): string {
  return path.join(path.dirname(path.resolve(target)), `.${path.basename(target)}.${process.pid}.tmp`);
}

/** Writes `data` to `file` (opened with `flags`) and flushes it to the device. */
export function writeDurably(file: string, data: Uint8Array, flags: 'w' | 'wx', fsys: FileSystem = nodeFileSystem): void {
  const fd = fsys.open(file, flags);
  try {
    fsys.write(fd, data, 0);
    fsys.sync(fd);
  } finally {
    fsys.close(fd);
  }
}

/** Makes a file's creation, removal or rename in `dir` durable; platforms that cannot open a directory (Windows) skip it. */
export function syncDirectory(dir: string, fsys: FileSystem = nodeFileSystem): void {
  fsys.syncDirectory(dir);
}

/**
 * Replaces `target` whole or not at all: `fill` writes a new temporary file
 * beside it (it must create the file exclusively, 'wx', so a link planted at
 * that name is never followed, and flush it), which is then renamed over the
 * target, and the directory is flushed. Until the rename the target is
 * untouched, so a failure at any step leaves it as it was, and the temporary
 * is removed; a power cut leaves the old target (or none) or the new file whole.
 */
export function replaceFileAtomically(target: string, fill: (temp: string) => void, fsys: FileSystem = nodeFileSystem): void {
  const temp = tempBeside(target);
  try {
    fsys.remove(temp); // a leftover of an interrupted run
    fill(temp);
    fsys.rename(temp, target);
    fsys.syncDirectory(path.dirname(temp));
  } catch (e) {
    try {
      fsys.remove(temp);
    } catch {
      // best effort: the caller reports the first error
    }
    throw e;
  }
}

export function writeFileAtomically(target: string, data: Uint8Array, fsys: FileSystem = nodeFileSystem): void {
  replaceFileAtomically(target, (temp) => writeDurably(temp, data, 'wx', fsys), fsys);
}

/** Writes a whole (sparse) file of `size` bytes through a store, atomically (see replaceFileAtomically). */
export function writeStoreAtomically(target: string, size: number, fill: (store: Store) => void, fsys: FileSystem = nodeFileSystem): void {
  replaceFileAtomically(target, (temp) => {
    const fd = fsys.open(temp, 'wx');
    const store = new FileSystemStore(fsys, fd, size);
    try {
      fsys.truncate(fd, size); // sparse: only what `fill` writes takes space
      fill(store);
      store.flush(); // the copy is on the device before the rename makes it the target
    } finally {
      store.close();
    }
  }, fsys);
}

/** True when both paths name the same existing file (through links or different spellings). */
export function sameFile(a: string, b: string): boolean {
  try {
    const sa = fsStat(a);
    const sb = fsStat(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}
