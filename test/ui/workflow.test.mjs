// UI tests of what the issue of everyday work asked for: Show Info shows the
// image's info for real, the recovery banner lives as long as its boot, the
// Memmap costs fields keep fast typing and say what they cannot use, and the
// map's toolbar allocates from an inline form. Runs once per colour theme;
// screenshots go to test-results/screenshots/<theme>-work-*.png.
//
//   npm run package && npx mocha --config test/ui/.mocharc.json test/ui/workflow.test.mjs

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decompress } from 'fzstd';
import { REPO_ROOT } from '../../scripts/code-server-host.mjs';
import { THEMES, Workbench, eventually, pmem, textMatching, workbenchSuite } from './helpers.mjs';

/** A 1 GiB image and a real perf script trace of a Linux 6.1 kernel (the unit tests' fixture), in the workspace before VS Code starts. */
function prepareTrace(ws) {
  pmem('create', ws.file('trace.pmem'), '--size', '1G');
  fs.writeFileSync(ws.file('perf.txt'), decompress(fs.readFileSync(path.join(REPO_ROOT, 'test/fixtures/kmem/traces/perf.txt.zst'))));
}

for (const theme of THEMES) {
  describe(`PMem Explorer everyday work (${theme.name})`, function () {
    let wb;
    let ws;
    const prefix = `${theme.prefix}-work`;
    const shot = (name) => wb.screenshot(prefix, name);
    workbenchSuite({ theme, prefix, prepare: prepareTrace, ready: (w) => w.showSidebar() }, (w, s) => {
      wb = w;
      ws = s;
    });

    /** The text of the active text editor (every line is shown: the documents here are short). */
    const editorLines = async () => (await wb.page.locator('.part.editor .monaco-editor .view-line').allInnerTexts()).map((l) => l.replace(/\u00a0/g, ' ').trimEnd());

    it('Show Info (from the status bar) shows everything pmem info prints, read-only', async () => {
      await wb.openImage('used.pmem');
      const expected = pmem('info', ws.file('used.pmem')).trimEnd().split('\n');
      await wb.statusItem().click();
      const tab = wb.page.locator('.part.editor .tab', { hasText: 'Info of used.pmem' });
      await tab.waitFor({ timeout: 20_000 });
      let lines = [];
      await eventually('every line of pmem info', async () => {
        lines = await editorLines();
        return expected.every((l) => lines.includes(l));
      }, 20_000).catch((e) => assert.fail(`${e.message}\nexpected:\n${expected.join('\n')}\nshown:\n${lines.join('\n')}`));
      assert.ok(lines.some((l) => /^ {2}shown {7}the image as in the editor; the machine is off$/.test(l)), lines.join('\n'));
      // No notification instead of it (the old toast named only the file).
      assert.equal(await wb.notification('used.pmem').count(), 0);
      await wb.page.locator('.part.editor .monaco-editor .view-lines').first().click();
      await wb.page.keyboard.type('x');
      assert.deepEqual((await editorLines()).slice(0, expected.length).filter((l) => l.startsWith('x')), [], 'typing changes nothing');
      await shot('show-info');
      // Close Editor closes the active group's editor: the report's tab is made active first (under load the map may have taken the focus back).
      await tab.click();
      await wb.runCommand('View: Close Editor');
      await tab.waitFor({ state: 'hidden' });
    });

    it('Show Fragmentation (from the palette) shows Linux\'s three files as pmem frag prints them, read-only', async () => {
      await wb.openImage('used.pmem');
      const expected = pmem('frag', ws.file('used.pmem')).trimEnd().split('\n').filter((l) => l.length);
      await wb.runCommand(Workbench.commandLabel('pmemExplorer.showFragmentation'));
      const tab = wb.page.locator('.part.editor .tab', { hasText: 'Fragmentation of used.pmem' });
      await tab.waitFor({ timeout: 20_000 });
      let lines = [];
      await eventually('every line of pmem frag', async () => {
        lines = await editorLines();
        return expected.every((l) => lines.includes(l.trimEnd()));
      }, 20_000).catch((e) => assert.fail(`${e.message}\nexpected:\n${expected.join('\n')}\nshown:\n${lines.join('\n')}`));
      assert.ok(lines.some((l) => /fragmentation as Linux measures it, of the image as in the editor$/.test(l)), lines.join('\n'));
      await shot('show-fragmentation');
      // Close Editor closes the active group's editor: the report's tab is made active first (under load the map may have taken the focus back).
      await tab.click();
      await wb.runCommand('View: Close Editor');
      await tab.waitFor({ state: 'hidden' });
    });

    it('Replay Trace… replays a real kernel trace; the Fragmentation chart follows the history and the timeline; the overlay colours cells by the largest free order', async () => {
      await wb.openImage('trace.pmem');
      const map = wb.map();
      await wb.runCommand(Workbench.commandLabel('pmemExplorer.replayTrace'));
      // code-server's open dialog is a quick input listing the workspace folder: the trace is picked from the list, as a user would.
      await wb.waitForPrompt(/Replay Trace/);
      const row = wb.quickInput().locator('.monaco-list-row', { hasText: 'perf.txt' });
      await row.waitFor({ timeout: 20_000 });
      await row.click();
      await wb.pick(/frees of blocks the trace never allocated/i, /^Skip them/);
      const report = wb.page.locator('.part.editor .tab', { hasText: 'Replay of perf.txt' });
      await report.waitFor({ timeout: 120_000 });
      // The report opens beside the map: the map's tab (its accessible name then names its group too).
      const imageTab = wb.page.locator('.part.editor .tab', { hasText: 'trace.pmem' });
      await imageTab.click();
      const label = await textMatching(wb.stepLabel(), /^step (\d+)\/(\d+)$/, 'the step label');
      const last = Number(label.split('/')[1]);
      assert.ok(last >= 5, `the replay added steps: ${label}`);

      const panel = map.view.locator('#fragPanel');
      await panel.locator('.collapsible-header').click();
      await eventually('the fragmentation charts to be drawn', async () => (await panel.getAttribute('data-frag-state')) === 'drawn', 30_000);
      assert.equal(Number(await panel.getAttribute('data-frag-last')), last, 'the charts reach the last step');
      const at = panel.locator('#fragAt');
      await textMatching(at, new RegExp(`^At step ${last}, node 0 · (DMA32|Normal): \\d+ free pages; largest free order \\d+; at order 9, fragmentation index -?\\d\\.\\d{3}, unusable free space index \\d\\.\\d{3}\\. Free blocks by order: [\\d ]+\\.$`), 'the figures at the last step');
      // The same free blocks as pmem frag prints for the saved image.
      await wb.focusEditor();
      await wb.page.keyboard.press('Control+S');
      await eventually('the image to be saved', async () => !/\bdirty\b/.test(await imageTab.getAttribute('class')));
      const zone = (await at.innerText()).match(/node 0 · (\w+):/)[1];
      const buddy = pmem('frag', ws.file('trace.pmem'), '--only', 'buddyinfo').split('\n').find((l) => l.includes(`zone ${zone.padStart(8)}`));
      const counts = buddy.replace(/^Node 0, zone +\w+/, '').trim().split(/\s+/).join(' ');
      assert.ok((await at.innerText()).endsWith(`Free blocks by order: ${counts}.`), `${await at.innerText()} / ${buddy}`);
      assert.equal(await panel.getAttribute('data-frag-axis'), `1-${last}`, 'the axis spans the history');
      // One more step (the quick allocate form): the charts read the history again and their axis reaches it.
      await map.view.locator('#allocGo').click();
      await textMatching(wb.stepLabel(), new RegExp(`^step ${last + 1}/${last + 1}$`), 'the new step');
      await eventually('the charts to reach the new step', async () => (await panel.getAttribute('data-frag-axis')) === `1-${last + 1}`, 30_000);
      await wb.focusEditor();
      await wb.page.keyboard.press('Control+Z');
      await textMatching(wb.stepLabel(), new RegExp(`^step ${last}/${last}$`), 'the step undone');
      await eventually('the charts to follow the undo', async () => (await panel.getAttribute('data-frag-axis')) === `1-${last}`, 30_000);
      await panel.scrollIntoViewIfNeeded();
      await shot('fragmentation-chart');

      // A click on the chart shows that step: the timeline moves there, and the figures follow.
      const chart = panel.locator('#fragBlocks');
      const box = await chart.boundingBox();
      await chart.click({ position: { x: box.width / 2, y: box.height * 0.6 } });
      const moved = await textMatching(wb.stepLabel(), new RegExp(`^step (?!${last}/)\\d+/${last}$`), 'the step label to show an earlier step after the click');
      const step = Number(moved.match(/^step (\d+)/)[1]);
      await textMatching(at, new RegExp(`^At step ${step}, `), 'the figures of the step shown');

      // The overlay: each cell by the largest free order in it, with its scale in the legend.
      await map.button('Largest free order').click();
      await eventually('the map drawn with the overlay', async () => (await map.data('overlaid')) === 'true', 20_000);
      await textMatching(map.view.locator('#legend'), /largest free block in the cell, from the free lists:\s*order 0\s*order 1/, 'the overlay\'s legend');
      // The tooltip names the cell's largest free order (the first cells of the data area hold the trace's blocks).
      const tip = await map.hover(20, 12);
      assert.match(tip.lines.at(-1), /^(largest free block in this cell: order \d+ \(\d+ [KMG]iB\)|no free block in this cell \(from the free lists\))$/, tip.text);
      await map.leave();
      await shot('overlay-past');
      await wb.runCommand(Workbench.commandLabel('pmemExplorer.goToStep'));
      await wb.pick(/Show the image as it was after this step/, new RegExp(`^${last}\\b`));
      await textMatching(wb.stepLabel(), new RegExp(`^step ${last}/${last}$`), 'back at the last step');
      // The summary waits for the map's picture of its state: the present's figures show once it is drawn.
      const present = (await wb.status()).free;
      await wb.summaryWhen(`the present drawn (${present} free frames)`, (s) => s.free === present, 20_000);
      assert.equal(await map.data('overlaid'), 'true');
      await map.focus();
      for (let i = 0; i < 3; i++) await wb.page.keyboard.press('+');
      await eventually('the zoomed map drawn with the overlay', async () => (await map.data('overlaid')) === 'true' && (await map.data('cells')) !== undefined, 20_000);
      await shot('overlay');
      await wb.page.keyboard.press('0');
      await map.button('Largest free order').click();
      await eventually('the map drawn by state again', async () => (await map.data('overlaid')) === 'false', 20_000);
      await panel.locator('.collapsible-header').click();
      // The report beside the map closes: the next tests find one editor group.
      await report.click();
      await wb.runCommand('View: Close Editor');
      await report.waitFor({ state: 'hidden' });
    });

    it('the recovery banner says what recovery did in that boot only, without a notification over the history', async () => {
      await wb.openImage('plain.pmem');
      const map = wb.map();
      const before = await wb.summaryNow();
      // A fresh image has no free frame yet, but is not full: the summary says what can be handed out.
      assert.equal(before.free, 0);
      assert.match(before.text, new RegExp(`: 0 free \\(0\\.0 %; ${before.uninit} can be handed out, uninitialised sections included\\), 0 allocated`));
      await map.button('Crash at…').click();
      await wb.pick(/which operation/i, /^An allocation$/);
      await wb.answer(/which order/i, '0');
      await wb.answer(/persistence points/i, '2');
      const crashed = await wb.summaryWhen('a boot after the crash', (s) => s.boot > before.boot);
      await textMatching(wb.banner(), /^Power failed after 2 persistence point\(s\) of an order-0 allocation\. Recovery: /, 'the recovery banner');
      assert.equal(await wb.notification('Recovery:').count(), 0, 'the banner says it; no notification piles up');
      await shot('crash-banner');

      await map.button('Reboot into profile…').click();
      await wb.pick(/profile/i, /^kmemcheck$/);
      // kmemcheck's descriptor does not fit the 64 bytes the device reserves: the user chooses the kernel's answer.
      const outcomes = await eventually('both outcomes offered', async () => {
        const s = await wb.waitForPrompt(/descriptors on the device/i);
        if (s.items.length < 2) throw new Error(`items: ${JSON.stringify(s.items)}`);
        return s;
      });
      assert.deepEqual(outcomes.items, ['As the seed design proposes', 'As Linux does']);
      await shot('struct-page-mismatch');
      await wb.pick(/descriptors on the device/i, /^As the seed design proposes$/);
      await wb.summaryWhen('a clean boot into kmemcheck', (s) => s.boot === crashed.boot + 1);
      await eventually('the note of what Linux would have done', async () => (await wb.notification('struct page size mismatch 64').count()) === 1);
      // The note was about the crashed boot: gone with it, at once (not after a delay).
      await eventually('the banner to go', async () => !(await wb.banner().isVisible()), 2000);
      await shot('banner-after-reboot');
    });

    it('Memmap costs keeps fast typing, refuses a bare number and says when the memmap does not fit in RAM', async () => {
      await wb.openImage('used.pmem');
      const map = wb.map();
      const { panel, table, cells } = await map.openCosts();
      const device = panel.locator('#costDevice input');
      const ram = panel.locator('#costRam input');

      // Typed as a person does, a key every 60 ms, while the map keeps drawing.
      await device.click();
      await wb.page.keyboard.press('Control+A');
      await wb.page.keyboard.type('400G', { delay: 60 });
      await eventually('the field to keep every key', async () => (await device.inputValue()) === '400G', 5000)
        .catch(async (e) => assert.fail(`${e.message}: the field holds "${await device.inputValue()}"`));
      await eventually('the table to describe the typed size', async () => (await table.getAttribute('aria-label')) === 'Memmap costs for 400 GiB');
      assert.deepEqual((await cells('64 B per 4 KiB')).slice(0, 3), ['104,857,600', '6.25 GiB', '1.563 %']);

      // A bare number is not taken for bytes.
      await device.fill('400');
      await textMatching(panel.locator('#costsError'), /^device size "400" has no unit: type 400G for GiB \(K, M, G, T\), or 400B for bytes$/, 'the explanation');
      assert.equal(await panel.locator('vscode-textfield#costDevice').getAttribute('invalid'), '', 'the field is marked invalid');

      // 16 TiB with 256 GiB of RAM: the 64-byte memmap would take all of it.
      await device.fill('16T');
      await ram.fill('256G');
      await eventually('the RAM column to say it does not fit', async () => (await cells('64 B per 4 KiB'))[3] === 'does not fit: needs 256 GiB of 256 GiB RAM');
      assert.equal((await cells('16 B per 4 KiB'))[3], '25.000 %');
      await panel.scrollIntoViewIfNeeded();
      await shot('costs');
      await device.fill('');
      await ram.fill('');
      await panel.locator('.collapsible-header').click();
    });

    it('allocates from the toolbar\'s form with one Enter, and Allocate… offers the last answers', async () => {
      await wb.openImage('used.pmem');
      const map = wb.map();
      const before = await wb.summaryNow();
      const form = map.view.getByRole('form', { name: 'Quick allocate' });
      await form.getByLabel('order').fill('2');
      await form.getByLabel('count').fill('3');
      await form.getByLabel('owner').fill('quick');
      await form.getByLabel('owner').press('Enter');
      const after = await wb.summaryWhen('three order-2 blocks allocated', (s) => s.allocated === before.allocated + 12);
      assert.equal(after.free, before.free - 12);
      await shot('allocate-form');

      // The prompts start from what was asked last: Enter through all of them repeats it.
      await map.button('Allocate…').click();
      // Each Enter only once the prompt holds the focus: under load one typed before it went elsewhere (run 52).
      for (const [re, value] of [[/Allocate \(1\/5\)/, '2'], [/Allocate \(2\/5\)/, '3']]) {
        await wb.waitForPrompt(re);
        await wb.waitForQuickInputFocus((v) => v === value);
        await wb.page.keyboard.press('Enter');
      }
      await wb.waitForPrompt(/Allocate \(4\/5\)/);
      await wb.waitForQuickInputFocus();
      await wb.page.keyboard.press('Enter');
      await wb.waitForPrompt(/Allocate \(5\/5\)/);
      await wb.waitForQuickInputFocus((v) => v === 'quick');
      await wb.page.keyboard.press('Enter');
      await wb.summaryWhen('three more order-2 blocks', (s) => s.allocated === before.allocated + 24);

      // A field out of range is marked, and nothing is sent.
      await form.getByLabel('order').fill('99');
      await form.getByLabel('order').press('Enter');
      assert.equal(await form.getByLabel('order').getAttribute('aria-invalid'), 'true');
      assert.equal((await wb.summaryNow()).allocated, before.allocated + 24);
    });
  });
}
