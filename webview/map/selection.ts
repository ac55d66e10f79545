/** The selected frame: choosing it (click, keys, the host's Go to Frame), fetching its details, and the line that describes it. */
import { cellOf } from '../../src/shared/mapGeometry';
import { MapSelection } from '../../src/shared/mapSelection';
import type { HostToWebview } from '../../src/shared/protocol';
import { sectionStateWords } from '../../src/shared/words';
import { kindLabel } from '../cellText';
import { draw } from './draw';
import { frameDetails } from './hostRequests';
import { $, post, save, tooltip, view } from './model';
import { ensureVisible, zoomToFrame } from './navigation';
import { cancelHover, hideTooltip, showTooltip } from './tooltip';

/** The selection belongs to the document in the host; see MapSelection for the ordering. */
const selection = new MapSelection();
/** Bumped by every change of the selected frame, so details that come back late are dropped. */
let detailsFor = 0;

export function describeSelection(): void {
  const el = $('selection');
  const free = $<HTMLButtonElement>('free');
  const f = view.selectedFrame;
  const { state } = view;
  free.toggleAttribute('disabled', !(f && f.kind === 'allocated' && state && !state.readOnly && state.viewedStep === undefined));
  if (view.selected === undefined || !f) {
    el.textContent = 'Click a frame, or focus the map and use the arrow keys, to select it.';
    return;
  }
  el.textContent = `Selected pfn ${f.pfn} (0x${f.physAddr.toString(16)}): ${kindLabel(f)}${f.blockPfn !== undefined && !(f.noDescriptor && f.kind === 'allocated') ? `, block at pfn ${f.blockPfn} of order ${f.order}` : ''}${f.owner ? `, owner ${f.owner}` : ''}; node ${f.node}, zone ${f.zone}, section ${f.section} (${sectionStateWords(f.sectionState)}). Enter reveals it in the Descriptors view.`;
}

/** The user chose `pfn` here: shown at once, and told to the host (which reveals it in the Descriptors view when `reveal`). */
export function choose(pfn: number, reveal: boolean): void {
  showSelection(pfn);
  post({ type: 'select', pfn, req: selection.choose(), reveal });
}

/** The host chose a frame (another view, Go to Frame). */
export function followHost(msg: Extract<HostToWebview, { type: 'select' }>): void {
  if (!selection.accept(msg)) return;
  if (msg.zoom) zoomToFrame(msg.pfn);
  if (msg.pfn !== view.selected || msg.zoom) showSelection(msg.pfn);
  followTooltip();
}

/** A tooltip on show when the selection moves elsewhere (Go to Frame) describes the selected frame, beside its cell. */
function followTooltip(): void {
  cancelHover();
  const { layout, selected } = view;
  if (tooltip.hidden || selected === undefined || !layout) return;
  const { row, column } = cellOf(layout, selected);
  const x = (column + 0.5) * layout.cellPx;
  const y = (row - view.topRow + 0.5) * layout.cellPx;
  if (y < 0 || y > view.cssHeight) {
    hideTooltip();
    return;
  }
  void showTooltip(selected, x, y);
}

export function showSelection(pfn: number): void {
  view.selected = pfn;
  save();
  ensureVisible(pfn);
  draw();
  void describeSelected();
}

/** Fetches the selected frame's details (again after a change of state) and shows them. */
export async function describeSelected(): Promise<void> {
  if (view.selected === undefined) return;
  const ticket = ++detailsFor;
  const f = (await frameDetails(view.selected)) ?? undefined;
  if (ticket !== detailsFor) return;
  view.selectedFrame = f;
  describeSelection();
  draw();
}
