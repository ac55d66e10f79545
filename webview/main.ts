/**
 * The map editor's webview: a canvas page-frame map with zoom, pan, hover,
 * selection and keyboard control, a toolbar, a history timeline, a legend and
 * the costs panel. It holds no image data of its own: it asks the host for
 * the cells it is about to draw, and validates every message it receives.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import { formatBytes } from '../src/engine/core/units';
import { cellOf, fitZoom, layoutAt, MapLayout, MAX_CELL_PX, pfnAt } from '../src/shared/mapGeometry';
import { MIX_STRIDE, OWNER_TAG } from '../src/engine/inspect/mapCodes';
import { noFreeColour, orderRampColours, ownerColour, rasterise, rasteriseLargestFree, Rgb, staleHatchAt } from '../src/shared/mapRaster';
import { OWNER_SLOTS, OwnerSlots, ownerPalette } from '../src/shared/ownerPalette';
import { CellsData, FragHistoryData, FrameDetails, HostToWebview, isHostToWebview, MapCommand, MapState, MapWindowRole, MapWork, WebviewToHost, AllocationForm } from '../src/shared/protocol';
import { FragChart } from './fragChart';
import { changedCellRuns, patchCells, subWindow } from '../src/shared/mapPatch';
import { Requests } from '../src/shared/requests';
import type { Step } from '../src/engine/inspect/steps';
import { StepList } from './timeline';
import { MapSelection } from '../src/shared/mapSelection';
import { renderCosts } from './costsPanel';
import { describeCell, kindLabel, renderLines } from './cellText';
import { keepTextFieldKeys } from './textFieldKeys';
import { LegendEntry, swatchCss } from './legend';
import { sectionStateWords } from '../src/shared/words';
import { cssOf, readTheme, ThemeColours } from './palette';
import { drawChain, setChain } from './chainOverlay';
import { CellWindow, LoadingBar, Previews, SummaryHold } from './preview';

keepTextFieldKeys(document);

declare function acquireVsCodeApi(): { postMessage(msg: WebviewToHost): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();
type Cells = Extract<HostToWebview, { type: 'cells' }>;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('map');
const overview = $<HTMLCanvasElement>('overview');
const tooltip = $('tooltip');
const ctx = canvas.getContext('2d')!;
const octx = overview.getContext('2d')!;

/** What survives the editor being hidden and shown again (getState/setState, not retainContextWhenHidden). */
interface Saved { zoom?: number; topRow?: number; selected?: number; owners?: Array<[string, number]>; overlay?: boolean }
const saved = (vscode.getState() ?? {}) as Saved;

let state: MapState | undefined;
let theme: ThemeColours = readTheme();
/** The zoom the user chose; undefined follows the fit, so a resize keeps the whole device in view. */
let userZoom: number | undefined = typeof saved.zoom === 'number' ? saved.zoom : undefined;
let zoom: number | undefined;
let topRow = typeof saved.topRow === 'number' ? saved.topRow : 0;
let selected: number | undefined = typeof saved.selected === 'number' ? saved.selected : undefined;
let selectedFrame: FrameDetails | undefined;
/** Cells coloured by the largest free order in each (the fragmentation overlay) instead of by state. */
let overlay = saved.overlay === true;
/** The owners this map has seen and their colour slots: an owner keeps its colour for as long as the map shows the image. */
const ownerSlots = new OwnerSlots(OWNER_SLOTS, Array.isArray(saved.owners) ? saved.owners.filter((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number') : []);
/** The slots, with the owners of `c` placed. */
const slotsFor = (c: { owners: string[] }) => ownerSlots.slotsOf(c.owners);
let layout: MapLayout | undefined;
let cells: Cells | undefined;
let overviewCells: Cells | undefined;
/** The window last asked for; until its cells come, the map draws a preview of it (see preview.ts). */
let wanted: CellWindow | undefined;
const previews = new Previews();
const loading = new LoadingBar(canvas);
const summary = new SummaryHold((text) => ($('summary').textContent = text), (held) => $('summary').setAttribute('aria-busy', String(held)));
type CellRequest = CellWindow & { window?: MapWindowRole; overlay?: boolean };
/** What the map asks of the host: cells of a window, a frame's details. */
const requests = new Requests<{
  cells: { request: CellRequest; response: Cells };
  frame: { request: { pfn: number }; response: FrameDetails | null };
  mix: { request: { pfn: number; frames: number }; response: number[] | null };
  steps: { request: { from: number; to: number }; response: Step[] };
  frag: { request: { samples: number }; response: FragHistoryData };
}>(
  (kind, id, r) => post(
    kind === 'cells' ? { type: 'getCells', id, ...(r as CellRequest) }
    : kind === 'frag' ? { type: 'getFragHistory', id, samples: (r as { samples: number }).samples }
      : kind === 'steps' ? { type: 'getSteps', id, ...(r as { from: number; to: number }) }
        : kind === 'mix' ? { type: 'getMix', id, ...(r as { pfn: number; frames: number }) }
          : { type: 'getFrame', id, pfn: (r as { pfn: number }).pfn },
  ),
  { timeoutMs: 120_000 },
);
/** Bumped by each request for a whole window (the map's, the overview's): an answer to an older one is dropped. */
let windowTicket = 0;
let overviewTicket = 0;
const steps = new StepList(
  $<HTMLOListElement>('steps'),
  (step) => post({ type: 'goToStep', step }),
  (from, to) => requests.request('steps', { from, to }),
  () => describeStep(),
);
/** The system's wish for less motion turns the change flash off, like the setting does. */
const reducedMotion = matchMedia('(prefers-reduced-motion: reduce)');
/** Cells that just changed, flashing briefly: index into the window, start time. */
let flashes: Array<{ cell: number; start: number }> = [];
let cssWidth = 0;
let cssHeight = 0;

/** Width of the axis beside the map: ticks of pfns and physical addresses, and every node and zone by name. */
const AXIS_PX = 150;
/** The axis lies over the canvas, right of the drawn columns, so the map's own coordinates stay those of the canvas. */
const axis = document.createElement('canvas');
axis.id = 'axis';
axis.setAttribute('aria-hidden', 'true');
canvas.after(axis);
const actx = axis.getContext('2d')!;
/** How many frames a cell holds, beside the zoom buttons. */
const scale = document.createElement('span');
scale.id = 'scale';
scale.className = 'muted';
scale.setAttribute('aria-live', 'polite');
$('fit').after(scale);

const post = (msg: WebviewToHost) => vscode.postMessage(msg);
const save = () => vscode.setState({ zoom: userZoom, topRow, selected, owners: ownerSlots.entries(), overlay } satisfies Saved);

// ---------------------------------------------------------------- geometry

/** The map's share of the canvas: the axis (pfns, addresses, node and zone labels) takes AXIS_PX at its right. */
const mapWidth = () => Math.max(0, cssWidth - AXIS_PX);

function visibleRows(): number {
  return layout ? Math.max(1, Math.ceil(cssHeight / layout.cellPx)) : 0;
}

/** What Page Down moves: the rows wholly in view but one, so the last whole row stays in view (a sliver of a row at the bottom does not count). */
function pageRows(): number {
  return layout ? Math.max(1, Math.floor(cssHeight / layout.cellPx) - 1) : 1;
}

function relayout(anchor?: { pfn: number; y: number }): void {
  if (!state || cssWidth <= 0) return;
  const total = state.image.totalFrames;
  const width = mapWidth();
  const fit = fitZoom(total, width, cssHeight);
  zoom = Math.max(fit, Math.min(Math.log2(MAX_CELL_PX), userZoom ?? fit));
  if (userZoom !== undefined) userZoom = zoom;
  layout = layoutAt(zoom, total, width);
  if (anchor) topRow = cellOf(layout, anchor.pfn).row - Math.floor(anchor.y / layout.cellPx);
  clampTop();
  if (zoomPending !== undefined) {
    const pfn = zoomPending;
    zoomPending = undefined;
    zoomToFrame(pfn);
  }
}

function clampTop(): void {
  if (!layout) return;
  topRow = Math.max(0, Math.min(topRow, Math.max(0, layout.rows - visibleRows())));
}

function pfnAtPoint(x: number, y: number): number | undefined {
  if (!layout || !state) return undefined;
  const column = Math.floor(x / layout.cellPx);
  const row = topRow + Math.floor(y / layout.cellPx);
  if (column < 0 || column >= layout.columns || row < 0) return undefined;
  const pfn = pfnAt(layout, column, row);
  return pfn < state.image.totalFrames ? pfn : undefined;
}

// ---------------------------------------------------------------- data

function requestCells(): void {
  if (!layout || !state) return;
  const firstPfn = topRow * layout.framesPerRow;
  const count = Math.min(visibleRows() * layout.columns, Math.ceil((state.image.totalFrames - firstPfn) / layout.framesPerCell));
  const want = { firstPfn, framesPerCell: layout.framesPerCell, cells: Math.max(0, count) };
  const ticket = ++windowTicket;
  requests.request('cells', { ...want, window: 'map', ...(overlay ? { overlay } : {}) }).then((msg) => {
    if (ticket === windowTicket) showCells(msg);
  }, () => undefined);
  awaitCells(want);
}

let previewFrame = 0;
/** Marks the map loading and, next frame, draws the preview of the new view (once however often the view moves in between). */
function awaitCells(want: CellWindow): void {
  wanted = want;
  loading.show(true, layout ? layout.columns * layout.cellPx : undefined);
  previewFrame ||= requestAnimationFrame(() => {
    previewFrame = 0;
    if (document.body.dataset.loading) draw();
  });
}

function requestOverview(): void {
  if (!state || overview.clientHeight <= 0) return;
  const total = state.image.totalFrames;
  const framesPerCell = 2 ** Math.max(0, Math.ceil(Math.log2(total / overview.clientHeight)));
  const ticket = ++overviewTicket;
  requests.request('cells', { firstPfn: 0, framesPerCell: Math.max(framesPerCell, 32), cells: Math.ceil(total / Math.max(framesPerCell, 32)), window: 'overview', ...(overlay ? { overlay } : {}) }).then((msg) => {
    if (ticket !== overviewTicket) return;
    overviewCells = msg;
    draw();
  }, () => undefined);
}

/**
 * After a change, updates only the cells it touches, in the map and the
 * overview: from the patches that came with the state when they are of the
 * window shown (no round trip), else fetched; the whole window only when the
 * change is everything or too much to patch.
 */
function refresh(s: MapState): void {
  const received = performance.now();
  if (overlay) {
    // A change anywhere can change the largest free order of any cell (a merge, a split): the windows are asked for again.
    requestCells();
    requestOverview();
    return;
  }
  const change = s.change;
  const sf = s.image.sectionFrames;
  const sent = (role: MapWindowRole, shown: Cells) => s.patches.filter((p) => p.window === role && sameWindow(p.of as Cells, shown)).map((p) => p.cells);
  const mapRuns = cells && !change.all ? changedCellRuns(cells, change, sf) : undefined;
  if (!mapRuns) requestCells();
  else if (mapRuns.length) {
    const ready = sent('map', cells!);
    if (ready.length === mapRuns.length) applyShown(ready.map((p) => ({ ...p, version: s.version })), received);
    else patchShown(mapRuns, received);
  } else if (cells && cells.version < s.version) {
    // Nothing in view changed: the picture is of the new state too (the summary beside it may show it).
    const before = cells;
    cells = { ...before, version: s.version };
    if (pixels?.source === before) pixels.dirty = [];
    draw();
  }
  const overviewRuns = overviewCells && !change.all ? changedCellRuns(overviewCells, change, sf) : undefined;
  if (!overviewRuns) requestOverview();
  else if (overviewRuns.length) {
    const ready = sent('overview', overviewCells!);
    if (ready.length === overviewRuns.length) {
      for (const p of ready) patchCells(overviewCells!, p);
      overviewCells = { ...overviewCells!, version: s.version };
      draw();
    } else patchOverview(overviewRuns);
  }
}

/** Writes patches of the window shown into it, colours again only the cells that differ, and redraws once. */
function applyShown(patches: Array<CellsData & { version: number }>, received: number): void {
  const before = cells!;
  const changed: number[] = [];
  for (const p of patches) changed.push(...(patchCells(before, p) ?? []));
  cells = { ...before, version: Math.max(before.version, ...patches.map((p) => p.version)) }; // a new object: draw() colours again only the cells marked dirty
  if (pixels?.source === before) pixels.dirty = changed;
  flash(changed);
  renderLegend();
  draw();
  document.body.dataset.patchedCells = String(patches.reduce((n, p) => n + p.cells, 0));
  document.body.dataset.patchMs = (performance.now() - received).toFixed(2);
}

function patchShown(runs: Array<[number, number]>, received: number): void {
  const target = cells!;
  const ticket = windowTicket;
  let fetched = 0;
  let left = runs.length;
  for (const run of runs) {
    requests.request('cells', subWindow(target, run)).then((patch) => {
      // A whole window asked for since, or shown since with newer cells, supersedes the patch.
      if (ticket !== windowTicket || !cells || !sameWindow(cells, target) || patch.version < cells.version) return;
      const before = cells;
      const changed = patchCells(before, patch);
      if (!changed) return;
      fetched += patch.cells;
      cells = { ...before, version: patch.version }; // a new object: draw() colours again only the cells marked dirty
      if (pixels?.source === before) pixels.dirty = changed;
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
  const target = overviewCells!;
  const ticket = overviewTicket;
  for (const run of runs) {
    requests.request('cells', subWindow(target, run)).then((patch) => {
      if (ticket !== overviewTicket || overviewCells !== target || !patchCells(target, patch)) return;
      overviewCells = { ...target };
      draw();
    }, () => undefined);
  }
}

/**
 * Changed cells flash, in frame order, so a split, a merge or a wave of lazy
 * init can be followed; `more` adds them to those flashing (another patch of one change).
 */
function flash(changed: number[], more = false): void {
  const now = performance.now();
  const animate = state?.animateChanges !== false && !reducedMotion.matches;
  const added = !animate || changed.length > 50000 ? [] : changed.map((cell, i) => ({ cell, start: now + (changed.length > 1 ? (i / changed.length) * SWEEP_MS : 0) }));
  flashes = more ? flashes.concat(added) : added;
  if (changed.length) {
    document.body.dataset.changedCells = String(changed.length);
    document.body.dataset.flashes = String(flashes.length);
  }
}

function frameDetails(pfn: number): Promise<FrameDetails | null> {
  return requests.request('frame', { pfn }).catch(() => null);
}

const sameWindow = (a: Cells, b: Cells) => a.firstPfn === b.firstPfn && a.framesPerCell === b.framesPerCell && a.cells === b.cells;

/**
 * Which cells differ between two answers for the same window: every
 * difference (`exact`, for recolouring) or only visible ones (for the flash).
 */
function changedCells(before: Cells, after: Cells, exact = false): number[] {
  if (!sameWindow(before, after)) return [];
  const out: number[] = [];
  const ownerOf = (c: Cells, i: number) => (c.tag[i] >= OWNER_TAG ? c.owners[c.tag[i] - OWNER_TAG] : undefined);
  for (let c = 0; c < after.cells; c++) {
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
function showCells(msg: Cells): void {
  loading.show(false);
  const changed = cells && cells.version !== msg.version ? changedCells(cells, msg) : [];
  flash(changed);
  if (pixels && cells && sameWindow(cells, msg)) pixels.dirty = changedCells(cells, msg, true);
  cells = msg;
  if (msg.owners.some((o) => o && !ownerSlots.entries().some(([k]) => k === o))) {
    slotsFor(msg);
    save(); // owners keep their colours when the map is shown again
  }
  renderLegend();
  draw();
}

// ---------------------------------------------------------------- drawing

/** The coloured pixels of the current window, and which cells changed since they were coloured. */
let pixels: { source: Cells; theme: ThemeColours; image: ImageData; dirty?: number[]; preview?: boolean; overlaid: boolean } | undefined;
const offscreen = document.createElement('canvas');
const offctx = offscreen.getContext('2d')!;

/** The newest state version drawn from real cells, as told to the host. */
let drawnVersion = -1;

function draw(): void {
  const started = performance.now();
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = cssOf(theme.palette.background);
  ctx.fillRect(0, 0, cssWidth, cssHeight);
  if (!layout || !state) return;
  // The window's cells, or while they are on their way a preview of them: never other cells in this layout.
  const shown = previews.picture(wanted, cells, overviewCells, state.image.totalFrames);
  if (!shown) return;
  const real = shown === cells;
  const l = layout;
  const rows = Math.ceil(shown.cells / l.columns);
  if (shown.cells > 0) {
    if (offscreen.width !== l.columns || offscreen.height !== rows) {
      offscreen.width = l.columns;
      offscreen.height = rows;
    }
    const largest = 'largestFree' in shown ? shown.largestFree : undefined;
    const overlaid = overlay && largest !== undefined;
    if (!pixels || pixels.source !== shown || pixels.theme !== theme || pixels.overlaid !== overlaid) {
      // After a change in the same window, only the changed cells are coloured again.
      const sameSize = pixels && pixels.image.width === l.columns && pixels.image.height === rows;
      const reuse = sameSize && pixels!.dirty && pixels!.theme === theme && !pixels!.preview && pixels!.overlaid === overlaid;
      const image = sameSize ? pixels!.image : offctx.createImageData(l.columns, rows); // a 4 MiB buffer is not made afresh per redraw
      if (overlaid) rasteriseLargestFree(shown, largest!, theme.palette, state.image.maxOrder, image.data, reuse ? pixels!.dirty : undefined);
      else rasterise(shown, theme.palette, state.image.maxOrder, image.data, reuse ? pixels!.dirty : undefined, slotsFor(shown));
      offctx.putImageData(image, 0, 0);
      document.body.dataset.rasterised = String(reuse ? pixels!.dirty!.length : shown.cells);
      document.body.dataset.overlaid = String(overlaid);
      pixels = { source: shown, theme, image, preview: !real, overlaid };
    }
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(offscreen, 0, 0, l.columns * l.cellPx, rows * l.cellPx);
    if (!overlaid) drawStale(l, shown, rows); // the overlay is of the free lists alone
  }
  const rowOffset = shown.firstPfn / l.framesPerRow;
  drawGrid(l, rows);
  drawSections(l, rowOffset, rows);
  if (real) drawBlocks(l, rowOffset);
  drawBands(l, rowOffset, rows);
  drawSelection(l, rowOffset);
  if (real) drawChain(ctx, l, rowOffset, theme);
  drawAxis(l);
  if (real) drawFlashes(l);
  drawOverview();
  document.body.dataset.drawMs = (performance.now() - started).toFixed(2);
  if (!real) {
    document.body.dataset.previewMs = previews.sampleMs.toFixed(2);
    return;
  }
  summary.drawn(shown.version);
  postView(shown as Cells);
  if (shown.version > drawnVersion) {
    drawnVersion = shown.version;
    post({ type: 'drawn', version: shown.version }); // the host times a change to its picture by this
  }
  document.body.dataset.cells = String(shown.cells);
}

/** Which cells are stale (alpha), one pixel per cell, and the hatch drawn over them in screen pixels. */
const staleMask = document.createElement('canvas');
const staleCtx = staleMask.getContext('2d')!;
const hatchLayer = document.createElement('canvas');
const hatchCtx = hatchLayer.getContext('2d')!;
let staleOf: { cells: unknown; any: boolean } | undefined;
let hatch: { theme: ThemeColours; pattern: CanvasPattern } | undefined;

/** Stale sections: a hatch in the stale colour over the (dimmed) state they hold, whatever the cell size. */
function drawStale(l: MapLayout, shown: { cells: number; mix: Uint8Array }, rows: number): void {
  if (staleOf?.cells !== shown) {
    let any = false;
    if (staleMask.width !== l.columns || staleMask.height !== rows) {
      staleMask.width = l.columns;
      staleMask.height = rows;
    }
    const image = staleCtx.createImageData(l.columns, rows);
    for (let c = 0; c < shown.cells; c++) {
      if (shown.mix[c * MIX_STRIDE + 5]) {
        image.data[c * 4 + 3] = 255;
        any = true;
      }
    }
    staleCtx.putImageData(image, 0, 0);
    staleOf = { cells: shown, any };
  }
  if (!staleOf.any) return;
  if (hatch?.theme !== theme) {
    const tile = document.createElement('canvas');
    tile.width = tile.height = 6;
    const t = tile.getContext('2d')!;
    const image = t.createImageData(6, 6);
    const [r, g, b] = theme.palette.stale;
    for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) if (staleHatchAt(x, y)) image.data.set([r, g, b, 255], (y * 6 + x) * 4);
    t.putImageData(image, 0, 0);
    hatch = { theme, pattern: hatchCtx.createPattern(tile, 'repeat')! };
  }
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(l.columns * l.cellPx * dpr));
  const h = Math.max(1, Math.round(rows * l.cellPx * dpr));
  hatchLayer.width = w; // also clears it
  hatchLayer.height = h;
  hatchCtx.imageSmoothingEnabled = false;
  hatchCtx.drawImage(staleMask, 0, 0, w, h);
  hatchCtx.globalCompositeOperation = 'source-in';
  hatchCtx.fillStyle = hatch.pattern;
  hatchCtx.fillRect(0, 0, w, h);
  hatchCtx.globalCompositeOperation = 'source-over';
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(hatchLayer, 0, 0);
  ctx.restore();
}

/** Close up, a faint grid separates single frames. */
function drawGrid(l: MapLayout, rows: number): void {
  if (l.cellPx < 8) return;
  ctx.strokeStyle = theme.outline;
  ctx.globalAlpha = 0.35;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let c = 1; c < l.columns; c++) {
    ctx.moveTo(c * l.cellPx + 0.5, 0);
    ctx.lineTo(c * l.cellPx + 0.5, rows * l.cellPx);
  }
  for (let r = 1; r < rows; r++) {
    ctx.moveTo(0, r * l.cellPx + 0.5);
    ctx.lineTo(l.columns * l.cellPx, r * l.cellPx + 0.5);
  }
  ctx.stroke();
  ctx.globalAlpha = 1;
}

function drawSections(l: MapLayout, rowOffset: number, rows: number): void {
  if (!state) return;
  const sf = state.image.sectionFrames;
  ctx.strokeStyle = theme.grid;
  ctx.lineWidth = 1;
  // Dense boundaries fade so they do not hide the cells.
  const spacing = (sf >= l.framesPerRow ? sf / l.framesPerRow : sf / l.framesPerCell) * l.cellPx;
  ctx.globalAlpha = spacing >= 24 ? 0.9 : 0.45;
  ctx.beginPath();
  if (sf >= l.framesPerRow) {
    const every = sf / l.framesPerRow;
    if (every * l.cellPx >= 6) {
      for (let r = Math.ceil(rowOffset / every) * every; r <= rowOffset + rows; r += every) {
        const y = (r - rowOffset) * l.cellPx + 0.5;
        ctx.moveTo(0, y);
        ctx.lineTo(l.columns * l.cellPx, y);
      }
    }
  } else {
    const every = sf / l.framesPerCell;
    if (every * l.cellPx >= 6) {
      for (let c = every; c < l.columns; c += every) {
        ctx.moveTo(c * l.cellPx + 0.5, 0);
        ctx.lineTo(c * l.cellPx + 0.5, rows * l.cellPx);
      }
    }
  }
  ctx.stroke();
  ctx.globalAlpha = 1;
}

function blockRect(l: MapLayout, rowOffset: number, pfn: number, order: number): [number, number, number, number] {
  const size = 2 ** order;
  const { row, column } = cellOf(l, pfn);
  const y = (row - rowOffset) * l.cellPx;
  if (size / l.framesPerCell <= l.columns) return [column * l.cellPx, y, (size / l.framesPerCell) * l.cellPx, l.cellPx];
  return [0, y, l.columns * l.cellPx, (size / l.framesPerRow) * l.cellPx];
}

function drawBlocks(l: MapLayout, rowOffset: number): void {
  if (!cells || l.framesPerCell !== 1 || l.cellPx < 4) return;
  ctx.strokeStyle = theme.outline;
  ctx.lineWidth = 1;
  for (let i = 0; i < cells.blocks.length; i += 2) {
    const [x, y, w, h] = blockRect(l, rowOffset, cells.blocks[i], cells.blocks[i + 1]);
    ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
  }
}

/** Node and zone boundaries: a coloured step line with a label where there is room. */
function drawBands(l: MapLayout, rowOffset: number, rows: number): void {
  // Over cells of a pixel or two a line would hide a row of them: the axis marks the boundary instead.
  if (!state || l.cellPx < 4) return;
  ctx.strokeStyle = theme.band;
  ctx.lineWidth = 2;
  for (const n of state.image.nodes) {
    for (const z of n.zones) {
      if (z.frames === 0 || z.firstPfn === 0) continue;
      const { row, column } = cellOf(l, z.firstPfn);
      if (row < rowOffset || row > rowOffset + rows) continue;
      const y = (row - rowOffset) * l.cellPx;
      ctx.beginPath();
      ctx.moveTo(column * l.cellPx, y + l.cellPx);
      ctx.lineTo(column * l.cellPx, y);
      ctx.lineTo(l.columns * l.cellPx, y);
      ctx.stroke();
      // Its label is on the axis beside the map, never over a cell.
    }
  }
}

/** The axis right of the map: pfn and physical address ticks at round rows, and a label for every node and zone starting in view. */
function drawAxis(l: MapLayout): void {
  if (!state) return;
  const left = canvas.offsetLeft + l.columns * l.cellPx + 6;
  const width = Math.max(0, cssWidth - l.columns * l.cellPx - 6);
  const dpr = window.devicePixelRatio || 1;
  axis.style.left = `${left}px`;
  axis.style.width = `${width}px`;
  axis.style.height = `${cssHeight}px`;
  if (axis.width !== Math.round(width * dpr) || axis.height !== Math.round(cssHeight * dpr)) {
    axis.width = Math.round(width * dpr);
    axis.height = Math.round(cssHeight * dpr);
  }
  actx.setTransform(dpr, 0, 0, dpr, 0, 0);
  actx.clearRect(0, 0, width, cssHeight);
  actx.font = '11px var(--vscode-font-family), sans-serif';
  actx.textBaseline = 'top';
  const rows = visibleRows();
  const total = state.image.totalFrames;
  const yOf = (pfn: number) => (pfn / l.framesPerRow - topRow) * l.cellPx;
  // Labels first (every node and zone in view, the one at the top included): ticks give way to them.
  const taken: Array<[number, number]> = [];
  const labels: string[] = [];
  actx.lineWidth = 1;
  for (const n of state.image.nodes) {
    for (const z of n.zones) {
      if (z.frames === 0) continue;
      const end = z.firstPfn + z.frames;
      if (end <= topRow * l.framesPerRow || z.firstPfn >= (topRow + rows) * l.framesPerRow) continue;
      const at = Math.max(z.firstPfn, topRow * l.framesPerRow);
      let y = Math.max(0, yOf(at - (at % l.framesPerRow)));
      while (taken.some(([a, b]) => y < b && y + 15 > a)) y += 16;
      if (y > cssHeight - 15) continue;
      taken.push([y, y + 15]);
      const text = `node ${n.id} · ${z.name}${z.firstPfn < at ? ' ↑' : ''}`;
      labels.push(text);
      const w = actx.measureText(text).width;
      actx.fillStyle = theme.labelPlate;
      actx.fillRect(0.5, y + 0.5, w + 8, 14);
      actx.strokeStyle = theme.band;
      actx.strokeRect(0.5, y + 0.5, w + 8, 14);
      actx.fillStyle = theme.labelText;
      actx.fillText(text, 4.5, y + 2);
    }
  }
  // Ticks every power of two of rows at least 40 px apart: round pfns.
  const every = 2 ** Math.max(0, Math.ceil(Math.log2(40 / l.cellPx)));
  actx.strokeStyle = theme.grid;
  for (let r = Math.ceil(topRow / every) * every; r <= topRow + rows; r += every) {
    const pfn = r * l.framesPerRow;
    if (pfn > total) break;
    const y = (r - topRow) * l.cellPx;
    if (y > cssHeight - 24 || taken.some(([a, b]) => y - 1 < b && y + 25 > a)) continue;
    actx.beginPath();
    actx.moveTo(-6, y + 0.5);
    actx.lineTo(4, y + 0.5);
    actx.stroke();
    actx.fillStyle = theme.labelText;
    actx.fillText(`pfn ${pfn}`, 8, y + 1);
    actx.fillStyle = theme.grid;
    actx.fillText(`0x${(pfn * 4096).toString(16)}`, 8, y + 13);
  }
  document.body.dataset.axisLabels = labels.join('|'); // for tests: what the axis names
  const perCell = l.framesPerCell === 1 ? '1 frame per cell' : `${l.framesPerCell} frames per cell`;
  const text = `${perCell} (${formatBytes(l.framesPerCell * 4096)})`;
  if (scale.textContent !== text) scale.textContent = text;
}

function drawSelection(l: MapLayout, rowOffset: number): void {
  if (selected === undefined) return;
  const { row, column } = cellOf(l, selected);
  const size = Math.max(l.cellPx, 4);
  ctx.strokeStyle = theme.selection;
  ctx.lineWidth = 2;
  ctx.strokeRect(column * l.cellPx - (size - l.cellPx) / 2, (row - rowOffset) * l.cellPx - (size - l.cellPx) / 2, size, size);
  if (selectedFrame?.blockPfn !== undefined && selectedFrame.order !== undefined && l.framesPerCell === 1) {
    ctx.setLineDash([3, 2]);
    ctx.lineWidth = 1;
    const [x, y, w, h] = blockRect(l, rowOffset, selectedFrame.blockPfn, selectedFrame.order);
    ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
    ctx.setLineDash([]);
  }
}

const FLASH_MS = 700;
/** The sweep: later cells start later, so lazy init is seen reaching sections one by one. */
const SWEEP_MS = 600;

function drawFlashes(l: MapLayout): void {
  if (!flashes.length) return;
  const now = performance.now();
  flashes = flashes.filter((f) => now - f.start < FLASH_MS);
  for (const f of flashes) {
    const t = (now - f.start) / FLASH_MS;
    if (t < 0) continue;
    ctx.fillStyle = `${theme.flash}${(0.55 * (1 - t)).toFixed(3)})`;
    const column = f.cell % l.columns;
    const row = Math.floor(f.cell / l.columns);
    ctx.fillRect(column * l.cellPx, row * l.cellPx, Math.max(l.cellPx, 1), Math.max(l.cellPx, 1));
  }
  if (flashes.length) requestAnimationFrame(draw);
}

function drawOverview(): void {
  const h = overview.clientHeight;
  const w = overview.clientWidth;
  const dpr = window.devicePixelRatio || 1;
  if (overview.width !== Math.round(w * dpr) || overview.height !== Math.round(h * dpr)) {
    overview.width = Math.round(w * dpr);
    overview.height = Math.round(h * dpr);
  }
  octx.setTransform(dpr, 0, 0, dpr, 0, 0);
  octx.fillStyle = cssOf(theme.palette.background);
  octx.fillRect(0, 0, w, h);
  if (!overviewCells || !state || !layout) return;
  const strip = document.createElement('canvas');
  strip.width = 1;
  strip.height = overviewCells.cells;
  const sctx = strip.getContext('2d')!;
  const image = sctx.createImageData(1, overviewCells.cells);
  if (overlay && overviewCells.largestFree) rasteriseLargestFree(overviewCells, overviewCells.largestFree, theme.palette, state.image.maxOrder, image.data);
  else rasterise(overviewCells, theme.palette, state.image.maxOrder, image.data, undefined, slotsFor(overviewCells));
  sctx.putImageData(image, 0, 0);
  octx.imageSmoothingEnabled = true;
  octx.drawImage(strip, 0, 0, w, h);
  const total = state.image.totalFrames;
  const top = ((topRow * layout.framesPerRow) / total) * h;
  const bottom = Math.min(h, (((topRow + visibleRows()) * layout.framesPerRow) / total) * h);
  octx.strokeStyle = theme.selection;
  octx.lineWidth = 2;
  octx.strokeRect(1, top + 1, w - 2, Math.max(3, bottom - top - 2));
}

// ---------------------------------------------------------------- text

function describeSelection(): void {
  const el = $('selection');
  const free = $<HTMLButtonElement>('free');
  const f = selectedFrame;
  free.toggleAttribute('disabled', !(f && f.kind === 'allocated' && state && !state.readOnly && state.viewedStep === undefined));
  if (selected === undefined || !f) {
    el.textContent = 'Click a frame, or focus the map and use the arrow keys, to select it.';
    return;
  }
  el.textContent = `Selected pfn ${f.pfn} (0x${f.physAddr.toString(16)}): ${kindLabel(f)}${f.blockPfn !== undefined ? `, block at pfn ${f.blockPfn} of order ${f.order}` : ''}${f.owner ? `, owner ${f.owner}` : ''}; node ${f.node}, zone ${f.zone}, section ${f.section} (${sectionStateWords(f.sectionState)}). Enter reveals it in the Descriptors view.`;
}

/** The selection belongs to the document in the host; see MapSelection for the ordering. */
const selection = new MapSelection();
/** Bumped by every change of the selected frame, so details that come back late are dropped. */
let detailsFor = 0;

function choose(pfn: number, reveal: boolean): void {
  showSelection(pfn);
  post({ type: 'select', pfn, req: selection.choose(), reveal });
}

function followHost(msg: Extract<HostToWebview, { type: 'select' }>): void {
  if (!selection.accept(msg)) return;
  if (msg.zoom) zoomToFrame(msg.pfn);
  if (msg.pfn !== selected || msg.zoom) showSelection(msg.pfn);
  followTooltip();
}

let zoomPending: number | undefined;

/** Cells of at least this many pixels, one frame each, are what Go to Frame zooms to (the frame grid shows from 8). */
const FRAME_CELL_PX = 8;

/** Zooms in (never out) until `pfn` is a cell of its own, at least FRAME_CELL_PX wide, in the middle of the view. */
function zoomToFrame(pfn: number): void {
  if (!layout || zoom === undefined) {
    zoomPending = pfn; // the map is not laid out yet: once it is
    return;
  }
  if (layout.framesPerCell === 1 && layout.cellPx >= FRAME_CELL_PX) return;
  userZoom = Math.max(zoom, Math.log2(FRAME_CELL_PX));
  relayout({ pfn, y: Math.floor(cssHeight / 2) });
  save();
  requestCells();
}

/** A tooltip on show when the selection moves elsewhere (Go to Frame) describes the selected frame, beside its cell. */
function followTooltip(): void {
  clearTimeout(hoverTimer);
  if (tooltip.hidden || selected === undefined || !layout) return;
  const { row, column } = cellOf(layout, selected);
  const x = (column + 0.5) * layout.cellPx;
  const y = (row - topRow + 0.5) * layout.cellPx;
  if (y < 0 || y > cssHeight) {
    tooltipFor++;
    tooltip.hidden = true;
    return;
  }
  void showTooltip(selected, x, y);
}

function showSelection(pfn: number): void {
  selected = pfn;
  save();
  ensureVisible(pfn);
  draw();
  void describeSelected();
}

/** Fetches the selected frame's details (again after a change of state) and shows them. */
async function describeSelected(): Promise<void> {
  if (selected === undefined) return;
  const ticket = ++detailsFor;
  const f = (await frameDetails(selected)) ?? undefined;
  if (ticket !== detailsFor) return;
  selectedFrame = f;
  describeSelection();
  draw();
}

function ensureVisible(pfn: number): void {
  if (!layout) return;
  const { row } = cellOf(layout, pfn);
  const rows = visibleRows();
  if (row >= topRow && row < topRow + rows - 1) return;
  topRow = row - Math.floor(rows / 2);
  clampTop();
  requestCells();
}

function renderState(): void {
  if (!state) return;
  const s = state;
  const t = s.frames;
  const total = s.image.totalFrames;
  const pct = (n: number) => `${((n / total) * 100).toFixed(1)} %`;
  summary.offer(`${formatBytes(total * 4096)} · ${total} frames: ${t.free} free (${pct(t.free)}${t.uninitialized ? `; ${t.free + t.uninitialized} can be handed out, uninitialised sections included` : ''}), ${t.allocated} allocated (${pct(t.allocated)}), ${t.uninitialized} uninitialised, ${t.reserved} metadata · sections: ${s.sections.initialized} initialised, ${s.sections.stale} stale, ${s.sections.never} never · boot ${s.bootGeneration} (${s.machine === 'running' ? 'running' : s.machine === 'off' ? 'off' : 'off after a crash'}), profile ${s.profile}, memmap on ${s.memmapPlacement}`, s.version);
  const banner = $('banner');
  const notes = [s.readOnly ? `Read-only: ${s.readOnly}.` : '', s.viewedStep !== undefined ? `Showing the state after step ${s.viewedStep} (read-only). Step forward to the last step to return to the present.` : ''].filter(Boolean);
  if (notes.length) {
    banner.textContent = notes.join(' ');
    banner.hidden = false;
  } else {
    if (noticeBoot !== undefined && noticeBoot !== s.bootGeneration) dropNotice(); // a note about one boot ends with it
    if (!banner.dataset.notice) banner.hidden = true;
  }
  const writable = !s.readOnly && s.viewedStep === undefined && !work;
  for (const id of ['allocate', 'reboot', 'crash', 'rebootIntoProfile', 'initAll', 'allocFields']) $(id).toggleAttribute('disabled', !writable);
  $('allocOrder').setAttribute('max', String(s.image.maxOrder));
  $('allocNode').setAttribute('max', String(s.image.nodes.length - 1));
  const first = steps.first;
  const last = steps.last;
  const at = s.viewedStep ?? last;
  const timeline = $<HTMLInputElement>('timeline');
  timeline.min = String(first);
  timeline.max = String(last);
  timeline.value = String(at);
  describeStep();
  $('stepLabel').textContent = `step ${at}/${last}`;
  $('stepBack').toggleAttribute('disabled', at <= first);
  $('stepForward').toggleAttribute('disabled', at >= last);
  steps.show(at);
  canvas.setAttribute('aria-label', `Page-frame map of ${s.image.name}: ${total} frames. Arrow keys move the selection, Enter reveals it in the Descriptors view, plus and minus zoom, 0 fits the device, Page Up and Page Down pan.`);
  renderLegend();
  renderCosts($('costs'), s);
}

/** The timeline's spoken value: the step shown and its text, once known. */
function describeStep(): void {
  if (!state) return;
  const last = steps.last;
  const at = state.viewedStep ?? last;
  const text = steps.text(at);
  $<HTMLInputElement>('timeline').setAttribute('aria-valuetext', `step ${at} of ${last}${text === undefined ? '' : `: ${text}`}`);
}

/** The legend's entries for the image and the owners in view. */
function legendEntries(): LegendEntry[] {
  if (!state) return [];
  const p = theme.palette;
  // The owners in view, in slot order; those beyond the palette grouped as "other owners", named.
  const slots = slotsFor({ owners: (cells?.owners ?? []).filter(Boolean) });
  const inView = [...new Set((cells?.owners ?? []).filter(Boolean))].sort((a, b) => (slots.get(a) ?? -1) - (slots.get(b) ?? -1) || a.localeCompare(b));
  const coloured = inView.filter((o) => (slots.get(o) ?? -1) >= 0);
  const others = inView.filter((o) => (slots.get(o) ?? -1) < 0);
  const op = ownerPalette(p);
  const solid = (colour: Rgb, label: string): LegendEntry => ({ swatch: { kind: 'solid', colour }, label });
  if (overlay) {
    const ramp = orderRampColours(p, state.image.maxOrder);
    const faded = noFreeColour(p);
    return [
      solid(p.metadata, 'metadata (superblock, tables, journal, history)'),
      state.memmapPlacement === 'device' ? solid(p.memmap, 'memmap (descriptors on the device)') : undefined,
      { swatch: { kind: 'gradient', from: ramp[0], via: ramp[Math.floor(ramp.length / 2)], to: ramp[ramp.length - 1] }, label: 'largest free block in the cell, from the free lists:' },
      ...ramp.map((c, o) => solid(c, `order ${o}`)),
      solid(faded, 'no free block in the cell (allocated)'),
      solid(p.never, 'never initialised (not on the free lists yet)'),
      { swatch: { kind: 'outline', css: theme.selection }, label: 'selected' },
    ].filter((e): e is LegendEntry => e !== undefined);
  }
  return [
    solid(p.metadata, 'metadata (superblock, tables, journal, history)'),
    state.memmapPlacement === 'device' ? solid(p.memmap, 'memmap (descriptors on the device)') : undefined,
    { swatch: { kind: 'gradient', from: p.freeSmall, to: p.freeLarge }, label: `free blocks, shaded by order: faintest order 0 → strongest order ${state.image.maxOrder}` },
    solid(p.allocated, 'allocated'),
    ...coloured.map((o) => solid(ownerColour(o, p, slots)!, `owner ${o}`)),
    others.length ? { swatch: { kind: 'stripes', colour: op.other, stripe: op.otherStripe }, label: `other owners: ${others.join(', ')}` } : undefined,
    solid(p.never, 'never initialised'),
    { swatch: { kind: 'hatch', colour: p.stale, under: p.never }, label: 'stale (initialised in an earlier boot): hatched over the dimmed state it holds' },
    { swatch: { kind: 'outline', css: theme.selection }, label: 'selected' },
    { swatch: { kind: 'outline', css: theme.band }, label: 'node / zone boundary' },
  ].filter((e): e is LegendEntry => e !== undefined);
}

function renderLegend(): void {
  if (!state) return;
  $('legend').replaceChildren(...legendEntries().map((e) => {
    const item = document.createElement('span');
    item.className = 'chip';
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    // Colours are set through the DOM, not inline style attributes (the page's CSP forbids those).
    const css = swatchCss(e.swatch);
    swatch.style.background = css.background;
    if (css.outline) {
      swatch.dataset.outline = e.swatch.kind === 'outline' && e.swatch.css === theme.selection ? 'selection' : 'band';
      swatch.style.outline = css.outline;
    }
    item.append(swatch, document.createTextNode(e.label)); // an owner tag is text, never markup
    return item;
  }));
}

/** Long work on the image: a bar above the map with its progress and a Cancel; the toolbar's changes wait for it. */
let work: MapWork | null = null;

function showWork(w: MapWork | null): void {
  work = w;
  const bar = $('work');
  bar.hidden = !w;
  if (w) {
    $('workText').textContent = `${w.label}: ${w.cancelling ? 'cancelling…' : `${Math.floor(w.share * 100)} % (${w.message})`}`;
    $<HTMLProgressElement>('workProgress').value = w.share;
    $('workCancel').toggleAttribute('disabled', w.cancelling);
  }
  renderState();
}

/** The boot the banner's note is about (undefined: not about a boot). */
let noticeBoot: number | undefined;
let noticeTimer: ReturnType<typeof setTimeout> | undefined;

function showNotice(text: string, bootGeneration?: number): void {
  const banner = $('banner');
  banner.textContent = text;
  banner.hidden = false;
  banner.dataset.notice = '1';
  noticeBoot = bootGeneration;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    dropNotice();
    renderState();
  }, 15_000);
}

function dropNotice(): void {
  clearTimeout(noticeTimer);
  noticeBoot = undefined;
  delete $('banner').dataset.notice;
}

// ---------------------------------------------------------------- export

/** What Export Map draws (on the host): told whenever it changes. */
let viewSent = '';

function postView(shown: Cells): void {
  if (!layout) return;
  // The owners drawn, with their slots: what the picture needs, however many owners the map has seen.
  const drawn = new Set(shown.owners);
  const owners = [...slotsFor(shown)].filter(([o]) => drawn.has(o));
  const view = { firstPfn: shown.firstPfn, framesPerCell: shown.framesPerCell, columns: layout.columns, cellPx: layout.cellPx, width: cssWidth, height: cssHeight, dpr: window.devicePixelRatio || 1, overlay, owners, palette: theme.palette };
  const text = JSON.stringify(view);
  if (text === viewSent) return;
  viewSent = text;
  post({ type: 'view', ...view });
}

// ---------------------------------------------------------------- events

window.addEventListener('message', (e: MessageEvent) => {
  const msg: unknown = e.data;
  if (!isHostToWebview(msg)) return; // validate before acting
  switch (msg.type) {
    case 'state': {
      const first = !state;
      state = msg.state;
      steps.update(state.history);
      if (state.history.reset || state.history.added.length || first) historyChanges++;
      document.body.dataset.animateChanges = String(state.animateChanges);
      if (first) relayout();
      renderState();
      refresh(state);
      fragChart.update(`${steps.first}-${steps.last}-${historyChanges}`, state.viewedStep ?? steps.last);
      if (selected !== undefined && selected >= state.image.totalFrames) showSelection(state.image.totalFrames - 1);
      else void describeSelected();
      return;
    }
    case 'cells':
      requests.answer('cells', msg.id, msg);
      return;
    case 'frame':
      requests.answer('frame', msg.id, msg.frame);
      return;
    case 'mix':
      requests.answer('mix', msg.id, msg.mix);
      return;
    case 'steps':
      requests.answer('steps', msg.id, msg.steps);
      return;
    case 'select':
      followHost(msg);
      return;
    case 'lastAllocation':
      showLastAllocation(msg.answers);
      return;
    case 'fragHistory':
      if (msg.history) requests.answer('frag', msg.id, msg.history);
      else requests.fail('frag', msg.id, new Error(msg.error ?? 'no answer'));
      return;
    case 'notice':
      showNotice(msg.text, msg.bootGeneration);
      return;
    case 'work':
      showWork(msg.work);
      return;
    case 'chain':
      setChain(msg.chain);
      draw();
      return;
  }
});

function zoomBy(steps: number, anchor?: { pfn: number; y: number }): void {
  if (zoom === undefined || !layout) return;
  const a = anchor ?? (selected !== undefined ? { pfn: selected, y: (cellOf(layout, selected).row - topRow) * layout.cellPx } : { pfn: topRow * layout.framesPerRow, y: 0 });
  userZoom = zoom + steps;
  relayout(a);
  save();
  requestCells();
  draw();
}

function fit(): void {
  userZoom = undefined;
  topRow = 0;
  relayout();
  save();
  requestCells();
}

function pan(rows: number): void {
  topRow += rows;
  clampTop();
  save();
  requestCells();
}

canvas.addEventListener('wheel', (e) => {
  e.preventDefault();
  if (e.shiftKey) return pan(Math.sign(e.deltaY) * Math.max(1, Math.floor(visibleRows() / 8)));
  const rect = canvas.getBoundingClientRect();
  const pfn = pfnAtPoint(e.clientX - rect.left, e.clientY - rect.top);
  // Pinch on a trackpad arrives as a wheel event with ctrlKey; both zoom around the pointer.
  zoomBy(e.deltaY < 0 ? 1 : -1, pfn !== undefined ? { pfn, y: e.clientY - rect.top } : undefined);
}, { passive: false });

let drag: { y: number; row: number; moved: boolean } | undefined;
canvas.addEventListener('pointerdown', (e) => {
  drag = { y: e.clientY, row: topRow, moved: false };
  canvas.setPointerCapture(e.pointerId);
});
canvas.addEventListener('pointermove', (e) => {
  if (drag && layout && Math.abs(e.clientY - drag.y) > 3) {
    drag.moved = true;
    topRow = drag.row - Math.round((e.clientY - drag.y) / layout.cellPx);
    clampTop();
    requestCells();
    tooltip.hidden = true;
    return;
  }
  hover(e);
});
canvas.addEventListener('pointerup', (e) => {
  const wasDrag = drag?.moved;
  drag = undefined;
  save();
  if (wasDrag) return;
  const rect = canvas.getBoundingClientRect();
  const pfn = pfnAtPoint(e.clientX - rect.left, e.clientY - rect.top);
  if (pfn !== undefined) choose(pfn, true);
});
canvas.addEventListener('pointerleave', () => {
  clearTimeout(hoverTimer);
  tooltipFor++; // a tooltip still on its way stays hidden
  tooltip.hidden = true;
});

let hoverTimer: ReturnType<typeof setTimeout> | undefined;
function hover(e: PointerEvent): void {
  const rect = canvas.getBoundingClientRect();
  const x = e.clientX - rect.left;
  const y = e.clientY - rect.top;
  const pfn = pfnAtPoint(x, y);
  clearTimeout(hoverTimer);
  if (pfn === undefined) {
    tooltip.hidden = true;
    return;
  }
  hoverTimer = setTimeout(() => void showTooltip(pfn, x, y), 40);
}

/** Bumped by every tooltip asked for: one that comes back late is dropped. */
let tooltipFor = 0;

/** Shows the tooltip of the cell holding `pfn`, 14 px below right of (x, y) on the canvas. */
async function showTooltip(pfn: number, x: number, y: number): Promise<void> {
  if (!layout) return;
  const ticket = ++tooltipFor;
  const fpc = layout.framesPerCell;
  const cellPfn = pfn - (pfn % fpc);
  const [f, counts] = await Promise.all([frameDetails(cellPfn), fpc > 1 ? requests.request('mix', { pfn: cellPfn, frames: fpc }).catch(() => null) : null]);
  if (!layout || !state || ticket !== tooltipFor || layout.framesPerCell !== fpc) return;
  const cellIndex = cells ? Math.floor((cellPfn - cells.firstPfn) / fpc) : 0;
  const inSection = cells && !cells.detailed && fpc < state.image.sectionFrames ? state.image.sectionFrames : undefined;
  const holdsSelected = selected !== undefined && selected >= cellPfn && selected < cellPfn + fpc ? selected : undefined;
  // Cells of another zoom (still on their way) would describe the wrong frames.
  const shares = cells && cells.framesPerCell === fpc && cellIndex >= 0 && cellIndex < cells.cells ? cells.mix : undefined;
  const largestFree = overlay && cells?.largestFree && cells.framesPerCell === fpc && cellIndex >= 0 && cellIndex < cells.cells ? cells.largestFree[cellIndex] : undefined;
  renderLines(tooltip, describeCell(cellPfn, fpc, shares, cellIndex, f, { counts, selected: holdsSelected, sectionFrames: inSection, largestFree }));
  tooltip.hidden = false;
  const area = canvas.parentElement!.getBoundingClientRect();
  tooltip.style.left = `${Math.min(x + 14, area.width - tooltip.offsetWidth - 4)}px`;
  tooltip.style.top = `${Math.min(y + 14, area.height - tooltip.offsetHeight - 4)}px`;
}

canvas.addEventListener('keydown', (e) => {
  if (!layout || !state) return;
  const move = (delta: number) => {
    const base = selected ?? topRow * layout!.framesPerRow;
    choose(Math.max(0, Math.min(state!.image.totalFrames - 1, base + delta)), false);
  };
  const handled = true;
  switch (e.key) {
    case 'ArrowLeft': move(-layout.framesPerCell); break;
    case 'ArrowRight': move(layout.framesPerCell); break;
    case 'ArrowUp': move(-layout.framesPerRow); break;
    case 'ArrowDown': move(layout.framesPerRow); break;
    case 'Enter': if (selected !== undefined) choose(selected, true); break;
    case '+': case '=': zoomBy(1); break;
    case '-': case '_': zoomBy(-1); break;
    case '0': fit(); break;
    case 'o': case 'O': toggleOverlay(); break;
    case 'PageDown': pan(pageRows()); break;
    case 'PageUp': pan(-pageRows()); break;
    case 'Home': topRow = 0; pan(0); break;
    case 'End': topRow = layout.rows; pan(0); break;
    default: return;
  }
  if (handled) e.preventDefault();
});

overview.addEventListener('pointerdown', (e) => {
  if (!layout || !state) return;
  const jump = (clientY: number) => {
    const rect = overview.getBoundingClientRect();
    const pfn = ((clientY - rect.top) / rect.height) * state!.image.totalFrames;
    topRow = Math.floor(pfn / layout!.framesPerRow) - Math.floor(visibleRows() / 2);
    clampTop();
    save();
    requestCells();
  };
  jump(e.clientY);
  overview.setPointerCapture(e.pointerId);
  const moveHandler = (m: PointerEvent) => jump(m.clientY);
  overview.addEventListener('pointermove', moveHandler);
  overview.addEventListener('pointerup', () => overview.removeEventListener('pointermove', moveHandler), { once: true });
});

// ---------------------------------------------------------------- quick allocate

const allocFields = { order: $<HTMLInputElement>('allocOrder'), count: $<HTMLInputElement>('allocCount'), node: $<HTMLInputElement>('allocNode'), owner: $<HTMLInputElement>('allocOwner') };

/** The last answers fill the form, unless it is being typed in. */
function showLastAllocation(a: AllocationForm): void {
  if ($('allocForm').contains(document.activeElement)) return;
  allocFields.order.value = String(a.order);
  allocFields.count.value = String(a.count);
  allocFields.node.value = String(a.node);
  allocFields.owner.value = a.owner;
}

/** The form's answers, each field marked when it is not usable; undefined if one is not. */
function allocationAnswers(): AllocationForm | undefined {
  const whole = (el: HTMLInputElement, min: number, max: number) => {
    const v = Number(el.value.trim());
    const ok = el.value.trim() !== '' && Number.isSafeInteger(v) && v >= min && v <= max;
    el.setAttribute('aria-invalid', String(!ok));
    return ok ? v : undefined;
  };
  const img = state?.image;
  if (!img) return undefined;
  const order = whole(allocFields.order, 0, img.maxOrder);
  const count = whole(allocFields.count, 1, 2 ** 31);
  const node = whole(allocFields.node, 0, img.nodes.length - 1);
  const ownerOk = new TextEncoder().encode(allocFields.owner.value).length <= 16;
  allocFields.owner.setAttribute('aria-invalid', String(!ownerOk));
  if (order === undefined || count === undefined || node === undefined || !ownerOk) return undefined;
  return { order, count, node, owner: allocFields.owner.value };
}

$('allocForm').addEventListener('submit', (e) => {
  e.preventDefault();
  const a = allocationAnswers();
  if (a) post({ type: 'allocate', ...a });
});

const command = (name: MapCommand) => () => post({ type: 'command', command: name, pfn: name === 'free' ? selectedFrame?.blockPfn : undefined });
for (const name of ['allocate', 'reboot', 'crash', 'rebootIntoProfile', 'initAll', 'stepBack', 'stepForward', 'exportMap'] as const) $(name).addEventListener('click', command(name));
$('free').addEventListener('click', command('free'));
$('workCancel').addEventListener('click', command('cancelOperation'));
$('zoomIn').addEventListener('click', () => zoomBy(1));
$('zoomOut').addEventListener('click', () => zoomBy(-1));
$('fit').addEventListener('click', fit);
$('overlay').addEventListener('click', toggleOverlay);
showOverlayButton();

/** Switches the fragmentation overlay on or off: the windows are asked for again, with or without it. */
function toggleOverlay(): void {
  overlay = !overlay;
  save();
  showOverlayButton();
  renderLegend();
  requestCells();
  requestOverview();
  draw();
}

function showOverlayButton(): void {
  $('overlay').setAttribute('aria-pressed', String(overlay));
  document.body.dataset.overlay = String(overlay);
}

/** Counts the states that brought history news: the chart reads the history again when it changes. */
let historyChanges = 0;
const fragChart = new FragChart($('fragPanel'), {
  ask: (samples) => requests.request('frag', { samples }),
  goToStep: (step) => post({ type: 'goToStep', step }),
}, theme);
$<HTMLInputElement>('timeline').addEventListener('change', (e) => post({ type: 'goToStep', step: Number((e.target as HTMLInputElement).value) }));

new ResizeObserver(() => {
  const area = canvas.parentElement!;
  const width = Math.max(0, area.clientWidth - overview.offsetWidth - 8);
  const height = Math.max(0, area.clientHeight);
  if (width === cssWidth && height === cssHeight) return;
  cssWidth = width;
  cssHeight = height;
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  relayout(layout && selected !== undefined ? { pfn: selected, y: height / 2 } : undefined);
  requestCells();
  requestOverview();
  draw();
}).observe(canvas.parentElement!);

// Theme changes switch the body's classes: re-read the colours.
new MutationObserver(() => {
  theme = readTheme();
  renderLegend();
  fragChart.setTheme(theme);
  draw();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

// The banner keeps one line (the map must not move): its whole text is in its title.
new MutationObserver(() => ($('banner').title = $('banner').textContent ?? '')).observe($('banner'), { childList: true, characterData: true, subtree: true });

describeSelection();
post({ type: 'ready' });
