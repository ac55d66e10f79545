/** pmem replay: a kernel page-allocator trace applied to an image. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../../engine';
import { replayTrace } from '../../engine/replay/replay';
import { TRACE_FORMATS, TraceFormat } from '../../engine/replay/kmemTrace';
import { filePath, flag, int, parse, str } from '../args';
import { Command } from '../command';
import { withWritable } from '../io';
import { linesOf } from '../../engine/node/textLines';
import { printJson, say } from '../output';
import { replayReportLines } from '../../shared/replayText';

function seconds(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a time in seconds as the trace prints it (e.g. 6.457850), not "${v}"`);
  return n;
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
    else for (const line of replayReportLines(report, trace)) say(line);
    return 0;
  },
};
