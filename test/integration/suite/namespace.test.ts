/** The Linux namespace editor in the extension host: it opens a namespace a real kernel wrote and leaves its bytes as they were. */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { decompressFixture } from '../../unit/linuxFixtures';
import { activateApi, closeAll, tempDir, until } from './helpers';

const NAMESPACE_VIEW = 'pmemExplorer.linuxNamespace';
const CONFIG = 'fsdax-dev-2M-1G';

/** Streamed, so hashing 1 GiB does not hold the extension host. */
async function fingerprint(file: string): Promise<{ hash: string; mtime: number }> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 * 2 ** 20 })) hash.update(chunk as Buffer);
  return { hash: hash.digest('hex'), mtime: fs.statSync(file).mtimeMs };
}

function activeViewType(): string | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom ? input.viewType : undefined;
}

describe('the Linux namespace editor', function () {
  this.timeout(120_000);
  let uri: vscode.Uri;
  let before: { hash: string; mtime: number };
  // One decompression (1 GiB, sparse) for both tests.
  this.beforeAll(async () => {
    await activateApi();
    uri = vscode.Uri.file(decompressFixture(CONFIG, tempDir()));
    before = await fingerprint(uri.fsPath);
  });
  afterEach(closeAll);

  for (const how of ['vscode.openWith', 'PMem: Open as Linux Namespace'] as const) {
    it(`opens ${CONFIG} with ${how} and never writes to it`, async () => {
      if (how === 'vscode.openWith') await vscode.commands.executeCommand('vscode.openWith', uri, NAMESPACE_VIEW);
      else await vscode.commands.executeCommand('pmemExplorer.openAsNamespace', uri);
      await until('the namespace editor to be active', () => activeViewType() === NAMESPACE_VIEW || undefined);
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab!;
      assert.equal(tab.label, `${CONFIG}.img`);
      assert.equal(tab.isDirty, false, 'a read-only editor has nothing to save');
      // Let the page map run over every struct page before looking at the file again.
      await new Promise((r) => setTimeout(r, 1500));
      await closeAll();
      assert.deepEqual(await fingerprint(uri.fsPath), before, 'the file is as it was');
    });
  }
});
