/** Opening image files for the CLI: read-only inspection or a writable boot; atomic creation. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateOptions, describeSuperblockChoice, ImageError, makeGeometry, OpenOptions, PmemImage, UsageError } from '../engine';
import { detectKind, DETECT_BYTES, isLinuxNamespace } from '../engine/format/linux/namespace';
import { DeferredStore } from '../engine/store/deferredStore';
import { ReadCacheStore } from '../engine/store/readCacheStore';
import { FileStore } from '../engine/node/fileStore';
import { refuseNonRegular } from '../engine/node/filePath';

const warned = new Set<string>();

/** One warning line per file and run when the open passed over a damaged or stale superblock copy. */
function warnAboutSuperblock(img: PmemImage, file: string): void {
  const note = describeSuperblockChoice(img.superblockChoice);
  if (!note || warned.has(file)) return;
  warned.add(file);
  process.stderr.write(`pmem: warning: ${file}: ${note}. Any write (e.g. \`pmem reboot ${file}\`) rewrites both copies.\n`);
}

/** The refusal for a Linux namespace, or undefined when the first bytes are not one. */
function linuxRefusal(head: Uint8Array, size: number, file: string): ImageError | undefined {
  const d = detectKind(head, size);
  if (!isLinuxNamespace(d.kind)) return undefined;
  const what = d.kind === 'sector'
    ? 'its BTT holds no struct pages; `pmem info` describes it'
    : 'pmem only reads Linux namespaces (`pmem info`, `check`, `descriptors` and `map`), never writes them';
  return new ImageError(`${d.description}: ${what}`, { file });
}

export function openForReading(file: string, options: { lenient?: boolean } = {}): PmemImage {
  // The command is the file's only user while it runs: its reads may be cached.
  const store = new ReadCacheStore(FileStore.open(file, { readOnly: true }));
  try {
    const img = PmemImage.open(store, { readOnly: true, file, lenient: options.lenient });
    openForTheCommand.add(store);
    warnAboutSuperblock(img, file);
    if (img.redone) process.stderr.write(`pmem: warning: ${file}: ${img.redone} operation${img.redone === 1 ? '' : 's'} committed before a power failure but not written back ${img.redone === 1 ? 'is' : 'are'} shown redone; the next writable open writes ${img.redone === 1 ? 'it' : 'them'} back.\n`);
    return img;
  } catch (e) {
    // Not an image of ours: say what it is when it is a Linux namespace, rather than only "not a pmem image".
    const refusal = e instanceof ImageError ? linuxRefusal(store.read(0, Math.min(store.size, DETECT_BYTES)), store.size, file) : undefined;
    store.close();
    throw refusal ?? e;
  }
}

/** Stores openForReading opened for the running command: closed when it ends (closeImagesOpenedForReading). */
const openForTheCommand = new Set<{ close(): void }>();

/**
 * Closes what openForReading opened for the command that just ended: a
 * command run in a longer-lived process (the tests run main() in theirs)
 * must not keep a descriptor per image it read.
 */
export function closeImagesOpenedForReading(): void {
  for (const store of openForTheCommand) {
    try {
      store.close();
    } catch {
      // Closing a read-only descriptor cannot lose anything.
    }
  }
  openForTheCommand.clear();
}

/**
 * Refuses a Linux namespace before anything opens it for writing: one 8 KiB
 * read through a read-only descriptor. A file with our magic at byte 0 is
 * never refused.
 */
export function refuseLinuxNamespace(file: string): void {
  let store: FileStore;
  try {
    store = FileStore.open(file, { readOnly: true });
  } catch {
    return; // the writable open reports the problem in its own words
  }
  try {
    const refusal = linuxRefusal(store.read(0, Math.min(store.size, DETECT_BYTES)), store.size, file);
    if (refusal) throw refusal;
  } finally {
    store.close();
  }
}

/**
 * Runs `fn` over the image file with every write held back until it returns:
 * only then do the writes reach the file, in order and with their barriers.
 * A refused command (fn throws) leaves the file byte for byte as it was.
 */
export function withHeldWrites<T>(file: string, fn: (store: DeferredStore) => T): T {
  refuseLinuxNamespace(file); // never open a Linux namespace for writing
  const base = FileStore.open(file, { readOnly: false });
  try {
    const held = new DeferredStore(new ReadCacheStore(base));
    const result = fn(held);
    held.release();
    return result;
  } finally {
    base.close();
  }
}

/** Boots the image over held-back writes (see withHeldWrites), warning about a passed-over superblock copy. */
/** The kernel a writable open boots: its profile, and how it treats a descriptor larger than the device reserves. */
export type BootChoice = Pick<OpenOptions, 'profile' | 'onMismatch'>;

export function openHeld(store: DeferredStore, file: string, boot: BootChoice = {}): PmemImage {
  const img = PmemImage.open(store, { file, ...boot });
  warnAboutSuperblock(img, file);
  return img;
}

/**
 * Runs `fn` on a booted image and shuts it down cleanly afterwards. The boot
 * and the operation reach the file only if `fn` succeeds; `fn` may call
 * `keep()` to let the work done so far through (a long run of batches, each
 * worth keeping even if a later one fails).
 */
export function withWritable<T>(file: string, fn: (img: PmemImage, keep: () => void) => T, boot: BootChoice = {}): T {
  return withHeldWrites(file, (store) => {
    const img = openHeld(store, file, boot);
    let result: T;
    try {
      result = fn(img, () => store.release());
    } catch (e) {
      if (store.released) img.close(); // work already kept: end the boot cleanly
      throw e;
    }
    img.close();
    return result;
  });
}

/**
 * Creates an image in a temporary file beside the target and renames it into
 * place, so an existing file is replaced whole or not at all.
 */
export function createImageFile(file: string, options: CreateOptions, force: boolean): PmemImage {
  refuseNonRegular(file, 'an image file'); // never replace a directory, a FIFO or a device, even with --force
  if (fs.existsSync(file) && !force) throw new UsageError(`${file} already exists; use --force to overwrite it`);
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new UsageError(`directory ${dir} does not exist`);
  makeGeometry(options); // refuse bad options before touching the file system
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  let store: FileStore;
  try {
    store = FileStore.create(temp, options.sizeBytes, { overwrite: true });
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw Object.assign(e as Error, { path: file });
  }
  try {
    PmemImage.create(store, { ...options, file });
    store.close();
    fs.renameSync(temp, file);
    return openForReading(file);
  } catch (e) {
    store.close();
    fs.rmSync(temp, { force: true });
    throw e;
  }
}

export function diskUsageBytes(file: string): number {
  const st = fs.statSync(file);
  return st.blocks * 512;
}
