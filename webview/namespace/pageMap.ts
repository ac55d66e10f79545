/**
 * The page map: one cell per group of pages, coloured by its most telling
 * page class (the tooltip gives the exact mix). Arrow keys move through the
 * cells, Enter (or a click) inspects the cell's first page.
 */
import { PAGE_CLASS_NAMES } from '../../src/engine/format/linux/structPage';
import { CLASS_COUNT, mixText, tellingClass } from '../../src/shared/pageClassCells';
import type { MapSlice, NamespaceMapShape } from '../../src/shared/namespaceProtocol';
import { $, el } from './dom';

export class PageMap {
  private readonly grid = $('pageMap');
  private readonly counts: Uint32Array;
  private readonly cells: HTMLElement[] = [];
  private readonly totals = new Array<number>(CLASS_COUNT).fill(0);
  private done = 0;
  private current = 0;

  constructor(private readonly shape: NamespaceMapShape, private readonly inspect: (page: number) => void) {
    this.counts = new Uint32Array(shape.cells * CLASS_COUNT);
    const frag = document.createDocumentFragment();
    for (let i = 0; i < shape.cells; i++) {
      const c = el('div', { class: 'cell pending', role: 'option', id: `cell-${i}`, 'aria-selected': 'false', 'data-cell': String(i) });
      c.title = `${this.rangeText(i)}\nnot classified yet`;
      this.cells.push(c);
      frag.append(c);
    }
    this.grid.setAttribute('role', 'listbox');
    this.grid.replaceChildren(frag);
    this.grid.addEventListener('click', (e) => {
      const cell = (e.target as HTMLElement).closest<HTMLElement>('.cell');
      if (!cell) return;
      this.moveTo(Number(cell.dataset.cell));
      this.inspect(this.firstPageOf(this.current));
    });
    this.grid.addEventListener('keydown', (e) => this.onKey(e));
    this.renderLegend();
    this.renderInfo();
  }

  private firstPageOf(cell: number): number {
    return cell * this.shape.pagesPerCell;
  }

  private rangeText(cell: number): string {
    const a = this.firstPageOf(cell);
    const b = Math.min(this.shape.pages, a + this.shape.pagesPerCell) - 1;
    return a === b ? `page ${a}` : `pages ${a}–${b} (${b - a + 1} pages)`;
  }

  add(s: MapSlice): void {
    const cells = s.counts.length / CLASS_COUNT;
    this.counts.set(s.counts, s.firstCell * CLASS_COUNT);
    for (let i = 0; i < cells; i++) {
      const at = i * CLASS_COUNT;
      const cell = this.cells[s.firstCell + i];
      if (!cell) continue;
      const telling = tellingClass(s.counts, at);
      const mixed = s.counts.subarray(at, at + CLASS_COUNT).filter((n) => n > 0).length > 1;
      cell.className = `cell c${telling}${mixed ? ' mixed' : ''}${s.firstCell + i === this.current ? ' cur' : ''}`;
      cell.title = `${this.rangeText(s.firstCell + i)}\n${mixText(s.counts, at)}`;
      for (let c = 0; c < CLASS_COUNT; c++) this.totals[c] += s.counts[at + c];
    }
    this.done = Math.max(this.done, s.done);
    this.renderInfo();
    this.renderLegend();
  }

  failed(message: string): void {
    $('mapInfo').textContent = `The page map stopped: ${message}`;
  }

  /** Marks the cell holding `page` as the inspected one. */
  showPage(page: number): void {
    const cell = Math.floor(page / this.shape.pagesPerCell);
    this.grid.querySelectorAll('.cell.sel').forEach((c) => { c.classList.remove('sel'); c.setAttribute('aria-selected', 'false'); });
    const c = this.cells[cell];
    if (!c) return;
    c.classList.add('sel');
    c.setAttribute('aria-selected', 'true');
    this.moveTo(cell, false);
  }

  private renderInfo(): void {
    const s = this.shape;
    const per = s.pagesPerCell === 1 ? 'one page per cell' : `${s.pagesPerCell} pages per cell`;
    const progress = this.done >= s.pages ? `all ${s.pages} pages classified` : `classified ${this.done} of ${s.pages} pages…`;
    $('mapInfo').textContent = `${s.cells} cells, ${per}; struct pages in the file for pages ${s.described.from}–${s.described.to - 1}; ${progress}. A cell takes the colour of its most telling class; its tooltip gives the exact mix.`;
    $('app').setAttribute('aria-busy', String(this.done < s.pages));
  }

  private renderLegend(): void {
    $('mapLegend').replaceChildren(...PAGE_CLASS_NAMES.map((name, c) =>
      el('span', { class: 'chip', 'data-class': String(c) }, el('span', { class: `swatch c${c}`, 'aria-hidden': 'true' }), `${name}: ${this.totals[c]}`)));
  }

  private columns(): number {
    const cols = getComputedStyle(this.grid).gridTemplateColumns.split(' ').filter(Boolean).length;
    return Math.max(1, cols);
  }

  private moveTo(cell: number, scroll = true): void {
    this.cells[this.current]?.classList.remove('cur');
    this.current = Math.min(Math.max(0, cell), this.cells.length - 1);
    const c = this.cells[this.current];
    c.classList.add('cur');
    this.grid.setAttribute('aria-activedescendant', c.id);
    if (scroll) c.scrollIntoView({ block: 'nearest' });
  }

  private onKey(e: KeyboardEvent): void {
    const step: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -this.columns(), ArrowDown: this.columns(), Home: -this.current, End: this.cells.length };
    if (e.key in step) {
      this.moveTo(this.current + step[e.key]);
      e.preventDefault();
    } else if (e.key === 'Enter' || e.key === ' ') {
      this.inspect(this.firstPageOf(this.current));
      e.preventDefault();
    }
  }
}
