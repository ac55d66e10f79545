// UI test: Export Map never replaces a file without the user's word. In a real
// VS Code (code-server) through Chromium, exporting to an existing file asks
// first; Cancel leaves the file as it was, OK replaces it whole. Runs in the first theme only.
//
//   npm run package && npx mocha --config test/ui/.mocharc.json test/ui/overwrite.test.mjs

import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import { THEMES, Workbench, eventually, workbenchSuite } from './helpers.mjs';

for (const theme of THEMES.slice(0, 1)) {
  describe(`PMem Explorer asks before an export replaces a file (${theme.name})`, function () {
    /** @type {Workbench} */
    let wb;
    let ws;
    workbenchSuite({ theme, prefix: `${theme.prefix}-overwrite` }, (w, s) => {
      wb = w;
      ws = s;
    });

    /**
     * Runs Export Map (PNG) and accepts the save dialog's proposal, `target`
     * (typing a path into code-server's dialog races its completion).
     */
    const exportTo = async (target) => {
      await wb.runCommand(Workbench.commandLabel('pmemExplorer.exportMap'));
      await wb.pick(/format/i, /^png$/);
      await wb.waitForPrompt(/Export Map/);
      await eventually(`the save dialog to offer ${target}`, async () => (await wb.quickInput().locator('input').first().inputValue()) === target);
      await wb.waitForQuickInputFocus();
      await wb.page.keyboard.press('Enter');
    };

    /** Answers the save dialog's overwrite question ("… already exists. Are you sure …?", OK or Cancel). */
    const answerOverwrite = async (button) => {
      await wb.waitForPrompt(/already exists\. Are you sure you want to overwrite it\?/);
      await wb.quickInput().getByRole('button', { name: button, exact: true }).click();
    };

    it('asks before replacing an existing file, keeps it on Cancel, replaces it on OK', async () => {
      await wb.openImage('used.pmem');
      const target = ws.file('used-map.png'); // where the dialog proposes to export used.pmem
      fs.writeFileSync(target, 'an earlier export');

      await exportTo(target);
      await answerOverwrite('Cancel');
      // The dialog may go back to its path: close it too.
      if (await wb.quickInput().isVisible()) await wb.page.keyboard.press('Escape');
      await wb.quickInput().waitFor({ state: 'hidden' });
      assert.equal(fs.readFileSync(target, 'utf8'), 'an earlier export', 'Cancel keeps the file');

      await exportTo(target);
      await answerOverwrite('OK');
      await wb.quickInput().waitFor({ state: 'hidden' });
      await eventually(`${target} to be replaced`, () => fs.readFileSync(target).subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47])));
      assert.ok(!fs.readdirSync(ws.dir).some((f) => f.endsWith('.tmp')), 'no temporary file left behind');
    });
  });
}
