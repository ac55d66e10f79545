/**
 * The History list: every step, the latest first, drawn as a window of rows
 * around what is scrolled into view (a history of 100,000 steps costs a
 * screenful of buttons). It keeps its steps and takes the host's updates:
 * steps added and dropped, not the whole list. The host sends only the
 * newest texts; the others are asked for as their rows come into view.
 */
import { applyStepsUpdate, fillStepTexts, MAX_STEP_TEXTS, Step, StepsUpdate } from '../src/engine/inspect/steps';
import { needsDrawing, rowWindow, RowWindow } from '../src/shared/timelineWindow';

const DEFAULT_ROW_PX = 18;

export class StepList {
  /** Oldest first; shown newest first. */
  steps: Step[] = [];
  private current = 0;
  private rowPx = DEFAULT_ROW_PX;
  private drawn?: RowWindow;

  /** The first step of the texts asked for and not yet come (one request at a time). */
  private asking?: number;

  constructor(
    private readonly list: HTMLOListElement,
    choose: (step: number) => void,
    /** Asks the host for the texts of steps `from` to `to`. */
    private readonly fetchTexts: (from: number, to: number) => Promise<Step[]>,
    /** Told when texts have come (the timeline's label may show one). */
    private readonly onTexts: () => void = () => undefined,
  ) {
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

  /** The text of a step, or undefined while it is not known yet. */
  text(seq: number): string | undefined {
    return this.steps[seq - this.first]?.text;
  }

  /** Asks for the texts of the rows drawn that have none, a window at a time; draws again when they come. */
  private askForTexts(seqs: number[]): void {
    if (!seqs.length || this.asking !== undefined) return;
    const from = Math.min(...seqs);
    const to = Math.min(Math.max(...seqs), from + MAX_STEP_TEXTS - 1);
    this.asking = from;
    this.fetchTexts(from, to).then(
      (texts) => {
        fillStepTexts(this.steps, texts);
        this.asking = undefined;
        this.drawn = undefined;
        this.draw();
        this.onTexts();
      },
      () => (this.asking = undefined),
    );
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
    const missing: number[] = [];
    for (let row = w.from; row < w.to; row++) {
      const x = this.steps[n - 1 - row];
      const li = document.createElement('li');
      li.setAttribute('aria-setsize', String(n));
      li.setAttribute('aria-posinset', String(row + 1));
      const b = document.createElement('button');
      b.className = 'step' + (x.seq === this.current ? ' current' : '');
      b.dataset.seq = String(x.seq);
      b.textContent = `${x.seq}. ${x.text ?? '…'}`; // summaries come from the image: text, never markup
      if (x.text === undefined) {
        missing.push(x.seq);
        b.setAttribute('aria-busy', 'true');
      }
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
    this.askForTexts(missing);
  }
}
