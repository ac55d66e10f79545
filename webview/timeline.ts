/**
 * The History list: every step, the latest first, drawn as a window of rows
 * around what is scrolled into view (a history of 100,000 steps costs a
 * screenful of buttons). It keeps its steps and takes the host's updates:
 * steps added and dropped, not the whole list.
 */
import { applyStepsUpdate, Step, StepsUpdate } from '../src/engine/inspect/steps';
import { needsDrawing, rowWindow, RowWindow } from '../src/shared/timelineWindow';

const DEFAULT_ROW_PX = 18;

export class StepList {
  /** Oldest first; shown newest first. */
  steps: Step[] = [];
  private current = 0;
  private rowPx = DEFAULT_ROW_PX;
  private drawn?: RowWindow;

  constructor(private readonly list: HTMLOListElement, choose: (step: number) => void) {
    list.addEventListener('scroll', () => {
      if (needsDrawing(this.drawn, this.steps.length, this.rowPx, list.scrollTop, list.clientHeight)) this.draw();
    });
    // One listener for every row: rows come and go as the list scrolls.
    list.addEventListener('click', (e) => {
      const seq = (e.target as HTMLElement).closest<HTMLElement>('button.step')?.dataset.seq;
      if (seq !== undefined) choose(Number(seq));
    });
    new ResizeObserver(() => {
      if (needsDrawing(this.drawn, this.steps.length, this.rowPx, list.scrollTop, list.clientHeight)) this.draw();
    }).observe(list);
  }

  update(u: StepsUpdate): void {
    this.steps = applyStepsUpdate(this.steps, u);
    this.drawn = undefined;
  }

  get first(): number {
    return this.steps[0]?.seq ?? 0;
  }

  get last(): number {
    return this.steps[this.steps.length - 1]?.seq ?? 0;
  }

  text(seq: number): string {
    return this.steps[seq - this.first]?.text ?? '';
  }

  /** Draws the rows in view, `current` marked; call after update. */
  show(current: number): void {
    this.current = current;
    this.draw();
  }

  private draw(): void {
    const list = this.list;
    const n = this.steps.length;
    const w = rowWindow(n, this.rowPx, list.scrollTop, list.clientHeight);
    const rows: HTMLLIElement[] = [];
    for (let row = w.from; row < w.to; row++) {
      const x = this.steps[n - 1 - row];
      const li = document.createElement('li');
      li.setAttribute('aria-setsize', String(n));
      li.setAttribute('aria-posinset', String(row + 1));
      const b = document.createElement('button');
      b.className = 'step' + (x.seq === this.current ? ' current' : '');
      b.dataset.seq = String(x.seq);
      b.textContent = `${x.seq}. ${x.text}`; // summaries come from the image: text, never markup
      b.setAttribute('aria-current', x.seq === this.current ? 'step' : 'false');
      li.append(b);
      rows.push(li);
    }
    // The rows not drawn are two empty items of their height, so the scroll bar is the whole list's.
    const spacer = (rowCount: number) => {
      const li = document.createElement('li');
      li.className = 'stepsSpacer';
      li.setAttribute('role', 'presentation');
      li.setAttribute('aria-hidden', 'true');
      li.style.height = `${rowCount * this.rowPx}px`;
      return li;
    };
    const above = spacer(w.from);
    const below = spacer(n - w.to);
    list.replaceChildren(above, ...rows, below);
    const measured = rows[0]?.offsetHeight;
    if (measured && measured !== this.rowPx) {
      this.rowPx = measured;
      above.style.height = `${w.from * measured}px`;
      below.style.height = `${(n - w.to) * measured}px`;
    }
    this.drawn = w;
    list.dataset.rowsDrawn = String(rows.length);
  }
}
