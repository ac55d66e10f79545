/**
 * Where a comparison's images are kept: DIR/DESIGN.pmem for each design,
 * written atomically and sparse. Every path is checked before the first image
 * is made, so a comparison never runs only to find it cannot keep its work,
 * and an existing file is never replaced. Node only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../core/errors';
import type { MemoryStore } from '../store/memoryStore';
import { writeStoreAtomically } from './atomicFile';
import { kindOf, pathError } from './filePath';

/** The file each design's image goes to, in `dir`; a UsageError when `dir` is not a directory or a file is there already. */
export function keptImagePaths(dir: string, designs: readonly string[]): Map<string, string> {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    throw pathError(e, dir, 'a folder');
  }
  if (!st.isDirectory()) throw new UsageError(`${dir} is ${kindOf(st)}, not a folder to keep the images in`);
  const paths = new Map(designs.map((d) => [d, path.join(dir, `${d}.pmem`)]));
  const taken = [...paths.values()].filter((p) => fs.existsSync(p));
  if (taken.length) throw new UsageError(`${taken.join(', ')} ${taken.length === 1 ? 'exists' : 'exist'}: the images of a comparison never replace a file (choose another folder)`);
  return paths;
}

/** Writes one image to `file`, crash-safely (a temporary file renamed over it). */
export function keepImage(file: string, image: MemoryStore): void {
  writeStoreAtomically(file, image.size, (to) => image.copyInto(to));
}
