// UI tests of the Linux Namespace editor (read-only) in a real VS Code
// (code-server) with the packaged extension, on a namespace a real Linux
// kernel wrote (test/fixtures/linux/fsdax-dev-2M-1G): the info block, checks,
// layout, page map and struct page inspector, opened from the explorer's
// context menu and from the image editor's offer. Runs once per colour theme
// and saves test-results/screenshots/<theme>-namespace-*.png.
//
//   npm run package && npx mocha --config test/ui/.mocharc.json --grep "Linux Namespace editor"

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Decompress } from 'fzstd';
import { THEMES, Workbench, eventually, sha256, textMatching, workbenchSuite } from './helpers.mjs';

const FIXTURES = fileURLToPath(new URL('../fixtures/linux/', import.meta.url));
const CONFIG = 'fsdax-dev-2M-1G';
const BLOCK = 4096;

/** Decompresses a fixture into `out` as a sparse file (only non-zero 4 KiB blocks are written), as test/unit/linuxFixtures.ts does. */
function decompressFixture(config, out) {
  const fd = fs.openSync(out, 'w');
  let offset = 0;
  let carry = new Uint8Array(0);
  const flush = (bytes) => {
    for (let at = 0; at < bytes.length; at += BLOCK) {
      const block = bytes.subarray(at, Math.min(at + BLOCK, bytes.length));
      if (block.some((b) => b !== 0)) fs.writeSync(fd, block, 0, block.length, offset + at);
    }
    offset += bytes.length;
  };
  try {
    const stream = new Decompress((chunk) => {
      const all = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const whole = all.length - (all.length % BLOCK);
      flush(all.subarray(0, whole));
      carry = all.slice(whole);
    });
    stream.push(new Uint8Array(fs.readFileSync(path.join(FIXTURES, config, `${config}.img.zst`))), true);
    flush(carry);
    fs.ftruncateSync(fd, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/** A copy that keeps the holes of a sparse file (cp skips them); a plain copy where cp cannot. */
function sparseCopy(from, to) {
  try {
    execFileSync('cp', ['--sparse=always', from, to], { stdio: 'ignore' });
  } catch {
    fs.copyFileSync(from, to);
  }
}

for (const theme of THEMES) {
  describe(`Linux Namespace editor (${theme.name})`, function () {
    /** @type {Workbench} */
    let wb;
    let ws;
    const prefix = `${theme.prefix}-namespace`;
    const shot = (name) => wb.screenshot(prefix, name);
    const hashes = {};
    workbenchSuite({
      theme,
      prefix,
      prepare: (w) => {
        decompressFixture(CONFIG, w.file(`${CONFIG}.img`));
        // The same namespace under the image editor's extension: it cannot open it and offers the namespace editor.
        sparseCopy(w.file(`${CONFIG}.img`), w.file('namespace.pmem'));
        const hash = sha256(w.file(`${CONFIG}.img`));
        for (const f of [`${CONFIG}.img`, 'namespace.pmem']) hashes[f] = hash;
      },
    }, (w, s) => {
      wb = w;
      ws = s;
    });

    const view = () => wb.webview();
    /** The value of a fact of the inspected struct page ("Page", "flags", "Node, zone", "refcount", "pfn", ...). */
    const fact = (name) => view().locator(`#inspector dd[data-fact="${name}"]`);
    const inspected = (page) => textMatching(fact('Page'), new RegExp(`^${page} \\(0x${page.toString(16)}\\)`), `the inspector to show page ${page}`);

    it('opens from the explorer\'s context menu and shows the info block, its checks and the layout', async () => {
      await wb.page.keyboard.press('Control+Shift+E');
      const explorer = wb.page.locator('.part.sidebar').getByRole('tree').first();
      const row = wb.row(explorer, `${CONFIG}.img`);
      await row.waitFor({ timeout: 20_000 });
      await wb.contextMenu(row, Workbench.commandTitle('pmemExplorer.openAsNamespace'));
      await textMatching(view().getByRole('heading', { level: 1 }), new RegExp(`^${CONFIG}\\.img\\s+read-only$`), 'the editor heading', 20_000);
      await textMatching(view().locator('#description'), /^A Linux fsdax namespace .*1073741824 bytes \(1 GiB\), read-only\.$/, 'the description');

      const fieldRow = (name) => view().locator('#fields tbody tr').filter({ has: view().locator('td:first-child', { hasText: new RegExp(`^${name}$`) }) });
      assert.deepEqual(await fieldRow('dataoff').locator('td').allInnerTexts(), ['dataoff', '18874368', '56']);
      assert.deepEqual(await fieldRow('npfns').locator('td').allInnerTexts(), ['npfns', '257536', '64']);
      assert.deepEqual(await fieldRow('signature').locator('td').allInnerTexts(), ['signature', 'NVDIMM_PFN_INFO', '0']);
      await textMatching(view().locator('#checksum'), /^match checksum stored 0x3ef97c0aa953f17d, computed 0x3ef97c0aa953f17d$/, 'the checksum line');
      await textMatching(view().locator('#validation .summaryLine'), /^every check passes \(nd_pfn_validate of Linux 6\.1/, 'the validation summary');
      const verdicts = await view().locator('#validation tbody tr td:first-child').allInnerTexts();
      assert.equal(verdicts.length, 15);
      assert.deepEqual([...new Set(verdicts)].sort(), ['NOT APPLICABLE', 'PASS']);

      // The layout: four areas, drawn to scale, the 8 KiB reserve still wide enough for its label.
      const areas = await view().locator('#areas tbody tr').evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.innerText.trim())));
      assert.deepEqual(areas.map((a) => a.slice(0, 4)), [
        ['info-block reserve', '0', '8191', '8 KiB'],
        ['memmap', '8192', '16490495', '15.7 MiB'],
        ['alignment padding', '16490496', '18874367', '2.27 MiB'],
        ['data', '18874368', '1073741823', '1006 MiB'],
      ]);
      const bar = await view().locator('#layoutBar .area').evaluateAll((els) => els.map((e) => {
        const r = e.getBoundingClientRect();
        const inside = [...e.children].every((c) => { const b = c.getBoundingClientRect(); return b.left >= r.left - 0.5 && b.right <= r.right + 0.5 && b.bottom <= r.bottom + 0.5 && c.scrollWidth <= c.clientWidth + 1; });
        // A name may wrap between its words, never inside one: its longest word fits the area's width.
        const name = e.querySelector('.areaName');
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = getComputedStyle(name).font;
        const wholeWords = Math.max(...name.textContent.split(/\s+/).map((w) => ctx.measureText(w).width)) <= name.clientWidth + 0.5;
        return { name: name.textContent, width: r.width, inside, wholeWords };
      }));
      assert.deepEqual(bar.map((b) => b.name), ['info-block reserve', 'memmap', 'alignment padding', 'data']);
      const [reserve, memmap, padding, data] = bar;
      // Areas below the minimum width (8 KiB, 15.7 MiB and 2.27 MiB of 1 GiB) all get it; the data area takes the rest.
      assert.ok(reserve.width >= 60 && memmap.width === reserve.width && padding.width === reserve.width, `small areas keep a minimum width: ${JSON.stringify(bar)}`);
      const barWidth = await view().locator('#layoutBar').evaluate((e) => e.getBoundingClientRect().width);
      assert.ok(data.width > 0.6 * barWidth, `the data area (98 % of the namespace) takes most of the bar (${barWidth} px): ${JSON.stringify(bar)}`);
      assert.ok(bar.every((b) => b.inside && b.wholeWords), `every area's name and size fit inside it, words whole: ${JSON.stringify(bar)}`);
      await view().locator('#layoutSection').evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await shot('layout');
    });

    it('maps every page by its struct page and decodes the first data page\'s struct page', async () => {
      await textMatching(view().locator('#mapInfo'), /^4096 cells, 64 pages per cell; struct pages in the file for pages 0–262143; all 262144 pages classified\./, 'the page map to finish', 30_000);
      const legend = await view().locator('#mapLegend .chip').allInnerTexts();
      for (const entry of ['never written: 2', 'ZONE_DEVICE: 257536', 'reserve (not given to the device): 4606', 'suspect: 0']) assert.ok(legend.includes(entry), `legend ${JSON.stringify(legend)} has "${entry}"`);
      // Cell 0 holds two never-written pages among 62 reserve pages: drawn as never written, the mix in its tooltip.
      assert.equal(await view().locator('#cell-0').getAttribute('title'), 'pages 0–63 (64 pages)\n62 reserve (not given to the device), 2 never written');
      assert.match(await view().locator('#cell-0').getAttribute('class'), /\bc1\b/);
      assert.match(await view().locator('#cell-72').getAttribute('class'), /\bc2\b/);

      await view().locator('#mapSection').evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await shot('page-map');

      // The inspector starts at the first data page: 4608 (dataoff 18 MiB / 4 KiB).
      await inspected(4608);
      await textMatching(fact('flags'), /^0x0027ffffc0001000: PG_reserved$/, 'the flags');
      await textMatching(fact('Node, zone'), /^node 0, zone 4 \(Device\)$/, 'node and zone');
      await textMatching(fact('refcount'), /^1$/, 'the refcount');
      await textMatching(fact('pfn'), /^0x101200 \(1053184\)$/, 'the pfn');
      await textMatching(fact('Kind'), /^ZONE_DEVICE$/, 'the kind');
      const words = await view().locator('#inspector table.words tbody tr').evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.innerText.trim())));
      assert.deepEqual(words.map((w) => w.slice(0, 2)), [['flags', '+0'], ['pgmap', '+8'], ['zone_device_data', '+16'], ['mapping', '+24'], ['index', '+32'], ['private', '+40'], ['_mapcount', '+48'], ['_refcount', '+52'], ['memcg_data', '+56']]);
      assert.deepEqual(words[0].slice(2, 3), ['0x0027ffffc0001000']);
      await view().locator('#mapLegend').evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await shot('struct-page');
    });

    it('follows the map: a clicked cell, the arrow keys and Enter, the page box, previous and next', async () => {
      await view().locator('#cell-0').click();
      await inspected(0);
      await textMatching(fact('Kind'), /^never written$/, 'page 0 is never written');
      assert.equal(await view().locator('#cell-0').getAttribute('aria-selected'), 'true');
      await view().locator('#cell-80').click();
      await inspected(5120);
      await textMatching(fact('pfn'), /^0x101400 \(1053696\)$/, 'the pfn of page 5120');
      assert.equal(await view().locator('#cell-0').getAttribute('aria-selected'), 'false', 'one cell is selected at a time');

      // The keyboard: the map moves a cell at a time and Enter inspects it.
      await view().locator('#pageMap').focus();
      await wb.page.keyboard.press('ArrowRight');
      await wb.page.keyboard.press('Enter');
      await inspected(81 * 64);

      // The page box takes hex; previous and next step one page.
      const input = view().locator('#pageInput');
      await input.fill('0x1201');
      await input.press('Enter');
      await inspected(4609);
      await view().getByRole('button', { name: 'Next page' }).click();
      await inspected(4610);
      await view().getByRole('button', { name: 'Previous page' }).click();
      await view().getByRole('button', { name: 'Previous page' }).click();
      await inspected(4608);
      await input.fill('262144');
      await input.press('Enter');
      await textMatching(view().locator('#inspector'), /^page 262144 has no struct page in the file \(pages 0–262143 do\)$/, 'a page past the end');
      await view().getByRole('button', { name: 'Go to first data page' }).click();
      await inspected(4608);
    });

    it('is offered by the image editor for a namespace it cannot open', async () => {
      await wb.quickOpen('namespace.pmem');
      const offer = view().getByRole('status');
      await textMatching(offer, /^This file is a Linux fsdax namespace .*The Linux Namespace editor shows it \(read-only\)\.$/, 'the offer in the error view', 20_000);
      await view().getByRole('button', { name: 'Open as Linux Namespace' }).click();
      await eventually('the namespace editor to open namespace.pmem', async () => /^namespace\.pmem\s+read-only$/.test((await view().getByRole('heading', { level: 1 }).innerText({ timeout: 1000 })).trim()), 20_000);
      await inspected(4608);
    });

    it('never writes to the files it shows', async () => {
      for (const [f, h] of Object.entries(hashes)) assert.equal(sha256(ws.file(f)), h, `${f} is unchanged`);
    });
  });
}
