/** Whole-file writes that never leave half a file: a flushed temporary beside the target, then a rename. Node only. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function writeFileAtomically(target: string, data: Uint8Array): void {
  const temp = path.join(path.dirname(path.resolve(target)), `.${path.basename(target)}.${process.pid}.tmp`);
  try {
    fs.rmSync(temp, { force: true }); // a leftover of an interrupted run; 'wx' never follows a link planted there
    const fd = fs.openSync(temp, 'wx');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
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

/** Makes the rename itself durable; platforms that cannot open a directory (Windows) skip it. */
function syncDirectory(dir: string): void {
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
