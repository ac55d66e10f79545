/** The Linux namespace editor in the extension host: it opens a namespace a real kernel wrote and leaves its bytes as they were. */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { decompressFixture } from '../../unit/linuxFixtures';
import { activateApi, closeAll, tempDir, until } from './helpers';

const NAMESPACE_VIEW = 'pmemExplorer.linuxNamespace';

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function activeViewType(): string | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom ? input.viewType : undefined;
}

describe('the Linux namespace editor', function () {
  this.timeout(120_000);
  before(activateApi);
  afterEach(closeAll);

  for (const [config, how] of [['fsdax-dev-2M-1G', 'vscode.openWith'], ['devdax-dev-2M-1G', 'PMem: Open as Linux Namespace']] as const) {
    it(`opens ${config} with ${how} and never writes to it`, async () => {
      const file = decompressFixture(config, tempDir());
      const uri = vscode.Uri.file(file);
      const before = { hash: sha256(file), mtime: fs.statSync(file).mtimeMs };
      if (how === 'vscode.openWith') await vscode.commands.executeCommand('vscode.openWith', uri, NAMESPACE_VIEW);
      else await vscode.commands.executeCommand('pmemExplorer.openAsNamespace', uri);
      await until('the namespace editor to be active', () => activeViewType() === NAMESPACE_VIEW || undefined);
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab!;
      assert.equal(tab.label, `${config}.img`);
      assert.equal(tab.isDirty, false, 'a read-only editor has nothing to save');
      // Let the page map run over every struct page before looking at the file again.
      await new Promise((r) => setTimeout(r, 1500));
      await closeAll();
      assert.deepEqual({ hash: sha256(file), mtime: fs.statSync(file).mtimeMs }, before, 'the file is as it was');
    });
  }
});
