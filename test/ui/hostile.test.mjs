// UI test: strings from an image are shown as text. An image (made with the
// engine's own encoders by test/unit/hostileImage.ts) holds owner tags and
// a history summary that try to be HTML, and its file name does too. In a real
// VS Code (code-server) through Chromium, the map's tooltip, legend and
// history show the literal characters, no element is created from them, no
// script runs, and an SVG export holds the escaped name and parses as XML.
// Runs in both themes, with a screenshot of each tooltip.
//
//   npm run package && npx mocha --config test/ui/.mocharc.json test/ui/hostile.test.mjs

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO_ROOT } from '../../scripts/code-server-host.mjs';
import { THEMES, Workbench, eventually, pmemJson, workbenchSuite } from './helpers.mjs';

const sax = createRequire(import.meta.url)('sax');

// As in test/unit/hostileImage.ts (HOSTILE_OWNERS, HOSTILE_SUMMARY).
const OWNERS = ['<img src=x>', '</script>', '*a*[x](y)', '&amp;'];
const SUMMARY = '<img src=x onerror=alert(1)></script><script>alert(2)</script> *b* [c](command:x) &lt;';
const NAME = '&amp;<img src=x>.pmem';

for (const theme of THEMES) {
  describe(`PMem Explorer shows image strings as text (${theme.name})`, function () {
    /** @type {Workbench} */
    let wb;
    let ws;
    const dialogs = [];
    workbenchSuite({
      theme,
      prefix: `${theme.prefix}-hostile`,
      prepare: (w) => execFileSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/unit/hostileImage.ts'), w.file(NAME)], { cwd: REPO_ROOT, stdio: 'inherit' }),
      ready: async (w) => {
        w.page.on('dialog', (d) => {
          dialogs.push(d.message());
          void d.dismiss();
        });
        await w.showSidebar();
      },
    }, (w, s) => {
      wb = w;
      ws = s;
    });

    /** What the map's page holds that could only come from interpreting an image string. */
    const injected = (map) => map.view.locator('body').evaluate(() => ({
      images: document.querySelectorAll('img').length,
      scripts: [...document.querySelectorAll('script')].filter((s) => /alert/.test(s.textContent)).length,
      handlers: document.querySelectorAll('[onerror]').length,
      tooltipElements: [...document.querySelectorAll('#tooltip *')].map((e) => e.localName).filter((n) => n !== 'b' && n !== 'br'),
      legendElements: [...document.querySelectorAll('#legend *')].map((e) => e.localName).filter((n) => n !== 'span'),
    }));

    it('the tooltip, legend and history show owner tags and the summary literally; nothing is parsed or run', async () => {
      await wb.openImage(NAME);
      const map = wb.map();
      const owned = pmemJson('descriptors', ws.file(NAME), '--from', '0', '--count', '256').filter((f) => f.owner && f.blockPfn === f.pfn);
      assert.deepEqual([...new Set(owned.map((f) => f.owner))].sort(), [...OWNERS].sort(), 'the image holds the tags');

      const history = await map.view.locator('#steps').evaluate((ol) => [...ol.querySelectorAll('button')].map((b) => b.textContent));
      assert.ok(history.some((t) => t.endsWith(`. ${SUMMARY}`)), `the history lists the summary as text: ${JSON.stringify(history)}`);
      assert.ok(history.some((t) => t.includes(`for ${OWNERS[2]} →`)), 'and the owner in an allocation summary');
      const timeline = await map.view.locator('#timeline').getAttribute('aria-valuetext');
      assert.ok(timeline.endsWith(SUMMARY), `the timeline's value text: ${timeline}`);

      const legend = await map.view.locator('#legend').evaluate((l) => [...l.querySelectorAll('.chip')].map((c) => c.textContent));
      for (const o of OWNERS) assert.ok(legend.includes(`owner ${o}`), `the legend names owner ${o}: ${JSON.stringify(legend)}`);

      const layout = await map.layout();
      for (const f of owned) {
        const tip = await map.hoverFrame(layout, f.pfn);
        assert.equal(tip.state, `allocated · block at pfn ${f.pfn}, order ${f.order} · owner ${f.owner}`);
        assert.deepEqual(await injected(map), { images: 0, scripts: 0, handlers: 0, tooltipElements: [], legendElements: [] });
      }
      await wb.screenshot(`${theme.prefix}-hostile`, 'map-tooltip');
      await map.leave();
      assert.deepEqual(dialogs, [], 'no script ran');
    });

    /** Scrolls a (short) tree with the wheel until `row` is wholly inside it: a rendered row may still be clipped. */
    const wholeInView = async (tree, row) => {
      for (let i = 0; ; i++) {
        const [t, r] = [await tree.boundingBox(), await row.boundingBox()];
        if (r && r.y >= t.y && r.y + r.height <= t.y + t.height) return;
        if (i > 50) throw new Error('the row did not scroll into the tree');
        await wb.page.mouse.move(t.x + t.width / 2, t.y + t.height / 2);
        await wb.page.mouse.wheel(0, r && r.y < t.y ? -22 : 22);
        await wb.page.waitForTimeout(50);
      }
    };

    it('the Descriptors view shows owner tags as text in rows and tooltips', async () => {
      await wb.openImage(NAME);
      const owned = pmemJson('descriptors', ws.file(NAME), '--from', '0', '--count', '256').filter((f) => f.owner && f.blockPfn === f.pfn && f.order === 2);
      const descriptors = wb.tree('Descriptors');
      await wb.expand(wb.row(descriptors, 'Section 0'));
      await wb.expand(wb.row(descriptors, 'pfn 0–255'));
      for (const f of owned) {
        const row = wb.row(descriptors, `pfn ${f.pfn}`);
        await wb.scrollTreeTo(descriptors, row);
        await wholeInView(descriptors, row);
        assert.equal((await wb.description(row).innerText()).trim(), `allocated order 2 · ${f.owner}`);
        const { hover, text } = await wb.hoverFor(row, new RegExp(`^pfn ${f.pfn} \\(physical address`), `the tooltip of pfn ${f.pfn}`);
        assert.ok(text.split('\n').some((l) => l.trim() === `owner: ${f.owner}`), `the tooltip shows owner: ${f.owner} in ${JSON.stringify(text)}`);
        const made = await hover.evaluate((h) => [...h.querySelectorAll('.hover-contents *, .markdown-hover *, .rendered-markdown *')].map((e) => e.localName).filter((n) => !['p', 'strong', 'br', 'span', 'div'].includes(n)));
        assert.deepEqual(made, [], `no markup from the owner tag ${f.owner}`);
      }
      await wb.screenshot(`${theme.prefix}-hostile`, 'descriptors-tooltip');
      assert.deepEqual(dialogs, []);
    });

    it('an SVG export holds the escaped file name and parses as XML', async () => {
      await wb.openImage(NAME);
      const target = ws.file(NAME.replace(/\.pmem$/, '-map.svg')); // the dialog's proposal (typing a path races its completion)
      await wb.runCommand(Workbench.commandLabel('pmemExplorer.exportMap'));
      await wb.pick(/format/i, /^svg$/);
      await wb.waitForPrompt(/Export Map/);
      await eventually(`the save dialog to offer ${target}`, async () => (await wb.quickInput().locator('input').first().inputValue()) === target);
      await wb.waitForQuickInputFocus();
      await wb.page.keyboard.press('Enter');
      await wb.quickInput().waitFor({ state: 'hidden' });
      await eventually(`${target} to be written`, () => fs.existsSync(target));
      const svg = fs.readFileSync(target, 'utf8');
      assert.ok(svg.includes('<title>&amp;amp;&lt;img src=x&gt;.pmem: pfn 0 to '), svg.slice(0, 300));
      const tags = [];
      let title = '';
      const parser = sax.parser(true);
      parser.onerror = (e) => assert.fail(`not well-formed XML: ${e.message}`);
      parser.onopentag = (t) => tags.push(t.name);
      parser.ontext = (t) => (title += t);
      parser.write(svg).close();
      assert.deepEqual([...new Set(tags)], ['svg', 'title', 'rect']);
      assert.ok(title.startsWith(`${NAME}: pfn 0 to `), title);
      assert.deepEqual(dialogs, []);
    });
  });
}
