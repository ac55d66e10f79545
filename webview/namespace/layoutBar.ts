/** The namespace's areas: a bar drawn to scale (tiny areas get a minimum width, so each keeps a label) and a table. */
import { formatBytes } from '../../src/engine/core/units';
import type { NamespaceView } from '../../src/shared/namespaceProtocol';
import { $, el, row } from './dom';

/** Area colours cycle through the theme's chart colours (see namespace.css). */
const TONES = 6;

export function renderLayout(view: NamespaceView): void {
  const areas = view.areas;
  if (!areas) return;
  $('layoutSection').hidden = false;
  $('memmapPlace').textContent = view.memmap ? `memmap ${view.memmap}` : view.kind === 'sector' ? 'BTT arena: offsets made absolute (the arena starts at byte 4096)' : '';
  $('layoutBar').replaceChildren(...areas.map((a, i) => {
    const text = `${a.name}: bytes ${a.offset}..${a.offset + a.bytes - 1}, ${formatBytes(a.bytes)} (${((a.bytes / view.size) * 100).toFixed(a.bytes / view.size < 0.01 ? 3 : 1)} %)`;
    const seg = el('div', { class: `area tone${i % TONES}`, role: 'listitem', title: `${text}\n${a.what}`, 'aria-label': text },
      el('span', { class: 'areaName' }, a.name), el('span', { class: 'areaSize' }, formatBytes(a.bytes)));
    seg.style.flexGrow = String(Math.max(a.bytes, 1));
    return seg;
  }));
  $('areas').querySelector('tbody')!.replaceChildren(...areas.map((a, i) =>
    row([el('span', { class: 'areaKey' }, el('span', { class: `swatch tone${i % TONES}`, 'aria-hidden': 'true' }), a.name), String(a.offset), String(a.offset + a.bytes - 1), formatBytes(a.bytes), a.what], [1, 2, 3])));
  $('vmemmap').textContent = view.vmemmap ? `vmemmap: ${view.vmemmap}` : '';
}
