/**
 * Printing: JSON for scripts, aligned text for people. Text may quote the
 * image (owner tags, history summaries, profile names), so control characters
 * are shown as escapes, never sent to the terminal.
 */
import { printable } from '../shared/plainText';

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printTable(rows: Array<Array<string | number>>, header?: string[]): void {
  // A cell stays on its line: line breaks are escaped too.
  const all = (header ? [header, ...rows] : rows).map((r) => r.map((c) => (typeof c === 'number' ? c : printable(c).replace(/\n/g, '\\n'))));
  const widths = all[0]?.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length))) ?? [];
  const line = (r: Array<string | number>) => r.map((c, i) => (typeof c === 'number' ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ').trimEnd();
  const out = all.map(line);
  if (header) out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  process.stdout.write(out.join('\n') + '\n');
}

export function say(text: string): void {
  process.stdout.write(printable(text) + '\n');
}
