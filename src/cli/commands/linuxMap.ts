/** `pmem map` on a Linux namespace: one cell per page (or group of pages), coloured by what its struct page says. */
import { FileStore } from '../../engine/node/fileStore';
import type { PfnNamespaceReport } from '../../engine/format/linux/namespace';
import { LINUX_6_1_X86_64 } from '../../engine/format/linux/kernelStructPage';
import { anchorOf, classifyPages, namespaceMemmap, PAGE_CLASS } from '../../engine/format/linux/structPage';
import { fitZoom, layoutAt, type MapLayout } from '../../shared/mapGeometry';

const PAGE = 4096;

/** When a cell holds several classes, the rarest-looking one is drawn, so a minority never disappears. */
export const CLASS_PRIORITY: number[] = [
  PAGE_CLASS.suspect, PAGE_CLASS.buddy, PAGE_CLASS.other, PAGE_CLASS.compoundHead, PAGE_CLASS.reserve,
  PAGE_CLASS.device, PAGE_CLASS.compoundTail, PAGE_CLASS.neverWritten, PAGE_CLASS.undescribed,
];

/** Colours by class, for VS Code's default dark and light themes (RGB). */
export const NAMESPACE_PALETTES: Record<'dark' | 'light', Record<number, [number, number, number]>> = {
  dark: {
    [PAGE_CLASS.undescribed]: [60, 60, 60], [PAGE_CLASS.neverWritten]: [90, 90, 90], [PAGE_CLASS.device]: [38, 139, 210],
    [PAGE_CLASS.reserve]: [181, 137, 0], [PAGE_CLASS.compoundHead]: [211, 54, 130], [PAGE_CLASS.compoundTail]: [42, 161, 152],
    [PAGE_CLASS.buddy]: [133, 153, 0], [PAGE_CLASS.other]: [203, 75, 22], [PAGE_CLASS.suspect]: [255, 0, 0],
  },
  light: {
    [PAGE_CLASS.undescribed]: [220, 220, 220], [PAGE_CLASS.neverWritten]: [190, 190, 190], [PAGE_CLASS.device]: [0, 102, 184],
    [PAGE_CLASS.reserve]: [150, 110, 0], [PAGE_CLASS.compoundHead]: [180, 30, 110], [PAGE_CLASS.compoundTail]: [0, 128, 120],
    [PAGE_CLASS.buddy]: [90, 120, 0], [PAGE_CLASS.other]: [190, 70, 10], [PAGE_CLASS.suspect]: [220, 0, 0],
  },
};

export interface NamespaceMapPicture {
  layout: MapLayout;
  width: number;
  height: number;
  /** width × height RGBA pixels, row by row (opaque). */
  rgba: Uint8Array;
  /** Pages whose struct page is in the file (0 when the memmap is in RAM). */
  describedPages: number;
}

/** Pages classified per read: 4 MiB of struct pages. */
const CHUNK_PAGES = 65536;

export function renderNamespaceMap(file: string, report: PfnNamespaceReport, boxWidth: number, boxHeight: number, theme: 'dark' | 'light'): NamespaceMapPicture {
  const pages = Math.floor(report.size / PAGE);
  const layout = layoutAt(fitZoom(pages, boxWidth, boxHeight), pages, boxWidth);
  const cells = layout.columns * layout.rows;
  const cellClass = new Uint8Array(cells).fill(PAGE_CLASS.undescribed);
  const rank = new Uint8Array(16);
  CLASS_PRIORITY.forEach((c, i) => (rank[c] = i));
  const m = namespaceMemmap(report);
  let described = 0;
  if (!('none' in m)) {
    const store = FileStore.open(file, { readOnly: true });
    try {
      const read = (o: number, n: number) => store.read(o, n);
      const ctx = { kernel: LINUX_6_1_X86_64, anchor: anchorOf(read, m) };
      for (let p = 0; p < pages; p += CHUNK_PAGES) {
        const n = Math.min(CHUNK_PAGES, pages - p);
        const classes = classifyPages(read, m, p, n, ctx);
        for (let i = 0; i < n; i++) {
          const c = classes[i];
          if (c !== PAGE_CLASS.undescribed) described++;
          const cell = Math.floor((p + i) / layout.framesPerCell);
          if (rank[c] < rank[cellClass[cell]]) cellClass[cell] = c;
        }
      }
    } finally {
      store.close();
    }
  }
  const width = Math.max(1, Math.min(boxWidth, Math.round(layout.columns * layout.cellPx)));
  const height = Math.max(1, Math.min(boxHeight, Math.round(layout.rows * layout.cellPx)));
  const rgba = new Uint8Array(width * height * 4);
  const background: [number, number, number] = theme === 'dark' ? [30, 30, 30] : [255, 255, 255];
  const palette = NAMESPACE_PALETTES[theme];
  const lastCell = Math.ceil(pages / layout.framesPerCell);
  for (let y = 0; y < height; y++) {
    const row = Math.min(layout.rows - 1, Math.floor((y + 0.5) / layout.cellPx));
    for (let x = 0; x < width; x++) {
      const col = Math.min(layout.columns - 1, Math.floor((x + 0.5) / layout.cellPx));
      const cell = row * layout.columns + col;
      const [r, g, b] = cell < lastCell ? palette[cellClass[cell]] : background;
      const at = (y * width + x) * 4;
      rgba[at] = r;
      rgba[at + 1] = g;
      rgba[at + 2] = b;
      rgba[at + 3] = 255;
    }
  }
  return { layout, width, height, rgba, describedPages: described };
}
