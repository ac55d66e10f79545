/** An image whose primary superblock is damaged: the editor says so when it opens, and Repair rewrites both copies. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { SB, SUPERBLOCK_SIZE } from '../../../src/engine/format/superblock';
import type { PmemExplorerApi } from '../../../src/extension/extension';
import { activateApi, closeAll, makeImage, openImage, until } from './helpers';

type ShowWarning = (message: string, ...items: string[]) => Thenable<string | undefined>;

describe('a damaged superblock copy in the editor', () => {
  let api: PmemExplorerApi;
  const window = vscode.window as unknown as { showWarningMessage: ShowWarning };
  const original = window.showWarningMessage;
  /** The warnings shown; the notification's buttons are answered with `answer` (what a user would click). */
  let shown: Array<{ message: string; items: string[] }> = [];
  let answer: string | undefined;

  before(async () => {
    api = await activateApi();
    window.showWarningMessage = (message: string, ...items: string[]) => {
      shown.push({ message, items });
      return Promise.resolve(items.includes(answer ?? '') ? answer : undefined);
    };
  });

  after(() => {
    window.showWarningMessage = original;
  });

  beforeEach(() => {
    shown = [];
  });

  afterEach(closeAll);

  function damagePrimary(uri: vscode.Uri): void {
    const fd = fs.openSync(uri.fsPath, 'r+');
    try {
      const b = Buffer.alloc(1);
      fs.readSync(fd, b, 0, 1, SB.bootGeneration);
      fs.writeSync(fd, Buffer.from([b[0] ^ 0xff]), 0, 1, SB.bootGeneration);
    } finally {
      fs.closeSync(fd);
    }
  }

  function copiesAgree(uri: vscode.Uri): boolean {
    const bytes = fs.readFileSync(uri.fsPath);
    return bytes.subarray(0, SUPERBLOCK_SIZE).equals(bytes.subarray(bytes.length - SUPERBLOCK_SIZE));
  }

  it('warns once when the image opens; Repair rewrites both copies as an undoable edit, kept by Save', async () => {
    const uri = makeImage('damaged.pmem');
    damagePrimary(uri);
    answer = 'Repair';
    const doc = await openImage(api, uri);
    const warning = await until('the warning', () => shown.find((w) => w.message.startsWith('damaged.pmem: ')));
    const backupAt = fs.statSync(uri.fsPath).size - SUPERBLOCK_SIZE;
    assert.equal(warning.message, `damaged.pmem: primary superblock at byte 0 damaged (superblock checksum mismatch at byte ${SB.crc}); opened from the backup copy at byte ${backupAt}. Repair reboots the simulated machine, which rewrites both copies (undoable; saved with the image).`);
    assert.deepEqual(warning.items, ['Repair']);
    await until('the repair edit (a boot)', () => (doc.session?.isBooted ? true : undefined));
    await vscode.commands.executeCommand('workbench.action.files.save');
    await until('the save', () => (!doc.session?.dirty && copiesAgree(uri) ? true : undefined));
    assert.equal(shown.length, 1, 'one warning');
  });

  it('an intact image opens without a warning', async () => {
    const uri = makeImage('intact.pmem');
    await openImage(api, uri);
    assert.deepEqual(shown, []);
  });
});
