/**
 * The map's legend as data: each entry a swatch and its words, shown as
 * chips (Export Map draws its own legend on the host: see mapPicture.ts).
 */
import { cssOf } from './palette';
import type { Rgb } from '../src/shared/mapRaster';

export type Swatch =
  | { kind: 'solid'; colour: Rgb }
  /** Free blocks, faintest at order 0 to strongest at the maximum order. */
  | { kind: 'gradient'; from: Rgb; to: Rgb; via?: Rgb }
  /** Owners beyond the palette: vertical stripes. */
  | { kind: 'stripes'; colour: Rgb; stripe: Rgb }
  /** Stale frames: a diagonal hatch over the state they hold. */
  | { kind: 'hatch'; colour: Rgb; under: Rgb }
  /** Drawn as a frame around the cells: the selection, node and zone boundaries. */
  | { kind: 'outline'; css: string };

export interface LegendEntry {
  swatch: Swatch;
  /** Plain text: an owner tag from the image is shown as the characters it holds. */
  label: string;
}

/** The swatch as a CSS background (or outline) for the page's chips. */
export function swatchCss(s: Swatch): { background: string; outline?: string } {
  switch (s.kind) {
    case 'solid': return { background: cssOf(s.colour) };
    case 'gradient': return { background: `linear-gradient(90deg, ${[s.from, s.via, s.to].filter((c): c is Rgb => c !== undefined).map(cssOf).join(', ')})` };
    case 'stripes': return { background: `repeating-linear-gradient(90deg, ${cssOf(s.colour)} 0 3px, ${cssOf(s.stripe)} 3px 6px)` };
    case 'hatch': return { background: `repeating-linear-gradient(135deg, ${cssOf(s.colour)} 0 2px, ${cssOf(s.under)} 2px 5px)` };
    case 'outline': return { background: 'transparent', outline: `2px solid ${s.css}` };
  }
}
