/** The check command's report, a Markdown document. The file name and problem messages (which may quote the image) are escaped. */
import type { CheckReport } from '../engine/inspect/checker';
import { escapeMarkdown } from '../shared/plainText';

export function checkReportMarkdown(fileName: string, report: CheckReport): string {
  const where = (p: CheckReport['problems'][number]) =>
    `${p.section !== undefined ? ` section ${p.section}` : ''}${p.pfn !== undefined ? ` pfn ${p.pfn}` : ''}${p.offset !== undefined ? ` byte ${p.offset}` : ''}`;
  return [
    `# Check of ${escapeMarkdown(fileName)}`, '',
    report.ok ? '**No problems found.**' : `**${report.problems.length}${report.truncated ? '+' : ''} problem(s).**`, '',
    `${report.framesChecked} frames in ${report.sectionsChecked} sections; ${report.freeBlocks} free and ${report.allocatedBlocks} allocated blocks${report.complete ? '' : ' (cancelled before the end)'}.`, '',
    ...report.problems.map((p) => `- **${escapeMarkdown(p.structure)}**${where(p)}: ${escapeMarkdown(p.message)}`),
  ].join('\n');
}
