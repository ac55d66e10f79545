/**
 * The typed message protocol between the extension host and a webview. Both
 * sides validate every message they receive with the guards below before
 * acting on it: a webview is untrusted input.
 */
import type { FrameInfo } from '../engine/inspect/views';
import type { Step, StepsUpdate } from '../engine/inspect/steps';
import type { MapChange } from './mapPatch';
import type { MapPalette } from './mapRaster';

/** Where an image problem is, as the engine reports it. */
export interface ProblemLocation {
  file?: string;
  field?: string;
  offset?: number;
  pfn?: number;
  section?: number;
}

/** What the map needs to know of an image's shape (sent once per state). */
export interface MapImage {
  name: string;
  totalFrames: number;
  sectionFrames: number;
  maxOrder: number;
  nodes: Array<{ id: number; firstPfn: number; frames: number; zones: Array<{ name: string; firstPfn: number; frames: number }> }>;
  /** Reserved regions in plain words, for the legend and tooltips. */
  regions: Array<{ label: string; startPfn: number; frames: number }>;
}

export interface MapState {
  /** Bumped by every change; cells of an older version are stale. */
  version: number;
  image: MapImage;
  frames: { free: number; allocated: number; uninitialized: number; reserved: number };
  sections: { never: number; initialized: number; stale: number };
  bootGeneration: number;
  profile: string;
  machine: 'running' | 'off' | 'crashed';
  readOnly?: string;
  /** The history step shown, when looking at the past. */
  viewedStep?: number;
  /** The history steps added and dropped since the last state (the map keeps its list of steps). */
  history: StepsUpdate;
  /** What changed since the last state: the map fetches again only the cells it touches. */
  change: MapChange;
  /**
   * The changed cells of the windows the map last asked for whole, computed
   * with the state so the map redraws without asking: each patch applies
   * when the map still shows `of`; otherwise it asks for what `change` touches.
   */
  patches: Array<{ window: MapWindowRole; of: { firstPfn: number; framesPerCell: number; cells: number }; cells: CellsData }>;
  memmapPlacement: 'device' | 'ram';
  /** The descriptor design the image runs (README's Designs). */
  design: string;
  /** A dynamic image: its pool and the I/O in flight, whose frames have descriptors attached. */
  io?: MapIo;
  /** The pmemExplorer.map.animateChanges setting. */
  animateChanges: boolean;
}

/** A frame as the engine describes it, its region in plain words, its flags by name, without the raw flags and refcount. */
export type FrameDetails = Omit<FrameInfo, 'flags' | 'refcount' | 'region'> & {
  region?: string;
  flagNames?: string[];
  /** The image keeps no descriptors (pfn-only): an allocated frame's owner and order are not known, a free block only by its link record. */
  noDescriptor?: boolean;
};

/** A free list drawn on the map as a chain: its blocks in list order, each link whole or broken (see freeListChain). */
export interface ChainData {
  label: string;
  order: number;
  blocks: Array<{ pfn: number; next: number; broken?: string }>;
}

/** Which of its windows a map asks for whole: the map itself or the overview strip (a patch asks for neither). */
export type MapWindowRole = 'map' | 'overview';

/** Cells of a window, as the engine computes them (see mapCells). */
export interface CellsData {
  firstPfn: number;
  framesPerCell: number;
  cells: number;
  detailed: boolean;
  mix: Uint8Array;
  tag: Uint16Array;
  owners: string[];
  blocks: number[];
  /** Asked for with `overlay`: the largest free order with a frame in each cell, 0xff for none (see freeBlocks.ts). */
  largestFree?: Uint8Array;
}

/** Free blocks by order over the history, as the fragmentation chart draws them (see fragHistory.ts). */
export interface FragHistoryData {
  first: number;
  last: number;
  maxOrder: number;
  samples: Array<{ step: number; zones: Array<{ node: number; zone: string; free: number[] }> }>;
}

/** The error of a fragHistory answer cut short by a change of the image: the map asks again with the next state. */
export const FRAG_HISTORY_CHANGED = 'the image changed while its history was read';

/**
 * What the map shows, for Export Map on the host: the cells' layout (CSS
 * pixels), the canvas's size, the overlay, the owners' colour slots and the
 * theme's colours as the map read them.
 */
export interface MapView {
  /** The first frame drawn and the frames per cell: the window the picture shows. */
  firstPfn: number;
  framesPerCell: number;
  columns: number;
  cellPx: number;
  width: number;
  height: number;
  dpr: number;
  overlay: boolean;
  owners: Array<[string, number]>;
  palette: MapPalette;
}

/** The most steps the chart samples. */
export const MAX_FRAG_SAMPLES = 2000;

export type HostToWebview =
  | { type: 'state'; state: MapState }
  | ({ type: 'cells'; id: number; version: number } & CellsData)
  | { type: 'frame'; id: number; frame: FrameDetails | null }
  /** The exact frames per state (MIX_CHANNELS order) of a cell the map asked about; null when out of the image. */
  | { type: 'mix'; id: number; mix: number[] | null }
  /** Texts of history steps the map asked for (those it lists without text); fewer when steps are gone. */
  | { type: 'steps'; id: number; steps: Step[] }
  /**
   * The document's selected frame. `seq` orders the document's selections;
   * `ack` is the last `req` of this map's own selections the host had taken
   * when it sent this, so a map ignores news older than its own last click.
   */
  | { type: 'select'; pfn: number; seq: number; ack: number; zoom?: boolean }
  /** A note for the banner; with `bootGeneration`, about that boot only (dropped once the image is in another boot). */
  | { type: 'notice'; text: string; bootGeneration?: number }
  /** Long work under way on the image (null: none): the map shows it with a Cancel button. */
  | { type: 'work'; work: MapWork | null }
  /** The free list chosen in the Free Lists view, to draw as a chain (null: none). */
  | { type: 'chain'; chain: ChainData | null }
  /** The last answers to Allocate, for the toolbar's form. */
  | { type: 'lastAllocation'; answers: AllocationForm }
  /** Free blocks by order over the history (null, with `error`, when it cannot be worked out). */
  | { type: 'fragHistory'; id: number; history: FragHistoryData | null; error?: string }
  /** Another map in step with this one moved: show the same place (see MapMove). */
  | ({ type: 'follow' } & MapMove);

/** A dynamic image's pool of descriptors and the I/O in flight. */
export interface MapIo {
  descriptors: number;
  attached: number;
  flights: Array<{ id: number; pfn: number; count: number }>;
}

/** Where a map is: its zoom (null: the fit) and the first frame of its top row. Maps in step share it. */
export interface MapMove {
  zoom: number | null;
  topPfn: number;
}

/** What the toolbar's allocate form asks (the zone is the last one chosen, Normal at first). */
export interface AllocationForm {
  order: number;
  count: number;
  node: number;
  owner: string;
}

/** Long work on the image, as the map shows it. */
export interface MapWork {
  label: string;
  /** 0 to 1. */
  share: number;
  message: string;
  cancelling: boolean;
}

/** The most cells an SVG export draws (one element each); larger views export as PNG. */
export const SVG_MAX_CELLS = 65536;

export function svgRefusal(cells: number): string | undefined {
  return cells > SVG_MAX_CELLS ? `SVG export is for views of at most 65 536 cells (this one has ${cells}); zoom in, or export PNG` : undefined;
}

/** Commands the map's toolbar may run; anything else is refused. */
export const MAP_COMMANDS = ['allocate', 'free', 'reboot', 'crash', 'rebootIntoProfile', 'initAll', 'stepBack', 'stepForward', 'exportMap', 'check', 'cancelOperation'] as const;
export type MapCommand = (typeof MAP_COMMANDS)[number];

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'reopenWith' }
  /** The user pressed a pointer on the map's page: its editor becomes the active one (a browser-hosted workbench does not make it so). */
  | { type: 'pointed' }
  /** The image editor's error view: the file is a Linux namespace, open it with the namespace editor. */
  | { type: 'openAsNamespace' }
  /** The user selected a frame on the map (click, arrow keys, Enter); `req` counts this map's selections; `reveal` asks the Descriptors view to show it. */
  | { type: 'select'; pfn: number; req: number; reveal: boolean }
  /** `overlay`: with each cell's largest free order (the map's overlay). */
  | { type: 'getCells'; id: number; firstPfn: number; framesPerCell: number; cells: number; window?: MapWindowRole; overlay?: boolean }
  /** Free blocks by order at `samples` steps spread over the history (the fragmentation chart). */
  | { type: 'getFragHistory'; id: number; samples: number }
  | { type: 'getFrame'; id: number; pfn: number }
  /** The exact mix of the cell of `frames` frames from `pfn` (a tooltip). */
  | { type: 'getMix'; id: number; pfn: number; frames: number }
  /** Texts of the history steps `from` to `to` (at most MAX_STEP_TEXTS are answered). */
  | { type: 'getSteps'; id: number; from: number; to: number }
  | { type: 'command'; command: MapCommand; pfn?: number }
  /** The toolbar's allocate form, sent with Enter. */
  | ({ type: 'allocate' } & AllocationForm)
  | { type: 'goToStep'; step: number }
  /** The map has drawn the cells of a state version. */
  | { type: 'drawn'; version: number }
  /** The map's layout, overlay, owner colours and theme changed (Export Map draws what it shows). */
  | ({ type: 'view' } & MapView)
  /** The user moved the map (zoom, pan, fit): maps in step follow. */
  | ({ type: 'moved' } & MapMove);

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const keys = (x: Record<string, unknown>, ...allowed: string[]) => Object.keys(x).every((k) => k === 'type' || allowed.includes(k));

/** The most cells one request may ask for (a 4K screen at one pixel per cell is about 8 M). */
export const MAX_CELLS_PER_REQUEST = 1 << 24;

export function isWebviewToHost(x: unknown): x is WebviewToHost {
  if (!isRecord(x)) return false;
  switch (x.type) {
    case 'ready':
    case 'reopenWith':
    case 'pointed':
    case 'openAsNamespace':
      return keys(x);
    case 'select':
      return isCount(x.pfn) && isCount(x.req) && typeof x.reveal === 'boolean' && keys(x, 'pfn', 'req', 'reveal');
    case 'getCells':
      return isCount(x.id) && isCount(x.firstPfn) && isCount(x.framesPerCell) && x.framesPerCell >= 1 && isCount(x.cells) && x.cells <= MAX_CELLS_PER_REQUEST
        && (x.window === undefined || x.window === 'map' || x.window === 'overview') && (x.overlay === undefined || typeof x.overlay === 'boolean') && keys(x, 'id', 'firstPfn', 'framesPerCell', 'cells', 'window', 'overlay');
    case 'getFragHistory':
      return isCount(x.id) && isCount(x.samples) && x.samples >= 2 && x.samples <= MAX_FRAG_SAMPLES && keys(x, 'id', 'samples');
    case 'getFrame':
      return isCount(x.id) && isCount(x.pfn) && keys(x, 'id', 'pfn');
    case 'getMix':
      return isCount(x.id) && isCount(x.pfn) && isCount(x.frames) && x.frames >= 1 && keys(x, 'id', 'pfn', 'frames');
    case 'getSteps':
      return isCount(x.id) && isCount(x.from) && isCount(x.to) && keys(x, 'id', 'from', 'to');
    case 'command':
      return (MAP_COMMANDS as readonly unknown[]).includes(x.command) && (x.pfn === undefined || isCount(x.pfn)) && keys(x, 'command', 'pfn');
    case 'allocate':
      return isCount(x.order) && isCount(x.count) && isCount(x.node) && typeof x.owner === 'string' && x.owner.length <= 64 && keys(x, 'order', 'count', 'node', 'owner');
    case 'goToStep':
      return isCount(x.step) && keys(x, 'step');
    case 'drawn':
      return isCount(x.version) && keys(x, 'version');
    case 'view':
      return isCount(x.firstPfn) && isCount(x.framesPerCell) && x.framesPerCell >= 1 && isCount(x.columns) && x.columns >= 1 && isSize(x.cellPx) && isSize(x.width) && isSize(x.height) && isSize(x.dpr) && typeof x.overlay === 'boolean'
        && Array.isArray(x.owners) && x.owners.length <= 4096 && x.owners.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && e[0].length <= 64 && Number.isSafeInteger(e[1]))
        && isPalette(x.palette) && keys(x, 'firstPfn', 'framesPerCell', 'columns', 'cellPx', 'width', 'height', 'dpr', 'overlay', 'owners', 'palette');
    case 'moved':
      return isMapMove(x);
    default:
      return false;
  }
}

/** A zoom is log2 of pixels per frame: tens at most either way. */
const isMapMove = (x: Record<string, unknown>) => (x.zoom === null || (typeof x.zoom === 'number' && Number.isFinite(x.zoom) && Math.abs(x.zoom) <= 64)) && isCount(x.topPfn) && keys(x, 'zoom', 'topPfn');

/** A positive size, not absurd (a canvas is at most tens of thousands of pixels). */
const isSize = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0 && x <= 1 << 16;
const isRgb = (x: unknown) => Array.isArray(x) && x.length === 3 && x.every((v) => typeof v === 'number' && v >= 0 && v <= 255);
const PALETTE_COLOURS = ['background', 'metadata', 'memmap', 'freeSmall', 'freeLarge', 'allocated', 'never', 'stale', 'io'] as const;

function isPalette(x: unknown): x is MapPalette {
  return isRecord(x) && PALETTE_COLOURS.every((k) => isRgb(x[k])) && typeof x.ownerLightness === 'number' && x.ownerLightness >= 0 && x.ownerLightness <= 1
    && Array.isArray(x.orderRamp) && x.orderRamp.length === 3 && x.orderRamp.every(isRgb) && Object.keys(x).length === PALETTE_COLOURS.length + 2;
}

function isCellsData(x: unknown): x is CellsData {
  return isRecord(x) && isCount(x.firstPfn) && isCount(x.framesPerCell) && isCount(x.cells) && x.mix instanceof Uint8Array && x.tag instanceof Uint16Array && Array.isArray(x.owners) && Array.isArray(x.blocks)
    && (x.largestFree === undefined || (x.largestFree instanceof Uint8Array && x.largestFree.length === x.cells));
}

function isFragHistory(x: unknown): x is FragHistoryData {
  return isRecord(x) && isCount(x.first) && isCount(x.last) && isCount(x.maxOrder) && x.maxOrder < 64 && Array.isArray(x.samples)
    && x.samples.every((s) => isRecord(s) && isCount(s.step) && Array.isArray(s.zones)
      && s.zones.every((z) => isRecord(z) && isCount(z.node) && typeof z.zone === 'string' && Array.isArray(z.free) && z.free.length === (x.maxOrder as number) + 1 && z.free.every(isCount)));
}

export function isHostToWebview(x: unknown): x is HostToWebview {
  if (!isRecord(x)) return false;
  switch (x.type) {
    case 'state':
      return isRecord(x.state) && isRecord(x.state.image) && isRecord(x.state.history) && Array.isArray(x.state.history.added) && isRecord(x.state.change) && Array.isArray(x.state.change.frames) && Array.isArray(x.state.change.sections)
        && Array.isArray(x.state.patches) && x.state.patches.every((p) => isRecord(p) && (p.window === 'map' || p.window === 'overview') && isRecord(p.of) && isCellsData(p.cells));
    case 'cells':
      return isCount(x.id) && isCellsData(x);
    case 'frame':
      return isCount(x.id) && (x.frame === null || isRecord(x.frame));
    case 'mix':
      return isCount(x.id) && (x.mix === null || (Array.isArray(x.mix) && x.mix.every((v) => typeof v === 'number')));
    case 'steps':
      return isCount(x.id) && Array.isArray(x.steps) && x.steps.every((t) => isRecord(t) && isCount(t.seq) && typeof t.text === 'string');
    case 'select':
      return isCount(x.pfn) && isCount(x.seq) && isCount(x.ack) && (x.zoom === undefined || typeof x.zoom === 'boolean');
    case 'notice':
      return typeof x.text === 'string' && (x.bootGeneration === undefined || isCount(x.bootGeneration));
    case 'work':
      return x.work === null || (isRecord(x.work) && typeof x.work.label === 'string' && typeof x.work.share === 'number' && typeof x.work.message === 'string' && typeof x.work.cancelling === 'boolean');
    case 'chain':
      return x.chain === null || (isRecord(x.chain) && typeof x.chain.label === 'string' && isCount(x.chain.order) && Array.isArray(x.chain.blocks)
        && x.chain.blocks.every((b) => isRecord(b) && isCount(b.pfn) && isCount(b.next) && (b.broken === undefined || typeof b.broken === 'string')));
    case 'lastAllocation':
      return isRecord(x.answers) && isCount(x.answers.order) && isCount(x.answers.count) && isCount(x.answers.node) && typeof x.answers.owner === 'string';
    case 'fragHistory':
      return isCount(x.id) && (x.history === null ? typeof x.error === 'string' : isFragHistory(x.history) && x.error === undefined);
    case 'follow':
      return isMapMove(x);
    default:
      return false;
  }
}
