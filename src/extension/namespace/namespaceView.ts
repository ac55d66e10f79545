/** What the namespace editor shows, from the engine's report: plain data for the webview, worded as `pmem info` words it. */
import { BTT_NDCTL_NAMES, BTT_SB } from '../../engine/format/linux/bttInfoBlock';
import { PFN_NDCTL_NAMES, PFN_SB } from '../../engine/format/linux/pfnInfoBlock';
import type { NamespaceReport, PfnNamespaceReport } from '../../engine/format/linux/namespace';
import { describedPages, type NamespaceMemmap } from '../../engine/format/linux/structPage';
import { pagesPerCellFor } from '../../shared/pageClassCells';
import type { NamespaceField, NamespaceView } from '../../shared/namespaceProtocol';

const PAGE_BYTES = 4096;

export function isPfn(report: NamespaceReport): report is PfnNamespaceReport {
  return report.kind === 'fsdax' || report.kind === 'devdax';
}

/** `doc`: the report and memmap of an open namespace (NamespaceDocument), kept free of vscode so tests can build views. */
export function namespaceView(doc: { report: NamespaceReport; memmap?: NamespaceMemmap | { none: string } }, name: string): NamespaceView {
  const r = doc.report;
  const view: NamespaceView = { name, kind: r.kind, description: r.description, size: r.size };
  if (r.kind === 'pmem-image') view.note = 'This is an image of this project: open it with the PMem Image editor (Reopen Editor With…).';
  if (r.kind !== 'fsdax' && r.kind !== 'devdax' && r.kind !== 'sector') return view;

  const table = r.kind === 'sector' ? { names: BTT_NDCTL_NAMES, offsets: BTT_SB as Record<string, number>, struct: 'struct btt_sb' } : { names: PFN_NDCTL_NAMES, offsets: PFN_SB as Record<string, number>, struct: 'struct nd_pfn_sb' };
  const fields: NamespaceField[] = Object.entries(r.fields).map(([field, value]) => ({ name: field, value: String(value), offset: table.offsets[table.names[field]] }));
  fields.push({ name: 'checksum', value: r.checksum.stored, offset: table.offsets.checksum });
  Object.assign(view, { struct: table.struct, fields, checksum: r.checksum, areas: r.layout.areas });
  if (r.kind === 'sector') {
    view.note = 'A sector-mode namespace keeps no struct pages: there is no page map. The BTT map, log and data are not decoded yet.';
    return view;
  }
  if (!isPfn(r)) return view;
  const v = r.validation;
  view.validation = { ok: v.ok, firstFailure: v.firstFailure, rules: v.rules, title: 'nd_pfn_validate of Linux 6.1, x86-64; the namespace\'s physical start is taken as aligned' };
  view.defaults = r.effective.defaults;
  view.memmap = r.memmap === 'namespace' ? 'on the namespace (--map=dev)' : r.memmap === 'ram' ? 'in RAM (--map=mem)' : 'placement unknown (bad mode)';
  const vm = r.layout.vmemmap;
  if (vm) view.vmemmap = `${vm.blocks} blocks of 2 MiB at bytes ${vm.start}..${vm.end - 1}: the struct page of namespace page p is at byte ${vm.start} + p × ${r.effective.pageStructSize}`;
  const m = doc.memmap;
  if (!m || 'none' in m) {
    view.map = { none: `No page map: ${m ? m.none : 'no memmap'}.` };
    return view;
  }
  const pages = Math.floor(r.size / PAGE_BYTES);
  const pagesPerCell = pagesPerCellFor(pages);
  const data = r.layout.areas.find((a) => a.name === 'data');
  const described = describedPages(m);
  const firstData = data ? Math.floor(data.offset / PAGE_BYTES) : described.from;
  view.map = { pages, pagesPerCell, cells: Math.ceil(pages / pagesPerCell), described, firstDataPage: Math.min(Math.max(firstData, described.from), described.to - 1) };
  return view;
}
