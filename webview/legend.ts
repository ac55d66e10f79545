/**
 * The map's legend as data: each entry a swatch and its words. The page
 * shows it as chips; Export Map draws the same entries under the picture,
 * so an exported PNG explains itself.
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

const SWATCH = 12;
const ROW = 18;
const PAD = 8;

/** Paints one swatch with its top left corner at (x, y), SWATCH pixels square. */
function paintSwatch(ctx: CanvasRenderingContext2D, s: Swatch, x: number, y: number): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(x, y, SWATCH, SWATCH);
  ctx.clip();
  switch (s.kind) {
    case 'solid':
      ctx.fillStyle = cssOf(s.colour);
      ctx.fillRect(x, y, SWATCH, SWATCH);
      break;
    case 'gradient': {
      const g = ctx.createLinearGradient(x, 0, x + SWATCH, 0);
      g.addColorStop(0, cssOf(s.from));
      if (s.via) g.addColorStop(0.5, cssOf(s.via));
      g.addColorStop(1, cssOf(s.to));
      ctx.fillStyle = g;
      ctx.fillRect(x, y, SWATCH, SWATCH);
      break;
    }
    case 'stripes':
      ctx.fillStyle = cssOf(s.colour);
      ctx.fillRect(x, y, SWATCH, SWATCH);
      ctx.fillStyle = cssOf(s.stripe);
      for (let dx = 3; dx < SWATCH; dx += 6) ctx.fillRect(x + dx, y, 3, SWATCH);
      break;
    case 'hatch':
      ctx.fillStyle = cssOf(s.under);
      ctx.fillRect(x, y, SWATCH, SWATCH);
      ctx.strokeStyle = cssOf(s.colour);
      ctx.lineWidth = 2;
      for (let d = -SWATCH; d < SWATCH * 2; d += 5) {
        ctx.beginPath();
        ctx.moveTo(x + d, y);
        ctx.lineTo(x + d + SWATCH, y + SWATCH);
        ctx.stroke();
      }
      break;
    case 'outline':
      ctx.strokeStyle = s.css;
      ctx.lineWidth = 2;
      ctx.strokeRect(x + 1, y + 1, SWATCH - 2, SWATCH - 2);
      break;
  }
  ctx.restore();
}

/** Entries laid out left to right, wrapping at `width` CSS pixels: each entry's position, and the height used. */
function flow(ctx: CanvasRenderingContext2D, entries: LegendEntry[], width: number): { at: Array<[number, number]>; height: number } {
  const at: Array<[number, number]> = [];
  let x = PAD;
  let y = PAD;
  for (const e of entries) {
    const w = SWATCH + 6 + Math.ceil(ctx.measureText(e.label).width) + 16;
    if (x > PAD && x + w > width - PAD) {
      x = PAD;
      y += ROW;
    }
    at.push([x, y]);
    x += w;
  }
  return { at, height: entries.length ? y + ROW + PAD : 0 };
}

export interface LegendPicture {
  /** CSS pixels; the picture is drawn at `dpr` device pixels per CSS pixel. */
  width: number;
  dpr: number;
  text: string;
  background: string;
  font: string;
}

/**
 * Draws `picture` (the map and its axis, in device pixels) with the legend
 * under it, on the background, and returns the canvas.
 */
export function pictureWithLegend(picture: HTMLCanvasElement, entries: LegendEntry[], p: LegendPicture): HTMLCanvasElement {
  const out = document.createElement('canvas');
  const ctx = out.getContext('2d')!;
  ctx.font = p.font;
  const { at, height } = flow(ctx, entries, p.width);
  out.width = picture.width;
  out.height = picture.height + Math.ceil(height * p.dpr);
  ctx.fillStyle = p.background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(picture, 0, 0);
  ctx.setTransform(p.dpr, 0, 0, p.dpr, 0, picture.height);
  ctx.font = p.font; // resizing the canvas reset it
  ctx.textBaseline = 'middle';
  entries.forEach((e, i) => {
    const [x, y] = at[i];
    paintSwatch(ctx, e.swatch, x, y);
    ctx.fillStyle = p.text;
    ctx.fillText(e.label, x + SWATCH + 6, y + SWATCH / 2);
  });
  return out;
}
