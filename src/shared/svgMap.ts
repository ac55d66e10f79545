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
}

export function svgOfMap(m: SvgMap): string {
  const rects: string[] = [];
  for (let c = 0; c < m.fills.length; c++) {
    rects.push(`<rect x="${(c % m.columns) * m.cellPx}" y="${Math.floor(c / m.columns) * m.cellPx}" width="${m.cellPx}" height="${m.cellPx}" fill="${escapeXml(m.fills[c])}"/>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${m.columns * m.cellPx}" height="${m.rows * m.cellPx}" shape-rendering="crispEdges"><title>${escapeXml(m.title)}</title>${rects.join('')}</svg>\n`;
}
