/**
 * Damaged, foreign and hostile machine snapshots through the real readers:
 * lines of a real Linux 6.1 kernel's /proc/buddyinfo, /proc/pagetypeinfo and
 * /proc/zoneinfo (test/fixtures/kmem) and of crash's `kmem -f`, cut, spliced,
 * with numbers changed, mixed with random text. Each case is read as no
 * snapshot or as one whose counts are whole and in range, and the figures
 * computed from it print without an error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { formatBeside, parseMachineSnapshot, zoneFragmentation } from '../../../src/engine/inspect/frag';

const SNAPSHOTS = path.join(__dirname, '../../fixtures/kmem/huge-256M/after');

/** crash's kmem -f as its memory.c prints it (one list per migrate type), a zone's worth. */
const KMEM_F = `NODE
  0
ZONE  NAME        SIZE    FREE      MEM_MAP       START_PADDR  START_MAPNR
  1   DMA32       65536   12254  ffffea0000040000     1000000        4096
AREA    SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES
  0       4k  ffff88807ffd6d00   10340  10340
  0       4k  ffff88807ffd6d10       1      1
  1       8k  ffff88807ffd6d68      12     24
  9    2048k  ffff88807ffd7300       2   1024

nr_free_pages: 11389  (verified)
`;

function realLines(): string[] {
  return ['buddyinfo', 'pagetypeinfo', 'zoneinfo'].flatMap((f) => fs.readFileSync(path.join(SNAPSHOTS, f), 'utf8').split('\n').slice(0, 120)).concat(KMEM_F.split('\n'));
}

const numberText = fc.constantFrom('0', '-1', '1e9', '99999999999999999999', 'NaN', '', '0x10', '007', '4294967296');

function mutated(lines: string[]): fc.Arbitrary<string> {
  const line = fc.constantFrom(...lines);
  return fc.oneof(
    line,
    fc.tuple(line, fc.nat()).map(([l, n]) => l.slice(0, n % (l.length + 1))),
    fc.tuple(line, line, fc.nat()).map(([a, b, n]) => a.slice(0, n % (a.length + 1)) + b),
    fc.tuple(line, numberText, fc.nat()).map(([l, v, n]) => {
      const numbers = [...l.matchAll(/\d+/g)];
      if (!numbers.length) return l;
      const m = numbers[n % numbers.length];
      return l.slice(0, m.index) + v + l.slice(m.index! + m[0].length);
    }),
    fc.string({ maxLength: 60 }),
  );
}

const whole = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

export function snapshotProperty(seed: number): fc.IProperty<[string[]]> {
  const lines = realLines();
  void seed;
  return fc.property(fc.array(mutated(lines), { minLength: 1, maxLength: 40 }), (text) => {
    const s = parseMachineSnapshot(text.join('\n'));
    if (!s) return;
    for (const z of s.zones) {
      if (!whole(z.node) || !z.free.every(whole) || z.free.length > 64) throw new Error(`${s.kind}: zone ${z.zone} read with counts ${JSON.stringify(z.free)}`);
    }
    for (const z of s.freePages) if (!whole(z.pages) && !Number.isFinite(z.pages)) throw new Error(`${s.kind}: zone ${z.zone} read with ${z.pages} free pages`);
    formatBeside(s.zones.map(zoneFragmentation), s, { ours: 'image', theirs: 'snapshot' });
  });
}
