/** pmem io: I/O on a dynamic image, which attaches descriptors from its pool for as long as the I/O is in flight. */
import { ioOp, IO_POOL_DESCRIPTORS, IoReport, parsePfn, UsageError, WhenFull } from '../../engine';
import { flag, int, oneFile, parse, str } from '../args';
import { Command } from '../command';
import { withWritable } from '../io';
import { printJson, say } from '../output';

export const io: Command = {
  name: 'io',
  summary: 'start I/O on frames of a dynamic image (descriptors attached from its pool) and complete it',
  help: `usage: pmem io FILE --pfn P --count N [--pfn P --count N ...] [--hold] [--when-full wait|fail] [--json]

A dynamic image keeps no descriptor for any frame: a pool of ${IO_POOL_DESCRIPTORS} in RAM is attached
to the frames of an I/O while it is in flight. Each --pfn/--count pair is one I/O on
frames in use; they start in order. Without --hold each completes at once (its
descriptors are attached for its length only); with --hold they stay in flight
together, so later ones find the pool fuller, until the command ends (each pmem
command is one boot; the pool is RAM only and a boot starts it empty; the editor
keeps I/O in flight until Complete I/O). When the pool has too few free
descriptors an I/O waits for the oldest I/O in flight to complete (--when-full
wait, the default) or fails (--when-full fail), and nothing of the command is kept.`,
  run(argv) {
    const p = parse(argv, { pfn: { type: 'string', multiple: true }, count: { type: 'string', multiple: true }, hold: { type: 'boolean' }, 'when-full': { type: 'string' }, json: { type: 'boolean' } }, 'io');
    const file = oneFile(p, 'io');
    const pfns = (p.values.pfn as string[] | undefined) ?? [];
    const counts = (p.values.count as string[] | undefined) ?? [];
    if (!pfns.length) throw new UsageError('io: give --pfn P --count N for each I/O');
    if (pfns.length !== counts.length) throw new UsageError(`io: each --pfn needs its --count (${pfns.length} --pfn, ${counts.length} --count)`);
    const whenFull = str(p, 'when-full') ?? 'wait';
    if (whenFull !== 'wait' && whenFull !== 'fail') throw new UsageError(`--when-full must be wait or fail, not "${whenFull}"`);
    const ranges = pfns.map((t, i) => ({ pfn: parsePfn(t), count: int(counts[i], 'count', 1, IO_POOL_DESCRIPTORS)! }));
    const hold = flag(p, 'hold');
    const reports: IoReport[] = withWritable(file, (img) => ranges.map((r) => ioOp(img, r.pfn, r.count, { hold, whenFull: whenFull as WhenFull })));
    if (flag(p, 'json')) {
      printJson({ io: reports });
      return 0;
    }
    for (const r of reports) {
      const waited = r.waitedFor.length ? `; waited for I/O ${r.waitedFor.map((w) => w.id).join(', ')} to complete` : '';
      say(`I/O ${r.flight.id} on pfn ${r.flight.pfn} + ${r.flight.count}: ${r.flight.count} descriptor${r.flight.count === 1 ? '' : 's'} attached${waited}; ${r.held ? 'in flight' : 'completed, detached'}; pool ${r.pool.attached} of ${r.pool.descriptors} attached (at most ${r.pool.peak})`);
    }
    return 0;
  },
};
