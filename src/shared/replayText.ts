/** What a trace replay did, in words: `pmem replay` prints it, the editor shows it. */
import type { ReplayReport } from '../engine/replay/replay';

const n = (x: number) => x.toLocaleString('en-US');

export function replayReportLines(r: ReplayReport, trace: string): string[] {
  const lines = [
    `${trace}: ${n(r.lines)} lines, ${r.format ?? 'no events'}${r.format ? ' format' : ''}; pfn ${n(r.base)} of the trace is pfn ${n(r.base + r.offset)} of the image`,
    `events: ${Object.entries(r.events).map(([k, v]) => `${k} ${n(v)}`).join(', ')}${r.otherEvents ? `; other events ${n(r.otherEvents)}` : ''}`,
    `applied: ${n(r.applied.alloc)} allocations, ${n(r.applied.free)} frees${r.preallocated ? `; ${n(r.preallocated)} block(s) freed before the trace allocated them were allocated first` : ''}, in ${n(r.steps.length)} history steps${r.steps.length ? ` (${r.steps[0]} to ${r.steps[r.steps.length - 1]})` : ''}`,
    'never applied: mm_page_free_batched repeats a traced free; mm_page_alloc_zone_locked and mm_page_pcpu_drain move pages between per-CPU and buddy lists',
  ];
  for (const [why, count] of Object.entries(r.skipped)) lines.push(`skipped: ${n(count)} ${why}`);
  if (r.notUnderstood.count) lines.push(`not understood: ${n(r.notUnderstood.count)} line(s), first at line ${r.notUnderstood.firstLines.join(', ')}`);
  lines.push('The image now holds the trace\'s view of memory, not the kernel\'s: traces miss some allocations (bulk allocation, compaction).');
  return lines;
}
