/** The legend under the map: what each colour means, for the image, the overlay and the owners in view. */
import { noFreeColour, orderRampColours, ownerColour, Rgb } from '../../src/shared/mapRaster';
import { ownerPalette } from '../../src/shared/ownerPalette';
import { ioColour } from '../ioOverlay';
import { LegendEntry, swatchCss } from '../legend';
import { REGION_LABELS } from '../../src/engine/format/layout';
import { $, slotsFor, view } from './model';
import { memmapLegendWords } from '../../src/shared/words';

/** Whether the image has descriptors on the device (core64's per frame, 2m's per 2 MiB): the map shows their region. */
const memmapOnDevice = () => !!view.state?.image.regions.some((r) => r.label === REGION_LABELS.memmap);

/** The legend's entries for the image and the owners in view. */
function legendEntries(): LegendEntry[] {
  if (!view.state) return [];
  const p = view.theme.palette;
  // The owners in view, in slot order; those beyond the palette grouped as "other owners", named.
  const slots = slotsFor({ owners: (view.cells?.owners ?? []).filter(Boolean) });
  const inView = [...new Set((view.cells?.owners ?? []).filter(Boolean))].sort((a, b) => (slots.get(a) ?? -1) - (slots.get(b) ?? -1) || a.localeCompare(b));
  const coloured = inView.filter((o) => (slots.get(o) ?? -1) >= 0);
  const others = inView.filter((o) => (slots.get(o) ?? -1) < 0);
  const op = ownerPalette(p);
  const solid = (colour: Rgb, label: string): LegendEntry => ({ swatch: { kind: 'solid', colour }, label });
  if (view.overlay) {
    const ramp = orderRampColours(p, view.state.image.maxOrder);
    const faded = noFreeColour(p);
    return [
      solid(p.metadata, 'metadata (superblock, tables, journal, history)'),
      memmapOnDevice() ? solid(p.memmap, memmapLegendWords(view.state.design)) : undefined,
      { swatch: { kind: 'gradient', from: ramp[0], via: ramp[Math.floor(ramp.length / 2)], to: ramp[ramp.length - 1] }, label: 'largest free block in the cell, from the free lists:' },
      ...ramp.map((c, o) => solid(c, `order ${o}`)),
      solid(faded, 'no free block in the cell (allocated)'),
      solid(p.never, 'never initialised (not on the free lists yet)'),
      { swatch: { kind: 'outline', css: view.theme.selection }, label: 'selected' },
    ].filter((e): e is LegendEntry => e !== undefined);
  }
  return [
    solid(p.metadata, 'metadata (superblock, tables, journal, history)'),
    memmapOnDevice() ? solid(p.memmap, memmapLegendWords(view.state.design)) : undefined,
    { swatch: { kind: 'gradient', from: p.freeSmall, to: p.freeLarge }, label: `free blocks, shaded by order: faintest order 0 → strongest order ${view.state.image.maxOrder}` },
    solid(p.allocated, 'allocated'),
    ...coloured.map((o) => solid(ownerColour(o, p, slots)!, `owner ${o}`)),
    others.length ? { swatch: { kind: 'stripes', colour: op.other, stripe: op.otherStripe }, label: `other owners: ${others.join(', ')}` } : undefined,
    solid(p.never, 'never initialised'),
    { swatch: { kind: 'hatch', colour: p.stale, under: p.never }, label: 'stale (initialised in an earlier boot): hatched over the dimmed state it holds' },
    { swatch: { kind: 'outline', css: view.theme.selection }, label: 'selected' },
    { swatch: { kind: 'outline', css: view.theme.band }, label: 'node / zone boundary' },
    view.state.io ? { swatch: { kind: 'outline', css: ioColour(view.theme) }, label: 'descriptor attached from the I/O pool (I/O in flight)' } : undefined,
  ].filter((e): e is LegendEntry => e !== undefined);
}

export function renderLegend(): void {
  if (!view.state) return;
  $('legend').replaceChildren(...legendEntries().map((e) => {
    const item = document.createElement('span');
    item.className = 'chip';
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    // Colours are set through the DOM, not inline style attributes (the page's CSP forbids those).
    const css = swatchCss(e.swatch);
    swatch.style.background = css.background;
    if (css.outline) {
      swatch.dataset.outline = e.swatch.kind === 'outline' && e.swatch.css === view.theme.selection ? 'selection' : 'band';
      swatch.style.outline = css.outline;
    }
    item.append(swatch, document.createTextNode(e.label)); // an owner tag is text, never markup
    return item;
  }));
}
