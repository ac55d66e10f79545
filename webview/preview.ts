/**
 * What the map shows while the cells of a new view are on their way: a
 * preview of the new layout sampled from the cells it already holds (the last
 * window, the overview strip), a thin loading bar over the canvas, and the
 * summary line held back until the map shows the same state. The sampling and
 * the hold are plain logic (tested in Node); only LoadingBar touches the page.
 */
import { DETAIL_FRAMES_PER_CELL, MIX_STRIDE, OWNER_TAG } from '../src/engine/inspect/mapCodes';

export interface CellWindow {
  firstPfn: number;
  framesPerCell: number;
  cells: number;
}

/** Cells the map already holds: a window with its mix, tags and owners. */
export interface HeldCells extends CellWindow {
  version: number;
  mix: Uint8Array;
  tag: Uint16Array;
  owners: string[];
  /** The overlay's largest free order per cell, when the cells came with it. */
  largestFree?: Uint8Array;
}

/** A preview has the shape of an answer from the host, without block outlines (it knows no block heads). */
export interface PreviewCells extends HeldCells {
  type: 'cells';
  id: number;
  detailed: false;
  blocks: number[];
}

const sameWindow = (a: CellWindow, b: CellWindow) => a.firstPfn === b.firstPfn && a.framesPerCell === b.framesPerCell && a.cells === b.cells;

/**
 * What the map draws for the window it asked for: the cells held when they
 * are that window's, else a preview of it from them and the overview,
 * sampled again only when one of those changes. Never the held cells of
 * another window in the new layout.
 */
export class Previews {
  private last?: { want: CellWindow; cells?: HeldCells; overview?: HeldCells; preview: PreviewCells };
  /** How long the last sampling took, in ms. */
  sampleMs = 0;

  picture<C extends HeldCells>(want: CellWindow | undefined, cells: C | undefined, overview: C | undefined, totalFrames: number): C | PreviewCells | undefined {
    if (!want || (cells && sameWindow(cells, want))) return cells;
    const l = this.last;
    if (l && l.want === want && l.cells === cells && l.overview === overview) return l.preview;
    const started = performance.now();
    const preview = previewCells(want, totalFrames, [cells, overview]);
    this.sampleMs = performance.now() - started;
    this.last = { want, cells, overview, preview };
    return preview;
  }
}

/**
 * Cells for `want` from held cells, without asking the host. Each new cell
 * takes its colour from the first source (in order of preference) that covers
 * all of its frames: one source cell (zooming in: the parent) gives its mix and
 * tag as they are; several (zooming out) give their mix weighted by the frames
 * each shares with the new cell. Cells beyond the device, or that no source
 * covers, stay empty (drawn as the background). Owner tags are renumbered into
 * the preview's own owner list. The version is the oldest of the sources used.
 */
export function previewCells(want: CellWindow, totalFrames: number, sources: ReadonlyArray<HeldCells | undefined>): PreviewCells {
  const { firstPfn, framesPerCell: fpc, cells: n } = want;
  const mix = new Uint8Array(n * MIX_STRIDE);
  const tag = new Uint16Array(n);
  const owners: string[] = [];
  const ownerIndex = new Map<string, number>();
  const filled = new Uint8Array(n);
  // The overlay is previewed too when every source used has it: each new cell the largest order of those it covers.
  const largest = new Uint8Array(n).fill(0xff);
  let overlaid = true;
  const sums = new Float64Array(MIX_STRIDE);
  const versions: number[] = [];
  // Cells past the last frame keep no colour.
  const inDevice = Math.max(0, Math.min(n, Math.ceil((totalFrames - firstPfn) / fpc)));
  for (const s of sources) {
    if (!s) continue;
    const { mix: sMix, tag: sTag, framesPerCell: sf, firstPfn: sFirst } = s;
    const sEnd = Math.min(sFirst + s.cells * sf, totalFrames);
    // The new cells this source covers whole form one run.
    const lo = Math.max(0, Math.ceil((sFirst - firstPfn) / fpc));
    let hi = Math.min(inDevice, Math.floor((sEnd - firstPfn) / fpc));
    if (hi < inDevice && Math.min(firstPfn + (hi + 1) * fpc, totalFrames) <= sEnd) hi++; // the device's last, partial cell
    if (lo >= hi) continue;
    versions.push(s.version);
    const sLargest = s.largestFree;
    if (!sLargest) overlaid = false;
    // The source's owner index to the preview's, filled as owners are met.
    const remap = new Map<number, number>();
    const tagOf = (t: number): number => {
      if (t < OWNER_TAG) return t;
      let i = remap.get(t);
      if (i === undefined) {
        const owner = s.owners[t - OWNER_TAG] ?? '';
        i = ownerIndex.get(owner);
        if (i === undefined) ownerIndex.set(owner, (i = owners.push(owner) - 1));
        remap.set(t, i);
      }
      return OWNER_TAG + i;
    };
    for (let c = lo; c < hi; c++) {
      if (filled[c]) continue;
      filled[c] = 1;
      const a = firstPfn + c * fpc;
      const b = Math.min(a + fpc, totalFrames);
      const k0 = Math.floor((a - sFirst) / sf);
      const k1 = Math.floor((b - 1 - sFirst) / sf);
      const m = c * MIX_STRIDE;
      if (sLargest) {
        for (let k = k0; k <= k1; k++) if (sLargest[k] !== 0xff && (largest[c] === 0xff || sLargest[k] > largest[c])) largest[c] = sLargest[k];
      }
      if (k0 === k1) {
        for (let ch = 0; ch < MIX_STRIDE; ch++) mix[m + ch] = sMix[k0 * MIX_STRIDE + ch];
        const t = sTag[k0];
        if (t) tag[c] = tagOf(t);
        continue;
      }
      sums.fill(0);
      let common = sTag[k0];
      for (let k = k0; k <= k1; k++) {
        const start = sFirst + k * sf;
        const frames = Math.min(b, start + sf) - Math.max(a, start);
        for (let ch = 0; ch < MIX_STRIDE; ch++) sums[ch] += sMix[k * MIX_STRIDE + ch] * frames;
        if (sTag[k] !== common) common = 0;
      }
      for (let ch = 0; ch < MIX_STRIDE; ch++) mix[m + ch] = Math.round(sums[ch] / (b - a));
      // The host tags only cells it reads block by block; coarser cells it leaves untagged.
      if (common && fpc <= DETAIL_FRAMES_PER_CELL) tag[c] = tagOf(common);
    }
  }
  return { type: 'cells', id: 0, version: versions.length ? Math.min(...versions) : 0, firstPfn, framesPerCell: fpc, cells: n, detailed: false, mix, tag, owners, blocks: [], ...(overlaid && versions.length ? { largestFree: largest } : {}) };
}

interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The summary line never runs ahead of the map: the text of a new state
 * waits until the map has drawn cells of that version or newer, so the
 * numbers beside the map always describe the picture (holding the text reads
 * better than a new summary beside a map marked stale, and the wait is one
 * fetch of cells). Before the map has drawn anything there is nothing to
 * disagree with, and if the cells take longer than `ceilingMs` the text is
 * shown anyway, the map still marked as loading.
 */
export class SummaryHold {
  private drawnVersion = -1;
  private held?: { text: string; version: number };
  private timer: unknown;

  constructor(
    private readonly write: (text: string) => void,
    /** Told when a summary starts or stops waiting (the page marks the line busy). */
    private readonly mark: (held: boolean) => void = () => undefined,
    private readonly ceilingMs = 2000,
    private readonly timers: Timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) },
  ) {}

  /** The summary of state `version`. */
  offer(text: string, version: number): void {
    if (this.drawnVersion < 0 || version <= this.drawnVersion) {
      this.release(text);
      return;
    }
    if (!this.held) this.mark(true);
    this.held = { text, version };
    if (this.timer === undefined) this.timer = this.timers.setTimeout(() => this.held && this.release(this.held.text), this.ceilingMs);
  }

  /** The map has drawn cells of `version`. */
  drawn(version: number): void {
    this.drawnVersion = Math.max(this.drawnVersion, version);
    if (this.held && this.held.version <= this.drawnVersion) this.release(this.held.text);
  }

  /** Whether a summary is waiting for the map. */
  get holding(): boolean {
    return this.held !== undefined;
  }

  private release(text: string): void {
    if (this.held) this.mark(false);
    this.held = undefined;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.write(text);
  }
}

/**
 * A thin indeterminate bar along the top edge of the map while its cells are
 * on their way, and aria-busy on the canvas. It shows only after a moment (in
 * CSS), so a quick answer does not flicker; it takes no pointer events.
 */
export class LoadingBar {
  private readonly bar: HTMLElement;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.bar = canvas.ownerDocument.createElement('div');
    this.bar.className = 'loading';
    this.bar.hidden = true;
    this.bar.setAttribute('aria-hidden', 'true'); // aria-busy on the canvas says it to assistive technology
    canvas.insertAdjacentElement('afterend', this.bar);
  }

  /** `width`: of the map drawn on the canvas, in CSS pixels (the canvas's by default). */
  show(on: boolean, width = this.canvas.clientWidth): void {
    const body = this.canvas.ownerDocument.body;
    if (on) {
      this.bar.style.width = `${Math.max(0, Math.min(width, this.canvas.clientWidth) - 4)}px`;
      body.dataset.loading = '1';
    } else delete body.dataset.loading;
    if (this.bar.hidden === !on) return;
    this.bar.hidden = !on;
    this.canvas.setAttribute('aria-busy', String(on));
  }
}
