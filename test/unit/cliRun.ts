/** Runs the built CLI as a user would, for the CLI tests. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'dist/cli.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function pmem(...args: string[]): Run {
  // The time limit turns a hang (a FIFO opened for reading waits for a writer) into a failure.
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `length` bytes of a file at `offset`, without reading the whole (test images are large and sparse). */
export function readAt(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const out = Buffer.alloc(length);
    fs.readSync(fd, out, 0, length, offset);
    return out;
  } finally {
    fs.closeSync(fd);
  }
}
