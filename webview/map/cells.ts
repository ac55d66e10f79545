/**
 * The cells the map and the overview show: asked of the host for a whole
 * window, or after a change only for the cells it touched (from the patches
 * that came with the state, else fetched), and an answer to a request
 * superseded since is dropped.
 */
import { MIX_STRIDE, OWNER_TAG } from '../../src/engine/inspect/mapCodes';
import { changedCellRuns, patchCells, subWindow } from '../../src/shared/mapPatch';
import type { CellsData, MapState, MapWindowRole } from '../../src/shared/protocol';
import type { CellWindow } from '../preview';
import { draw, flash, recolourOnly } from './draw';
import { requests } from './hostRequests';
import { renderLegend } from './legendPanel';
import { Cells, loading, overview, ownerSlots, save, slotsFor, view } from './model';
import { visibleRows } from './viewport';

/** Bumped by each request for a whole window (the map's, the overview's): an answer to an older one is dropped. */
let windowTicket = 0;
let overviewTicket = 0;

/** The window last asked for whole, with the overlay or without, and whether its answer is still to come. */
interface Asked {
  window: CellWindow;
  overlay: boolean;
  waiting: boolean;
}
let mapAsked: Asked | undefined;
let overviewAsked: Asked | undefined;

/**
 * Whether the cells of `want` are held, or on their way, as the overlay now
 * wants them: those of a window that starts where it does and reaches as far
 * or further (a map made shorter keeps the rows it no longer shows, so
 * growing back asks for nothing either).
 */
function held(asked: Asked | undefined, want: CellWindow, cells: Cells | undefined): boolean {
  return !!asked && covers(asked.window, want) && asked.overlay === view.overlay && (asked.waiting || (cells !== undefined && sameWindow(cells, asked.window)));
}

const covers = (a: CellWindow, b: CellWindow) => a.firstPfn === b.firstPfn && a.framesPerCell === b.framesPerCell && a.cells >= b.cells;

/**
 * The map's cells miss a change that could not be patched in (everything
 * changed: a boot). Later changes are still patched in, so they show at once,
 * but the cells keep their version until the whole window asked for comes:
 * the map does not tell the host (nor the summary line) that it has drawn a
 * state it shows only in part.
 */
let behind = false;

/**
 * Asks the host for the window the map shows now. With `unlessHeld` (after a
 * resize), not when its cells are held or already on their way: the whole
 * window again would take the host as long as the first time, and its answer,
 * a megabyte for the whole device, delays every message behind it.
 */
export function requestCells(unlessHeld = false): void {
  if (!view.layout || !view.state) return;
  const firstPfn = view.topRow * view.layout.framesPerRow;
  const count = Math.min(visibleRows() * view.layout.columns, Math.ceil((view.state.image.totalFrames - firstPfn) / view.layout.framesPerCell));
  const want = { firstPfn, framesPerCell: view.layout.framesPerCell, cells: Math.max(0, count) };
  if (unlessHeld && held(mapAsked, want, view.cells)) return;
  const ticket = ++windowTicket;
  const asked: Asked = (mapAsked = { window: want, overlay: view.overlay, waiting: true });
  requests.request('cells', { ...want, window: 'map', ...(view.overlay ? { overlay: view.overlay } : {}) }).then((msg) => {
    asked.waiting = false;
    if (ticket === windowTicket) showCells(msg);
  }, () => (asked.waiting = false));
  awaitCells(want);
}

let previewFrame = 0;
/** Marks the map loading and, next frame, draws the preview of the new view (once however often the view moves in between). */
function awaitCells(want: CellWindow): void {
  view.wanted = want;
  loading.show(true, view.layout ? view.layout.columns * view.layout.cellPx : undefined);
  previewFrame ||= requestAnimationFrame(() => {
    previewFrame = 0;
    if (document.body.dataset.loading) draw();
  });
}

/** Asks the host for the overview strip's cells; `unlessHeld` as for requestCells. */
export function requestOverview(unlessHeld = false): void {
  if (!view.state || overview.clientHeight <= 0) return;
  const total = view.state.image.totalFrames;
  const framesPerCell = Math.max(2 ** Math.max(0, Math.ceil(Math.log2(total / overview.clientHeight))), 32);
  const want = { firstPfn: 0, framesPerCell, cells: Math.ceil(total / framesPerCell) };
  if (unlessHeld && held(overviewAsked, want, view.overviewCells)) return;
  const ticket = ++overviewTicket;
  const asked: Asked = (overviewAsked = { window: want, overlay: view.overlay, waiting: true });
  requests.request('cells', { ...want, window: 'overview', ...(view.overlay ? { overlay: view.overlay } : {}) }).then((msg) => {
    asked.waiting = false;
    if (ticket !== overviewTicket) return;
    view.overviewCells = msg;
    draw();
  }, () => (asked.waiting = false));
}

/**
 * After a change, updates only the cells it touches, in the map and the
 * overview: from the patches that came with the state when they are of the
 * window shown (no round trip), else fetched; the whole window only when the
 * change is everything or too much to patch.
 */
export function refresh(s: MapState): void {
  const received = performance.now();
  if (view.overlay) {
    // A change anywhere can change the largest free order of any cell (a merge, a split): the windows are asked for again.
    requestCells();
    requestOverview();
    return;
  }
  const change = s.change;
  const sf = s.image.sectionFrames;
  const sent = (role: MapWindowRole, shown: Cells) => s.patches.filter((p) => p.window === role && sameWindow(p.of as Cells, shown)).map((p) => p.cells);
  const mapRuns = view.cells && !change.all ? changedCellRuns(view.cells, change, sf) : undefined;
  if (!mapRuns) {
    behind = view.cells !== undefined;
    requestCells();
  } else if (mapRuns.length) {
    const ready = sent('map', view.cells!);
    if (ready.length === mapRuns.length) applyShown(ready.map((p) => ({ ...p, version: s.version })), received);
    else patchShown(mapRuns, received);
  } else if (view.cells && view.cells.version < s.version && !behind) {
    // Nothing in view changed: the picture is of the new state too (the summary beside it may show it).
    const before = view.cells;
    view.cells = { ...before, version: s.version };
    recolourOnly(before, []);
    draw();
  }
  const overviewRuns = view.overviewCells && !change.all ? changedCellRuns(view.overviewCells, change, sf) : undefined;
  if (!overviewRuns) requestOverview();
  else if (overviewRuns.length) {
    const ready = sent('overview', view.overviewCells!);
    if (ready.length === overviewRuns.length) {
      for (const p of ready) patchCells(view.overviewCells!, p);
      view.overviewCells = { ...view.overviewCells!, version: s.version };
      draw();
    } else patchOverview(overviewRuns);
  }
}

/** Writes patches of the window shown into it, colours again only the cells that differ, and redraws once. */
function applyShown(patches: Array<CellsData & { version: number }>, received: number): void {
  const before = view.cells!;
  const changed: number[] = [];
  for (const p of patches) changed.push(...(patchCells(before, p) ?? []));
  view.cells = { ...before, version: behind ? before.version : Math.max(before.version, ...patches.map((p) => p.version)) }; // a new object: draw() colours again only the cells marked dirty
  recolourOnly(before, changed);
  flash(changed);
  renderLegend();
  draw();
  document.body.dataset.patchedCells = String(patches.reduce((n, p) => n + p.cells, 0));
  document.body.dataset.patchMs = (performance.now() - received).toFixed(2);
}

function patchShown(runs: Array<[number, number]>, received: number): void {
  const target = view.cells!;
  const ticket = windowTicket;
  let fetched = 0;
  let left = runs.length;
  for (const run of runs) {
    requests.request('cells', subWindow(target, run)).then((patch) => {
      // A whole window asked for since, or shown since with newer cells, supersedes the patch.
      if (ticket !== windowTicket || !view.cells || !sameWindow(view.cells, target) || patch.version < view.cells.version) return;
      const before = view.cells;
      const changed = patchCells(before, patch);
      if (!changed) return;
      fetched += patch.cells;
      view.cells = { ...before, version: behind ? before.version : patch.version }; // a new object: draw() colours again only the cells marked dirty
      recolourOnly(before, changed);
      flash(changed, left < runs.length);
      renderLegend();
      draw();
      if (--left === 0) {
        document.body.dataset.patchedCells = String(fetched);
        document.body.dataset.patchMs = (performance.now() - received).toFixed(2);
      }
    }, () => undefined);
  }
}

function patchOverview(runs: Array<[number, number]>): void {
  const target = view.overviewCells!;
  const ticket = overviewTicket;
  for (const run of runs) {
    requests.request('cells', subWindow(target, run)).then((patch) => {
      if (ticket !== overviewTicket || view.overviewCells !== target || !patchCells(target, patch)) return;
      view.overviewCells = { ...target };
      draw();
    }, () => undefined);
  }
}

const sameWindow = (a: CellWindow, b: CellWindow) => a.firstPfn === b.firstPfn && a.framesPerCell === b.framesPerCell && a.cells === b.cells;

/**
 * Which cells differ between two answers for windows that start at the same
 * frame with cells of the same size (one may reach further: the rows a map
 * made shorter kept), over the cells both hold: every difference (`exact`,
 * for recolouring) or only visible ones (for the flash).
 */
function changedCells(before: Cells, after: Cells, exact = false): number[] {
  if (before.firstPfn !== after.firstPfn || before.framesPerCell !== after.framesPerCell) return [];
  const out: number[] = [];
  const ownerOf = (c: Cells, i: number) => (c.tag[i] >= OWNER_TAG ? c.owners[c.tag[i] - OWNER_TAG] : undefined);
  for (let c = 0; c < Math.min(before.cells, after.cells); c++) {
    let differs = before.tag[c] !== after.tag[c] && (exact || before.tag[c] < OWNER_TAG || ownerOf(before, c) !== ownerOf(after, c));
    if (exact && !differs) differs = ownerOf(before, c) !== ownerOf(after, c);
    for (let k = 0; k < MIX_STRIDE && !differs; k++) differs = Math.abs(before.mix[c * MIX_STRIDE + k] - after.mix[c * MIX_STRIDE + k]) > (exact ? 0 : 8);
    // The overlay's colour: the largest free order of the cell (a split or a merge changes it, not always its mix).
    if (!differs && (before.largestFree || after.largestFree)) differs = before.largestFree?.[c] !== after.largestFree?.[c];
    if (differs) out.push(c);
  }
  return out;
}

/** Shows the cells of a whole window; the cells that changed since the last answer for it flash. */
export function showCells(msg: Cells): void {
  loading.show(false);
  const changed = view.cells && view.cells.version !== msg.version ? changedCells(view.cells, msg) : [];
  flash(changed);
  if (view.cells && sameWindow(view.cells, msg)) recolourOnly(view.cells, changedCells(view.cells, msg, true));
  view.cells = msg;
  behind = false;
  if (msg.owners.some((o) => o && !ownerSlots.entries().some(([k]) => k === o))) {
    slotsFor(msg);
    save(); // owners keep their colours when the map is shown again
  }
  renderLegend();
  draw();
}

// ---------------------------------------------------------------- drawing
