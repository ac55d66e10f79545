// UI tests of the page-frame map (the PMem Image editor's webview) in a real
// VS Code (code-server) driven through Chromium, with the packaged extension:
// zoom, pan, hover, selection shared with the Descriptors view, the toolbar's
// allocate / free / history / reboot / crash, the costs panel, the reload offer
// after another program changes the image, and Export Map. Runs once per
// colour theme and saves screenshots to test-results/screenshots/<theme>-map-*.png.
//
// Needs `npm run package` (the .vsix and dist/cli.js) first:
//   npm run package && npx mocha --config test/ui/.mocharc.json test/ui/map.test.mjs
// PMEM_UI_THEMES=dark runs one theme only.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import {
  CLI, SCREENSHOT_DIR, THEMES, Workbench, eventually, pmem, pmemJson, textMatching, workbenchSuite,
} from './helpers.mjs';

const label = (id) => Workbench.commandLabel(id);

/** The pid of the extension host of the code-server this suite started (a process of the server's group). */
function extensionHostPid(server) {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,args='], { encoding: 'utf8' }).trim().split('\n').map((l) => l.trim().split(/\s+/));
  const host = rows.find(([, pgid, ...args]) => Number(pgid) === server.process.pid && /--type=extensionHost/.test(args.join(' ')));
  if (!host) throw new Error(`no extension host in process group ${server.process.pid}`);
  return Number(host[0]);
}

/** An image with 100,000 history steps, made once per run (the CLI would take a process per step), copied into each workspace. */
let longImage;
function longHistory() {
  if (longImage) return longImage;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-ui-long-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  longImage = path.join(dir, 'long.pmem');
  execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./makeLongHistory.mjs', import.meta.url)), longImage, '100000'], { stdio: 'inherit' });
  return longImage;
}
const hex = (n) => `0x${n.toString(16)}`;
/** Checks started to see one cancelled from the map (a check can end before a click on a busy machine). */
const CANCEL_ATTEMPTS = 5;

for (const theme of THEMES) {
  describe(`PMem Explorer page-frame map (${theme.name})`, function () {
    /** @type {Workbench} */
    let wb;
    let ws;
    // Files of this suite are named <theme>-map-*, apart from those of ui.test.mjs.
    const prefix = `${theme.prefix}-map`;
    const shot = (name) => wb.screenshot(prefix, name);
    workbenchSuite({
      theme,
      prefix,
      // A large (sparse) device: zoomed out, one cell stands for many frames; two zones.
      // and a 1 TiB one, whose cells take the host a while at every zoom.
      prepare: (w) => {
        pmem('create', w.file('big.pmem'), '--size', '64G');
        pmem('create', w.file('tib.pmem'), '--size', '1T');
        // Copied before code-server starts, so Quick Open's file index has it from the beginning.
        fs.copyFileSync(longHistory(), w.file('long.pmem'));
        // Nearly every frame allocated: each of its 3.8 million descriptors takes the checker's full check (seconds of work to watch and cancel).
        pmem('create', w.file('held.pmem'), '--size', '16G');
        execFileSync(process.execPath, [CLI, 'alloc', w.file('held.pmem'), '--order', '0', '--count', String(3_800_000), '--owner', 'held'], { stdio: 'ignore' });
      },
      // The side bar stays open throughout, so the map keeps one size (revealing a frame opens it anyway).
      ready: (w) => w.showSidebar(),
    }, (w, s) => {
      wb = w;
      ws = s;
    });

    it('zooms with the toolbar, the + and - keys and the wheel, and fits the whole device again', async () => {
      const { page } = wb;
      const total = pmemJson('info', ws.file('big.pmem')).totalFrames;
      await wb.openImage('big.pmem');
      const map = wb.map();
      const size = await map.canvasSize();
      assert.ok(size.cssWidth > 300 && size.cssHeight > 300, `the canvas fills the editor: ${JSON.stringify(size)}`);
      assert.deepEqual([size.width, size.height], [Math.round(size.cssWidth * size.dpr), Math.round(size.cssHeight * size.dpr)], 'the canvas is drawn at the screen\'s resolution');

      // The whole device at first: cells of several frames, from pfn 0 to the last frame, all drawn.
      const fit = await map.layout();
      assert.ok(fit.framesPerCell > 1, `a 64 GiB device does not fit one frame per cell: ${JSON.stringify(fit)}`);
      assert.equal(fit.topPfn, 0);
      const end = await map.hover(fit.drawnWidth - 1, fit.drawnHeight - 1);
      assert.equal(end.lastPfn, total - 1, `the last cell holds the last frame: "${end.lines[0]}"`);
      assert.ok(end.mix, 'an aggregated cell describes its mix of states');
      const cellsAtFit = Number(await map.data('cells'));
      assert.equal(cellsAtFit, total / fit.framesPerCell, 'every cell of the device is drawn');
      const drawMs = Number(await map.data('drawMs'));
      assert.ok(drawMs > 0 && drawMs < 500, `a draw takes ${drawMs} ms`);
      await map.leave();
      await shot('whole-device');

      // Each step in shows half as many frames per cell; the toolbar and the keys keep the top row in place.
      const framesAtTop = async () => {
        const t = await map.hover(1, 1);
        return [t.pfn, t.frames];
      };
      await map.button('Zoom in').click();
      assert.deepEqual(await framesAtTop(), [0, fit.framesPerCell / 2], 'Zoom in (toolbar)');
      await map.focus();
      await page.keyboard.press('+');
      assert.deepEqual(await framesAtTop(), [0, fit.framesPerCell / 4], 'the + key');
      await map.focus();
      await page.keyboard.press('-');
      assert.deepEqual(await framesAtTop(), [0, fit.framesPerCell / 2], 'the - key');
      await map.button('Zoom out').click();
      assert.deepEqual(await framesAtTop(), [0, fit.framesPerCell], 'Zoom out (toolbar)');
      await map.button('Zoom out').click();
      assert.deepEqual(await framesAtTop(), [0, fit.framesPerCell], 'no zooming out past the whole device');

      // The wheel zooms around the pointer: the frame under it stays in the row under it.
      const at = { x: Math.round(fit.drawnWidth * 0.3), y: Math.round(fit.drawnHeight * 0.7) };
      const under = await map.hover(at.x, at.y);
      await page.mouse.wheel(0, -120);
      const zoomed = await map.layout();
      assert.equal(zoomed.framesPerCell, fit.framesPerCell / 2, 'the wheel zooms in one step');
      assert.ok(zoomed.topPfn > 0, `the map scrolled to keep the pointer's frame in place (first frame: ${zoomed.topPfn})`);
      const now = map.pointOf(zoomed, under.pfn);
      // Within two rows: the map scrolls by whole rows, and an old row splits into two new ones (left half, right half).
      assert.ok(now && Math.abs(now.y - at.y) <= 2 * zoomed.cellPx, `pfn ${under.pfn} was under the pointer at y=${at.y}, now at y=${now?.y} (cells of ${zoomed.cellPx} px)`);

      // Fit returns to the whole device.
      await map.button('Fit').click();
      assert.deepEqual(await framesAtTop(), [0, fit.framesPerCell], 'Fit');
      assert.equal(Number(await map.data('cells')), cellsAtFit);

      // Zoomed in to single frames (the cells keep their size until then), then one step
      // more: cells twice as large, fewer of them drawn. The 0 key fits the device again.
      await map.focus();
      for (let k = fit.framesPerCell; k > 1; k /= 2) await page.keyboard.press('+');
      const single = await map.layout();
      assert.deepEqual([single.framesPerCell, single.cellPx], [1, fit.cellPx], 'one frame per cell');
      const top = await map.hover(1, 1);
      assert.match(top.lines[0], /^pfn 0 · physical 0x0$/, 'a single frame in the tooltip');
      await map.focus();
      await page.keyboard.press('+');
      const closer = await map.layout();
      assert.ok(closer.framesPerCell === 1 && Math.abs(closer.cellPx - 2 * single.cellPx) < 0.01, `cells twice as large: ${closer.cellPx} px`);
      const visibleRows = Math.ceil(closer.cssHeight / closer.cellPx);
      await eventually('the drawn cells to be those of the window', async () => Math.abs(Number(await map.data('cells')) - closer.columns * visibleRows) <= closer.columns);
      assert.ok(Number(await map.data('cells')) < cellsAtFit);
      await map.focus();
      await page.keyboard.press('0');
      assert.deepEqual(await framesAtTop(), [0, fit.framesPerCell], 'the 0 key');
      await eventually('all cells to be drawn again', async () => Number(await map.data('cells')) === cellsAtFit);
    });

    it('keeps a picture while zooming a 1 TiB image to single frames, marked as loading until the cells come', async function () {
      this.timeout(300_000);
      const { page } = wb;
      await wb.openImage('tib.pmem');
      const map = wb.map();
      const summary = (await wb.summaryNow()).text;
      await eventually('the first cells', async () => Number(await map.data('cells')) > 0 && (await map.data('loading')) === undefined, 30_000);
      // In the webview: every painted frame's share of the canvas drawn (not the background), sampled on a 64 x 40 grid,
      // and every time the map says it starts or stops loading (with the share drawn at that moment).
      await map.canvas().evaluate((c) => {
        const probe = document.createElement('canvas');
        probe.width = 64;
        probe.height = 40;
        const pctx = probe.getContext('2d', { willReadFrequently: true });
        const bg = getComputedStyle(document.body).backgroundColor.match(/[\d.]+/g).map(Number);
        const share = () => {
          pctx.imageSmoothingEnabled = false;
          pctx.clearRect(0, 0, 64, 40);
          pctx.drawImage(c, 0, 0, 64, 40);
          const d = pctx.getImageData(0, 0, 64, 40).data;
          let drawn = 0;
          for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) > 6) drawn++;
          return drawn / (64 * 40);
        };
        const w = { frames: [], changes: [] };
        c.watch = w;
        new MutationObserver(() => w.changes.push({ loading: document.body.dataset.loading === '1', busy: c.getAttribute('aria-busy'), drawn: share() }))
          .observe(document.body, { attributes: true, attributeFilter: ['data-loading'] });
        const tick = () => {
          w.frames.push({ loading: document.body.dataset.loading === '1', drawn: share() });
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
      const take = () => map.canvas().evaluate((c) => ({ frames: c.watch.frames.splice(0), changes: c.watch.changes.splice(0) }));
      const box = await map.canvas().boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await take();

      // The wheel zooms around the middle of the device, one step at a time, to cells of one frame 32 px wide.
      const figures = [];
      let cellsBefore = Number(await map.data('cells'));
      for (let step = 1; step <= 24; step++) {
        const started = Date.now();
        await page.mouse.wheel(0, -120);
        await eventually(`step ${step}: the map to load and settle`, async () => {
          const { changes } = await map.canvas().evaluate((c) => c.watch);
          return changes.some((x) => x.loading) && (await map.data('loading')) === undefined;
        }, 60_000);
        const waited = Date.now() - started;
        await page.waitForTimeout(100); // a few frames of the settled picture
        const { frames, changes } = await take();
        const settled = frames[frames.length - 1].drawn;
        const least = Math.min(...frames.map((f) => f.drawn), ...changes.map((x) => x.drawn));
        assert.ok(settled > 0.3, `step ${step}: the settled map covers ${settled} of the canvas`);
        assert.ok(least >= 0.6 * settled, `step ${step}: a frame with only ${least} of the canvas drawn (settled: ${settled})`);
        assert.deepEqual(changes.map((x) => [x.loading, x.busy]).slice(-1), [[false, 'false']], `step ${step}: loading over, the canvas no longer busy`);
        const tip = await map.hover(box.width / 2, box.height / 2);
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        const cells = Number(await map.data('cells'));
        figures.push(`${tip.frames} frame(s)/cell in ${waited} ms (${frames.length} frames painted, preview sampled in ${await map.data('previewMs')} ms)`);
        // The closest zoom is reached when a step in, at one frame per cell, changes nothing.
        if (tip.frames === 1 && cells === cellsBefore && /^1 frame/.test(figures[figures.length - 2])) break;
        cellsBefore = cells;
      }
      console.log(`      zoom steps: ${figures.join(', ')}`);
      assert.match(figures[figures.length - 1], /^1 frame/, 'zoomed to single frames');
      await map.leave();

      // While the extension host is busy (stopped here for 2 s), the map shows the new view from what it has,
      // with the loading bar along its top edge; then the cells replace it.
      const host = extensionHostPid(wb.vs.server);
      let meanwhile;
      process.kill(host, 'SIGSTOP');
      try {
        await map.button('Zoom out').click();
        await page.waitForTimeout(600);
        assert.equal(await map.data('loading'), '1', 'waiting for the cells');
        const bar = await map.view.locator('.loading').evaluate((b) => ({ hidden: b.hidden, opacity: getComputedStyle(b).opacity, width: b.offsetWidth, height: b.offsetHeight }));
        const { width } = await map.drawnSize();
        assert.ok(!bar.hidden && bar.opacity === '1' && bar.height === 2 && Math.abs(bar.width - (width - 4)) <= 1, `a thin bar across the map (${width} px): ${JSON.stringify(bar)}`);
        assert.equal(await map.canvas().getAttribute('aria-busy'), 'true');
        meanwhile = await take();
        assert.ok(meanwhile.frames.length > 5, `frames painted meanwhile: ${meanwhile.frames.length}`);
        await shot('zoom-loading');
      } finally {
        process.kill(host, 'SIGCONT');
      }
      await eventually('the cells to come', async () => (await map.data('loading')) === undefined, 10_000);
      await page.waitForTimeout(100);
      const after = await take();
      const settled = after.frames[after.frames.length - 1].drawn;
      const least = Math.min(...after.frames.map((f) => f.drawn), ...after.changes.map((x) => x.drawn), ...meanwhile.frames.map((f) => f.drawn));
      assert.ok(settled > 0.3 && least >= 0.6 * settled, `a preview on the map meanwhile: at least ${least} of the canvas drawn (settled: ${settled})`);
      assert.equal(await map.view.locator('.loading').evaluate((b) => b.hidden), true);
      assert.equal((await wb.summaryNow()).text, summary, 'the summary as it was: zooming changes nothing');
      await map.focus();
      await page.keyboard.press('0');
      await eventually('the whole device again', async () => (await map.data('loading')) === undefined, 30_000);
    });

    it('pans by dragging, with Page Down, and jumps with the overview strip', async () => {
      const { page } = wb;
      const total = pmemJson('info', ws.file('big.pmem')).totalFrames;
      await wb.openImage('big.pmem');
      const map = wb.map();
      await map.button('Fit').click();
      for (let i = 0; i < 3; i++) await map.button('Zoom in').click();
      const start = await map.layout();
      assert.equal(start.topPfn, 0);
      const noSelection = (await map.selection().innerText()).trim();

      // Dragging up by 200 px moves the map with the pointer: 200 px of rows further on.
      const box = await map.canvas().boundingBox();
      await page.mouse.move(box.x + 200, box.y + 400);
      await page.mouse.down();
      await page.mouse.move(box.x + 200, box.y + 300, { steps: 4 });
      await page.mouse.move(box.x + 200, box.y + 200, { steps: 4 });
      await page.mouse.up();
      const dragged = await map.hover(1, 1);
      const rows = dragged.pfn / start.framesPerRow;
      assert.ok(Number.isInteger(rows) && Math.abs(rows - 200 / start.cellPx) <= 1, `dragged by ${rows} rows of ${start.cellPx.toFixed(3)} px`);
      assert.equal((await map.selection().innerText()).trim(), noSelection, 'a drag selects nothing');

      // Page Down: the last visible row comes to the top.
      const lastRow = await map.hover(1, start.cssHeight - 1);
      await map.focus();
      await page.keyboard.press('PageDown');
      const paged = await map.hover(1, 1);
      assert.ok(paged.pfn > dragged.pfn && paged.pfn <= lastRow.pfn && lastRow.pfn - paged.pfn <= start.framesPerRow,
        `Page Down keeps one row of context: top pfn ${dragged.pfn} → ${paged.pfn}, last row was pfn ${lastRow.pfn}`);

      // A click three quarters down the overview strip centres the map on three quarters of the device.
      const strip = await map.overview().boundingBox();
      await page.mouse.click(strip.x + strip.width / 2, strip.y + strip.height * 0.75);
      const middle = await map.hover(1, Math.floor(start.cssHeight / 2));
      assert.ok(Math.abs(middle.pfn - 0.75 * total) <= total / 100, `the middle of the map shows pfn ${middle.pfn}, about ${0.75 * total}`);
      assert.notEqual((await map.hover(1, 1)).pfn, paged.pfn);
      await map.button('Fit').click();
    });

    it('describes the frame under the pointer: pfn, address, state, block, node/zone, section', async () => {
      const file = ws.file('used.pmem');
      await wb.openImage('used.pmem');
      const map = wb.map();
      await map.button('Fit').click();
      const layout = await map.layout();
      assert.equal(layout.framesPerCell, 1, `a 64 MiB device fits one frame per cell: ${JSON.stringify(layout)}`);

      // A frame inside an allocated block (not its head).
      const pfn = ws.fsPfns[1] + 3;
      const [d] = pmemJson('descriptors', file, '--from', String(pfn), '--count', '1');
      let tip = await map.hoverFrame(layout, pfn);
      assert.equal(tip.lines[0], `pfn ${pfn} · physical ${hex(pfn * 4096)}`);
      assert.equal(tip.state, `allocated · block at pfn ${ws.fsPfns[1]}, order 3 · owner fs`);
      assert.equal(tip.where, `node ${d.node}, zone ${d.zone} · section ${d.section} (initialised)`);
      assert.equal(tip.descriptor, `descriptor initialised in boot ${d.initGeneration}`);
      // The tooltip stays inside the map area, beside the pointer.
      const area = await map.view.locator('.mapArea').boundingBox();
      const box = await map.tooltip().boundingBox();
      assert.ok(box.x >= area.x && box.y >= area.y && box.x + box.width <= area.x + area.width + 1 && box.y + box.height <= area.y + area.height + 1, `tooltip ${JSON.stringify(box)} inside ${JSON.stringify(area)}`);
      await shot('hover-tooltip');

      // The first frame of the last section, never initialised; the last frame holds the backup superblock.
      const sections = pmemJson('sections', file);
      const lastSection = sections.at(-1);
      const [u] = pmemJson('descriptors', file, '--from', String(lastSection.firstPfn), '--count', '1');
      assert.deepEqual([lastSection.state, u.kind], ['never', 'uninitialized']);
      tip = await map.hoverFrame(layout, u.pfn);
      assert.equal(tip.lines[0], `pfn ${u.pfn} · physical ${hex(u.pfn * 4096)}`);
      assert.equal(tip.state, 'not yet initialised');
      assert.equal(tip.where, `node 0, zone DMA32 · section ${lastSection.index} (never initialised)`);
      assert.equal(tip.descriptor, 'no descriptor in this boot');
      const lastPfn = lastSection.firstPfn + lastSection.frames - 1;
      tip = await map.hoverFrame(layout, lastPfn);
      assert.equal(tip.state, 'backup superblock');
      await map.leave();
    });

    it('colours every state from the theme at 3:1 or more against the background, as the legend shows', async () => {
      await wb.openImage('used.pmem');
      const map = wb.map();
      await map.button('Fit').click();
      await map.leave();
      const seen = await map.view.locator('body').evaluate((body) => {
        const rgbs = (css) => [...css.matchAll(/rgba?\(([^)]+)\)/g)].map((m) => m[1].split(',').slice(0, 3).map(Number));
        const swatches = [...document.querySelectorAll('#legend .chip')].filter((c) => !c.querySelector('[data-outline]')).map((c) => {
          const style = getComputedStyle(c.querySelector('.swatch'));
          return { label: c.innerText.trim(), colours: rgbs(style.backgroundImage !== 'none' ? style.backgroundImage : style.backgroundColor) };
        });
        const canvas = document.querySelector('canvas#map');
        const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const onCanvas = new Set();
        for (let i = 0; i < d.length; i += 4) onCanvas.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
        return { background: getComputedStyle(body).getPropertyValue('--vscode-editor-background').trim(), swatches, onCanvas: [...onCanvas] };
      });
      const background = /^#[0-9a-f]{6}$/i.test(seen.background) ? [1, 3, 5].map((i) => parseInt(seen.background.slice(i, i + 2), 16)) : assert.fail(`editor background ${seen.background}`);
      const labels = seen.swatches.map((s) => s.label);
      for (const want of [/^metadata/, /^memmap/, /^free/, /^allocated$/, /^owner fs$/, /^owner slab$/, /^never initialised$/, /^stale/]) {
        assert.ok(labels.some((l) => want.test(l)), `the legend has ${want}: ${JSON.stringify(labels)}`);
      }
      for (const { label: name, colours } of seen.swatches) {
        assert.ok(colours.length, `a colour for ${name}`);
        for (const c of colours) {
          const ratio = contrast(c, background);
          assert.ok(ratio >= 2.99, `${name}: rgb(${c}) on rgb(${background}) is ${ratio.toFixed(2)}:1, under 3:1`);
        }
      }
      // The map draws with the legend's colours: those of the states this image has in single frames
      // (no ownerless block, no stale section; the free ramp's ends are its smallest and largest orders).
      for (const { label: name, colours } of seen.swatches.filter((s) => /^(metadata|memmap|owner |never)/.test(s.label))) {
        assert.ok(seen.onCanvas.includes(colours[0].join(',')), `the map shows ${name} in rgb(${colours[0]})`);
      }
    });

    /** used.pmem open beside the Descriptors view, zoomed in twice from fit. */
    async function zoomedMapWithDescriptors() {
      await wb.openImage('used.pmem');
      await wb.showSidebar();
      const map = wb.map();
      const descriptors = wb.tree('Descriptors');
      const selectedRow = (pfn) => eventually(`the Descriptors row of pfn ${pfn} to be selected`, async () => (await wb.row(descriptors, `pfn ${pfn}`).getAttribute('aria-selected', { timeout: 1000 })) === 'true');
      await map.button('Fit').click();
      await map.button('Zoom in').click();
      await map.button('Zoom in').click();
      return { page: wb.page, map, descriptors, selectedRow, layout: await map.layout() };
    }

    it('selects a frame on the map and in Descriptors, moves the selection with the arrow keys, reveals with Enter', async () => {
      const { page, map, descriptors, selectedRow, layout } = await zoomedMapWithDescriptors();
      assert.ok(layout.cellPx >= 8, `zoomed in, cells are ${layout.cellPx} px`);

      // A click selects the frame and reveals it in Descriptors.
      const slab = ws.slabPfns[0];
      await map.clickFrame(layout, slab);
      const sel = await map.selected(slab);
      assert.deepEqual(
        [sel.physAddr, sel.state, sel.node, sel.zone, sel.sectionState],
        [slab * 4096, `allocated, block at pfn ${slab} of order 0, owner slab`, 0, 'DMA32', 'initialised'],
        sel.text,
      );
      await selectedRow(slab);
      await map.leave();
      await shot('zoomed-blocks');

      // Selecting a frame row in Descriptors selects it on the map.
      const fsHead = ws.fsPfns[2];
      const row = wb.row(descriptors, `pfn ${fsHead}`);
      await wb.scrollTreeTo(descriptors, row);
      await row.click();
      assert.match((await map.selected(fsHead)).state, new RegExp(`^allocated, block at pfn ${fsHead} of order 3, owner fs$`));

      // Arrow keys move by a frame (left/right) and by a row (up/down); Descriptors follows on Enter only.
      await map.focus();
      await page.keyboard.press('ArrowRight');
      await map.selected(fsHead + 1);
      await page.keyboard.press('ArrowDown');
      const moved = fsHead + 1 + layout.framesPerRow;
      await map.selected(moved);
      assert.equal(await wb.row(descriptors, `pfn ${fsHead}`).getAttribute('aria-selected'), 'true', 'the arrows alone do not move the Descriptors selection');
      await page.keyboard.press('Enter');
      await selectedRow(moved);
      await map.focus();
      await page.keyboard.press('ArrowLeft');
      await map.selected(moved - 1);
      await page.keyboard.press('ArrowUp');
      await map.selected(fsHead);
    });

    it('ends on the last selection when the map and Descriptors are used at once', async () => {
      const { page, map, descriptors, selectedRow, layout } = await zoomedMapWithDescriptors();
      const first = ws.slabPfns[0];
      await map.clickFrame(layout, first);
      await selectedRow(first);
      const target = ws.fsPfns[2];
      const row = wb.row(descriptors, `pfn ${target}`);
      await wb.scrollTreeTo(descriptors, row);

      // A click on the map (on the frame next to the row, so its reveal does not scroll the row away),
      // then at once, its reveal in Descriptors still under way, a click on the row: the row wins everywhere.
      await map.clickFrame(layout, target - 1);
      await row.click();
      await map.selected(target);
      await selectedRow(target);

      // A burst of arrow keys, then Enter: the map ends on the last frame, and so does Descriptors.
      await map.focus();
      for (let i = 0; i < 6; i++) await page.keyboard.press(i % 2 ? 'ArrowDown' : 'ArrowRight');
      const last = target + 3 + 3 * layout.framesPerRow;
      await map.selected(last);
      await page.keyboard.press('Enter');
      await selectedRow(last);
      await map.selected(last);
    });

    it('allocates from the map toolbar, flashes the changed cells, and frees the selected block', async () => {
      await wb.openImage('used.pmem');
      const map = wb.map();
      const before = await wb.summaryNow();
      await map.clearChangedCells();

      await map.button('Allocate…').click();
      await wb.answer(/order/i, '4');
      await wb.answer(/how many/i, '1');
      await wb.pick(/zone/i, /^dma32$/i);
      await wb.answer(/owner/i, 'maptest');
      await wb.quickInput().waitFor({ state: 'hidden' });
      const allocated = await wb.summaryWhen('16 more allocated frames, booted', (s) => s.allocated === before.allocated + 16 && s.boot === before.boot + 1 && s.machine === 'running');
      assert.equal(allocated.free + allocated.uninit, before.free + before.uninit - 16, 'the 16 frames came from free or uninitialised ones');
      const changed = await eventually('changed cells to flash', () => map.data('changedCells'));
      assert.ok(Number(changed) > 0, `changed cells: ${changed}`);
      assert.ok(Number(await map.data('flashes')) > 0, 'changes are animated by default');
      const message = await textMatching(wb.page.locator('.part.statusbar .statusbar-item', { hasText: /Allocated/ }), /pfn \d+/, 'the status bar message');
      const head = Number(/pfn (\d+)/.exec(message)[1]);

      // A frame inside the new block, then Free selected: the whole block goes.
      const free = map.button('Free selected');
      const layout = await map.layout();
      await map.clickFrame(layout, head + 5);
      const sel = await map.selected(head + 5);
      assert.equal(sel.state, `allocated, block at pfn ${head} of order 4, owner maptest`);
      await eventually('Free selected to be enabled', async () => (await free.getAttribute('disabled')) === null);
      // With pmemExplorer.map.animateChanges off (here in the workspace's settings), the change is drawn without a flash.
      const settings = path.join(ws.dir, '.vscode', 'settings.json');
      fs.mkdirSync(path.dirname(settings), { recursive: true });
      fs.writeFileSync(settings, JSON.stringify({ 'pmemExplorer.map.animateChanges': false }));
      try {
        await map.clearChangedCells();
        await map.view.locator('body').evaluate((b) => delete b.dataset.flashes);
        await eventually('the map to hear of the setting', async () => (await map.data('animateChanges')) === 'false');
        await free.click();
        await wb.summaryWhen('the block freed', (s) => s.allocated === before.allocated && s.free === allocated.free + 16);
        await eventually('the freed cells to be drawn', () => map.data('changedCells'));
        assert.equal(await map.data('flashes'), '0', 'no flash with the animation turned off');
      } finally {
        fs.rmSync(settings);
      }
      await eventually('the animation to be back on', async () => (await map.data('animateChanges')) === 'true');
      await textMatching(map.selection(), new RegExp(`^Selected pfn ${head + 5} \\(0x[0-9a-f]+\\): free\\b`), 'the selection line after the free');
      await eventually('Free selected to be disabled on a free frame', async () => (await free.getAttribute('disabled')) !== null);
    });

    it('steps back and forward with the toolbar, the timeline and the History list', async () => {
      const { page } = wb;
      const file = ws.file('used.pmem');
      await wb.openImage('used.pmem');
      const map = wb.map();
      // Saved, every step can be read back with the CLI, to compare with what the map shows.
      await wb.focusEditor();
      await page.keyboard.press('Control+S');
      await eventually('the image to be saved', async () => !/\bdirty\b/.test(await wb.tab('used.pmem').getAttribute('class')));
      const history = pmemJson('history', file);
      const first = history.firstStep;
      const last = history.lastStep;
      assert.ok(last - first >= 3, `a few steps to go through: ${first} to ${last}`);
      const present = await wb.summaryNow();
      const showsStep = async (step) => {
        const s = pmemJson('state', file, '--at', String(step));
        const want = [s.frames.free, s.frames.allocated, s.frames.uninitialized, s.frames.reserved, s.sections.initialized, s.sections.stale, s.sections.untouched, s.bootGeneration];
        await wb.summaryWhen(`the summary of step ${step}: ${JSON.stringify(want)}`, (x) => JSON.stringify([x.free, x.allocated, x.uninit, x.metadata, x.initialised, x.stale, x.never, x.boot]) === JSON.stringify(want));
        await textMatching(wb.stepLabel(), new RegExp(`^step ${step}/${last}$`), 'the step label');
        if (step < last) await textMatching(wb.banner(), new RegExp(`^Showing the state after step ${step} \\(read-only\\)\\. Step forward to the last step to return to the present\\.`), 'the banner in the past');
      };
      await textMatching(wb.stepLabel(), new RegExp(`^step ${last}/${last}$`), 'the step label at the present');
      assert.ok(await map.button('Step ▶').getAttribute('disabled') !== null, 'no step forward from the present');

      await map.button('◀ Step').click();
      await showsStep(last - 1);
      assert.ok(await map.button('Allocate…').getAttribute('disabled') !== null, 'the past is read-only');

      // The timeline: a click at its left end goes to the first step kept.
      const slider = await map.view.getByRole('slider', { name: 'History step' }).boundingBox();
      await page.mouse.click(slider.x + 2, slider.y + slider.height / 2);
      await showsStep(first);
      assert.ok(await map.button('◀ Step').getAttribute('disabled') !== null, 'no step back from the first step');

      // The History list names every step, the latest first; a click shows that step.
      const panel = map.view.locator('#historyPanel');
      await panel.locator('.collapsible-header').click();
      const items = panel.getByRole('listitem');
      await eventually('the History list', async () => (await items.count()) === last - first + 1);
      const texts = (await items.allInnerTexts()).map((t) => t.trim());
      assert.deepEqual(texts.map((t) => Number(t.split('.')[0])), Array.from({ length: last - first + 1 }, (_, i) => last - i), `the steps, latest first: ${JSON.stringify(texts)}`);
      assert.equal(texts[0], `${last}. ${history.records.at(-1).text}`);
      const target = last - 2;
      await panel.getByRole('button', { name: new RegExp(`^${target}\\. `) }).click();
      await showsStep(target);
      assert.equal(await panel.getByRole('button', { name: new RegExp(`^${target}\\. `) }).getAttribute('aria-current'), 'step');
      await panel.locator('.collapsible-header').click();

      // Step ▶ returns to the present.
      await map.button('Step ▶').click();
      await showsStep(target + 1);
      await map.button('Step ▶').click();
      await wb.banner().waitFor({ state: 'hidden' });
      await textMatching(wb.stepLabel(), new RegExp(`^step ${last}/${last}$`), 'the step label back at the present');
      assert.equal((await wb.summaryNow()).text, present.text);
    });

    it('shows long work on the map with progress that moves, answers keys meanwhile, and cancels it from the map', async () => {
      await wb.openImage('big.pmem');
      const map = wb.map();
      const page = wb.page;
      const before = await wb.summaryNow();
      assert.ok(before.never > 100, `sections to initialise: "${before.text}"`);
      await map.button('Initialise all').click();
      const bar = map.view.getByRole('region', { name: 'Work under way' });
      await bar.waitFor();
      await textMatching(map.view.locator('#workText'), /^Initialise all sections: \d+ % \([\d,]+ of [\d,]+ sections\)$/, 'the work bar');
      const done = () => map.view.locator('#workProgress').evaluate((p) => p.value);
      const first = await eventually('progress to show', async () => (await done()) > 0 && (await done()));
      await eventually('progress to move', async () => (await done()) > first);
      assert.equal(await map.button('Allocate…').evaluate((b) => b.hasAttribute('disabled')), true, 'changes wait for the work');

      // The host answers while the work runs: a click and an arrow key get the frames' details from it.
      const { cssWidth, cssHeight } = await map.canvasSize();
      const box = await map.canvas().boundingBox();
      await page.mouse.click(box.x + cssWidth / 2, box.y + cssHeight / 2);
      const picked = await textMatching(map.selection(), /^Selected pfn (\d+) \(/, 'the clicked frame described by the host');
      const pfn = Number(/^Selected pfn (\d+)/.exec(picked)[1]);
      await page.keyboard.press('ArrowRight'); // to the next cell, described by the host again
      await eventually('the next frame described by the host', async () => {
        const m = /^Selected pfn (\d+) \(0x[0-9a-f]+\): /.exec((await map.selection().innerText()).trim());
        return m && Number(m[1]) > pfn;
      });
      assert.ok(await bar.isVisible(), 'the work was still under way when the host answered');
      const share = await done();
      assert.ok(share < 1, `still under way at ${share}`);
      await shot('work-under-way');

      await map.view.locator('#workCancel').click();
      await bar.waitFor({ state: 'hidden' });
      const after = await wb.summaryWhen('every section as before', (x) => x.never === before.never && x.initialised === before.initialised);
      assert.equal(after.boot, before.boot);
      await textMatching(wb.page.locator('.statusbar'), /Initialise all sections cancelled after [\d,]+ of [\d,]+ sections: rolled back/, 'the status bar saying it was rolled back');
      assert.equal(await map.button('Allocate…').evaluate((b) => b.hasAttribute('disabled')), false);
    });

    it('checks a large image with progress on the map, cancels the check from the map, then checks it through', async () => {
      await wb.openImage('held.pmem');
      const map = wb.map();
      const bar = map.view.getByRole('region', { name: 'Work under way' });
      const done = () => map.view.locator('#workProgress').evaluate((p) => p.value);
      // Cancelled as soon as the bar shows (its text and moving progress are watched in the run after). The check takes
      // well under a second here; on a busy machine it can end before the click reaches the host, and its report then
      // opens: that is a check run through, not a Cancel lost, so the report is closed and the check started again.
      const reportTab = wb.page.locator('.part.editor .tab', { hasText: 'Check of held.pmem' });
      const cancelledText = /Check of held\.pmem cancelled after [\d,]+ sections: nothing was changed/;
      let outcome;
      for (let attempt = 1; attempt <= CANCEL_ATTEMPTS && outcome !== 'cancelled'; attempt++) {
        await wb.runCommand(label('pmemExplorer.check'));
        await bar.waitFor();
        await map.view.locator('#workCancel').click().catch(() => {}); // the bar may hide as the click comes
        await bar.waitFor({ state: 'hidden' });
        outcome = await eventually('the check cancelled, or its report', async () => {
          if (cancelledText.test(await wb.page.locator('.statusbar').innerText({ timeout: 1000 }))) return 'cancelled';
          return (await reportTab.count()) > 0 && 'ended';
        });
        if (outcome === 'ended') {
          await reportTab.click();
          await wb.runCommand('View: Revert and Close Editor');
          await eventually('one editor group again', async () => (await wb.page.locator('.editor-group-container').count()) === 1);
          await wb.openImage('held.pmem');
        }
      }
      assert.equal(outcome, 'cancelled', `the check ended before the Cancel in each of ${CANCEL_ATTEMPTS} tries`);

      await wb.runCommand(label('pmemExplorer.check'));
      await bar.waitFor();
      await textMatching(map.view.locator('#workText'), /^Checking held\.pmem: \d+ % \([\d,]+ of [\d,]+ sections\)$/, 'the work bar');
      const first = await eventually('progress to show', async () => (await done()) > 0 && (await done()));
      await eventually('progress to move', async () => (await done()) > first, 60_000);
      await shot('check-under-way');
      await bar.waitFor({ state: 'hidden', timeout: 120_000 });
      // The report opens beside the map, as Markdown.
      await eventually('the report of a clean image', async () => {
        // The editor draws spaces as no-break spaces.
        const lines = (await wb.page.locator('.monaco-editor .view-line').allInnerTexts()).map((l) => l.replace(/\u00a0/g, ' '));
        return lines.some((l) => l.includes('# Check of held')) && lines.some((l) => l.includes('**No problems found.**'));
      }, 30_000);
      // The report is an untitled editor beside the map: closed unsaved, so the next tests find one editor group.
      await wb.runCommand('View: Revert and Close Editor');
      await eventually('one editor group again', async () => (await wb.page.locator('.editor-group-container').count()) === 1);
    });

    it('lists a history of 100,000 steps as a window of rows, and an allocation adds a row and updates only its cells', async function () {
      this.timeout(300_000);
      const file = ws.file('long.pmem');
      const { firstStep: first, lastStep: last } = pmemJson('info', file).history;
      await wb.openImage('long.pmem');
      const map = wb.map();
      await textMatching(wb.stepLabel(), new RegExp(`^step ${last}/${last}$`), 'the timeline at the last step', 60_000);
      const panel = map.view.locator('#historyPanel');
      await panel.locator('.collapsible-header').click();
      const list = map.view.locator('#steps');
      const items = panel.getByRole('listitem');
      const rowText = async (row) => (await row.innerText({ timeout: 1000 })).trim();
      await eventually('the newest steps at the top', async () => (await rowText(items.first())).startsWith(`${last}. `), 30_000);
      const drawn = await items.count();
      assert.ok(drawn > 10 && drawn <= 200, `a window of rows is drawn, not every step: ${drawn} of ${last - first + 1}`);
      assert.equal(await items.first().getAttribute('aria-setsize'), String(last - first + 1), 'each row says how long the whole list is');
      await eventually('the map to be drawn', () => map.data('cells'), 30_000);
      await shot('history-long');

      // Scrolled to the end: the oldest steps, still a window of rows; a click shows that step.
      await list.evaluate((ol) => (ol.scrollTop = ol.scrollHeight));
      await eventually('the oldest steps at the bottom', async () => (await rowText(items.last())).startsWith(`${first}. `));
      // Only the newest texts came with the list: these are asked for as they scroll into view.
      await eventually('the texts of the oldest steps', async () => /^\d+\. \S.*[^…]$/.test(await rowText(items.last())) && (await list.locator('[aria-busy="true"]').count()) === 0, 30_000);
      assert.ok((await items.count()) <= 200, 'still a window of rows');
      await shot('history-long-end');
      await items.last().getByRole('button').click();
      await textMatching(wb.stepLabel(), new RegExp(`^step ${first}/${last}$`), 'the oldest step shown', 30_000);

      // Back to the present; an allocation (with the boot before it) adds rows at the top and patches the map.
      await list.evaluate((ol) => (ol.scrollTop = 0));
      await eventually('the newest steps again', async () => (await rowText(items.first())).startsWith(`${last}. `));
      await items.first().getByRole('button').click();
      await textMatching(wb.stepLabel(), new RegExp(`^step ${last}/${last}$`), 'the present again', 30_000);
      await map.view.locator('body').evaluate((b) => delete b.dataset.patchedCells);
      await map.button('Allocate…').click();
      await wb.answer(/order/i, '0');
      await wb.answer(/how many/i, '1');
      await wb.pick(/zone/i, /^dma32$/i);
      await wb.answer(/owner/i, 'patch');
      await wb.quickInput().waitFor({ state: 'hidden' });
      await eventually('the allocation at the top of the list', async () => /^\d+\. alloc order 0 for patch/.test(await rowText(items.first())), 30_000);
      await eventually('the changed cells updated', () => map.data('patchedCells'));
      // Another on the running machine (no boot before it): one step, a few cells.
      await map.view.locator('body').evaluate((b) => delete b.dataset.patchedCells);
      await map.button('Allocate…').click();
      await wb.answer(/order/i, '1');
      await wb.answer(/how many/i, '1');
      await wb.pick(/zone/i, /^dma32$/i);
      await wb.answer(/owner/i, 'again');
      await wb.quickInput().waitFor({ state: 'hidden' });
      await eventually('the second allocation at the top of the list', async () => /^\d+\. alloc order 1 for again/.test(await rowText(items.first())), 30_000);
      const patched = Number(await eventually('the changed cells updated', () => map.data('patchedCells')));
      const cells = Number(await map.data('cells'));
      assert.ok(patched > 0 && patched < cells / 4, `only the cells the allocation touched were updated: ${patched} of ${cells}`);
      console.log(`      ${patched} of ${cells} cells updated; ${await map.data('patchMs')} ms from the state to the redraw`);
      await shot('history-long-allocated');
      await panel.locator('.collapsible-header').click();
    });

    it('reboots (sections turn stale) and crashes at a persistence point (recovery banner) from the toolbar', async () => {
      await wb.openImage('used.pmem');
      const map = wb.map();
      const before = await wb.summaryNow();
      assert.ok(before.initialised > 0, `initialised sections to turn stale: "${before.text}"`);
      await map.clearChangedCells();
      await map.button('Reboot').click();
      const rebooted = await wb.summaryWhen('a reboot', (s) => s.boot === before.boot + 1 && s.initialised === 0 && s.stale === before.stale + before.initialised);
      assert.equal(rebooted.machine, 'running');
      await eventually('the sections turning stale to flash', () => map.data('changedCells'));

      // After two persistence points of an order-0 allocation the journal holds it uncommitted:
      // recovery rolls it back (the CLI does the same: pmem reboot --crash-after 2).
      await map.button('Crash at…').click();
      await wb.pick(/which operation/i, /^An allocation$/);
      await wb.answer(/which order/i, '0');
      await wb.answer(/persistence points/i, '2');
      await wb.summaryWhen('a boot after the crash, nothing allocated', (s) => s.boot === rebooted.boot + 1 && s.allocated === rebooted.allocated);
      const banner = await textMatching(wb.banner(), /Recovery: (rolled back|rolled forward)/, 'the recovery banner');
      assert.match(banner, /^Power failed after 2 persistence point\(s\) of an order-0 allocation\. Recovery: rolled back "alloc order 0 → pfn \d+, node 0 DMA32"\.$/);
      assert.equal(await wb.notification('Recovery:').count(), 0, 'the banner says it: no notification');
      await shot('crash-banner');
    });

    it('works out memmap costs for the image and for typed sizes', async () => {
      await wb.openImage('used.pmem');
      const map = wb.map();
      const { panel, table, rows, cells } = await map.openCosts();
      assert.deepEqual((await rows.locator('th').allInnerTexts()).map((t) => t.trim()), ['64 B per 4 KiB', '64 B per 2 MiB', '16 B per 4 KiB', '16 B per 2 MiB']);
      assert.equal(await table.getAttribute('aria-label'), 'Memmap costs for 64 MiB', 'the image\'s size at first');

      const device = panel.locator('#costDevice input');
      await device.fill('1T');
      await eventually('the costs of 1 TiB', async () => (await table.getAttribute('aria-label')) === 'Memmap costs for 1 TiB');
      let row = await cells('64 B per 4 KiB');
      assert.deepEqual(row.slice(0, 4), ['268,435,456', '16 GiB', '1.563 %', '—'], `64 B per 4 KiB: ${JSON.stringify(row)}`);

      // What Linux builds for the same 1 TiB, with the kernel's numbers.
      const linux = panel.locator('#costsLinux table');
      await eventually('Linux\'s rows for 1 TiB', async () => (await linux.getAttribute('aria-label')) === 'What Linux builds for 1 TiB');
      const linuxRow = async (name) => (await linux.locator('tbody tr').filter({ has: map.view.locator('th', { hasText: name }) }).locator('td').allInnerTexts()).map((t) => t.trim());
      assert.deepEqual(await linuxRow('KMSAN (128-byte struct page)'), ['32 GiB', '3.125 %', 'in RAM', 'twice the memmap; a namespace reserved for 64-byte struct pages is refused ("struct page size mismatch")']);
      assert.deepEqual((await linuxRow('HugeTLB vmemmap optimisation, 2 MiB pages')).slice(0, 4), ['2 GiB', '0.195 %', 'in RAM', 'of the 8 memmap pages of a 2 MiB huge page, 7 freed']);
      assert.deepEqual((await linuxRow('memmap_on_memory, 128 MiB blocks')).slice(0, 3), ['16 GiB', '1.563 %', 'at the head of each memory block']);

      await panel.locator('#costRam input').fill('256G');
      await eventually('a share of the RAM', async () => (row = await cells('64 B per 4 KiB'))[3] === '6.250 %');
      await panel.scrollIntoViewIfNeeded();
      await shot('costs');
      await linux.scrollIntoViewIfNeeded();
      await shot('costs-linux');

      await device.fill('12Q');
      const error = await textMatching(panel.locator('#costsError'), /device size "12Q" is not a size/, 'the error message');
      assert.ok(error.length > 0);
      assert.equal(await panel.locator('vscode-textfield#costDevice').getAttribute('invalid'), '', 'the field is marked invalid');
      await device.fill('');
      await panel.locator('#costRam input').fill('');
      await eventually('the image\'s size again', async () => (await table.getAttribute('aria-label')) === 'Memmap costs for 64 MiB');
      await textMatching(panel.locator('#costsError'), /^$/, 'no error message');
      await panel.locator('.collapsible-header').click();
    });

    it('offers to reload an image another program changed, and shows the change after Reload', async () => {
      const file = ws.file('plain.pmem');
      await wb.openImage('plain.pmem');
      const before = await wb.summaryNow();
      assert.equal(before.allocated, 0);
      assert.ok(!/\bdirty\b/.test(await wb.tab('plain.pmem').getAttribute('class')), 'the image is clean');

      const pfn = Number(pmem('alloc', file, '--order', '0', '--owner', 'cli').trim());
      const onDisk = pmemJson('info', file);
      const toast = wb.notification('plain.pmem was changed on disk by another program.');
      await toast.waitFor({ timeout: 20_000 });
      assert.deepEqual((await toast.getByRole('button').allInnerTexts()).filter(Boolean), ['Reload', 'Ignore']);
      await toast.getByRole('button', { name: 'Reload' }).click();
      await toast.waitFor({ state: 'hidden' });
      await wb.summaryWhen('the summary of the file on disk', (s) => s.allocated === 1 && s.free === onDisk.frames.free && s.boot === onDisk.bootGeneration && s.machine === 'off');
      assert.ok(!/\bdirty\b/.test(await wb.tab('plain.pmem').getAttribute('class')), 'still clean after the reload');

      // The new frame is on the map.
      const map = wb.map();
      const tip = await map.hoverFrame(await map.layout(), pfn);
      assert.equal(tip.state, `allocated · block at pfn ${pfn}, order 0 · owner cli`);
      await map.leave();
    });

    it('exports the map as PNG with PMem: Export Map…', async () => {
      await wb.openImage('used.pmem');
      const map = wb.map();
      const size = await map.canvasSize();
      const target = ws.file('used-map.png');
      assert.ok(!fs.existsSync(target), 'no earlier export: the dialog asks nothing more');

      await wb.runCommand(label('pmemExplorer.exportMap'));
      await wb.pick(/format/i, /^png$/);
      // code-server's save dialog is a quick input holding a path: next to the image by default. It is
      // accepted as proposed (typing a path into that dialog races its own completion).
      await wb.waitForPrompt(/Export Map/);
      await eventually('the save dialog to offer used-map.png', async () => (await wb.quickInput().locator('input').first().inputValue()) === target);
      await wb.waitForQuickInputFocus();
      await wb.page.keyboard.press('Enter');
      await wb.quickInput().waitFor({ state: 'hidden' });
      await eventually(`${target} to be written`, () => fs.existsSync(target));

      const data = fs.readFileSync(target);
      assert.deepEqual([...data.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'the PNG signature');
      const png = PNG.sync.read(data);
      assert.equal(png.width, size.width, 'the current view, as wide as the canvas');
      assert.ok(png.height > size.height, `the legend under the map (${png.height} rows against the canvas's ${size.height})`);
      const coloursIn = (fromRow, toRow) => {
        const colours = new Set();
        for (let i = fromRow * png.width * 4; i < toRow * png.width * 4; i += 4 * 13) colours.add(png.data.readUInt32BE(i));
        return colours.size;
      };
      assert.ok(coloursIn(0, size.height) >= 4, `the picture shows the map, not a blank canvas (${coloursIn(0, size.height)} colours)`);
      assert.ok(coloursIn(size.height, png.height) >= 6, `the legend's swatches and words are drawn (${coloursIn(size.height, png.height)} colours)`);
      // Kept beside the screenshots, to be looked at.
      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      fs.copyFileSync(target, path.join(SCREENSHOT_DIR, `${prefix}-exported-map.png`));
      await textMatching(wb.page.locator('.part.statusbar .statusbar-item', { hasText: /exported/ }), /Map exported to used-map\.png/, 'the status bar message');
      assert.ok(!fs.readdirSync(ws.dir).some((f) => f.endsWith('.tmp')), 'no temporary file left behind');
    });
  });
}

/** WCAG 2 contrast ratio of two sRGB colours. */
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.map((v) => {
      const x = v / 255;
      return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
