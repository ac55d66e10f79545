/**
 * What a path the user gave is, in words, so that a directory, a FIFO, a
 * device or a symlink loop is refused with one line naming it instead of
 * being opened (a FIFO would block), replaced or misread. Node only.
 */
import * as fs from 'node:fs';
import { UsageError } from '../core/errors';

/** "a directory", "a FIFO", ... for anything that is not a regular file. */
export function kindOf(st: fs.Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** What follows the path in a one-line error, per errno. */
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: ': no such file', EACCES: ': permission denied', EPERM: ': operation not permitted', ELOOP: ' is a symbolic link loop',
  ENOTDIR: ': a component of the path is not a directory', ENAMETOOLONG: ': file name too long', EISDIR: ' is a directory',
  EROFS: ' is on a read-only file system', EBUSY: ' is busy', ETXTBSY: ' is busy',
};

/** A file-system error on `path` as a one-line usage error ("F is a directory, not an image file"); other errors pass through. */
export function pathError(e: unknown, path: string, what: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string' || !Object.hasOwn(ERRNO_WORDS, code)) return e;
  const words = ERRNO_WORDS[code];
  return new UsageError(`${path}${words}${words.startsWith(' is ') ? `, not ${what}` : ''}`);
}

/** Refuses an existing path that is not a regular file (following symbolic links). Missing paths pass. */
export function refuseNonRegular(path: string, what: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !isDanglingLink(path)) return;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${path} is a symbolic link to a missing file, not ${what}`);
    throw pathError(e, path, what);
  }
  if (!st.isFile()) throw new UsageError(`${path} is ${kindOf(st)}, not ${what}`);
}

function isDanglingLink(path: string): boolean {
  try {
    return fs.lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
