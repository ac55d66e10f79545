/**
 * Keeps map colours readable on any theme: every colour that carries a state
 * (and every owner colour) stands out from the map's background by at least
 * 3:1, the WCAG 2 contrast for graphics needed to understand content (SC
 * 1.4.11). Theme colours that already do are kept as they are.
 */
import type { MapPalette, Rgb } from './mapRaster';

/** WCAG 2 SC 1.4.11, non-text contrast. */
export const MIN_STATE_CONTRAST = 3;

/** WCAG 2 relative luminance of an sRGB colour (0 black to 1 white). */
export function relativeLuminance(c: Rgb): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
}

/** WCAG 2 contrast ratio, 1 (same) to 21 (black on white). */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/**
 * `colour`, or the nearest mix of it with black or white (whichever lies away
 * from the background) that reaches `min` against `background`. Mixing keeps
 * the hue, so a theme's blue stays blue, only lighter or darker.
 */
export function withContrast(colour: Rgb, background: Rgb, min = MIN_STATE_CONTRAST): Rgb {
  if (contrastRatio(colour, background) >= min) return colour;
  const bgLum = relativeLuminance(background);
  // Towards white on a dark background, towards black on a light one; if that side cannot
  // reach the ratio (a mid-grey background), the other side is tried.
  const sides: Rgb[] = bgLum < 0.18 ? [[255, 255, 255], [0, 0, 0]] : [[0, 0, 0], [255, 255, 255]];
  for (const end of sides) {
    if (contrastRatio(end, background) < min) continue;
    // Contrast grows monotonically along the mix towards `end`: the smallest step that reaches it.
    const hi = edgeOf((t) => contrastRatio(mix(colour, end, t), background) >= min, 'above');
    const out = mix(colour, end, hi);
    if (contrastRatio(out, background) >= min) return out;
    return mix(colour, end, Math.min(1, hi + 0.01));
  }
  return bgLum < 0.18 ? [255, 255, 255] : [0, 0, 0];
}

/**
 * The palest tint of `colour` (mixed towards the background) that still keeps
 * `min` against it: the faint end of a shade ramp. Keeps the hue, unlike a
 * mix with grey.
 */
export function faintest(colour: Rgb, background: Rgb, min = MIN_STATE_CONTRAST): Rgb {
  if (contrastRatio(colour, background) <= min) return withContrast(colour, background, min);
  const lo = edgeOf((t) => contrastRatio(mix(colour, background, t), background) >= min, 'below');
  return withContrast(mix(colour, background, lo), background, min);
}

/**
 * Where on [0, 1] a monotone test switches, found by bisection: the last point
 * on the side where it holds ('above' the edge or 'below' it).
 */
function edgeOf(holds: (t: number) => boolean, side: 'above' | 'below'): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 20; i++) {
    const mid = (lo + hi) / 2;
    if (holds(mid) === (side === 'above')) hi = mid;
    else lo = mid;
  }
  return side === 'above' ? hi : lo;
}

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [
  Math.round(a[0] + (b[0] - a[0]) * t),
  Math.round(a[1] + (b[1] - a[1]) * t),
  Math.round(a[2] + (b[2] - a[2]) * t),
];

/** The palette with every state colour brought to at least 3:1 against its background. */
export function accessiblePalette(p: MapPalette): MapPalette {
  const on = (c: Rgb) => withContrast(c, p.background);
  return {
    ...p,
    metadata: on(p.metadata),
    memmap: on(p.memmap),
    freeSmall: on(p.freeSmall),
    freeLarge: on(p.freeLarge),
    allocated: on(p.allocated),
    never: on(p.never),
    stale: on(p.stale),
    io: on(p.io),
    orderRamp: [on(p.orderRamp[0]), on(p.orderRamp[1]), on(p.orderRamp[2])],
  };
}
