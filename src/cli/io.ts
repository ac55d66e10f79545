/** Opening image files for the CLI: read-only inspection or a writable boot; atomic creation. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateOptions, makeGeometry, PmemImage, UsageError } from '../engine';
import { FileStore } from '../engine/store/fileStore';

export function openForReading(file: string, options: { lenient?: boolean } = {}): PmemImage {
  return PmemImage.open(FileStore.open(file, { readOnly: true }), { readOnly: true, file, lenient: options.lenient });
}

/** Opens for writing, which boots the simulated machine; the caller must close() to shut down cleanly. */
export function openForWriting(file: string, profile?: string): PmemImage {
  const store = FileStore.open(file, { readOnly: false });
  try {
    return PmemImage.open(store, { file, profile });
  } catch (e) {
    store.close();
    throw e;
  }
}

/** Runs `fn` on a booted image and shuts it down cleanly afterwards (even when fn fails). */
export function withWritable<T>(file: string, fn: (img: PmemImage) => T, profile?: string): T {
  const img = openForWriting(file, profile);
  try {
    return fn(img);
  } finally {
    img.close();
  }
}

/**
 * Creates an image in a temporary file beside the target and renames it into
 * place, so an existing file is replaced whole or not at all.
 */
export function createImageFile(file: string, options: CreateOptions, force: boolean): PmemImage {
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
