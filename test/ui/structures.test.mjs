// UI tests of the design's own structures on screen: a free block's list
// links in the map's tooltip, a free list chosen in the Free Lists view drawn
// on the map as a chain (and a broken one drawn broken), Follow Link, and the
// crash prompt naming what each persistence point writes. Runs once per colour
// theme; screenshots go to test-results/screenshots/<theme>-structures-*.png.
//
//   npm run package && npx mocha --config test/ui/.mocharc.json test/ui/structures.test.mjs

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { CLI, THEMES, eventually, pmem, pmemJson, textMatching, workbenchSuite } from './helpers.mjs';

const PAGE = 4096;

/** An image whose order-6 list has blocks spread over the device: every section initialised, 24 order-6 blocks taken, every third given back. */
function makeLinked(file) {
  pmem('create', file, '--size', '64M', '--history', '256K');
  pmem('init', file, '--all');
  pmem('alloc', file, '--order', '0', '--count', '3', '--owner', 'fs');
  const taken = pmem('alloc', file, '--order', '6', '--count', '24', '--owner', 'slab').trim().split(/\s+/);
  pmem('free', file, ...taken.filter((_, i) => i % 3 === 0));
}

/** Rewrites the `next` link of the record in block `pfn`'s first page, with a valid checksum: a link that check reports as broken. */
function relink(file, pfn, next) {
  const fd = fs.openSync(file, 'r+');
  try {
    const rec = Buffer.alloc(48);
    fs.readSync(fd, rec, 0, 48, pfn * PAGE);
    assert.equal(rec.toString('latin1', 0, 8), 'PMEMFREE', `block ${pfn} has a link record`);
    rec.writeBigUInt64LE(BigInt(next), 16);
    rec.writeUInt32LE(zlib.crc32(rec.subarray(0, 44)), 44);
    fs.writeSync(fd, rec, 0, 48, pfn * PAGE);
  } finally {
    fs.closeSync(fd);
  }
}

for (const theme of THEMES) {
  describe(`PMem Explorer structures on screen (${theme.name})`, function () {
    /** @type {Workbench} */
    let wb;
    let ws;
    const prefix = `${theme.prefix}-structures`;
    const shot = (name) => wb.screenshot(prefix, name);
    let list;
    let crashFs;
    workbenchSuite({
      theme,
      prefix,
      prepare: (w) => {
        makeLinked(w.file('links.pmem'));
        list = pmemJson('freelists', w.file('links.pmem')).find((l) => l.order === 6);
        assert.ok(list.count >= 6, `the order-6 list has blocks to chain: ${JSON.stringify(list)}`);
        fs.copyFileSync(w.file('links.pmem'), w.file('broken.pmem'));
        relink(w.file('broken.pmem'), list.blocks[1], list.blocks[3]); // 576 → a block far down the map whose prev is another
        pmem('create', w.file('crash.pmem'), '--size', '64M', '--history', '256K');
        crashFs = Number(pmem('alloc', w.file('crash.pmem'), '--order', '0', '--owner', 'fs').trim());
      },
      ready: (w) => w.showSidebar(),
    }, (w, s) => {
      wb = w;
      ws = s;
    });

    it('the map tooltip of a free block shows its next and prev links, its list and its flags by name', async () => {
      await wb.openImage('links.pmem');
      const map = wb.map();
      const layout = await map.layout();
      const [a, b, c] = list.blocks;
      const inner = await map.hoverFrame(layout, b + 1);
      assert.ok(inner.lines.includes(`list: node 0 ${list.zone} order 6 (link record in the free page)`), inner.text);
      assert.ok(inner.lines.includes(`next: pfn ${c} · prev: pfn ${a}`), inner.text);
      assert.ok(inner.lines.includes('flags: PG_core'), inner.text);
      const head = await map.hoverFrame(layout, b);
      assert.ok(head.lines.includes('flags: PG_core | PG_buddy'), head.text);
      assert.ok(head.lines.includes(`next: pfn ${c} · prev: pfn ${a}`), head.text);
      await shot('tooltip-links');
      const first = await map.hoverFrame(layout, a);
      assert.ok(first.lines.includes(`next: pfn ${b} · prev: none (list head)`), first.text);
      await map.leave();
    });

    it('a free list chosen in the Free Lists view is drawn on the map as a chain; Follow Link walks it', async () => {
      await wb.openImage('links.pmem');
      const map = wb.map();
      const tree = wb.tree('Free Lists');
      const orderRow = wb.row(tree, 'Order 6');
      await orderRow.click();
      await eventually('the chain to be drawn', async () => (await map.data('chainLinks')) === String(list.count - 1));
      assert.equal(await map.data('chainBroken'), '0');
      await textMatching(wb.webview().locator('#chainLabel'), new RegExp(`^Free list node 0 ${list.zone} order 6: ${list.count} blocks$`), 'the chain label');
      await wb.unhover();
      await shot('chain');

      // Follow Link from the list's second block selects the third.
      await wb.expand(orderRow);
      const [, b, c] = list.blocks;
      await wb.contextMenu(wb.row(tree, `pfn ${b}–${b + 63}`), 'Follow Link');
      await map.selected(c);
    });

    it('a broken link is drawn broken: dashed, with a gap, where the block reached does not point back', async () => {
      await wb.openImage('broken.pmem');
      const map = wb.map();
      await wb.row(wb.tree('Free Lists'), 'Order 6').click();
      await eventually('the broken chain to be drawn', async () => (await map.data('chainBroken')) === '1', 20_000);
      assert.equal(await map.data('chainLinks'), '1', 'the link before the break is whole');
      const [, b, c, d] = list.blocks;
      await textMatching(wb.webview().locator('#chainLabel'), new RegExp(`broken: block ${d}'s prev link is ${c}, not ${b}`), 'the chain label');
      await shot('chain-broken');
      // check finds the same link broken.
      const report = JSON.parse(spawnSync(process.execPath, [CLI, 'check', ws.file('broken.pmem'), '--json'], { encoding: 'utf8' }).stdout);
      assert.ok(report.problems.some((p) => p.message.includes(`block ${d}'s prev link is ${c}, expected ${b}`)), JSON.stringify(report.problems));
    });

    it('the crash prompt says what each persistence point writes, and crashes a free and an initialisation', async () => {
      await wb.openImage('crash.pmem');
      const map = wb.map();
      const descriptions = async () => {
        await wb.waitForPrompt(/persistence points/i);
        return wb.quickInput().locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => `${r.querySelector('.label-name')?.textContent} ${r.querySelector('.label-description')?.textContent ?? ''}`));
      };

      // A free: the journal intent, the commit record, each home write and the clear, in order.
      await map.button('Crash at…').click();
      await wb.pick(/which operation/i, /^A free$/);
      await wb.answer(/freeing the block at which pfn/i, String(crashFs));
      const rows = await descriptions();
      const text = rows.join('\n');
      assert.match(rows[0], /^0 before anything is written$/);
      const intent = rows.findIndex((r) => /journal intent "free/.test(r));
      assert.ok(intent > 0, text);
      assert.match(rows[intent + 1], /commit record/, text);
      assert.ok(rows.some((r, i) => i > intent + 1 && /home write: descriptors: pfn/.test(r)), text);
      assert.ok(rows.some((r, i) => i > intent + 1 && /home write: section table: section/.test(r)), text);
      assert.match(rows[rows.length - 1], /clear: .*\(the operation completes\)$/, text);
      await shot('crash-prompt');
      // Past the commit record: recovery rolls the free forward.
      const point = intent + 2; // rows[0] is point 0
      await wb.answer(/persistence points/i, String(point));
      const banner = await textMatching(wb.banner(), /Recovery:/, 'the recovery banner', 20_000);
      assert.match(banner, new RegExp(`^Power failed after ${point} persistence point\\(s\\) of a free of block ${crashFs} \\(order 0\\)\\. Recovery: rolled forward "free`), banner);

      // An initialisation: of a stale section, rolled back before its commit record.
      await map.button('Crash at…').click();
      await wb.pick(/which operation/i, /^An initialisation$/);
      await wb.waitForPrompt(/initialising which section/i);
      await wb.waitForQuickInputFocus();
      await wb.page.keyboard.press('Enter'); // the section suggested
      const initRows = await descriptions();
      assert.ok(initRows.some((r) => /journal intent "init/.test(r)), initRows.join('\n'));
      await shot('crash-prompt-init');
      await wb.answer(/persistence points/i, '1');
      const initBanner = await textMatching(wb.banner(), /initialisation of section/, 'the recovery banner after an initialisation', 20_000);
      assert.match(initBanner, /^Power failed after 1 persistence point\(s\) of an initialisation of section \d+\. Recovery: /);
    });
  });
}
