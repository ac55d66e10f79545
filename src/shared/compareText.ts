/** The comparison of designs as rows of text, one column per design: what `pmem compare` prints and the editor's table shows. */
import type { BlocksKept, CompareReport } from '../engine/designs/compare';
import { formatBytes } from '../engine/core/units';

const n = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function keptText(k: BlocksKept): string {
  if (!k.blocks) return 'no block with a known owner';
  if (!k.ownersLost && !k.ordersLost) return `nothing (${n(k.blocks)} blocks kept)`;
  return `owner of ${n(k.ownersLost)} of ${n(k.blocks)} blocks, order of ${n(k.ordersLost)}`;
}

/** What ran: the workload, its operations and seed, the device. */
export function compareTitle(r: CompareReport): string {
  return `${r.workload} workload, ${n(r.ops)} operations, seed ${r.seed}, on a ${formatBytes(r.sizeBytes)} device`;
}

/** The header (the measurement, then each design) and one row per measurement. */
export function compareRows(r: CompareReport): { header: string[]; rows: string[][] } {
  const d = r.designs;
  const row = (label: string, cell: (x: CompareReport['designs'][number]) => string) => [label, ...d.map(cell)];
  return {
    header: ['', ...d.map((x) => x.design)],
    rows: [
      row('memmap on the device', (x) => formatBytes(x.memmap.deviceBytes)),
      row('memmap in RAM (default profile)', (x) => formatBytes(x.memmap.ramBytes)),
      row('memmap in RAM (debug profile)', (x) => formatBytes(x.memmap.ramBytesDebug)),
      row('in a VM: guest + host', (x) => `${formatBytes(x.memmap.vm.guestBytes)} + ${formatBytes(x.memmap.vm.hostBytes)}`),
      ...(d.some((x) => x.pool) ? [row('memdesc pool in use at the end', (x) => (x.pool ? `${n(x.pool.used)} of ${n(x.pool.descriptors)} (${formatBytes(x.pool.bytes)})` : 'no pool'))] : []),
      ...(d.some((x) => x.workload.io) ? [row('descriptors attached for I/O, at most', (x) => (x.workload.io ? `${n(x.workload.io.peakAttached)} (${n(x.workload.io.started)} I/O)` : x.design === 'pfn-only' ? 'none (no descriptors)' : 'every frame has one'))] : []),
      row('bytes written per operation', (x) => n(x.workload.bytesPerOp)),
      row('flushes per operation', (x) => n(x.workload.flushesPerOp, 2)),
      row('allocations that failed (out of memory)', (x) => n(x.workload.failed)),
      ...(d.some((x) => x.workload.refused) ? [row('allocations refused (below a 2 MiB unit)', (x) => n(x.workload.refused ?? 0))] : []),
      row('operations a second', (x) => n(x.workload.opsPerSecond)),
      row('clean boot', (x) => `${n(x.boot.seconds * 1000, 2)} ms`),
      row(`lazy init, first ${n(d[0]?.boot.lazyInit.ops ?? 0)} operations after a boot`, (x) => `${n(x.boot.lazyInit.sections)} sections, ${formatBytes(x.boot.lazyInit.bytesWritten)} written`),
      row('a clean reboot loses', (x) => keptText(x.reboot)),
      row('a crash in an allocation', (x) => `${x.crash.outcome}; loses ${keptText(x.crash.kept)}`),
      row('reboot into the debug profile', (x) => `RAM per ${x.design === 'dynamic' || x.design === 'memdesc' ? 'pool descriptor' : x.design === '2m' ? '2 MiB unit' : 'frame'} ${x.profileChange.ramBytesPerDescriptor[0]} → ${x.profileChange.ramBytesPerDescriptor[1]} B; loses ${keptText(x.profileChange.kept)}`),
      row('Linux on the same reboot', (x) => x.profileChange.linux),
      row('the checker', (x) => `${x.checker.ok ? 'clean' : `${n(x.checker.problems)} problems`}, ${n(x.checker.framesChecked)} frames`),
    ],
  };
}

/** What the checker verifies and cannot, per design: longer than a table cell. */
export function checkerLines(r: CompareReport): string[] {
  return r.designs.flatMap((x) => [`${x.design}: the checker verifies ${x.checker.verifies}; it cannot verify ${x.checker.cannot}.`]);
}
