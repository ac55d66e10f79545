/**
 * pmem: the command-line tool over the engine. Exit codes: 0 success, 1 the
 * operation failed on a valid image, 2 bad usage or an unusable image.
 */
import { ImageError, OperationError, UsageError } from '../engine';
import { Command } from './command';
import { printable } from '../shared/plainText';
import { alloc, free, init, reboot } from './commands/alloc';
import { create, descriptors, infoCommand, sectionsCommand } from './commands/image';
import { checkCommand, frag, freelists, history, state } from './commands/inspect';
import { replay, workload } from './commands/replay';
import { mapCommand } from './commands/map';
import { compare } from './commands/compare';
import { io } from './commands/io';
import { closeImagesOpenedForReading } from './io';

const COMMANDS: Command[] = [create, infoCommand, descriptors, sectionsCommand, alloc, free, init, reboot, io, checkCommand, history, state, freelists, frag, replay, workload, compare, mapCommand];

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
    process.stderr.write(`${oneLine(`pmem: unknown command ${JSON.stringify(name)} (see "pmem --help")`)}\n`);
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
  } finally {
    closeImagesOpenedForReading();
  }
}

declare const PMEM_VERSION: string;

function reportError(e: unknown, command: string): number {
  const err = e as NodeJS.ErrnoException;
  // A message may quote the image (a profile name, a path): control characters are shown, not sent.
  const complain = (text: string) => process.stderr.write(`${oneLine(text)}\n`);
  if (e instanceof OperationError) {
    complain(`pmem ${command}: ${err.message}`);
    return 1;
  }
  if (e instanceof UsageError || e instanceof ImageError) {
    complain(`pmem ${command}: ${err.message}`);
    return 2;
  }
  if (err && typeof err.code === 'string' && err.syscall) {
    const what = {
      ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'is a directory', ENOSPC: 'no space left on device',
      EROFS: 'read-only file system', EFBIG: 'file too large for this file system', EEXIST: 'file exists',
    }[err.code] ?? err.code;
    complain(`pmem ${command}: ${err.path ?? ''}: ${what}`);
    return 2;
  }
  if (e instanceof RangeError) {
    complain(`pmem ${command}: ${err.message}`);
    return 2;
  }
  complain(`pmem ${command}: internal error: ${err?.stack ?? String(e)}`);
  return 2;
}

/** An error is exactly one line: control characters (a newline in a file name, too) are shown escaped. */
function oneLine(text: string): string {
  return printable(text).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}
