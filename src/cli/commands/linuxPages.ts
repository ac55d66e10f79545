/** `pmem descriptors` and `pmem check` on a Linux namespace: the struct pages the kernel wrote into it, read-only. */
import * as fs from 'node:fs';
import { ImageError, UsageError } from '../../engine';
import { FileStore } from '../../engine/node/fileStore';
import { kernelStructPage, KERNEL_STRUCT_PAGES, LINUX_6_1_X86_64, type KernelStructPage } from '../../engine/format/linux/kernelStructPage';
import type { PfnNamespaceReport } from '../../engine/format/linux/namespace';
import { parsePageFlagsLayout, type PageFlagsLayout } from '../../engine/format/linux/pageFlagsLayout';
import {
  anchorOf, areaOfPage, classifyPages, describedPages, namespaceMemmap, PAGE_CLASS, PAGE_CLASS_NAMES, readStructPages,
  type DecodeContext, type NamespaceMemmap, type ReadAt,
} from '../../engine/format/linux/structPage';
import { printJson, printTable, say } from '../output';
import { describeFile } from './linux';

export interface StructPageOptions {
  kernel?: string;
  /** A boot log holding the kernel's mminit::pageflags_layout lines. */
  dmesg?: string;
  /** Physical pfn of namespace page 0. */
  basePfn?: number;
}

export const STRUCT_PAGE_HELP = `  --kernel K      struct page layout: ${KERNEL_STRUCT_PAGES.map((k) => k.id).join(', ')} (default ${LINUX_6_1_X86_64.id})
  --dmesg FILE    the kernel's boot log (mminit_loglevel=4), for its page-flags layout
                  (node, zone and section bits); default: Debian's 6.1 x86-64 layout
  --base PFN      physical pfn of namespace page 0 (default: read from the kernel's
                  own pointers in the memmap, when they tell it)`;

function kernelOf(id: string | undefined): KernelStructPage {
  if (id === undefined) return LINUX_6_1_X86_64;
  const k = kernelStructPage(id);
  if (!k) throw new UsageError(`--kernel must be one of ${KERNEL_STRUCT_PAGES.map((x) => x.id).join(', ')}, not "${id}"`);
  return k;
}

function flagsLayoutOf(dmesg: string | undefined): PageFlagsLayout | undefined {
  if (dmesg === undefined) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(dmesg, 'utf8');
  } catch (e) {
    throw new UsageError(`--dmesg: cannot read ${dmesg}: ${(e as Error).message}`);
  }
  try {
    const layout = parsePageFlagsLayout(text, dmesg);
    if (!layout) throw new UsageError(`--dmesg: ${dmesg} has no "mminit::pageflags_layout" lines (the kernel prints them when booted with mminit_loglevel=4)`);
    return layout;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--dmesg: ${dmesg}: ${(e as Error).message}`);
  }
}

interface OpenNamespace {
  report: PfnNamespaceReport;
  memmap: NamespaceMemmap;
  read: ReadAt;
  ctx: DecodeContext;
  close(): void;
}

/** Opens a pfn/dax namespace's memmap for reading, or says why its struct pages cannot be read from the file. */
function openMemmap(file: string, report: PfnNamespaceReport, options: StructPageOptions): OpenNamespace {
  const kernel = kernelOf(options.kernel);
  const flagsLayout = flagsLayoutOf(options.dmesg);
  const m = namespaceMemmap(report);
  if ('none' in m) throw new ImageError(`${report.description}: ${m.none}`, { file });
  if (m.stride < kernel.size) throw new ImageError(`the info block's page_struct_size is ${m.stride} bytes, smaller than the ${kernel.size} of ${kernel.title}'s struct page: that kernel refuses the namespace ("struct page size mismatch")`, { file, offset: 4096 + 68 });
  const store = FileStore.open(file, { readOnly: true });
  const read: ReadAt = (offset, length) => store.read(offset, length);
  const anchor = anchorOf(read, m);
  return { report, memmap: m, read, ctx: { kernel, flagsLayout, anchor, basePfn: options.basePfn }, close: () => store.close() };
}

/** The report of a file that is a Linux pfn/dax namespace; undefined for anything else (our images included). */
export function pfnNamespaceOf(file: string): PfnNamespaceReport | undefined {
  const r = describeFile(file);
  return r.kind === 'fsdax' || r.kind === 'devdax' ? r : undefined;
}

/** `pmem descriptors` on a namespace: its struct pages by namespace page number. */
export function printNamespaceDescriptors(file: string, report: PfnNamespaceReport, from: number, count: number, json: boolean, options: StructPageOptions): void {
  const ns = openMemmap(file, report, options);
  try {
    const { from: lo, to: hi } = describedPages(ns.memmap);
    if (from < lo || from >= hi) throw new UsageError(`--from ${from}: the memmap holds the struct pages of namespace pages ${lo}..${hi - 1}`);
    const pages = readStructPages(ns.read, ns.memmap, from, Math.min(count, hi - from), ns.ctx);
    const anchor = ns.ctx.anchor;
    const base = ns.ctx.basePfn ?? anchor?.basePfn;
    if (json) {
      printJson({
        file, kernel: ns.ctx.kernel.id, flagsLayout: (ns.ctx.flagsLayout ?? ns.ctx.kernel.flagsLayout).source,
        basePfn: base, basePfnFrom: ns.ctx.basePfn !== undefined ? '--base' : anchor ? 'vmemmap pointers' : undefined,
        pages: pages.map((p) => ({ ...p, area: areaOfPage(report, p.page) })),
      });
      return;
    }
    say(`${file}: struct pages of ${ns.ctx.kernel.title} (${report.kind}), page-flags layout: ${(ns.ctx.flagsLayout ?? ns.ctx.kernel.flagsLayout).source}`);
    if (ns.ctx.basePfn !== undefined) say(`  physical pfn of page 0: 0x${ns.ctx.basePfn.toString(16)} (--base)`);
    else if (anchor) say(`  physical pfn of page 0: 0x${anchor.basePfn.toString(16)}, read from ${anchor.votes} struct pages whose empty lists point at themselves (vmemmap_base 0x${anchor.vmemmapBase.toString(16)}, taken as 1 GiB aligned)`);
    else say('  physical pfns unknown: no struct page reveals its own address (give --base PFN)');
    printTable(pages.map((p) => [
      p.page, p.pfn === undefined ? '-' : `0x${p.pfn.toString(16)}`, p.offset, areaOfPage(report, p.page) ?? '', p.kind,
      p.written ? p.flags.hex : '-', p.written ? p.flags.names.join(',') : '', p.written ? `${p.flags.node}/${p.flags.zoneName}` : '',
      p.written ? p.refcount : '', p.written ? p.mapcount : '', p.headPage ?? '', p.problems.join('; '),
    ]), ['page', 'pfn', 'byte', 'area', 'kind', 'flags', 'PG_', 'node/zone', 'ref', 'map', 'head', 'problems']);
    if (pages.length === 1 && pages[0].written) for (const w of pages[0].words) say(`  +${String(w.offset).padEnd(3)} ${w.name.padEnd(48)} ${w.hex.padEnd(20)} ${w.meaning}`);
  } finally {
    ns.close();
  }
}

export interface NamespaceCheckProblem {
  structure: string;
  page?: number;
  offset?: number;
  message: string;
}

/** Pages read per slice of the scan (4 MiB of struct pages). */
const SCAN_PAGES = 65536;

/**
 * `pmem check` on a namespace: the info block as the kernel validates it, then
 * every struct page the memmap holds, against what the kernel writes there.
 */
export function checkNamespace(file: string, report: PfnNamespaceReport, options: StructPageOptions & { maxProblems?: number }): { ok: boolean; problems: NamespaceCheckProblem[]; counts: Record<string, number>; pagesChecked: number; truncated: boolean } {
  const problems: NamespaceCheckProblem[] = [];
  const max = options.maxProblems ?? 1000;
  let truncated = false;
  const problem = (p: NamespaceCheckProblem) => {
    if (problems.length < max) problems.push(p);
    else truncated = true;
  };
  if (!report.checksum.ok) problem({ structure: 'info block', offset: 4096 + 4088, message: `checksum mismatch: stored ${report.checksum.stored}, computed ${report.checksum.computed}` });
  for (const r of report.validation.rules) if (r.verdict === 'fail') problem({ structure: 'info block', offset: 4096, message: `${r.rule}: ${r.kernel ?? r.check}` });
  const counts: Record<string, number> = {};
  const m = namespaceMemmap(report);
  if ('none' in m || !report.validation.ok) return { ok: problems.length === 0, problems, counts, pagesChecked: 0, truncated };
  const ns = openMemmap(file, report, options);
  let pagesChecked = 0;
  try {
    const { from, to } = describedPages(ns.memmap);
    const dataStart = report.layout.areas.find((a) => a.name === 'data')?.offset ?? 0;
    const firstData = Math.ceil(dataStart / 4096);
    const lastData = firstData + report.layout.dataPages;
    for (let p = from; p < to; p += SCAN_PAGES) {
      const n = Math.min(SCAN_PAGES, to - p);
      const classes = classifyPages(ns.read, ns.memmap, p, n, ns.ctx);
      for (let i = 0; i < n; i++) {
        const page = p + i;
        const c = classes[i];
        const name = PAGE_CLASS_NAMES[c];
        counts[name] = (counts[name] ?? 0) + 1;
        const inData = page >= firstData && page < lastData;
        if (c === PAGE_CLASS.suspect) problem({ structure: 'struct page', page, message: `its flags name a zone ${ns.ctx.kernel.title} does not have` });
        else if (inData && c === PAGE_CLASS.neverWritten) problem({ structure: 'struct page', page, message: 'a data page whose struct page was never written: the kernel writes one for every data page when it enables the namespace' });
        else if (inData && c !== PAGE_CLASS.device && c !== PAGE_CLASS.compoundHead && c !== PAGE_CLASS.compoundTail) problem({ structure: 'struct page', page, message: `a data page that is not a ZONE_DEVICE page (${name})` });
      }
      pagesChecked += n;
    }
    const devicePages = (counts[PAGE_CLASS_NAMES[PAGE_CLASS.device]] ?? 0) + (counts[PAGE_CLASS_NAMES[PAGE_CLASS.compoundHead]] ?? 0) + (counts[PAGE_CLASS_NAMES[PAGE_CLASS.compoundTail]] ?? 0);
    const written = pagesChecked - (counts[PAGE_CLASS_NAMES[PAGE_CLASS.neverWritten]] ?? 0);
    if (written > 0 && devicePages !== report.layout.dataPages) {
      problem({ structure: 'memmap', message: `${devicePages} ZONE_DEVICE struct pages, but the info block gives the device ${report.layout.dataPages} data pages` });
    }
  } finally {
    ns.close();
  }
  return { ok: problems.length === 0, problems, counts, pagesChecked, truncated };
}

export function printNamespaceCheck(file: string, report: PfnNamespaceReport, result: ReturnType<typeof checkNamespace>, json: boolean): void {
  if (json) {
    printJson({ file, kind: report.kind, ...result });
    return;
  }
  for (const p of result.problems) {
    const where = [p.page !== undefined ? `page ${p.page}` : '', p.offset !== undefined ? `byte ${p.offset}` : ''].filter(Boolean).join(', ');
    say(`${p.structure}${where ? ` (${where})` : ''}: ${p.message}`);
  }
  const m = namespaceMemmap(report);
  const scope = 'none' in m ? `info block only: ${m.none}` : `${result.pagesChecked} struct pages (${Object.entries(result.counts).map(([k, v]) => `${v} ${k}`).join(', ')})`;
  say(`${result.ok ? 'ok' : `${result.problems.length}${result.truncated ? '+' : ''} problem(s)`}: ${report.description}; ${scope}`);
}
