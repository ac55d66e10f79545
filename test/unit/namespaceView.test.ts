/** What the namespace editor shows for each kind of namespace a real kernel wrote (the view the host sends its webview). */
import { strict as assert } from 'node:assert';
import { FileStore } from '../../src/engine/node/fileStore';
import { describeNamespace, DETECT_BYTES, type PfnNamespaceReport } from '../../src/engine/format/linux/namespace';
import { namespaceMemmap } from '../../src/engine/format/linux/structPage';
import { isPfn, namespaceView } from '../../src/extension/namespace/namespaceView';
import type { NamespaceMapShape } from '../../src/shared/namespaceProtocol';
import { CONFIGS, sharedFixture, type Config } from './linuxFixtures';

describe('namespace editor view', function () {
  this.timeout(120_000);
  let fixtures: { files: Partial<Record<Config, string>> };
  before(() => {
    fixtures = { files: Object.fromEntries((CONFIGS as readonly Config[]).map((c) => [c, sharedFixture(c)])) };
  });

  function viewOf(config: Config) {
    const store = FileStore.open(fixtures.files[config]!, { readOnly: true });
    try {
      const report = describeNamespace(store.read(0, DETECT_BYTES), store.size);
      return namespaceView({ report, memmap: isPfn(report) ? namespaceMemmap(report as PfnNamespaceReport) : undefined }, `${config}.img`);
    } finally {
      store.close();
    }
  }

  it('fsdax --map=dev: fields with their byte offsets, checks, areas and a page map from the first data page', () => {
    const v = viewOf('fsdax-dev-2M-1G');
    assert.equal(v.struct, 'struct nd_pfn_sb');
    assert.deepEqual(v.fields!.find((f) => f.name === 'dataoff'), { name: 'dataoff', value: '18874368', offset: 56 });
    assert.deepEqual(v.fields!.at(-1), { name: 'checksum', value: '0x3ef97c0aa953f17d', offset: 4088 });
    assert.equal(v.checksum!.ok, true);
    assert.equal(v.validation!.ok, true);
    assert.deepEqual(v.areas!.map((a) => a.name), ['info-block reserve', 'memmap', 'alignment padding', 'data']);
    assert.deepEqual(v.map, { pages: 262144, pagesPerCell: 64, cells: 4096, described: { from: 0, to: 262144 }, firstDataPage: 4608 } satisfies NamespaceMapShape);
  });

  it('fsdax --map=mem: no page map, saying the struct pages live in RAM', () => {
    const v = viewOf('fsdax-mem-2M-1G');
    assert.equal(v.memmap, 'in RAM (--map=mem)');
    assert.deepEqual(v.map, { none: 'No page map: its struct pages live in RAM (--map=mem): the file holds none.' });
  });

  it('devdax: a page map like fsdax\'s', () => {
    const map = viewOf('devdax-dev-2M-1G').map as NamespaceMapShape;
    assert.equal(map.firstDataPage, 4608);
    assert.equal(map.cells, 4096);
  });

  it('sector mode: the BTT info block and arena areas, no checks of nd_pfn_validate and no page map', () => {
    const v = viewOf('sector-1G');
    assert.equal(v.struct, 'struct btt_sb');
    assert.deepEqual(v.areas!.map((a) => a.name), ['info block', 'data', 'map', 'log', 'info block copy']);
    assert.equal(v.validation, undefined);
    assert.equal(v.map, undefined);
    assert.match(v.note!, /no struct pages: there is no page map/);
  });
});
