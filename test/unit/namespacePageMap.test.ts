/**
 * The namespace editor's page map: cells of page classes computed in slices
 * from the struct pages a real kernel wrote, and the class a cell is drawn in.
 */
import { strict as assert } from 'node:assert';
import { FileStore } from '../../src/engine/node/fileStore';
import { describeNamespace, DETECT_BYTES, type PfnNamespaceReport } from '../../src/engine/format/linux/namespace';
import { LINUX_6_1_X86_64 } from '../../src/engine/format/linux/kernelStructPage';
import { anchorOf, namespaceMemmap, PAGE_CLASS, type NamespaceMemmap } from '../../src/engine/format/linux/structPage';
import { computePageMap } from '../../src/extension/namespace/pageMapJob';
import { CLASS_COUNT, MAX_CELLS, mixText, pagesPerCellFor, tellingClass } from '../../src/shared/pageClassCells';
import type { MapSlice, NamespaceMapShape } from '../../src/shared/namespaceProtocol';
import { sharedFixture, type Config } from './linuxFixtures';

describe('namespace page map cells', () => {
  it('keeps a namespace within MAX_CELLS cells of a power of two of pages', () => {
    assert.equal(pagesPerCellFor(1), 1);
    assert.equal(pagesPerCellFor(MAX_CELLS), 1);
    assert.equal(pagesPerCellFor(MAX_CELLS + 1), 2);
    assert.equal(pagesPerCellFor(262144), 64); // 1 GiB
  });

  it('draws a cell in its most telling class, so a single odd page is not hidden', () => {
    const counts = new Uint32Array(CLASS_COUNT);
    counts[PAGE_CLASS.device] = 63;
    assert.equal(tellingClass(counts), PAGE_CLASS.device);
    counts[PAGE_CLASS.suspect] = 1;
    assert.equal(tellingClass(counts), PAGE_CLASS.suspect);
    assert.equal(mixText(counts), '63 ZONE_DEVICE, 1 suspect');
    const empty = new Uint32Array(CLASS_COUNT);
    assert.equal(tellingClass(empty), PAGE_CLASS.undescribed);
  });
});

describe('namespace page map from a real kernel\'s struct pages', function () {
  this.timeout(120_000);
  let fixtures: { files: Partial<Record<Config, string>> };
  before(() => {
    fixtures = { files: Object.fromEntries((['fsdax-dev-2M-1G', 'devdax-dev-2M-1G'] as readonly Config[]).map((c) => [c, sharedFixture(c)])) };
  });

  async function mapOf(file: string, stopAfter = Infinity) {
    const store = FileStore.open(file, { readOnly: true });
    try {
      const report = describeNamespace(store.read(0, DETECT_BYTES), store.size) as PfnNamespaceReport;
      const m = namespaceMemmap(report) as NamespaceMemmap;
      const read = (o: number, l: number) => store.read(o, l);
      const pages = store.size / 4096;
      const shape: NamespaceMapShape = { pages, pagesPerCell: pagesPerCellFor(pages), cells: Math.ceil(pages / pagesPerCellFor(pages)), described: { from: 0, to: pages }, firstDataPage: 4608 };
      const slices: MapSlice[] = [];
      const complete = await computePageMap(read, m, shape, { kernel: LINUX_6_1_X86_64, anchor: anchorOf(read, m) }, (s) => slices.push(s), () => slices.length >= stopAfter);
      const counts = new Uint32Array(shape.cells * CLASS_COUNT);
      for (const s of slices) counts.set(s.counts, s.firstCell * CLASS_COUNT);
      const totals = new Array<number>(CLASS_COUNT).fill(0);
      counts.forEach((n, i) => (totals[i % CLASS_COUNT] += n));
      return { shape, slices, counts, totals, complete };
    } finally {
      store.close();
    }
  }

  it('fsdax --map=dev: 2 pages never written, the reserve and memmap up to the data area, then ZONE_DEVICE pages', async () => {
    const { shape, slices, counts, totals, complete } = await mapOf(fixtures.files['fsdax-dev-2M-1G']!);
    assert.ok(complete);
    assert.ok(slices.length > 1, 'the map arrives in several slices');
    assert.equal(slices.at(-1)!.done, 262144);
    assert.equal(totals[PAGE_CLASS.neverWritten], 2);
    assert.equal(totals[PAGE_CLASS.reserve], 4608 - 2);
    assert.equal(totals[PAGE_CLASS.device], 257536);
    assert.equal(totals.reduce((a, b) => a + b), 262144);
    // Cell 0 holds pages 0-63: two never written among reserve pages; the two must show.
    assert.equal(tellingClass(counts, 0), PAGE_CLASS.neverWritten);
    assert.equal(mixText(counts, 0), '62 reserve (not given to the device), 2 never written');
    assert.equal(tellingClass(counts, (4608 / shape.pagesPerCell) * CLASS_COUNT), PAGE_CLASS.device);
  });

  it('devdax: every 2 MiB compound page\'s head shows in its cell among 63 tails', async () => {
    const { shape, counts, totals } = await mapOf(fixtures.files['devdax-dev-2M-1G']!);
    assert.equal(totals[PAGE_CLASS.compoundHead], 257536 / 512);
    for (let page = 4608; page < 262144; page += 512) {
      assert.equal(tellingClass(counts, (page / shape.pagesPerCell) * CLASS_COUNT), PAGE_CLASS.compoundHead, `the cell of page ${page}`);
    }
    assert.equal(tellingClass(counts, ((4608 + 64) / shape.pagesPerCell) * CLASS_COUNT), PAGE_CLASS.compoundTail);
  });

  it('stops when asked, between slices', async () => {
    const { slices, complete } = await mapOf(fixtures.files['fsdax-dev-2M-1G']!, 2);
    assert.equal(complete, false);
    assert.ok(slices.length >= 2 && slices.at(-1)!.done < 262144, `${slices.length} slices, ${slices.at(-1)!.done} pages`);
  });
});
