/**
 * What the map editor's modules share: the link to the host (post, the
 * state kept while the editor is hidden), the page's elements, and the view's
 * own state (the image's state as last told, the zoom, the position, the
 * selection, the cells on show). Every module reads and writes `view`; none
 * keeps a copy of what is here.
 */
import type { MapLayout } from '../../src/shared/mapGeometry';
import { OWNER_SLOTS, OwnerSlots } from '../../src/shared/ownerPalette';
import type { FrameDetails, HostToWebview, MapMove, MapState, MapWork, WebviewToHost } from '../../src/shared/protocol';
import { readTheme, ThemeColours } from '../palette';
import { CellWindow, LoadingBar, Previews, SummaryHold } from '../preview';

declare function acquireVsCodeApi(): { postMessage(msg: WebviewToHost): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

export type Cells = Extract<HostToWebview, { type: 'cells' }>;

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
export const canvas = $<HTMLCanvasElement>('map');
export const overview = $<HTMLCanvasElement>('overview');
export const tooltip = $('tooltip');

/** What survives the editor being hidden and shown again (getState/setState, not retainContextWhenHidden). */
interface Saved { zoom?: number; topRow?: number; selected?: number; owners?: Array<[string, number]>; overlay?: boolean }
const saved = (vscode.getState() ?? {}) as Saved;

export interface MapView {
  /** The image's state as the host last told it. */
  state?: MapState;
  theme: ThemeColours;
  /** The zoom the user chose; undefined follows the fit, so a resize keeps the whole device in view. */
  userZoom?: number;
  zoom?: number;
  topRow: number;
  selected?: number;
  selectedFrame?: FrameDetails;
  /** Cells coloured by the largest free order in each (the fragmentation overlay) instead of by state. */
  overlay: boolean;
  layout?: MapLayout;
  /** The map's window and the overview's, as last answered. */
  cells?: Cells;
  overviewCells?: Cells;
  /** The window last asked for; until its cells come, the map draws a preview of it (see preview.ts). */
  wanted?: CellWindow;
  /** The map's share of the page, in CSS pixels. */
  cssWidth: number;
  cssHeight: number;
  /** Long work on the image, while it runs. */
  work: MapWork | null;
}

export const view: MapView = {
  theme: readTheme(),
  userZoom: typeof saved.zoom === 'number' ? saved.zoom : undefined,
  topRow: typeof saved.topRow === 'number' ? saved.topRow : 0,
  selected: typeof saved.selected === 'number' ? saved.selected : undefined,
  overlay: saved.overlay === true,
  cssWidth: 0,
  cssHeight: 0,
  work: null,
};

/** The owners this map has seen and their colour slots: an owner keeps its colour for as long as the map shows the image. */
export const ownerSlots = new OwnerSlots(OWNER_SLOTS, Array.isArray(saved.owners) ? saved.owners.filter((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number') : []);
/** The slots, with the owners of `c` placed. */
export const slotsFor = (c: { owners: string[] }) => ownerSlots.slotsOf(c.owners);

export const previews = new Previews();
export const loading = new LoadingBar(canvas);
export const summary = new SummaryHold((text) => ($('summary').textContent = text), (held) => $('summary').setAttribute('aria-busy', String(held)));

export const post = (msg: WebviewToHost) => vscode.postMessage(msg);

/** Where the map is, as maps in step share it (undefined until laid out). */
function whereNow(): MapMove | undefined {
  return view.layout ? { zoom: view.userZoom ?? null, topPfn: view.topRow * view.layout.framesPerRow } : undefined;
}
/** Where the host was last told (or told this map to be), so a move is told once and a followed one not echoed. */
let toldAt = '';
const key = (m: MapMove) => `${m.zoom}:${m.topPfn}`;

/** Keeps what survives hiding; tells the host when the map has moved since it last knew. */
export const save = () => {
  vscode.setState({ zoom: view.userZoom, topRow: view.topRow, selected: view.selected, owners: ownerSlots.entries(), overlay: view.overlay } satisfies Saved);
  const at = whereNow();
  if (!at || key(at) === toldAt) return;
  toldAt = key(at);
  post({ type: 'moved', ...at });
};

/** The map moved because another in step did: kept, and not told back. */
export const saveFollowed = () => {
  const at = whereNow();
  if (at) toldAt = key(at);
  save();
};
