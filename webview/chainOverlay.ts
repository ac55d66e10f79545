/**
 * A free list drawn over the map as a chain: a line from each block's head to
 * the next block's, in list order, with an arrowhead showing the direction.
 * A broken link (the block reached does not point back, or is not a free
 * block of the order, or the links cannot be read) is drawn dashed in the
 * theme's error colour with a gap and a cross where it breaks.
 */
import { cellOf, MapLayout } from '../src/shared/mapGeometry';
import type { ChainData } from '../src/shared/protocol';
import type { ThemeColours } from './palette';

let chain: ChainData | null = null;

export function setChain(c: ChainData | null): void {
  chain = c;
  const el = document.getElementById('chainLabel');
  // The line keeps its height when empty, so the map does not move when a chain comes or goes.
  if (el) {
    el.textContent = c ? `Free list ${c.label}${c.blocks.some((b) => b.broken) ? ` · broken: ${c.blocks.find((b) => b.broken)!.broken}` : ''}` : '';
  }
}

/** The theme's error colour, read once per theme. */
let errorFor: ThemeColours | undefined;
let error = '#f14c4c';
function errorColour(theme: ThemeColours): string {
  if (errorFor !== theme) {
    const style = getComputedStyle(document.body);
    error = (style.getPropertyValue('--vscode-errorForeground') || style.getPropertyValue('--vscode-charts-red')).trim() || '#f14c4c';
    errorFor = theme;
  }
  return error;
}

/** Draws the chain over the cells of a view whose first row is `rowOffset`; records what it drew on the body for tests. */
export function drawChain(ctx: CanvasRenderingContext2D, l: MapLayout, rowOffset: number, theme: ThemeColours): void {
  const body = document.body.dataset;
  if (!chain) {
    delete body.chainLinks;
    delete body.chainBroken;
    return;
  }
  const centre = (pfn: number): [number, number] => {
    const { row, column } = cellOf(l, pfn);
    return [(column + 0.5) * l.cellPx, (row - rowOffset + 0.5) * l.cellPx];
  };
  const height = ctx.canvas.height / (window.devicePixelRatio || 1);
  const inView = (a: [number, number], b: [number, number]) => Math.max(a[1], b[1]) >= 0 && Math.min(a[1], b[1]) <= height;
  const red = errorColour(theme);
  let whole = 0;
  let broken = 0;
  ctx.save();
  ctx.lineCap = 'round';
  const blocks = chain.blocks;
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i];
    const from = centre(b.pfn);
    if (b.broken) {
      const to = b.next ? centre(b.next) : undefined;
      if (to && !inView(from, to)) continue;
      if (!to && !inView(from, from)) continue;
      broken++;
      drawBroken(ctx, from, to, red, theme.labelPlate);
      continue;
    }
    const next = blocks[i + 1];
    if (!next) continue;
    const to = centre(next.pfn);
    if (!inView(from, to)) continue;
    whole++;
    drawWhole(ctx, from, to, theme.labelText, theme.labelPlate);
  }
  // Block heads on top of the lines; the list head is a ring.
  const r = Math.max(2.5, Math.min(5, l.cellPx / 3));
  blocks.forEach((b, i) => {
    const [x, y] = centre(b.pfn);
    if (y < -r || y > height + r) return;
    ctx.beginPath();
    ctx.arc(x, y, i === 0 ? r + 1.5 : r, 0, 2 * Math.PI);
    ctx.fillStyle = i === 0 ? theme.labelPlate : theme.labelText;
    ctx.strokeStyle = i === 0 ? theme.labelText : theme.labelPlate;
    ctx.lineWidth = i === 0 ? 2.5 : 1.5;
    ctx.fill();
    ctx.stroke();
  });
  ctx.restore();
  body.chainLinks = String(whole);
  body.chainBroken = String(broken);
}

/** A solid line on a halo of the background (so it reads over any cell colour), with an arrowhead two thirds along. */
function drawWhole(ctx: CanvasRenderingContext2D, a: [number, number], b: [number, number], colour: string, halo: string): void {
  for (const [style, width] of [[halo, 4.5], [colour, 2]] as const) {
    ctx.strokeStyle = style;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
  }
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
  if (len < 16) return;
  const ux = (b[0] - a[0]) / len;
  const uy = (b[1] - a[1]) / len;
  const tip: [number, number] = [a[0] + ux * len * 0.66, a[1] + uy * len * 0.66];
  ctx.fillStyle = colour;
  ctx.strokeStyle = halo;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(tip[0] + ux * 5, tip[1] + uy * 5);
  ctx.lineTo(tip[0] - ux * 5 - uy * 4.5, tip[1] - uy * 5 + ux * 4.5);
  ctx.lineTo(tip[0] - ux * 5 + uy * 4.5, tip[1] - uy * 5 - ux * 4.5);
  ctx.closePath();
  ctx.stroke();
  ctx.fill();
}

/** Dashed halves with a gap between them and a cross in the gap; with no target (unreadable links), a cross on the block. */
function drawBroken(ctx: CanvasRenderingContext2D, a: [number, number], b: [number, number] | undefined, colour: string, halo: string): void {
  const mid: [number, number] = b ? [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] : [a[0] + 10, a[1] - 10];
  const along = (t: number): [number, number] => (b ? [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t] : a);
  ctx.setLineDash([6, 4]);
  for (const [style, width] of [[halo, 4.5], [colour, 2.5]] as const) {
    ctx.strokeStyle = style;
    ctx.lineWidth = width;
    ctx.beginPath();
    if (b) {
      for (const [s, e] of [[0, 0.38], [0.62, 1]]) {
        const p = along(s);
        const q = along(e);
        ctx.moveTo(p[0], p[1]);
        ctx.lineTo(q[0], q[1]);
      }
    } else {
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(mid[0], mid[1]);
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
  const s = 5;
  for (const [style, width] of [[halo, 5], [colour, 2.5]] as const) {
    ctx.strokeStyle = style;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.moveTo(mid[0] - s, mid[1] - s);
    ctx.lineTo(mid[0] + s, mid[1] + s);
    ctx.moveTo(mid[0] + s, mid[1] - s);
    ctx.lineTo(mid[0] - s, mid[1] + s);
    ctx.stroke();
  }
}
