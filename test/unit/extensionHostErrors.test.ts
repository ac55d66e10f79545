/** The test runners fail on errors the extension threw uncaught: found in the extension host's log by the extension's own code on their stack. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
// @ts-expect-error: a plain ES module of the test runners, without types
import { ownExtensionHostErrors } from '../../scripts/code-server-host.mjs';

describe('errors the extension threw, as the extension host logged them', () => {
  const extension = path.join(os.tmpdir(), 'checkout');
  let userData: string;

  before(() => {
    userData = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-exthost-log-'));
    const dir = path.join(userData, 'logs', '20261206T000000', 'exthost1');
    fs.mkdirSync(dir, { recursive: true });
    // VS Code may lie below the extension's folder (a cached code-server): only the extension's bundles count.
    const vscodeFrame = `\tat dG.c (file://${extension}/.cache/code-server/lib/vscode/out/vs/workbench/api/node/extensionHostProcess.js:170:20838)`;
    fs.writeFileSync(path.join(dir, 'remoteexthost.log'), [
      '2026-12-06 04:12:16.862 [info] ExtensionService#_doActivateExtension pmem-explorer.pmem-explorer',
      '2026-12-06 04:12:18.482 [error] Error: Webview is disposed',
      vscodeFrame,
      `\tat ed.value (${extension}/dist/extension.js:19757:61)`,
      '2026-12-06 04:12:19.000 [error] Error: No custom document found',
      vscodeFrame,
      "2026-12-06 04:12:20.000 [error] No tree item with id '1/fp:0' found.",
      `2026-12-06 04:12:21.000 [warning] a warning through ${extension}/dist/extension.js:1:1`,
      '',
    ].join('\n'));
  });

  after(() => fs.rmSync(userData, { recursive: true, force: true }));

  it('lists an error with a frame in the extension\'s bundle, its stack kept, and none of VS Code\'s own or of other levels', () => {
    const found: string[] = ownExtensionHostErrors(userData, [extension]);
    assert.equal(found.length, 1, found.join('\n---\n'));
    assert.match(found[0], /^2026-12-06 04:12:18\.482 \[error\] Error: Webview is disposed\n/);
    assert.match(found[0], /dist\/extension\.js:19757:61\)$/);
  });

  it('finds nothing where there is no log', () => {
    assert.deepEqual(ownExtensionHostErrors(path.join(userData, 'absent'), [extension]), []);
  });
});
