/**
 * pmem: the command-line tool over the engine. Exit codes: 0 success, 1 the
 * operation failed on a valid image, 2 bad usage or an unusable image.
 */
import { ImageError, OperationError, UsageError } from '../engine';
import { Command } from './command';
import { alloc, free, init, reboot } from './commands/alloc';
import { create, descriptors, infoCommand, sectionsCommand } from './commands/image';
import { checkCommand, freelists, history, state } from './commands/inspect';
import { mapCommand } from './commands/map';

const COMMANDS: Command[] = [create, infoCommand, descriptors, sectionsCommand, alloc, free, init, reboot, checkCommand, history, state, freelists, mapCommand];

function usage(): string {
  return `usage: pmem COMMAND FILE [options]    (pmem COMMAND --help for details)

${COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join('\n')}

Exit codes: 0 success, 1 the operation failed on a valid image, 2 bad usage or an unusable image.`;
}

export function main(argv: string[]): number {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  if (!name) {
    // The usage goes to stdout; stderr keeps to one line, as for every usage error.
    process.stdout.write(usage() + '\n');
    process.stderr.write('pmem: no command given (see "pmem --help")\n');
    return 2;
  }
  if (name === '--version') {
    process.stdout.write(`${PMEM_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    fail(`pmem: unknown command ${JSON.stringify(name)} (see "pmem --help")`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help + '\n');
    return 0;
  }
  try {
    return command.run(rest);
  } catch (e) {
    return reportError(e, name);
  }
}

declare const PMEM_VERSION: string;

function reportError(e: unknown, command: string): number {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof OperationError) {
    fail(`pmem ${command}: ${err.message}`);
    return 1;
  }
  if (e instanceof UsageError || e instanceof ImageError) {
    fail(`pmem ${command}: ${err.message}`);
    return 2;
  }
  if (err && typeof err.code === 'string' && err.syscall) {
    const what = {
      ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'is a directory', ENOSPC: 'no space left on device',
      EROFS: 'read-only file system', EFBIG: 'file too large for this file system', EEXIST: 'file exists',
    }[err.code] ?? err.code;
    fail(`pmem ${command}: ${err.path ?? ''}: ${what}`);
    return 2;
  }
  if (e instanceof RangeError) {
    fail(`pmem ${command}: ${err.message}`);
    return 2;
  }
  process.stderr.write(`pmem ${command}: internal error: ${err?.stack ?? String(e)}\n`);
  return 2;
}

/** Writes an error as exactly one line: control characters (a newline in a file name) are shown escaped. */
function fail(text: string): void {
  const shown = [...text].map((c) => (c < ' ' || c === '\u007f' ? JSON.stringify(c).slice(1, -1) : c)).join('');
  process.stderr.write(shown + '\n');
}
