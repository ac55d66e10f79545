/**
 * Whole-file writes that never leave half a file: a flushed temporary beside
 * the target, then a rename, then the directory flushed so the rename holds
 * after a power cut. Node only.
 */
import * as path from 'node:path';
import { FileSystem, nodeFileSystem } from './fileSystem';
import { FileSystemStore } from './fileSystemStore';
import type { Store } from './store';

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

export function writeFileAtomically(target: string, data: Uint8Array, fsys: FileSystem = nodeFileSystem): void {
  const temp = tempBeside(target);
  try {
    fsys.remove(temp); // a leftover of an interrupted run; 'wx' never follows a link planted there
    writeDurably(temp, data, 'wx', fsys);
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

/**
 * Writes a whole (sparse) file of `size` bytes through a store, atomically:
 * `fill` writes into a temporary beside the target, which is flushed before a
 * rename makes it the target, and the directory is flushed after. A power cut
 * leaves the old target (or none) or the complete new file, never a part.
 */
export function writeStoreAtomically(target: string, size: number, fill: (store: Store) => void, fsys: FileSystem = nodeFileSystem): void {
  const temp = tempBeside(target);
  const fd = fsys.open(temp, 'w');
  const store = new FileSystemStore(fsys, fd, size);
  let open = true;
  try {
    fsys.truncate(fd, size); // sparse: only what `fill` writes takes space
    fill(store);
    store.flush(); // the copy is on the device before the rename makes it the target
    open = false;
    store.close();
    fsys.rename(temp, target);
    fsys.syncDirectory(path.dirname(temp));
  } catch (e) {
    if (open) store.close();
    fsys.remove(temp);
    throw e;
  }
}
