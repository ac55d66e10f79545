/**
 * Random command lines for the pmem CLI, run in-process: unknown and repeated
 * flags, missing values, odd numbers and sizes, odd paths. Every vector ends
 * with exit 0 or 1, or exit 2 and exactly one line on stderr; never a stack.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { scratchDir } from './scratch';
import { runCli } from './cliInProcess';

const COMMANDS = ['create', 'info', 'descriptors', 'sections', 'alloc', 'free', 'init', 'reboot', 'check', 'history', 'state', 'freelists', 'map'];
const FLAGS = [
  '--size', '--section', '--nodes', '--memmap', '--links', '--max-order', '--movable', '--profile', '--force', '--json', '--from', '--count',
  '--state', '--order', '--node', '--strict', '--zone', '--owner', '--section', '--all', '--crash-after', '--during', '--max-problems', '--at',
  '--limit', '--buddyinfo', '--out', '--width', '--height', '--theme', '--help', '-h', '--version',
];
const WEIRD_VALUES = [
  '', ' ', '0', '-0', '1', '-1', '7', '0x10', '0X1f', '1.5', '1e3', '1e309', 'Infinity', '-Infinity', 'NaN', '9007199254740993',
  '18446744073709551616', '4294967296', ' 12 ', '10\n', '64M', '4M', '2M', '1G', '1T', '16T', '17T', '0M', '-64M', '1e3M', '64MiB', '3M',
  'device', 'ram', 'page', 'descriptor', 'default', 'kmemcheck', 'numa', 'debug', 'nope', 'dma32', 'normal', 'movable', 'never', 'stale',
  'initialized', 'dark', 'light', 'alloc --order 2', 'free 4096', 'init 1', 'init', 'free', 'alloc', 'alloc --order 99', 'free 0x',
  '--json', '-', '--', '\u0000', '\ud800', 'é', 'x'.repeat(300),
];

/** Paths the FILE positional and --out take; IMAGE is a valid image restored before each vector. */
const PATHS = ['IMAGE', 'NEW', 'MISSING', 'DIR', '/dev/null', 'BADNAME', 'EMPTY', '', 'DIR/sub/x.pmem'];

const token = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FLAGS) },
  { weight: 4, arbitrary: fc.constantFrom(...WEIRD_VALUES) },
  { weight: 3, arbitrary: fc.constantFrom(...PATHS) },
  { weight: 1, arbitrary: fc.constantFrom('--nope', '-x', '--size=64M', '--order=0', '--json=1', '--no-json', '-hx', '--=') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 70000 }).map(String) },
);

export const argvArb = fc.tuple(
  fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...COMMANDS) }, { weight: 1, arbitrary: fc.constantFrom('', 'help', '--help', '--version', 'nope', 'INFO', '-h') }),
  fc.array(token, { maxLength: 8 }),
).map(([command, rest]) => [command, ...rest]);

export interface ArgvFixture {
  dir: string;
  template: Uint8Array;
}

/** Replaces the placeholders with real paths in a scratch directory. */
function resolve(fx: ArgvFixture, argv: string[]): string[] {
  const names: Record<string, string> = {
    IMAGE: path.join(fx.dir, 'image.pmem'), NEW: path.join(fx.dir, 'new.pmem'), MISSING: path.join(fx.dir, 'missing.pmem'),
    DIR: fx.dir, BADNAME: path.join(fx.dir, 'bad\udcff\ud800name.pmem'), EMPTY: path.join(fx.dir, 'empty.pmem'), 'DIR/sub/x.pmem': path.join(fx.dir, 'sub', 'x.pmem'),
  };
  return argv.map((a) => (Object.hasOwn(names, a) ? names[a] : a));
}

export function argvProperty(fx: ArgvFixture): fc.IPropertyWithHooks<[string[]]> {
  return fc.property(argvArb, (argv) => {
    fs.writeFileSync(path.join(fx.dir, 'image.pmem'), fx.template);
    fs.writeFileSync(path.join(fx.dir, 'empty.pmem'), '');
    fs.rmSync(path.join(fx.dir, 'new.pmem'), { force: true });
    // Random words may name files (create, map --out): they land in the scratch directory.
    const cwd = process.cwd();
    process.chdir(fx.dir);
    let r;
    try {
      r = runCli(resolve(fx, argv));
    } finally {
      process.chdir(cwd);
    }
    const shown = `pmem ${argv.map((a) => JSON.stringify(a)).join(' ')}`;
    if (r.code === -1 || /internal error|\n\s+at /.test(r.stderr)) throw new Error(`${shown}: ${r.stderr}`);
    if (![0, 1, 2].includes(r.code)) throw new Error(`${shown}: exit ${r.code}`);
    if (r.code === 2 && !/^[^\n]+\n$/.test(r.stderr)) throw new Error(`${shown}: exit 2 needs exactly one line on stderr, got ${JSON.stringify(r.stderr)}`);
    if (r.code === 1 && r.stderr.split('\n').length > 2) throw new Error(`${shown}: exit 1 with more than one line on stderr: ${JSON.stringify(r.stderr)}`);
  });
}

export function argvFixture(template: Uint8Array): ArgvFixture {
  const dir = scratchDir('pmem-argv-');
  return { dir, template };
}
