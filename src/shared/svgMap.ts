/**
 * The map view as an SVG drawing: one square per cell, and a title naming
 * the image and the range shown. The title holds the file name, so it is
 * XML-escaped: the file stays well-formed and shows the name as text.
 */
import { escapeXml } from './plainText';

export interface SvgMap {
  columns: number;
  rows: number;
  cellPx: number;
  /** #rrggbb per cell, row by row. */
  fills: string[];
  title: string;
  /** Runs of cells under I/O, row by row (first cell, cells), outlined in `ioColour` over a faint fill. */
  io?: Array<{ cell: number; cells: number }>;
  ioColour?: string;
}

export function svgOfMap(m: SvgMap): string {
  const rects: string[] = [];
  for (let c = 0; c < m.fills.length; c++) {
    rects.push(`<rect x="${(c % m.columns) * m.cellPx}" y="${Math.floor(c / m.columns) * m.cellPx}" width="${m.cellPx}" height="${m.cellPx}" fill="${escapeXml(m.fills[c])}"/>`);
  }
  const colour = escapeXml(m.ioColour ?? '#d18616');
  for (const run of m.io ?? []) {
    const x = (run.cell % m.columns) * m.cellPx;
    const y = Math.floor(run.cell / m.columns) * m.cellPx;
    rects.push(`<rect class="io" x="${x + 1}" y="${y + 1}" width="${Math.max(1, run.cells * m.cellPx - 2)}" height="${Math.max(1, m.cellPx - 2)}" fill="${colour}" fill-opacity="0.35" stroke="${colour}" stroke-width="2"/>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${m.columns * m.cellPx}" height="${m.rows * m.cellPx}" shape-rendering="crispEdges"><title>${escapeXml(m.title)}</title>${rects.join('')}</svg>\n`;
}
