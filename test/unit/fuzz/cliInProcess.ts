/** Runs the pmem CLI's main() in this process with its output captured: far cheaper than spawning. */
import { main } from '../../../src/cli/main';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

(globalThis as { PMEM_VERSION?: string }).PMEM_VERSION ??= '0.0.0-test';

export function runCli(argv: string[]): CliRun {
  const out: string[] = [];
  const err: string[] = [];
  const realOut = process.stdout.write;
  const realErr = process.stderr.write;
  const isTTY = process.stderr.isTTY;
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  process.stderr.isTTY = false; // no progress lines: stderr holds only errors
  let code: number;
  try {
    code = main(argv);
  } catch (e) {
    code = -1;
    err.push(`main() threw: ${(e as Error)?.stack ?? String(e)}\n`);
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    process.stderr.isTTY = isTTY;
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}
