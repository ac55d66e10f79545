/** pmem compare: the designs side by side, on images in memory, under one seeded workload. */
import { compareDesigns, DESIGNS, parseSize, UsageError } from '../../engine';
import { keepImage, keptImagePaths } from '../../engine/node/keptImages';
import { WORKLOAD_KINDS, WorkloadKind } from '../../engine/replay/workload';
import { checkerLines, compareRows, compareTitle } from '../../shared/compareText';
import { flag, int, parse, str } from '../args';
import { Command } from '../command';
import { printJson, printTable, say } from '../output';

export const compare: Command = {
  name: 'compare',
  summary: 'run one workload on an image of each design and compare them side by side',
  help: `usage: pmem compare [--designs A,B,...] [--size SIZE] [--workload KIND] [--ops N] [--seed S] [--keep DIR] [--json]

Creates an image of each design in memory (no file is written unless --keep), runs the same
seeded workload on each (every operation durable before the next), then a clean
reboot, a crash part way through an allocation, and a reboot into the debug
profile, and prints side by side: the memmap on the device, in RAM and in a VM,
bytes written and flushes per operation, operations a second, boot time and
lazy-init work, what a reboot and a crash lose, and what the checker verifies.

  --designs A,B,...   designs to compare (default: every design that runs)
  --size SIZE         device size (default 1G)
  --workload KIND     ${WORKLOAD_KINDS.join(', ')} (default reboots: churn with reboots and crashes)
  --ops N             workload operations (default 10000)
  --seed S            the workload's seed (default 1)
  --keep DIR          write each design's image as it ends to DIR/DESIGN.pmem (sparse),
                      to open side by side; an existing file is never replaced

Designs:
${DESIGNS.map((d) => `  ${d.name.padEnd(9)} ${d.summary}${d.built ? '' : ' (does not run yet)'}`).join('\n')}`,
  run(argv) {
    const p = parse(argv, { designs: { type: 'string' }, size: { type: 'string' }, workload: { type: 'string' }, ops: { type: 'string' }, seed: { type: 'string' }, keep: { type: 'string' }, json: { type: 'boolean' } }, 'compare');
    if (p.positionals.length) throw new UsageError(`compare takes no file (it makes its images in memory; --keep DIR writes them), not "${p.positionals[0]}"`);
    const designs = (str(p, 'designs') ?? DESIGNS.filter((d) => d.built).map((d) => d.name).join(',')).split(',').map((d) => d.trim()).filter(Boolean);
    const workload = str(p, 'workload') ?? 'reboots';
    if (!(WORKLOAD_KINDS as readonly string[]).includes(workload)) throw new UsageError(`--workload must be one of ${WORKLOAD_KINDS.join(', ')}, not "${workload}"`);
    const sizeBytes = parseSize(str(p, 'size') ?? '1G');
    const ops = int(str(p, 'ops'), 'ops', 1, 10_000_000) ?? 10_000;
    const seed = int(str(p, 'seed'), 'seed', 0, 2 ** 32 - 1) ?? 1;
    const keep = str(p, 'keep');
    const kept = keep === undefined ? undefined : keptImagePaths(keep, designs);
    const report = compareDesigns({ designs, sizeBytes, workload: workload as WorkloadKind, ops, seed, onImage: kept && ((design, image) => keepImage(kept.get(design)!, image)) });
    if (flag(p, 'json')) {
      printJson(report);
      return 0;
    }
    say(compareTitle(report));
    say('');
    const { header, rows } = compareRows(report);
    printTable(rows, header);
    say('');
    for (const line of checkerLines(report)) say(line);
    if (kept) say(`images kept: ${[...kept.values()].join(', ')}`);
    return 0;
  },
};
