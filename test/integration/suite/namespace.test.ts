/** The Linux namespace editor in the extension host: it opens a namespace a real kernel wrote and leaves its bytes as they were. */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { decompressFixture } from '../../unit/linuxFixtures';
import { activateApi, closeAll, tempDir, until } from './helpers';
import type { PmemExplorerApi } from '../../../src/extension/extension';

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
  let api: PmemExplorerApi;
  // One decompression (1 GiB, sparse) for both tests.
  this.beforeAll(async () => {
    api = await activateApi();
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
      // The inspector reads the first data page as soon as the editor shows: the Descriptors view follows it.
      const tree = api.views.descriptors;
      const [root] = await until('the Descriptors view to show the inspected struct page', () => {
        const roots = tree.getChildren();
        return roots.length === 1 && roots[0].kind === 'structPage' ? roots : undefined;
      });
      const item = tree.getTreeItem(root);
      assert.equal(item.label, 'page 4608 · pfn 0x101200');
      assert.match(String(item.description), /^ZONE_DEVICE · PG_reserved · node 0 Device · ref 1$/);
      const words = tree.getChildren(root).map((n) => tree.getTreeItem(n));
      assert.equal(words[0].label, '+0 flags');
      assert.match(String(words[0].description), /^0x0027ffffc0001000 · PG_reserved; node 0, zone 4 \(Device\)/);
      assert.ok(words.some((w) => w.label === '+8 pgmap'), words.map((w) => w.label).join(', '));
      await closeAll();
      await until('the Descriptors view to leave the closed namespace', () => (tree.getChildren().some((n) => n.kind === 'structPage') ? undefined : true));
      assert.deepEqual(await fingerprint(uri.fsPath), before, 'the file is as it was');
    });
  }
});
