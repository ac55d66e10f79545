/** The struct page inspector: a decoded struct page, word by word, with what it means. */
import type { InspectedPage } from '../../src/shared/namespaceProtocol';
import { $, el, hexOf, row } from './dom';

export function renderPage(p: InspectedPage): void {
  const facts: Array<[string, string]> = [
    ['Page', `${p.page} (${hexOf(p.page)})${p.area ? `, in the ${p.area} area` : ''}`],
    ['Struct page', `at byte ${p.offset} (${hexOf(p.offset)}) of the file`],
    ['Kind', p.kind + (p.pageType ? ` (page type ${p.pageType})` : '')],
    ['pfn', p.pfn === undefined ? 'unknown (no vmemmap anchor in the file)' : `${hexOf(p.pfn)} (${p.pfn})`],
    ['flags', `${p.flags.hex}: ${p.flags.names.length ? p.flags.names.map((n) => `PG_${n}`).join(' | ') : 'no PG_ flags'}`],
    ['Node, zone', `node ${p.flags.node}, zone ${p.flags.zone} (${p.flags.zoneName})`],
    ['refcount', String(p.refcount)],
    ['mapcount', String(p.mapcount)],
  ];
  if (p.headPage !== undefined) facts.push(['Head page', String(p.headPage)]);
  const dl = el('dl', { class: 'facts', 'aria-label': `Struct page of page ${p.page}` }, ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-fact': k }, v)]));
  const parts: HTMLElement[] = [dl];
  if (!p.written) parts.push(el('p', { class: 'muted' }, 'Never written: all 64 bytes are zero.'));
  if (p.words.length) {
    parts.push(el('table', { class: 'grid words', 'aria-label': 'Words of the struct page' },
      el('thead', {}, el('tr', {}, ...['Word', 'Offset', 'Raw', 'Meaning'].map((h, i) => el('th', { scope: 'col', ...(i === 1 ? { class: 'num' } : {}) }, h)))),
      el('tbody', {}, ...p.words.map((w) => row([el('code', {}, w.name), `+${w.offset}`, el('code', {}, w.hex), w.meaning], [1])))));
  }
  if (p.problems.length) parts.push(el('div', { class: 'problems', role: 'alert' }, el('strong', {}, 'Problems'), el('ul', {}, ...p.problems.map((x) => el('li', {}, x)))));
  $('inspector').replaceChildren(...parts);
}

export function renderPageError(message: string): void {
  $('inspector').replaceChildren(el('p', { class: 'error', role: 'alert' }, message));
}
