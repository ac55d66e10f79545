/** Command-line parsing on node:util parseArgs, with errors a user can act on. */
import { parseArgs } from 'node:util';
import { UsageError } from '../engine/core/errors';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: OptionSpec, command: string): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (e) {
    const message = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/\s*\n\s*/g, ' '); // one line
    throw new UsageError(`${message} (see "pmem ${command} --help")`);
  }
}

export function int(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`--${name} must be a whole number, not "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name} must be ${min} to ${max}, not ${n}`);
  return n;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

export function oneFile(p: Parsed, command: string): string {
  if (p.positionals.length !== 1) throw new UsageError(`give exactly one image file (see "pmem ${command} --help")`);
  return filePath(p.positionals[0], 'image file');
}

/** A path the file system can take: not empty, no NUL byte. */
export function filePath(text: string, what: string): string {
  if (text === '') throw new UsageError(`the ${what} name is empty`);
  if (text.includes('\0')) throw new UsageError(`the ${what} name ${JSON.stringify(text)} contains a NUL byte`);
  return text;
}
