/** The tooltip of the cell under the pointer (or of the selected frame): its frames' states, the frame's details, the overlay's order. */
import { describeCell, renderLines } from '../cellText';
import { frameDetails, requests } from './hostRequests';
import { canvas, tooltip, view } from './model';
import { pfnAtPoint } from './viewport';

let hoverTimer: ReturnType<typeof setTimeout> | undefined;
/** Bumped by every tooltip asked for: one that comes back late is dropped. */
let tooltipFor = 0;

/** The pointer moved over the map: the cell under it gets its tooltip once the pointer rests a moment. */
export function hover(e: PointerEvent): void {
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

/** A tooltip waiting for the pointer to rest is not shown. */
export function cancelHover(): void {
  clearTimeout(hoverTimer);
}

/** Hides the tooltip; one still on its way stays hidden. */
export function hideTooltip(): void {
  clearTimeout(hoverTimer);
  tooltipFor++;
  tooltip.hidden = true;
}

/** Shows the tooltip of the cell holding `pfn`, 14 px below right of (x, y) on the canvas. */
export async function showTooltip(pfn: number, x: number, y: number): Promise<void> {
  if (!view.layout) return;
  const ticket = ++tooltipFor;
  const fpc = view.layout.framesPerCell;
  const cellPfn = pfn - (pfn % fpc);
  const [f, counts] = await Promise.all([frameDetails(cellPfn), fpc > 1 ? requests.request('mix', { pfn: cellPfn, frames: fpc }).catch(() => null) : null]);
  const { layout, state, cells, selected } = view;
  if (!layout || !state || ticket !== tooltipFor || layout.framesPerCell !== fpc) return;
  const cellIndex = cells ? Math.floor((cellPfn - cells.firstPfn) / fpc) : 0;
  const inSection = cells && !cells.detailed && fpc < state.image.sectionFrames ? state.image.sectionFrames : undefined;
  const holdsSelected = selected !== undefined && selected >= cellPfn && selected < cellPfn + fpc ? selected : undefined;
  // Cells of another zoom (still on their way) would describe the wrong frames.
  const shares = cells && cells.framesPerCell === fpc && cellIndex >= 0 && cellIndex < cells.cells ? cells.mix : undefined;
  const largestFree = view.overlay && cells?.largestFree && cells.framesPerCell === fpc && cellIndex >= 0 && cellIndex < cells.cells ? cells.largestFree[cellIndex] : undefined;
  renderLines(tooltip, describeCell(cellPfn, fpc, shares, cellIndex, f, { counts, selected: holdsSelected, sectionFrames: inSection, largestFree }));
  tooltip.hidden = false;
  const area = canvas.parentElement!.getBoundingClientRect();
  tooltip.style.left = `${Math.min(x + 14, area.width - tooltip.offsetWidth - 4)}px`;
  tooltip.style.top = `${Math.min(y + 14, area.height - tooltip.offsetHeight - 4)}px`;
}
