// UI tests of the packaged extension (pmem-explorer.vsix) in a real VS Code
// (code-server) driven through Chromium: the custom editor (page-frame map), the three views,
// palette commands with their prompts, undo, reboot and history stepping,
// context menus and the error view of a corrupt image. The whole suite runs
// once per colour theme and saves screenshots to test-results/screenshots.
//
// Needs `npm run package` (the .vsix and dist/cli.js) first:
//   npm run package && npx mocha --config test/ui/.mocharc.json

import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import {
  PACKAGE, THEMES, Workbench, eventually, pmem, pmemFails, pmemJson, sha256, textMatching, workbenchSuite,
} from './helpers.mjs';

const label = (id) => Workbench.commandLabel(id);
const title = (id) => Workbench.commandTitle(id);

for (const theme of THEMES) {
  describe(`PMem Explorer UI (${theme.name})`, function () {
    /** @type {Workbench} */
    let wb;
    let ws;
    const shot = (name) => wb.screenshot(theme.prefix, name);
    workbenchSuite({
      theme,
      prefix: theme.prefix,
      // Made before code-server starts, so Quick Open's file index has it from the beginning.
      prepare: (w) => pmem('create', w.file('million.pmem'), '--size', '4G'),
    }, (w, s) => {
      wb = w;
      ws = s;
    });

    it('opens an image from Quick Open in the PMem Image editor', async () => {
      const { page } = wb;
      await wb.activityItem().waitFor({ state: 'visible' });
      const classes = await page.locator('.monaco-workbench').getAttribute('class');
      assert.ok(classes.split(/\s+/).includes(theme.workbenchClass), `the workbench uses ${theme.name} (classes: ${classes})`);

      const info = pmemJson('info', ws.file('plain.pmem'));
      await wb.openImage('plain.pmem');
      // A custom editor: the webview follows the theme and shows the image's summary, toolbar and map.
      const bodyClass = await wb.webview().locator('body').getAttribute('class');
      assert.match(bodyClass, new RegExp(`\\b${theme.webviewClass}\\b`), 'the webview follows the theme');
      const sum = await wb.summaryNow();
      assert.deepEqual(
        [sum.size, sum.totalFrames, sum.free, sum.allocated, sum.uninit, sum.metadata, sum.initialised, sum.stale, sum.never, sum.boot, sum.machine],
        ['64 MiB', info.totalFrames, 0, 0, info.frames.uninitialized, info.frames.reserved, 0, 0, info.sections.count, info.bootGeneration, 'off'],
        `summary: "${sum.text}"`,
      );
      await wb.webview().getByRole('toolbar', { name: 'Image actions' }).getByText('Allocate…').waitFor();
      const map = await wb.webview().locator('canvas[aria-roledescription="page-frame map"]').boundingBox();
      assert.ok(map && map.width > 100 && map.height > 100, `the map is drawn at a usable size: ${JSON.stringify(map)}`);
      assert.equal(await wb.stepLabel().innerText(), 'step 1/1', 'a new image has one history step');

      const status = await wb.status();
      assert.deepEqual(
        { free: status.free, uninit: status.uninit, gen: status.gen, off: status.off, unsaved: status.unsaved },
        { free: 0, uninit: info.frames.uninitialized, gen: info.bootGeneration, off: true, unsaved: false },
        `status bar: "${status.text}"`,
      );
      // The tab shows the PMem Image file icon (the language's icon: the file icon theme has none for .pmem).
      const icon = await wb.tab('plain.pmem').locator('.monaco-icon-label').first().evaluate((el) => ({ classes: el.className, image: getComputedStyle(el, '::before').backgroundImage }));
      assert.ok(icon.classes.split(/\s+/).includes('pmem-image-lang-file-icon'), `the tab's icon classes: ${icon.classes}`);
      assert.match(icon.image, new RegExp(`pmem-file-${theme.prefix}\\.svg`), 'the tab shows the image icon for the theme');
      await shot('editor-summary');
    });

    it('lists descriptors, free lists and lazy-init sections in the PMem side bar', async () => {
      const info = pmemJson('info', ws.file('used.pmem'));
      const sections = pmemJson('sections', ws.file('used.pmem'));
      const buddy = pmemJson('freelists', ws.file('used.pmem'));
      await wb.openImage('used.pmem');
      await wb.showSidebar();

      // Free Lists: node > zone, the zone row listing free blocks per order as /proc/buddyinfo does.
      const freeLists = wb.tree('Free Lists');
      const node0 = wb.row(freeLists, 'Node 0');
      await textMatching(wb.description(node0), new RegExp(`^${info.frames.free} free frames$`), 'the Node 0 row');
      const zoneName = info.nodes[0].zones[0].name;
      const perOrder = freeListCounts(buddy, 0, zoneName);
      await textMatching(wb.description(wb.row(freeLists, `Zone ${zoneName}`)), new RegExp(`^${perOrder.join(' ')}$`), `the Zone ${zoneName} row`);

      // Lazy-Init Sections: one row per section, with its counts.
      const sectionsTree = wb.tree('Lazy-Init Sections');
      const s0 = sections[0];
      await textMatching(wb.description(wb.row(sectionsTree, 'Section 0')), new RegExp(`^${s0.freeFrames} free / ${s0.allocatedFrames} used$`), 'Lazy-Init Section 0');
      await textMatching(wb.description(wb.row(sectionsTree, 'Section 1')), new RegExp(`^${sections[1].uninitializedFrames} frames untouched$`), 'Lazy-Init Section 1');

      // Descriptors: section > frame page > frame; the allocated block's head shows order and owner.
      const descriptors = wb.tree('Descriptors');
      const pfn = ws.fsPfns[0];
      const section = Math.floor(pfn / 512);
      const pageFirst = section * 512 + Math.floor((pfn % 512) / 256) * 256;
      const sectionRow = wb.row(descriptors, `Section ${section}`);
      assert.equal(await sectionRow.getAttribute('aria-expanded'), 'false', 'sections start collapsed');
      await wb.expand(sectionRow);
      const pageRow = wb.row(descriptors, `pfn ${pageFirst}–${pageFirst + 255}`);
      await wb.expand(pageRow);
      // The tree renders only the rows in view: scroll down to the block's head.
      const frameRow = wb.row(descriptors, `pfn ${pfn}`);
      await wb.scrollTreeTo(descriptors, frameRow);
      await textMatching(wb.description(frameRow), /^allocated order 3 · fs$/, `the row of pfn ${pfn}`);

      // The frame's tooltip: address, block and owner.
      const { hover, text: hoverText } = await wb.hoverFor(frameRow, new RegExp(`^pfn ${pfn} \\(physical address 0x${(pfn * 4096).toString(16)}\\)`), 'the frame tooltip');
      assert.match(hoverText, /owner: fs/);
      assert.match(hoverText, new RegExp(`block: pfn ${pfn}, order 3 \\(8 frames\\)`));
      await hover.evaluate((el) => Promise.all(el.getAnimations({ subtree: true }).map((a) => a.finished)));
      await shot('sidebar-frame-tooltip');
      await wb.page.mouse.move(20, 600); // away from the tree, onto an empty stretch of the activity bar
      await hover.waitFor({ state: 'hidden' });
      await shot('sidebar-expanded');
    });

    it('shows a large allocation\'s progress in a notification whose Cancel rolls it back', async function () {
      this.timeout(120_000);
      const file = ws.file('million.pmem');
      // Untouched: the same inode, size and modification time (any write moves it), and the same metadata bytes
      // (the first 80 MiB hold the superblock, tables, journal, history and the memmap; the rest is the sparse data area).
      const fingerprint = () => {
        const st = fs.statSync(file, { bigint: true });
        const head = Buffer.alloc(80 << 20);
        const fd = fs.openSync(file, 'r');
        try {
          const n = fs.readSync(fd, head, 0, head.length, 0);
          return `${st.ino}:${st.size}:${st.mtimeNs}:${createHash('sha256').update(head.subarray(0, n)).digest('hex')}`;
        } finally {
          fs.closeSync(fd);
        }
      };
      const before = fingerprint();
      await wb.openImage('million.pmem');
      const sumBefore = await wb.summaryNow();
      await wb.runCommand(label('pmemExplorer.allocate'));
      await wb.answer(/order/i, '0');
      await wb.answer(/how many/i, '1000000');
      await wb.pick(/zone/i, /^dma32$/i);
      await wb.answer(/owner/i, 'million');
      const toast = wb.page.locator('.notification-toast', { hasText: /Allocate order 0 x1000000/ });
      await toast.waitFor({ state: 'visible', timeout: 30_000 });
      // The progress moves: its message counts the blocks done so far.
      await textMatching(toast, /[\d,]+ of 1,000,000 blocks/, 'the progress message', 30_000);
      await shot('large-allocation-progress');
      await toast.getByRole('button', { name: 'Cancel' }).click();
      await textMatching(wb.page.locator('.part.statusbar .statusbar-item', { hasText: /cancelled/ }), /Allocate order 0 x1000000 cancelled after [\d,]+ of 1,000,000 blocks: rolled back/, 'the status bar message', 60_000);
      await toast.waitFor({ state: 'hidden', timeout: 30_000 });
      await shot('large-allocation-cancelled');
      await wb.summaryWhen('nothing allocated and the machine off again', (x) => x.allocated === sumBefore.allocated && x.machine === 'off', 30_000);
      assert.equal(fingerprint(), before, 'the file is untouched');
    });

    it('allocates with PMem: Allocate… from the palette, answering its prompts with the keyboard', async () => {
      await wb.openImage('used.pmem');
      await wb.showSidebar();
      const before = await wb.status();
      const sumBefore = await wb.summaryNow();
      const zoneRow = wb.row(wb.tree('Free Lists'), `Zone ${pmemJson('info', ws.file('used.pmem')).nodes[0].zones[0].name}`);
      const zoneBefore = (await wb.description(zoneRow).innerText()).trim();

      await wb.runCommand(label('pmemExplorer.allocate'));
      await wb.waitForPrompt(/order/i);
      await shot('palette-prompt');
      await wb.answer(/order/i, '2');
      await wb.answer(/how many/i, '3');
      const zonePrompt = await wb.waitForPrompt(/zone/i);
      assert.ok(zonePrompt.items.some((i) => /dma32/i.test(i)), `the zone pick offers DMA32: ${JSON.stringify(zonePrompt.items)}`);
      await shot('palette-zone-pick');
      await wb.pick(/zone/i, /^dma32$/i);
      await wb.answer(/owner/i, 'ui-test');
      await wb.quickInput().waitFor({ state: 'hidden' });
      // The status bar message names the new blocks; the first one shows in Descriptors with its owner.
      const message = await textMatching(wb.page.locator('.part.statusbar .statusbar-item', { hasText: /Allocated/ }), /pfn \d+/, 'the status bar message');
      const first = Number(/pfn (\d+)/.exec(message)[1]);
      const newRow = wb.row(wb.tree('Descriptors'), `pfn ${first}`);
      await wb.scrollTreeTo(wb.tree('Descriptors'), newRow);
      await textMatching(wb.description(newRow), /^allocated order 2 · ui-test$/, `the row of pfn ${first}`);

      // Three blocks of 4 frames: 12 more allocated frames; the first operation booted the machine.
      await wb.summaryWhen('12 more allocated frames, booted', (x) => x.allocated === sumBefore.allocated + 12 && x.boot === sumBefore.boot + 1 && x.machine === 'running');
      const after = await wb.status();
      assert.equal(after.gen, before.gen + 1, `status bar: "${after.text}"`);
      assert.ok(!after.off && after.unsaved, `status bar says running and unsaved: "${after.text}"`);
      assert.notEqual(after.free, before.free, 'the free count changed');
      await eventually('the Free Lists counts to change', async () => (await wb.description(zoneRow).innerText()).trim() !== zoneBefore);
      await eventually('the tab to show unsaved changes', async () => /\bdirty\b/.test(await wb.tab('used.pmem').getAttribute('class')));
      await shot('after-allocate');
    });

    it('undoes the allocation and the boot with Ctrl+Z in the editor, and redoes them with Ctrl+Shift+Z and Ctrl+Y on the map', async () => {
      await wb.openImage('used.pmem');
      const start = await wb.status();
      assert.ok(!start.off, `the previous test left the machine running: "${start.text}"`);
      const sum = await wb.summaryNow();
      const onDisk = pmemJson('info', ws.file('used.pmem'));

      await wb.focusEditor();
      await wb.page.keyboard.press('Control+Z');
      await wb.summaryWhen('the allocation undone', (x) => x.allocated === sum.allocated - 12 && x.boot === sum.boot && x.machine === 'running');
      assert.equal((await wb.status()).gen, start.gen, 'the boot is still there');

      await wb.page.keyboard.press('Control+Z');
      await wb.summaryWhen('the boot undone', (x) => x.machine === 'off' && x.boot === onDisk.bootGeneration && x.allocated === onDisk.frames.allocated);
      const status = await wb.status();
      assert.equal(status.gen, onDisk.bootGeneration);
      assert.ok(status.off, `status bar: "${status.text}"`);
      assert.equal(status.free, onDisk.frames.free);
      await eventually('the tab to be clean again', async () => !/\bdirty\b/.test(await wb.tab('used.pmem').getAttribute('class')));

      // With the map itself focused, Ctrl+Shift+Z and Ctrl+Y redo, as in any editor.
      await wb.map().focus();
      await wb.page.keyboard.press('Control+Shift+Z');
      await wb.summaryWhen('the boot redone by Ctrl+Shift+Z on the map', (x) => x.machine === 'running' && x.boot === sum.boot && x.allocated === onDisk.frames.allocated);
      await wb.page.keyboard.press('Control+Y');
      await wb.summaryWhen('the allocation redone by Ctrl+Y on the map', (x) => x.machine === 'running' && x.boot === sum.boot && x.allocated === sum.allocated);
      await eventually('the tab to show unsaved changes again', async () => /\bdirty\b/.test(await wb.tab('used.pmem').getAttribute('class')));
    });

    it('reboots with PMem: Reboot and looks back with PMem: Step Back', async () => {
      await wb.openImage('used.pmem');
      const before = await wb.status();
      await wb.runCommand(label('pmemExplorer.reboot'));
      await wb.summaryWhen(`boot ${before.gen + 1} running`, (x) => x.boot === before.gen + 1 && x.machine === 'running');
      await textMatching(wb.statusItem(), new RegExp(`gen ${before.gen + 1}(?! \\(off\\))`), 'the status bar after the reboot');

      const [at, last] = (await textMatching(wb.stepLabel(), /^step (\d+)\/\1$/, 'the history timeline at the last step')).slice(5).split('/').map(Number);
      assert.equal(at, last);
      await wb.runCommand(label('pmemExplorer.stepBack'));
      const note = wb.banner();
      await textMatching(note, new RegExp(`state after step ${last - 1}\\b`), 'the history note');
      await textMatching(wb.stepLabel(), new RegExp(`^step ${last - 1}/${last}$`), 'the history timeline');
      await textMatching(wb.statusItem(), new RegExp(`step ${last - 1}\\b`), 'the status bar in the past');
      assert.equal((await wb.status()).gen, before.gen, 'before the reboot, the generation was the old one');
      await shot('step-back');

      // Alt+] (PMem: Step Forward) in the editor returns to the present.
      await wb.focusEditor();
      await wb.page.keyboard.press('Alt+BracketRight');
      await note.waitFor({ state: 'hidden' });
      await textMatching(wb.stepLabel(), new RegExp(`^step ${last}/${last}$`), 'the history timeline back at the present');
      const now = await wb.status();
      assert.equal(now.step, undefined, `status bar: "${now.text}"`);
      assert.equal(now.gen, before.gen + 1);
    });

    it('initialises a section and frees a block from the views\' context menus', async () => {
      await wb.openImage('used.pmem');
      await wb.showSidebar();
      const sectionsTree = wb.tree('Lazy-Init Sections');
      const sections = pmemJson('sections', ws.file('used.pmem'));
      const target = sections.find((s) => s.index > 0 && s.state === 'never');
      const row = wb.row(sectionsTree, `Section ${target.index}`);
      await row.scrollIntoViewIfNeeded();
      assert.match(await row.getAttribute('aria-label'), /never initialised/);
      const sumBefore = await wb.summaryNow();

      await wb.contextMenu(row, title('pmemExplorer.initSection'));
      await textMatching(wb.description(row), new RegExp(`^${target.frames} free / 0 used$`), `Lazy-Init Section ${target.index}`);
      assert.match(await row.getAttribute('aria-label'), new RegExp(`^Section ${target.index}: initialised`));
      assert.equal(await row.locator('.codicon-pass-filled').count(), 1, 'the initialised icon');
      await wb.summaryWhen('one more initialised section', (x) => x.never === sumBefore.never - 1 && x.initialised === sumBefore.initialised + 1);
      const inDescriptors = wb.row(wb.tree('Descriptors'), `Section ${target.index}`);
      await wb.scrollTreeTo(wb.tree('Descriptors'), inDescriptors);
      await textMatching(wb.description(inDescriptors), /^initialised\b/, 'the section in Descriptors');

      // A frame's menu: Copy PFN puts the pfn on the clipboard; Free This Block frees its block.
      const pfn = ws.fsPfns[1];
      await wb.runCommand(label('pmemExplorer.goToFrame'));
      await wb.answer(/frame number/i, String(pfn));
      const frameRow = wb.row(wb.tree('Descriptors'), `pfn ${pfn}`);
      await textMatching(wb.description(frameRow), /^allocated order 3 · fs$/, `the row of pfn ${pfn}`);
      const items = await wb.contextMenuItems(frameRow);
      for (const id of ['pmemExplorer.copyPfn', 'pmemExplorer.freeBlock']) assert.ok(items.includes(title(id)), `the menu has ${title(id)}: ${JSON.stringify(items)}`);
      assert.ok(!items.includes(title('pmemExplorer.initSection')), 'no section entries on a frame');
      await shot('frame-context-menu');
      await wb.page.keyboard.press('Escape');

      await wb.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(wb.page.url()).origin });
      await wb.contextMenu(frameRow, title('pmemExplorer.copyPfn'));
      await eventually('the clipboard to hold the pfn', async () => (await wb.page.evaluate(() => navigator.clipboard.readText())) === String(pfn));

      const before = await wb.status();
      await wb.contextMenu(frameRow, title('pmemExplorer.freeBlock'));
      await textMatching(wb.description(frameRow), /^free\b/, `the row of pfn ${pfn} after Free This Block`);
      await eventually('8 more free frames in the status bar', async () => (await wb.status()).free === before.free + 8);
    });

    it('shows what is wrong, and where, for a corrupt image', async () => {
      const file = ws.file('corrupt.pmem');
      const hash = sha256(file);
      const cli = pmemFails('info', file);
      assert.equal(cli.status, 2, 'the CLI rejects the image too');

      await wb.openBrokenImage('corrupt.pmem');
      const alert = wb.webview().getByRole('alert');
      const text = await textMatching(alert, /magic/i, 'the error message');
      assert.match(text, /at superblock\.magic, byte 0 \(0x0\)/, 'it says where');
      assert.ok(cli.stderr.includes(text.split('\n')[0].trim()), `the message is the CLI's: ${cli.stderr}`);
      const reopen = wb.webview().getByRole('button', { name: 'Reopen With…' });
      await reopen.waitFor();

      // No image is active: the status bar item hides and the views show their welcome text.
      await wb.statusItem().waitFor({ state: 'hidden' });
      await wb.showSidebar();
      const welcome = welcomeText('pmemExplorer.descriptors');
      await wb.page.locator('.part.sidebar .welcome-view-content', { hasText: welcome }).waitFor();
      await shot('error-view');

      await reopen.click();
      const pickerState = await wb.waitForPrompt(/editor/i);
      assert.ok(pickerState.items.includes('Text Editor'), `Reopen With offers the text editor: ${JSON.stringify(pickerState.items)}`);
      await wb.page.keyboard.press('Escape');
      assert.equal(sha256(file), hash, 'nothing was written to the corrupt image');
    });
  });
}

/** The per-order block counts of one zone from `pmem freelists --json`. */
function freeListCounts(lists, node, zone) {
  const mine = lists.filter((l) => l.node === node && l.zone === zone).sort((a, b) => a.order - b.order);
  assert.ok(mine.length, `pmem freelists lists node ${node} zone ${zone}`);
  return mine.map((l) => l.count);
}

/** The first line of a view's welcome content, from package.json. */
function welcomeText(view) {
  const w = PACKAGE.contributes.viewsWelcome.find((x) => x.view === view);
  assert.ok(w, `package.json has welcome content for ${view}`);
  return w.contents.split('\n')[0];
}
