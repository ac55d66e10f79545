/** `pmem info` on a Linux namespace: its info block field by field, the kernel's checks and the layout. Read-only. */
import { describeNamespace, DETECT_BYTES, type NamespaceReport } from '../../engine/format/linux/namespace';
import { BTT_NDCTL_NAMES, BTT_SB } from '../../engine/format/linux/bttInfoBlock';
import { PFN_NDCTL_NAMES, PFN_SB } from '../../engine/format/linux/pfnInfoBlock';
import { formatBytes } from '../../engine';
import { FileStore } from '../../engine/node/fileStore';
import { printJson, say } from '../output';

/** The first bytes of a file (up to the end of a Linux info block) and its size, read through a read-only descriptor. */
export function readHead(file: string): { head: Uint8Array; size: number } {
  const store = FileStore.open(file, { readOnly: true });
  try {
    return { head: store.read(0, Math.min(store.size, DETECT_BYTES)), size: store.size };
  } finally {
    store.close();
  }
}

export function describeFile(file: string, options: { structPageSize?: number } = {}): NamespaceReport {
  const { head, size } = readHead(file);
  return describeNamespace(head, size, options);
}

const range = (offset: number, bytes: number) => `${offset}..${offset + bytes - 1}`.padEnd(24);

export function printLinuxInfo(file: string, report: NamespaceReport, json: boolean): void {
  if (json) {
    if (report.kind === 'fsdax' || report.kind === 'devdax' || report.kind === 'sector') printJson({ file, ...report.fields, kind: report.kind, description: report.description, size: report.size, ...rest(report) });
    else printJson({ file, ...report });
    return;
  }
  say(`${file}: ${report.description}, ${report.size} bytes (${formatBytes(report.size)}); read-only`);
  if (report.kind !== 'fsdax' && report.kind !== 'devdax' && report.kind !== 'sector') return;
  const table = report.kind === 'sector' ? { names: BTT_NDCTL_NAMES, offsets: BTT_SB as Record<string, number>, struct: 'struct btt_sb' } : { names: PFN_NDCTL_NAMES, offsets: PFN_SB as Record<string, number>, struct: 'struct nd_pfn_sb' };
  say(`  info block (${table.struct}) at byte 4096`);
  for (const [name, value] of Object.entries(report.fields)) {
    say(`    ${name.padEnd(18)} ${String(value).padEnd(40)} @${table.offsets[table.names[name]]}`);
  }
  say(`    ${'checksum'.padEnd(18)} ${report.checksum.stored.padEnd(40)} @4088`);
  say(`  checksum     stored ${report.checksum.stored}, computed ${report.checksum.computed}: ${report.checksum.ok ? 'match' : 'MISMATCH'}`);
  if (report.kind === 'sector') {
    say('  layout (arena offsets made absolute: the arena starts at byte 4096)');
    for (const a of report.layout.areas) say(`    ${range(a.offset, a.bytes)} ${a.name.padEnd(20)} ${formatBytes(a.bytes).padStart(10)}  ${a.what}`);
    say('  (the BTT map, log and data are not decoded yet)');
    return;
  }
  for (const d of report.effective.defaults) say(`  default      ${d}`);
  const v = report.validation;
  say(`  validation   ${v.ok ? 'every check passes' : `fails first at "${v.firstFailure}"`} (nd_pfn_validate of Linux 6.1, x86-64; the namespace's physical start is taken as aligned)`);
  for (const r of v.rules) {
    say(`    ${r.verdict.toUpperCase().padEnd(14)} ${r.rule.padEnd(18)} ${r.check}${r.kernel ? ` -- kernel: "${r.kernel}"${r.errno ? ` (${r.errno})` : ''}` : ''}`);
  }
  say(`  layout       memmap ${report.memmap === 'namespace' ? 'on the namespace (--map=dev)' : report.memmap === 'ram' ? 'in RAM (--map=mem)' : 'placement unknown (bad mode)'}`);
  for (const a of report.layout.areas) say(`    ${range(a.offset, a.bytes)} ${a.name.padEnd(20)} ${formatBytes(a.bytes).padStart(10)}  ${a.what}`);
  const vm = report.layout.vmemmap;
  if (vm) say(`  vmemmap      ${vm.blocks} blocks of 2 MiB at bytes ${vm.start}..${vm.end - 1}: the struct page of namespace page p is at byte ${vm.start} + p x ${report.effective.pageStructSize}`);
  say('  struct page size: would a kernel whose struct page is N bytes take this namespace?');
  for (const v of report.structPageSizes) {
    say(`    N = ${v.bytes}: Linux ${v.linux}`);
    say(`      core on the device, the rest in RAM: ${v.coreOnDevice}`);
    const cost = v.capacityCost === 0 ? 'the same capacity' : v.capacityCost > 0 ? `${formatBytes(v.capacityCost)} less data` : `${formatBytes(-v.capacityCost)} more data`;
    say(`      laid out for N-byte struct pages: dataoff ${v.relaid.dataoff} (${formatBytes(v.relaid.dataoff)}), ${v.relaid.dataPages} data pages: ${cost}`);
  }
}

function rest(report: NamespaceReport): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...report };
  for (const k of ['fields', 'kind', 'description', 'size']) delete copy[k];
  return copy;
}
