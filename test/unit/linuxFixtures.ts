/**
 * Namespace images written by a real Linux kernel (test/fixtures/linux, see
 * its README), decompressed into sparse temporary files for the tests.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Decompress } from 'fzstd';

/** From test/unit, or from test/integration/out when bundled into the integration tests. */
export const FIXTURES = [path.resolve(__dirname, '../fixtures/linux'), path.resolve(__dirname, '../../fixtures/linux')].find((d) => fs.existsSync(d)) ?? path.resolve(__dirname, '../fixtures/linux');
export const CONFIGS = ['fsdax-dev-2M-1G', 'fsdax-mem-2M-1G', 'devdax-dev-2M-1G', 'sector-1G'] as const;
export type Config = (typeof CONFIGS)[number];

const BLOCK = 4096;

export function fixtureText(config: Config, file: string): string {
  return fs.readFileSync(path.join(FIXTURES, config, file), 'utf8');
}

export function fixtureJson<T = unknown>(config: Config, file: string): T {
  return JSON.parse(fixtureText(config, file)) as T;
}

function allZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Decompresses a fixture into `dir` as a sparse file: only non-zero 4 KiB
 * blocks are written, the size is set by truncation. Returns the file's path.
 */
export function decompressFixture(config: Config, dir: string): string {
  const out = path.join(dir, `${config}.img`);
  const fd = fs.openSync(out, 'w');
  let offset = 0;
  let carry = new Uint8Array(0);
  const flush = (bytes: Uint8Array) => {
    for (let at = 0; at < bytes.length; at += BLOCK) {
      const block = bytes.subarray(at, Math.min(at + BLOCK, bytes.length));
      if (!allZero(block)) fs.writeSync(fd, block, 0, block.length, offset + at);
    }
    offset += bytes.length;
  };
  try {
    const stream = new Decompress((chunk) => {
      // Keep writes on 4 KiB boundaries, so zero blocks stay holes whatever the chunking.
      const all = carry.length ? concat(carry, chunk) : chunk;
      const whole = all.length - (all.length % BLOCK);
      flush(all.subarray(0, whole));
      carry = all.slice(whole);
    });
    stream.push(new Uint8Array(fs.readFileSync(path.join(FIXTURES, config, `${config}.img.zst`))), true);
    flush(carry);
    fs.ftruncateSync(fd, offset);
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}


let shared: { dir: string; files: Partial<Record<Config, string>> } | undefined;

/**
 * The fixtures decompressed once per test process (each takes seconds), for
 * tests that only read them; removed when the process exits.
 */
export function sharedFixture(config: Config): string {
  if (!shared) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-linuxns-shared-'));
    shared = { dir, files: {} };
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return (shared.files[config] ??= decompressFixture(config, shared.dir));
}
