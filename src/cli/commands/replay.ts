/** pmem replay: a kernel page-allocator trace applied to an image. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../../engine';
import { replayTrace, ReplayReport } from '../../engine/replay/replay';
import { TRACE_FORMATS, TraceFormat } from '../../engine/replay/kmemTrace';
import { filePath, flag, int, parse, str } from '../args';
import { Command } from '../command';
import { withWritable } from '../io';
import { printJson, say } from '../output';

const CHUNK = 1 << 20;
/** Longer lines are cut there (and then not understood): memory stays bounded whatever the file holds. */
const MAX_LINE = 64 * 1024;

/** The lines of a text file, read a chunk at a time. */
function* linesOf(file: string): Generator<string> {
  const fd = fs.openSync(file, 'r');
  try {
    const decoder = new TextDecoder();
    const buf = Buffer.alloc(CHUNK);
    let rest = '';
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      rest += decoder.decode(buf.subarray(0, n), { stream: n > 0 });
      let at: number;
      while ((at = rest.indexOf('\n')) >= 0) {
        yield rest.slice(0, Math.min(at, MAX_LINE)).replace(/\r$/, '');
        rest = rest.slice(at + 1);
      }
      if (rest.length > MAX_LINE) rest = rest.slice(0, MAX_LINE);
      if (n === 0) break;
    }
    if (rest) yield rest;
  } finally {
    fs.closeSync(fd);
  }
}

function seconds(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a time in seconds as the trace prints it (e.g. 6.457850), not "${v}"`);
  return n;
}

function printReport(r: ReplayReport, trace: string): void {
  const n = (x: number) => x.toLocaleString('en-US');
  say(`${trace}: ${n(r.lines)} lines, ${r.format ?? 'no events'}${r.format ? ' format' : ''}; pfn ${n(r.base)} of the trace is pfn ${n(r.base + r.offset)} of the image`);
  say(`events: ${Object.entries(r.events).map(([k, v]) => `${k} ${n(v)}`).join(', ')}${r.otherEvents ? `; other events ${n(r.otherEvents)}` : ''}`);
  say(`applied: ${n(r.applied.alloc)} allocations, ${n(r.applied.free)} frees${r.preallocated ? `; ${n(r.preallocated)} block(s) freed before the trace allocated them were allocated first` : ''}, in ${n(r.steps.length)} history steps${r.steps.length ? ` (${r.steps[0]} to ${r.steps[r.steps.length - 1]})` : ''}`);
  say(`never applied: mm_page_free_batched repeats a traced free; mm_page_alloc_zone_locked and mm_page_pcpu_drain move pages between per-CPU and buddy lists`);
  for (const [why, count] of Object.entries(r.skipped)) say(`skipped: ${n(count)} ${why}`);
  if (r.notUnderstood.count) say(`not understood: ${n(r.notUnderstood.count)} line(s), first at line ${r.notUnderstood.firstLines.join(', ')}`);
  say('The image now holds the trace\'s view of memory, not the kernel\'s: traces miss some allocations (bulk allocation, compaction).');
}

export const replay: Command = {
  name: 'replay',
  summary: 'replay a kernel page-allocator trace (kmem:mm_page_alloc/free) on an image',
  help: `usage: pmem replay FILE TRACE [--format auto|ftrace|trace-cmd|perf] [--base PFN] [--from T] [--to T] [--assume-allocated] [--batch N] [--json]

TRACE is the text of the kmem page-allocator events, as tracefs
(/sys/kernel/tracing/trace), \`trace-cmd report\` or \`perf script\` print
them. Each mm_page_alloc allocates exactly its block (owner tag: its first
GFP flag and migrate type, e.g. KERNEL/U), each mm_page_free frees it, in
order; the other kmem events are counted, never applied. A batch of events is
one history step, all or nothing. The trace's pfns are moved by one offset:
--base (default the lowest pfn seen, rounded down to a largest block) lands
on the image's first whole largest block.

  --format F          read only lines of that form (default: any)
  --from T, --to T    only events between these timestamps (seconds)
  --assume-allocated  a block the trace frees before allocating it (it was
                      allocated before tracing began) is allocated first;
                      otherwise such frees are skipped and counted
  --batch N           events per history step (default 256)
  --json              the report as JSON`,
  run(argv) {
    const p = parse(argv, {
      format: { type: 'string' }, base: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
      'assume-allocated': { type: 'boolean' }, batch: { type: 'string' }, json: { type: 'boolean' },
    }, 'replay');
    if (p.positionals.length !== 2) throw new UsageError('replay: give the image and the trace: pmem replay FILE TRACE');
    const [file, traceArg] = p.positionals;
    const trace = filePath(traceArg, 'trace');
    if (!fs.existsSync(trace)) throw new UsageError(`replay: trace ${trace} does not exist`);
    const format = str(p, 'format') ?? 'auto';
    if (format !== 'auto' && !(TRACE_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be auto, ${TRACE_FORMATS.join(', ')}, not "${format}"`);
    const base = int(str(p, 'base'), 'base', 0, Number.MAX_SAFE_INTEGER);
    const options = {
      format: format as TraceFormat | 'auto', base, from: seconds(str(p, 'from'), 'from'), to: seconds(str(p, 'to'), 'to'),
      assumeAllocated: flag(p, 'assume-allocated'), batch: int(str(p, 'batch'), 'batch', 1, 100_000), name: path.basename(trace),
    };
    const report = withWritable(filePath(file, 'image'), (img) => replayTrace(img, () => linesOf(trace), options));
    if (flag(p, 'json')) printJson(report);
    else printReport(report, trace);
    return 0;
  },
};
