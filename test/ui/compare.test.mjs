// UI test of Compare Designs: the palette command asks for the designs, the
// size, the workload and the operations, runs them with progress, and shows
// the table (the same figures pmem compare prints) and two bar charts in the
// theme's colours. Runs once per colour theme; screenshots go to
// test-results/screenshots/<theme>-compare-*.png.
//
//   npm run package && npx mocha --config test/ui/.mocharc.json test/ui/compare.test.mjs

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MapEditor, THEMES, Workbench, eventually, pmem, workbenchSuite } from './helpers.mjs';

/** Rows whose figures do not depend on the machine's speed: the panel's must be pmem compare's. */
const SAME_ROWS = ['memmap on the device', 'memmap in RAM (default profile)', 'memmap in RAM (debug profile)', 'in a VM: guest + host', 'descriptors attached for I/O, at most', 'bytes written per operation',
  'flushes per operation', 'allocations that failed (out of memory)', 'a clean reboot loses', 'a crash in an allocation', 'reboot into the debug profile', 'Linux on the same reboot', 'the checker'];

for (const theme of THEMES) {
  describe(`PMem Explorer Compare Designs (${theme.name})`, function () {
    let wb;
    const prefix = `${theme.prefix}-compare`;
    workbenchSuite({ theme, prefix }, (w) => {
      wb = w;
    });

    it('asks what to compare, runs it, and shows the table and charts of pmem compare', async function () {
      this.timeout(180_000);
      await wb.runCommand(Workbench.commandLabel('pmemExplorer.compareDesigns'));
      const designs = await wb.waitForPrompt(/Which designs\?/);
      assert.deepEqual(designs.items, ['core64', 'ram64', 'two-word', 'memdesc', '2m', 'dynamic', 'pfn-only'], 'every design runs');
      assert.equal(designs.placeholder, 'Which designs?');
      await wb.waitForQuickInputFocus();
      // All are picked; three are left out here (four maps side by side are as many as the screen holds), by their check boxes.
      for (const name of ['two-word', 'memdesc', '2m']) {
        const box = wb.quickInput().locator('.monaco-list-row', { has: wb.page.locator('.label-name', { hasText: new RegExp(`^${name}$`) }) }).locator('.monaco-checkbox, input[type=checkbox]').first();
        const checked = async () => (await box.getAttribute('aria-checked')) === 'true' || (await box.isChecked().catch(() => false));
        // A click can be lost while the list settles (a hover, a re-render): clicked again until it has taken, never while one may still land.
        for (let attempt = 0; await checked(); attempt++) {
          if (attempt === 5) throw new Error(`${name} stays picked after 5 clicks`);
          await box.click();
          await eventually(`${name} to be left out`, async () => !(await checked()), 3000).catch(() => {});
        }
      }
      // The quick input counts what is picked; its OK button takes it (Enter in the list could toggle a row instead).
      await eventually('four designs picked', async () => (await wb.quickInput().locator('.quick-input-count').innerText().catch(() => '')).trim() === '4 Selected');
      await wb.quickInput().getByRole('button', { name: 'OK' }).click();
      await wb.answer(/Device size/, '64M');
      await wb.pick(/Which workload\?/, /^reboots$/);
      await wb.answer(/How many operations/, '2000');

      const view = wb.webview();
      await eventually('the comparison to be drawn', async () => (await view.locator('body').getAttribute('data-charts', { timeout: 1000 })) === '2', 120_000);
      assert.equal(await view.locator('body').getAttribute('data-designs'), 'core64,ram64,dynamic,pfn-only');
      assert.equal(await view.locator('#title').innerText(), 'reboots workload, 2,000 operations, seed 1, on a 64 MiB device');
      const header = await view.locator('#table thead th').allInnerTexts();
      assert.deepEqual(header.map((h) => h.trim()), ['', 'core64', 'ram64', 'dynamic', 'pfn-only']);
      const shown = new Map();
      for (const tr of await view.locator('#table tbody tr').all()) {
        const cells = (await tr.locator('th, td').allInnerTexts()).map((c) => c.trim());
        shown.set(cells[0], cells.slice(1));
      }
      const cli = pmem('compare', '--designs', 'core64,ram64,dynamic,pfn-only', '--size', '64M', '--workload', 'reboots', '--ops', '2000');
      const printed = new Map(cli.split('\n').filter((l) => SAME_ROWS.some((r) => l.startsWith(`${r} `))).map((l) => {
        const label = SAME_ROWS.find((r) => l.startsWith(`${r} `));
        return [label, l.slice(label.length).trim().split(/ {2,}/)];
      }));
      for (const label of SAME_ROWS) assert.deepEqual(shown.get(label), printed.get(label), `${label}: the panel shows what pmem compare prints`);
      assert.deepEqual(shown.get('memmap on the device'), ['1 MiB', '0 B', '0 B', '0 B']);
      assert.deepEqual(shown.get('memmap in RAM (default profile)'), ['0 B', '1 MiB', '64 KiB', '0 B'], 'the dynamic design\'s RAM is its pool');
      assert.match(shown.get('a clean reboot loses')[0], /^nothing \(/);
      assert.match(shown.get('a clean reboot loses')[1], /^owner of \d/);
      const notes = await view.locator('#notes li').allInnerTexts();
      assert.equal(notes.length, 4);
      assert.match(notes[1], /^ram64: the checker verifies the free lists/);
      // The charts are drawn, sized, and say their figures in words.
      for (const id of ['memmapChart', 'writesChart']) {
        const box = await view.locator(`#${id}`).boundingBox();
        assert.ok(box && box.width > 200 && box.height > 150, `${id} is drawn at a readable size: ${JSON.stringify(box)}`);
      }
      assert.match(await view.locator('#memmapChart').getAttribute('aria-label'), /^Memmap on the device: core64 1 MiB, ram64 0 B, dynamic 0 B, pfn-only 0 B\. In RAM: core64 0 B, ram64 1 MiB, dynamic 64 KiB, pfn-only 0 B\./);
      await wb.screenshot(prefix, 'table-and-charts');

      // Its images, side by side, their maps in step.
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-compared-'));
      // Four editors side by side: the side bar makes room for them.
      await wb.runCommand('View: Toggle Primary Side Bar Visibility');
      await view.locator('#openImages').click();
      await wb.answer(/Folder to write the images to/, path.join(folder, 'images'));
      const files = ['core64', 'ram64', 'pfn-only', 'dynamic'].map((d) => path.join(folder, 'images', `${d}.pmem`));
      await eventually('both images written', async () => files.every((f) => fs.existsSync(f)), 30_000);
      const mapIn = (i) => {
        const m = new MapEditor(wb);
        m.view = wb.page.frameLocator('iframe.webview.ready:visible').nth(i).frameLocator('iframe#active-frame');
        return m;
      };
      const maps = [mapIn(0), mapIn(1), mapIn(2), mapIn(3)];
      const summaries = await eventually('four maps side by side', async () => {
        const texts = await Promise.all(maps.map((m) => m.view.locator('#summary').innerText({ timeout: 1000 })));
        if (!texts.every((t) => / · boot \d+/.test(t))) throw new Error(`summaries: ${JSON.stringify(texts)}`);
        return texts;
      }, 60_000);
      // Which is which: each map's summary names its design.
      const which = (design) => summaries.findIndex((t) => t.includes(`, design ${design} (`));
      assert.deepEqual(['core64', 'ram64', 'pfn-only', 'dynamic'].map(which).sort(), [0, 1, 2, 3], JSON.stringify(summaries));
      const [a, b, c, d] = [maps[which('core64')], maps[which('ram64')], maps[which('pfn-only')], maps[which('dynamic')]];
      const fitted = await b.layout();
      await a.focus();
      for (const key of ['+', '+', '+', 'PageDown', 'PageDown']) await wb.page.keyboard.press(key);
      const moved = await eventually('the first map to move', async () => {
        const l = await a.layout();
        if (l.cellPx <= fitted.cellPx || l.topPfn === 0) throw new Error(JSON.stringify(l));
        return l;
      });
      const followed = await eventually('the other map to follow', async () => {
        const l = await b.layout();
        if (l.framesPerCell !== moved.framesPerCell || l.topPfn !== moved.topPfn) throw new Error(`${JSON.stringify(l)} against ${JSON.stringify(moved)}`);
        return l;
      });
      assert.equal(followed.cellPx, moved.cellPx, 'the same zoom');
      for (const m of [c, d]) {
        await eventually('the other maps to follow', async () => {
          const l = await m.layout();
          if (l.framesPerCell !== moved.framesPerCell || l.topPfn !== moved.topPfn) throw new Error(`${JSON.stringify(l)} against ${JSON.stringify(moved)}`);
          return l;
        });
      }
      // A frame chosen on one is selected on the other.
      const pfn = moved.topPfn + 3 * moved.framesPerRow + 2 * moved.framesPerCell;
      await a.clickFrame(moved, pfn);
      await a.selected(pfn);
      const other = await b.selected(pfn);
      assert.equal(other.pfn, pfn);
      assert.equal((await c.selected(pfn)).pfn, pfn);
      assert.equal((await d.selected(pfn)).pfn, pfn);
      await a.view.locator('#summary').hover(); // off the map: its tooltip goes
      await a.tooltip().waitFor({ state: 'hidden' });
      await wb.screenshot(prefix, 'images-in-step');

      // I/O on the dynamic image: descriptors from its pool attached to 16 frames in use, outlined on its map.
      const dynamic = files[3];
      const data = JSON.parse(pmem('info', dynamic, '--json')).regions.data;
      const shownFrames = JSON.parse(pmem('descriptors', dynamic, '--from', String(data.startPfn), '--count', '512', '--json'));
      const runStart = shownFrames.findIndex((f, i) => shownFrames.slice(i, i + 16).length === 16 && shownFrames.slice(i, i + 16).every((g) => g.kind === 'allocated'));
      assert.ok(runStart >= 0, 'sixteen frames in use in a row');
      const ioPfn = shownFrames[runStart].pfn;
      // Pressing on its page (not a tab) makes its editor the active one: the palette's command acts on it.
      await d.view.locator('#summary').click();
      await eventually('the dynamic image\'s editor to be the active one', async () => (await wb.page.locator('.part.editor .editor-group-container.active .tab.active', { hasText: 'dynamic.pmem' }).count()) === 1);
      await wb.runCommand(Workbench.commandLabel('pmemExplorer.startIo'));
      await wb.answer(/First pfn of the I\/O/, String(ioPfn));
      await wb.answer(/Frames under I\/O/, '16');
      await wb.pick(/Start I\/O \(3\/3\)/, /^Hold it in flight$/);
      await eventually('the dynamic map to count the I/O in flight', async () => /I\/O pool: 16 of 1024 descriptors attached, 1 I\/O in flight\)$/.test(await d.view.locator('#summary').innerText()));
      await d.button('Fit').click();
      await eventually('the I/O drawn over its 16 frames', async () => (await d.data('ioFrames')) === '16');
      assert.ok((await d.view.locator('#legend').innerText()).includes('descriptor attached from the I/O pool (I/O in flight)'));
      await wb.screenshot(prefix, 'dynamic-io');
      // Up close: Go to Frame zooms to the I/O's first frame (the other maps follow), its frames outlined.
      await wb.runCommand(Workbench.commandLabel('pmemExplorer.goToFrame'));
      await wb.answer(/Frame number/, String(ioPfn));
      await eventually('the I/O drawn up close', async () => Number(await d.data('ioFrames')) >= 8 && (await d.layout()).framesPerCell === 1);
      await d.view.locator('#summary').hover();
      await wb.screenshot(prefix, 'dynamic-io-close');
      fs.rmSync(folder, { recursive: true, force: true });
    });
  });
}
