/** Map colours from the VS Code theme's variables, re-read when the theme changes. */
import { accessiblePalette, faintest, withContrast } from '../src/shared/mapContrast';
import type { MapPalette, Rgb } from '../src/shared/mapRaster';

const probe = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;

/** Any CSS colour (hex, rgb(), named) as RGB, composited on the editor background. */
function rgbOf(css: string, fallback: Rgb, background: Rgb = [0, 0, 0]): Rgb {
  if (!css.trim()) return fallback;
  probe.fillStyle = `rgb(${background.join(',')})`;
  probe.fillRect(0, 0, 1, 1);
  probe.fillStyle = fallbackCss(fallback);
  probe.fillStyle = css.trim(); // ignored if invalid, leaving the fallback
  probe.fillRect(0, 0, 1, 1);
  const d = probe.getImageData(0, 0, 1, 1).data;
  return [d[0], d[1], d[2]];
}

const fallbackCss = (c: Rgb) => `rgb(${c.join(',')})`;
const mixRgb = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t].map(Math.round) as unknown as Rgb;

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export function themeKind(): ThemeKind {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  return c.contains('vscode-light') ? 'light' : 'dark';
}

export interface ThemeColours {
  palette: MapPalette;
  /** Outline colours for overlays. */
  selection: string;
  grid: string;
  band: string;
  outline: string;
  flash: string;
  /** Labels drawn on the map: the theme's text colour on a plate of its background. */
  labelText: string;
  labelPlate: string;
}

export function readTheme(): ThemeColours {
  const style = getComputedStyle(document.body);
  const v = (name: string) => style.getPropertyValue(`--vscode-${name}`);
  const kind = themeKind();
  const light = kind === 'light' || kind === 'high-contrast-light';
  const background = rgbOf(v('editor-background'), light ? [255, 255, 255] : [30, 30, 30]);
  const on = (name: string, fallback: Rgb) => rgbOf(v(name), fallback, background);
  const green = on('charts-green', light ? [56, 138, 52] : [137, 209, 133]);
  const foreground = on('foreground', light ? [59, 59, 59] : [204, 204, 204]);
  const hc = kind.startsWith('high-contrast');
  // Theme colours as they are where they reach 3:1 against the background; lightened or
  // darkened (same hue) where not. Metadata sits near the foreground, far from the grey of
  // never-initialised sections; free blocks shade from the faintest readable green to a strong one.
  const palette: MapPalette = accessiblePalette({
    background,
    metadata: mixRgb(foreground, background, 0.1),
    memmap: on('charts-purple', light ? [101, 43, 180] : [176, 140, 227]),
    freeSmall: faintest(green, background),
    freeLarge: withContrast(green, background, 6),
    allocated: on('charts-blue', light ? [26, 133, 255] : [55, 148, 255]),
    never: mixRgb(foreground, background, hc ? 0.75 : light ? 0.8 : 0.84),
    stale: on('charts-yellow', light ? [191, 136, 3] : [204, 167, 0]),
    io: on('charts-orange', light ? [195, 105, 0] : [209, 134, 22]),
    ownerLightness: light ? 0.42 : 0.64,
    // The overlay's scale: red where only small blocks are free, through yellow, to blue where large ones are.
    orderRamp: [on('charts-red', light ? [205, 49, 49] : [241, 76, 76]), on('charts-yellow', light ? [191, 136, 3] : [204, 167, 0]), on('charts-blue', light ? [26, 133, 255] : [55, 148, 255])],
  });
  return {
    palette,
    selection: v('focusBorder').trim() || (light ? '#0090f1' : '#007fd4'),
    grid: fallbackCss(mixRgb(foreground, background, 0.55)),
    // High contrast themes use orange for focus: boundaries take blue there so the two stay apart.
    band: (hc ? v('charts-blue') : v('charts-orange')).trim() || (hc ? '#3794ff' : '#d18616'),
    outline: fallbackCss(mixRgb(background, foreground, 0.15)),
    flash: light ? 'rgba(0,0,0,' : 'rgba(255,255,255,',
    labelText: fallbackCss(foreground),
    labelPlate: fallbackCss(background),
  };
}

export function cssOf(c: Rgb): string {
  return fallbackCss(c);
}
