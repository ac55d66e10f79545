/** The map's pointer and keyboard: wheel and keys zoom and pan, drag pans, click and arrows select, the overview jumps. */
import { choose } from './selection';
import { canvas, overview, save, tooltip, view } from './model';
import { fit, pan, toggleOverlay, zoomBy } from './navigation';
import { requestCells } from './cells';
import { hideTooltip, hover } from './tooltip';
import { clampTop, pageRows, pfnAtPoint, visibleRows } from './viewport';

/** Listens to the map and the overview. */
export function listenToInput(): void {
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
    drag = { y: e.clientY, row: view.topRow, moved: false };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (drag && view.layout && Math.abs(e.clientY - drag.y) > 3) {
      drag.moved = true;
      view.topRow = drag.row - Math.round((e.clientY - drag.y) / view.layout.cellPx);
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
  canvas.addEventListener('pointerleave', hideTooltip);

  canvas.addEventListener('keydown', (e) => {
    if (!view.layout || !view.state) return;
    const move = (delta: number) => {
      const base = view.selected ?? view.topRow * view.layout!.framesPerRow;
      choose(Math.max(0, Math.min(view.state!.image.totalFrames - 1, base + delta)), false);
    };
    const handled = true;
    switch (e.key) {
      case 'ArrowLeft': move(-view.layout.framesPerCell); break;
      case 'ArrowRight': move(view.layout.framesPerCell); break;
      case 'ArrowUp': move(-view.layout.framesPerRow); break;
      case 'ArrowDown': move(view.layout.framesPerRow); break;
      case 'Enter': if (view.selected !== undefined) choose(view.selected, true); break;
      case '+': case '=': zoomBy(1); break;
      case '-': case '_': zoomBy(-1); break;
      case '0': fit(); break;
      case 'o': case 'O': toggleOverlay(); break;
      case 'PageDown': pan(pageRows()); break;
      case 'PageUp': pan(-pageRows()); break;
      case 'Home': view.topRow = 0; pan(0); break;
      case 'End': view.topRow = view.layout.rows; pan(0); break;
      default: return;
    }
    if (handled) e.preventDefault();
  });

  overview.addEventListener('pointerdown', (e) => {
    if (!view.layout || !view.state) return;
    const jump = (clientY: number) => {
      const rect = overview.getBoundingClientRect();
      const pfn = ((clientY - rect.top) / rect.height) * view.state!.image.totalFrames;
      view.topRow = Math.floor(pfn / view.layout!.framesPerRow) - Math.floor(visibleRows() / 2);
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
}
