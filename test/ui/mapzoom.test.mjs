// UI tests of what the page-frame map shows at every zoom: a single allocation
// on a 1 TiB device in the whole-device view (with its exact mix in the
// tooltip), Go to Frame zooming in to the frame, the axis, the frames-per-cell
// readout and the node/zone labels. Runs once per colour theme; screenshots go
// to test-results/screenshots/<theme>-mapzoom-*.png.
//
//   npm run package && PMEM_UI_THEMES=light npx mocha --config test/ui/.mocharc.json test/ui/mapzoom.test.mjs

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { THEMES, Workbench, eventually, pmem, pmemJson, textMatching, workbenchSuite } from './helpers.mjs';

const label = (id) => Workbench.commandLabel(id);

/** The colour of the canvas at (x, y) CSS pixels, as [r, g, b]. */
function pixelAt(map, x, y) {
  return map.canvas().evaluate((c, p) => {
    const dpr = devicePixelRatio || 1;
    const d = c.getContext('2d').getImageData(Math.floor(p.x * dpr), Math.floor(p.y * dpr), 1, 1).data;
    return [d[0], d[1], d[2]];
  }, { x, y });
}

/** CIEDE2000 of each pair of sRGB colours, by the map's own formula (src/shared/ownerPalette.ts, run through tsx). */
function deltaEs(pairs) {
  const module = new URL('../../src/shared/ownerPalette.ts', import.meta.url).href;
  const script = `import(${JSON.stringify(module)}).then((m) => process.stdout.write(JSON.stringify(${JSON.stringify(pairs)}.map(([a, b]) => (m.deltaE2000 ?? m.default.deltaE2000)(a, b)))))`;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' }));
}

/** The colour of a legend swatch whose label matches `re`, as [r, g, b]. */
function legendColour(map, re) {
  return map.view.locator('#legend .chip').filter({ hasText: re }).first().locator('.swatch').evaluate((s) => getComputedStyle(s).backgroundColor.match(/\d+/g).slice(0, 3).map(Number));
}

for (const theme of THEMES) {
  describe(`PMem Explorer map zoom and detail (${theme.name})`, function () {
    /** @type {Workbench} */
    let wb;
    let ws;
    const prefix = `${theme.prefix}-mapzoom`;
    const shot = (name) => wb.screenshot(prefix, name);
    let onePfn;
    workbenchSuite({
      theme,
      prefix,
      prepare: (w) => {
        // A fresh 1 TiB device with one order-0 allocation: 1 frame in 268 million.
        pmem('create', w.file('one.pmem'), '--size', '1T');
        onePfn = Number(pmem('alloc', w.file('one.pmem'), '--order', '0').trim().split(/\s+/)[0]);
        pmem('create', w.file('two.pmem'), '--size', '64G', '--nodes', '2');
        // The demo of `npm start`, with one more owner (net).
        const demo = w.file('demo.pmem');
        pmem('create', demo, '--size', '256M', '--nodes', '2');
        for (const [order, owner] of [[3, 'ext4'], [0, 'slab'], [5, 'dax'], [1, 'journal'], [9, 'hugepage'], [2, 'net']]) pmem('alloc', demo, '--order', String(order), '--owner', owner);
        pmem('reboot', demo, '--profile', 'kmemcheck');
        pmem('alloc', demo, '--order', '2', '--count', '3', '--owner', 'after-reboot');
        pmem('reboot', demo, '--crash-after', '1', '--during', 'alloc --order 4');
      },
      ready: (w) => w.showSidebar(),
    }, (w, s) => {
      wb = w;
      ws = s;
    });

    it('shows a single order-0 allocation in the whole-device view of a 1 TiB image, with the exact mix in its tooltip', async () => {
      assert.ok(Number.isSafeInteger(onePfn), 'the CLI printed the pfn');
      const total = pmemJson('info', ws.file('one.pmem')).totalFrames;
      await wb.openImage('one.pmem');
      const map = wb.map();
      const fit = await map.layout();
      assert.ok(fit.framesPerCell >= 128, `the whole device: many frames per cell (${JSON.stringify(fit)})`);
      assert.equal(fit.topPfn, 0);
      const cellOfPfn = map.pointOf(fit, onePfn);
      assert.ok(cellOfPfn, `pfn ${onePfn} is in the whole-device view`);
      const allocated = await legendColour(map, /^allocated$/);
      const never = await legendColour(map, /^never initialised$/);
      await eventually(`the cell of pfn ${onePfn} drawn as allocated ${allocated}`, async () => {
        const px = await pixelAt(map, cellOfPfn.x, cellOfPfn.y);
        if (px.join() !== allocated.join()) throw new Error(`it is ${px}`);
        return true;
      });
      // Far from it, the device is never initialised.
      assert.deepEqual(await pixelAt(map, fit.drawnWidth / 2, fit.drawnHeight / 2), never, 'the middle of the device is never initialised');
      const tip = await map.hover(cellOfPfn.x, cellOfPfn.y);
      assert.equal(tip.frames, fit.framesPerCell);
      assert.match(tip.mix, /^1 allocated \(< 0\.1 %\)/, `the exact mix, allocated first: "${tip.mix}"`);
      assert.ok(total > 2 ** 27);
      await shot('one-allocation');
      await map.leave();
    });

    it('Go to Frame zooms in until the frame is a cell of its own, and a tooltip on show follows it', async () => {
      const map = wb.map();
      await map.button('Fit').click();
      const fit = await map.layout();
      assert.ok(fit.framesPerCell > 1);
      // A tooltip on show, low on the map (the command palette opens at the top, away from the pointer).
      const before = await map.hover(Math.round(fit.drawnWidth / 4), Math.round(fit.drawnHeight * 0.9));
      const target = onePfn + 3 * 4096 + 7;
      assert.ok(target < before.pfn, 'the frame is far from the cell pointed at');
      await wb.runCommand(label('pmemExplorer.goToFrame'));
      await wb.answer(/frame number/i, String(target));
      await map.selected(target);
      // The tooltip describes the selected frame (or is gone), not the cell it was shown for.
      await eventually(`the tooltip to describe pfn ${target}`, async () => {
        const t = await map.tooltip().evaluate((el) => (el.hidden ? '' : el.innerText));
        if (t && !new RegExp(`^pfn ${target} · physical`).test(t.trim())) throw new Error(`the tooltip says "${t}"`);
        return true;
      });
      const zoomed = await map.layout();
      assert.equal(zoomed.framesPerCell, 1, `one frame per cell: ${JSON.stringify(zoomed)}`);
      assert.ok(zoomed.cellPx >= 8, `cells of 8 px or more: ${zoomed.cellPx}`);
      const p = map.pointOf(zoomed, target);
      assert.ok(p, `pfn ${target} is in view: ${JSON.stringify(zoomed)}`);
      const tip = await map.hover(p.x, p.y);
      assert.equal(tip.pfn, target);
      assert.match(await map.view.locator('#scale').innerText(), /^1 frame per cell \(4 KiB\)$/);
      await shot('go-to-frame');
      await map.leave();
    });

    it('names every node and zone on an axis of pfns and addresses beside the map, and says how many frames a cell holds', async () => {
      const info = pmemJson('info', ws.file('two.pmem'));
      await wb.openImage('two.pmem');
      const map = wb.map();
      const fit = await map.layout();
      await textMatching(map.view.locator('#scale'), new RegExp(`^${fit.framesPerCell} frames per cell \\(`), 'the frames-per-cell readout');
      const want = info.nodes.flatMap((n) => n.zones.filter((z) => z.frames > 0).map((z) => `node ${n.id} · ${z.name}`));
      assert.ok(want.includes('node 0 · DMA32'), JSON.stringify(want));
      await eventually(`the axis to name ${want.join(', ')}`, async () => {
        const got = (await map.data('axisLabels'))?.split('|') ?? [];
        if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`it names ${JSON.stringify(got)}`);
        return true;
      });
      // The axis lies right of the cells, never over one.
      const axisLeft = await map.view.locator('#axis').evaluate((a) => a.offsetLeft - document.getElementById('map').offsetLeft);
      assert.ok(axisLeft >= fit.drawnWidth, `the axis starts at ${axisLeft}, right of the cells (${fit.drawnWidth})`);
      await shot('axis');
    });

    it('gives the demo\'s owners colours apart from each other and from the states, and hatches its stale sections', async () => {
      await wb.openImage('demo.pmem');
      const map = wb.map();
      await map.button('Fit').click();
      await map.leave();
      const swatches = await map.view.locator('#legend .chip').evaluateAll((chips) => chips.filter((c) => !c.querySelector('[data-outline]')).map((c) => {
        const style = getComputedStyle(c.querySelector('.swatch'));
        const css = style.backgroundImage !== 'none' ? style.backgroundImage : style.backgroundColor;
        return { label: c.innerText.trim(), colours: [...css.matchAll(/rgba?\(([^)]+)\)/g)].map((m) => m[1].split(',').slice(0, 3).map(Number)) };
      }));
      const owners = swatches.filter((s) => s.label.startsWith('owner '));
      assert.deepEqual(owners.map((s) => s.label).sort(), ['after-reboot', 'dax', 'ext4', 'hugepage', 'journal', 'net', 'slab'].map((o) => `owner ${o}`));
      const states = swatches.filter((s) => /^(metadata|memmap|free|allocated|never)/.test(s.label));
      const pairs = [];
      for (let i = 0; i < owners.length; i++) {
        for (const other of [...owners.slice(0, i), ...states]) for (const c of other.colours) pairs.push([owners[i].colours[0], c, `${owners[i].label} / ${other.label}`]);
      }
      const measured = deltaEs(pairs.map(([a, b]) => [a, b]));
      const differences = pairs.map((p, i) => [measured[i], p[2]]).sort((a, b) => a[0] - b[0]);
      assert.ok(differences[0][0] >= 15, `the nearest pair, ${differences[0][1]}, differs by ΔE00 ${differences[0][0].toFixed(1)}`);
      assert.match(swatches.find((s) => s.label.startsWith('stale')).label, /hatched/);
      assert.match(swatches.find((s) => s.label.startsWith('free')).label, /shaded by order/);
      await shot('demo');
    });

    it('keeps the map in place when the banner shows', async () => {
      await wb.openImage('one.pmem');
      const map = wb.map();
      const size = await map.canvasSize();
      const box = await map.canvas().boundingBox();
      await map.button('◀ Step').click();
      await wb.banner().waitFor({ state: 'visible' });
      assert.deepEqual(await map.canvasSize(), size, 'the canvas keeps its size');
      assert.deepEqual(await map.canvas().boundingBox(), box, 'and its place');
      await map.button('Step ▶').click();
      await wb.banner().waitFor({ state: 'hidden' });
      assert.deepEqual(await map.canvas().boundingBox(), box);
    });

    it('does not ask the host for the cells it holds again when a line of text wrapping anew makes the map shorter', async () => {
      await wb.openImage('one.pmem');
      const map = wb.map();
      // The whole device in view: zoomed in, a shorter map shows fewer rows (other cells).
      await map.button('Fit').click();
      await eventually('the whole device', async () => /frames per cell/.test(await map.view.locator('#scale').innerText()) && (await map.data('loading')) === undefined, 30_000);
      const shown = async () => ({ cells: await map.data('cells'), scale: await map.view.locator('#scale').innerText() });
      const before = await shown();
      const { cssHeight } = await map.canvasSize();
      // Every time the map starts waiting for cells from the host.
      await map.view.locator('body').evaluate((b) => {
        window.cellsAsked = 0;
        new MutationObserver(() => b.dataset.loading === '1' && window.cellsAsked++).observe(b, { attributes: true, attributeFilter: ['data-loading'] });
      });
      const asked = () => map.view.locator('body').evaluate(() => window.cellsAsked);
      // One more line above the map (as the summary wrapping to another line would): the whole device still fits.
      await map.view.locator('.mapArea').evaluate((area) => {
        const line = document.createElement('p');
        line.id = 'extraLine';
        line.textContent = 'one more line';
        area.before(line);
      });
      await eventually('the map to be shorter', async () => (await map.canvasSize()).cssHeight < cssHeight);
      await wb.page.waitForTimeout(300);
      assert.deepEqual(await shown(), before, 'the same cells in view');
      assert.equal(await asked(), 0, 'the cells held are not asked for again');
      await map.view.locator('#extraLine').evaluate((line) => line.remove());
      await eventually('the map to be as tall as before', async () => (await map.canvasSize()).cssHeight === cssHeight);
      await wb.page.waitForTimeout(300);
      assert.equal(await asked(), 0);

      // Zoomed in, a shorter map shows fewer rows of the same window: the rows held are kept, and growing back asks for nothing either.
      await map.canvas().focus();
      const scale = () => map.view.locator('#scale').innerText();
      for (let i = 0; i < 16 && !/\b1 frame per cell/.test(await scale()); i++) {
        const before = await scale();
        await map.canvas().press('+');
        await eventually('the next zoom drawn', async () => (await scale()) !== before && (await map.data('loading')) === undefined, 30_000);
      }
      assert.match(await scale(), /\b1 frame per cell/);
      // At the top of the device, a frame there selected: a resize keeps the selection in view, and at the device's end a taller map shows rows above.
      await map.canvas().press('Home');
      await eventually('the top of the device', async () => (await map.layout()).topRow === 0 && (await map.data('loading')) === undefined, 30_000);
      await map.clickFrame(await map.layout(), 10);
      await map.selected(10);
      const zoomed = await shown();
      await map.view.locator('body').evaluate(() => (window.cellsAsked = 0));
      for (const round of [1, 2]) {
        await map.view.locator('.mapArea').evaluate((area) => {
          const lines = document.createElement('div');
          lines.id = 'extraLines';
          lines.innerHTML = '<p>one more line</p><p>and another</p><p>and a third</p>';
          area.before(lines);
        });
        await eventually(`the map to be shorter (${round})`, async () => (await map.canvasSize()).cssHeight < cssHeight);
        await wb.page.waitForTimeout(300);
        await map.view.locator('#extraLines').evaluate((lines) => lines.remove());
        await eventually(`the map to be as tall as before (${round})`, async () => (await map.canvasSize()).cssHeight === cssHeight);
        await wb.page.waitForTimeout(300);
      }
      assert.deepEqual(await shown(), zoomed, 'the same cells in view');
      assert.equal(await asked(), 0, `zoomed in, the rows held are not asked for again: ${JSON.stringify([zoomed, await shown(), await map.layout()])}`);
    });

    it('redraws the change flash once a frame, however many changes come while it runs', async () => {
      await wb.openImage('demo.pmem');
      const map = wb.map();
      await eventually('the first cells', async () => Number(await map.data('cells')) > 0 && (await map.data('loading')) === undefined, 30_000);
      const form = map.view.locator('#allocForm');
      await form.evaluate((f) => {
        f.querySelector('#allocOrder').value = '0';
        f.querySelector('#allocCount').value = '1';
        f.querySelector('#allocNode').value = '0';
        f.querySelector('#allocOwner').value = 'flash';
      });
      const { allocated } = await wb.summaryNow();
      // Allocations one after another, each patched in and flashing while the last flash still runs. The page counts the
      // animation-frame callbacks the map runs in each frame (one timestamp a frame): the flash's own redraw and at most
      // a loading preview. Redraws for the host's messages are not counted: a busy machine may deliver several in a frame.
      await form.evaluate((f) => {
        const own = window.requestAnimationFrame.bind(window);
        const watch = { perFrame: new Map(), lastAt: 0 };
        window.frameWatch = watch;
        window.requestAnimationFrame = (callback) =>
          own((at) => {
            watch.perFrame.set(at, (watch.perFrame.get(at) ?? 0) + 1);
            watch.lastAt = performance.now();
            callback(at);
          });
        for (let i = 0; i < 5; i++) f.requestSubmit();
      });
      await wb.summaryWhen('the allocations', (s) => s.allocated === allocated + 5, 20_000);
      // The flash lasts 0.7 s after the last change: wait until no frame has run a callback for a second.
      const watched = () => map.view.locator('body').evaluate(() => ({ frames: [...window.frameWatch.perFrame.values()], idle: performance.now() - window.frameWatch.lastAt }));
      await eventually('the flash to end', async () => (await watched()).idle > 1000, 20_000);
      const { frames } = await watched();
      assert.ok(frames.length >= 2, `the flash was redrawn in ${frames.length} frames`);
      assert.ok(Math.max(...frames) <= 2, `callbacks per frame: ${frames.join(' ')}`);
    });
  });
}
