/**
 * Where Export Map may write. The save dialog has already asked before
 * replacing a file; a target passed as an argument (a keybinding, another
 * extension) replaces an existing file only when the caller says so. An open
 * image is never replaced by a picture of itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sameFile } from '../engine/node/atomicFile';

export interface ExportTargetOptions {
  /** The target came as a command argument, not from the save dialog. */
  argument: boolean;
  /** The caller allows replacing an existing file. */
  overwrite: boolean;
  /** Files of the images open in the editor. */
  images: string[];
}

/** Why the map must not be written to `target`, or undefined when it may. */
export function exportRefusal(target: string, o: ExportTargetOptions): string | undefined {
  const dir = path.dirname(path.resolve(target));
  if (!fs.existsSync(dir)) return `the folder ${dir} does not exist`;
  if (!fs.existsSync(target)) return undefined;
  if (o.images.some((image) => path.resolve(image) === path.resolve(target) || sameFile(image, target))) return `${target} is an open image; choose another file`;
  if (fs.statSync(target).isDirectory()) return `${target} is a folder`;
  if (o.argument && !o.overwrite) return `${target} already exists; pass "overwrite": true to replace it`;
  return undefined;
}
