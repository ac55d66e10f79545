/** pmem replay and pmem workload: a kernel page-allocator trace, or a synthetic workload, applied to an image. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatFragmentationFiles, UsageError } from '../../engine';
import { runWorkload, WORKLOAD_KINDS, WorkloadKind } from '../../engine/replay/workload';
import { replayTrace } from '../../engine/replay/replay';
import { TRACE_FORMATS, TraceFormat } from '../../engine/replay/kmemTrace';
import { filePath, flag, int, oneFile, parse, str } from '../args';
import { Command } from '../command';
import { openHeld, withHeldWrites, withWritable } from '../io';
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
one history step, all or nothing, written to the file as it is made (a trace
that cannot be replayed at all changes nothing; an error part way keeps the
steps before it, and says so). The trace is read as a stream, twice: memory
stays bounded whatever its size. The trace's pfns are moved by one offset:
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
    // Once its first step is committed (the trace is read and understood), every step goes to the file as it is made: a
    // trace of gigabytes is not held in memory. Each step is whole; an error later leaves the steps before it.
    const report = withWritable(filePath(file, 'image'), (img, keep) => replayTrace(img, () => linesOf(trace), { ...options, onCommitted: keep }));
    if (flag(p, 'json')) printJson(report);
    else for (const line of replayReportLines(report, trace)) say(line);
    return 0;
  },
};

export const workload: Command = {
  name: 'workload',
  summary: 'run a seeded synthetic workload (churn, fragmenter, hugepages, reboots)',
  help: `usage: pmem workload FILE --kind churn|fragmenter|hugepages|reboots --ops N [--seed S] [--json]

Runs N operations on the image, each a history step like a user's:
  churn       a filesystem-like mix, mostly orders 0 to 3 and a few order 9,
              filling about 70 % of memory, then freeing and allocating around it
  fragmenter  order-0 allocations (two thirds of N), then every other one freed
  hugepages   an order-9 request every eighth operation over order-0 churn
              that fills memory (see which of them fail)
  reboots     churn with a clean reboot every 500 operations and a power
              failure in the middle of an allocation every 1,500
The same seed (default 1) gives the same operations. Each operation is
durable when the next begins; the home structures of one-block allocations
and frees are written back many at a time (docs/FORMAT.md, Deferred
write-back). Prints what was allocated (and failed) per order, and Linux's
fragmentation figures at the end (as \`pmem frag\`).`,
  run(argv) {
    const p = parse(argv, { kind: { type: 'string' }, ops: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } }, 'workload');
    const file = oneFile(p, 'workload');
    const kind = str(p, 'kind');
    if (!kind || !(WORKLOAD_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be one of ${WORKLOAD_KINDS.join(', ')}${kind ? `, not "${kind}"` : ''}`);
    const ops = int(str(p, 'ops'), 'ops', 1, 10_000_000);
    if (ops === undefined) throw new UsageError('workload: --ops N is required');
    const seed = int(str(p, 'seed'), 'seed', 0, 2 ** 32 - 1) ?? 1;
    const report = withHeldWrites(file, (store) => {
      // Past its first operations, each operation goes to the file as it is made: ten million are not held in memory.
      const { img, report } = runWorkload(openHeld(store, file), { kind: kind as WorkloadKind, ops, seed, deferWriteBack: true, onProgress: (done) => done > 0 && store.release() });
      img.close();
      return report;
    });
    if (flag(p, 'json')) {
      printJson(report);
      return 0;
    }
    const n = (x: number) => x.toLocaleString('en-US');
    const orders = [...new Set([...Object.keys(report.allocated), ...Object.keys(report.failed)].map(Number))].sort((a, b) => a - b);
    say(`${kind}, ${n(ops)} operations, seed ${seed}: ${orders.map((o) => `order ${o}: ${n(report.allocated[o] ?? 0)} allocated${report.failed[o] ? `, ${n(report.failed[o])} failed` : ''}`).join('; ')}; ${n(report.freed)} freed${report.reboots ? `; ${report.reboots} reboots` : ''}${report.crashes ? `; ${report.crashes} crashes` : ''}`);
    say(`${n(report.framesInUse)} frames in use by the workload at its end`);
    process.stdout.write(`\n${formatFragmentationFiles(report.zones)}`);
    return 0;
  },
};
