/** What Export Map draws (on the host), told to it whenever it changes: the window, the layout, the overlay, the owners' slots, the palette. */
import { Cells, post, slotsFor, view } from './model';

let viewSent = '';

export function postView(shown: Cells): void {
  const { layout } = view;
  if (!layout) return;
  // The owners drawn, with their slots: what the picture needs, however many owners the map has seen.
  const drawn = new Set(shown.owners);
  const owners = [...slotsFor(shown)].filter(([o]) => drawn.has(o));
  const told = { firstPfn: shown.firstPfn, framesPerCell: shown.framesPerCell, columns: layout.columns, cellPx: layout.cellPx, width: view.cssWidth, height: view.cssHeight, dpr: window.devicePixelRatio || 1, overlay: view.overlay, owners, palette: view.theme.palette };
  const text = JSON.stringify(told);
  if (text === viewSent) return;
  viewSent = text;
  post({ type: 'view', ...told });
}
