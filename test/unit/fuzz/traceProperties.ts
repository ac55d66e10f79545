/**
 * Damaged, foreign and hostile trace text through the real trace reader and
 * replay: real kmem event lines of each form, cut, spliced, with fields and
 * numbers changed, mixed with random text. Each case ends in a report or a
 * located error, and the image it was replayed on checks clean.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { decompress } from 'fzstd';
import { check, PmemImage } from '../../../src/engine';
import { parseTraceLine } from '../../../src/engine/replay/kmemTrace';
import { replayTrace } from '../../../src/engine/replay/replay';
import { MemoryStore } from '../../../src/engine/store/memoryStore';
import { attempt } from './outcome';

const TRACES = path.join(__dirname, '../../fixtures/kmem/traces');

/** Real event lines of the three forms (a few hundred of each). */
function realLines(): string[] {
  return ['ftrace', 'trace-cmd', 'perf'].flatMap((f) => new TextDecoder().decode(decompress(fs.readFileSync(path.join(TRACES, `${f}.txt.zst`)))).split('\n').slice(0, 400));
}

const numberText = fc.constantFrom('0', '0x0', '0x1', '0xffffffffffffffff', '-1', '99', '11', '1e9', 'NaN', '', '0x1fffffffffffff', '007');

/** A real line, changed the way traces get damaged. */
function mutated(lines: string[]): fc.Arbitrary<string> {
  const line = fc.constantFrom(...lines);
  return fc.oneof(
    line,
    fc.tuple(line, fc.nat()).map(([l, n]) => l.slice(0, n % (l.length + 1))), // cut short
    fc.tuple(line, line, fc.nat()).map(([a, b, n]) => a.slice(0, n % (a.length + 1)) + b), // two lines run together
    fc.tuple(line, fc.constantFrom('pfn', 'order', 'migratetype', 'gfp_flags'), numberText).map(([l, k, v]) => l.replace(new RegExp(`${k}=\\S*`), `${k}=${v}`)),
    // Flags of any text (the owner tag is cut from them to 16 bytes).
    fc.tuple(line, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 })).map(([l, v]) => l.replace(/gfp_flags=\S*/, `gfp_flags=${v.replace(/\s/g, '_')}`)),
    fc.tuple(line, fc.constantFrom('mm_page_alloc', 'mm_page_free', 'mm_page_free_batched', 'sched_switch', 'kmem:mm_page_free', '')).map(([l, e]) => l.replace(/(kmem:)?mm_page_[a-z_]+/, e)),
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
  );
}

export function traceProperty(seed: number): fc.IProperty<[string[]]> {
  const lines = realLines();
  void seed;
  return fc.property(fc.array(mutated(lines), { minLength: 1, maxLength: 60 }), (trace) => {
    let events = 0;
    trace.forEach((l, i) => {
      const r = parseTraceLine(l, i + 1);
      if (r.kind === 'event') events++;
      if (r.kind === 'event' && !(Number.isSafeInteger(r.event.pfn) && r.event.pfn >= 0 && r.event.order >= 0 && r.event.order <= 63)) throw new Error(`line ${i + 1} read as an event with pfn ${r.event.pfn}, order ${r.event.order}: ${l}`);
    });
    const size = 64 * 2 ** 20;
    const store = new MemoryStore(size);
    PmemImage.create(store, { sizeBytes: size, uuid: '00000000-0000-4000-8000-000000000000', nowMs: 0 });
    const img = PmemImage.open(store);
    // With any kmem event in it a trace is replayed to its end, whatever its events say: bad ones are skipped and counted.
    if (events) replayTrace(img, () => trace, { batch: 7 });
    else attempt('replay', () => replayTrace(img, () => trace, { batch: 7 }));
    const problems = check(img).problems;
    if (problems.length) throw new Error(`after the replay, check finds: ${problems[0].message}`);
  });
}
