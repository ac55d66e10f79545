/** A dynamic image's I/O in flight, drawn on the host's picture of the map and in its SVG, as the editor outlines it. */
import { strict as assert } from 'node:assert';
import { allocOp, ioOp, MemoryStore, PmemImage } from '../../src/engine';
import { builtDesign } from '../../src/engine/designs/designs';
import { mapCells } from '../../src/engine/inspect/mapCells';
import { ioCellRuns, MapBox, paintMap } from '../../src/shared/mapPicture';
import { DEFAULT_PALETTES } from '../../src/shared/mapRaster';
import { svgOfMap } from '../../src/shared/svgMap';

const MiB = 2 ** 20;

describe('I/O in flight on the host\'s map picture', () => {
  it('splits a run of frames into runs of cells at the ends of rows, clipped to the view', () => {
    // 8 frames a row (4 cells of 2), view from pfn 16: frames 20..37 are cells 2..10 (row 0: 2-3, row 1: 4-7, row 2: 8-10).
    assert.deepEqual(ioCellRuns([{ pfn: 20, count: 18 }], 16, 2, 4, 12), [{ cell: 2, cells: 2 }, { cell: 4, cells: 4 }, { cell: 8, cells: 3 }]);
    assert.deepEqual(ioCellRuns([{ pfn: 0, count: 20 }], 16, 2, 4, 12), [{ cell: 0, cells: 2 }], 'before the view: clipped');
    assert.deepEqual(ioCellRuns([{ pfn: 60, count: 8 }], 16, 2, 4, 12), [], 'past the view: nothing');
  });

  it('outlines the frames under I/O in the palette\'s orange over a faint fill; the rest of the map is untouched', () => {
    const store = new MemoryStore(16 * MiB);
    PmemImage.create(store, { sizeBytes: 16 * MiB, ...builtDesign('dynamic').geometry });
    const img = PmemImage.open(store);
    const pfn = allocOp(img, { order: 5 }).blocks[0].pfn;
    ioOp(img, pfn, 32, { hold: true });
    const columns = 64;
    const cells = mapCells(img, { firstPfn: 0, framesPerCell: 1, cells: img.geometry.totalFrames });
    const box: MapBox = { firstPfn: 0, framesPerCell: 1, columns, rows: img.geometry.totalFrames / columns, cellPx: 8, width: columns * 8, height: (img.geometry.totalFrames / columns) * 8 };
    const p = DEFAULT_PALETTES.dark;
    const plain = paintMap(cells, box, p, img.geometry.maxOrder);
    const drawn = paintMap(cells, box, p, img.geometry.maxOrder, { io: img.io.flights });
    const at = (pic: { rgba: Uint8Array; width: number }, x: number, y: number) => [...pic.rgba.subarray((y * pic.width + x) * 4, (y * pic.width + x) * 4 + 3)];
    const x0 = (pfn % columns) * 8;
    const y0 = Math.floor(pfn / columns) * 8;
    assert.deepEqual(at(drawn, x0, y0 + 1), p.io, 'the run\'s left edge');
    const inner = at(drawn, x0 + 20, y0 + 4);
    const under = at(plain, x0 + 20, y0 + 4);
    assert.deepEqual(inner, under.map((c, k) => Math.round(c * 0.65 + p.io[k] * 0.35)), 'inside: 35 % orange over the frame\'s colour');
    const changed = new Set<number>();
    for (let i = 0; i < plain.rgba.length; i += 4) if (plain.rgba[i] !== drawn.rgba[i] || plain.rgba[i + 1] !== drawn.rgba[i + 1] || plain.rgba[i + 2] !== drawn.rgba[i + 2]) changed.add(Math.floor(i / 4 / box.width / 8) * columns + Math.floor(((i / 4) % box.width) / 8));
    assert.deepEqual([...changed].sort((a, b) => a - b), Array.from({ length: 32 }, (_, k) => pfn + k), 'only the 32 frames under I/O changed');
  });

  it('draws each run of cells as an outlined rectangle in the SVG', () => {
    const svg = svgOfMap({ columns: 4, rows: 3, cellPx: 10, fills: Array(12).fill('#000000'), title: 't', io: [{ cell: 2, cells: 2 }, { cell: 4, cells: 4 }], ioColour: '#d18616' });
    assert.deepEqual(svg.match(/<rect class="io"[^>]*>/g), [
      '<rect class="io" x="21" y="1" width="18" height="8" fill="#d18616" fill-opacity="0.35" stroke="#d18616" stroke-width="2"/>',
      '<rect class="io" x="1" y="11" width="38" height="8" fill="#d18616" fill-opacity="0.35" stroke="#d18616" stroke-width="2"/>',
    ]);
  });
});
