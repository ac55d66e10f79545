/** Shared by the suites that run in the extension host. */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CreateOptions, info, PmemImage } from '../../../src/engine';
import { FileStore } from '../../../src/engine/node/fileStore';
import type { PmemExplorerApi } from '../../../src/extension/extension';

export const EXT = 'pmem-explorer.pmem-explorer';
export const VIEW = 'pmemExplorer.image';

/** Every folder a test made, under one root per run, so the run can remove them all at its end. */
let root: string | undefined;

export function tempDir(): string {
  root ??= fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-int-'));
  return fs.mkdtempSync(path.join(root, 'test-'));
}

/** Closes every editor and removes the run's folders (the suites call it once, after the last test). */
export async function removeTempDirs(): Promise<void> {
  if (!root) return;
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  fs.rmSync(root, { recursive: true, force: true });
  root = undefined;
}

/**
 * The SHA-256 of a file, read 8 MiB at a time: the tests run inside the
 * extension host, and reading a GiB image at once would hold it for seconds.
 */
export async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(8 * 2 ** 20);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (!bytesRead) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** Runs the `pmem` command line (the extension's dist/cli.js) in a process of its own, not in the extension host; its standard output. */
export function pmemCli(args: string[]): Promise<string> {
  const cli = path.join(vscode.extensions.getExtension(EXT)!.extensionPath, 'dist', 'cli.js');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, ...args], { maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => (err ? reject(new Error(`pmem ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

export function makeImage(name: string, options: Partial<CreateOptions> = {}): vscode.Uri {
  const sizeBytes = options.sizeBytes ?? 16 * 2 ** 20;
  const file = path.join(tempDir(), name);
  const store = FileStore.create(file, sizeBytes, { overwrite: false });
  // The smallest history keeps the data area starting in section 0, where the tests expect it.
  PmemImage.create(store, { historyBytes: 64 * 1024, ...options, sizeBytes });
  store.close();
  return vscode.Uri.file(file);
}

/**
 * Waits until VS Code knows the active editor has unsaved edits: an edit
 * reaches it a moment after the command that made it returns, and until then
 * Revert and Undo see nothing to do.
 */
export async function untilEdited(): Promise<void> {
  await until('the editor to know of the edits', () => vscode.window.tabGroups.activeTabGroup.activeTab?.isDirty || undefined);
}

/** Undo and redo act on the focused editor: focus it as a user's click would. Undo waits for the edits to reach it. */
export async function editorCommand(id: 'undo' | 'redo'): Promise<void> {
  if (id === 'undo') await untilEdited();
  await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
  await vscode.commands.executeCommand(id);
}

/** Polls for a state; the deadline only bounds a failing wait (a busy machine can stall the extension host for seconds). */
export async function until<T>(what: string, fn: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What the file on disk holds (not the editor's unsaved state). */
export function readInfo(uri: vscode.Uri) {
  const store = FileStore.open(uri.fsPath, { readOnly: true });
  try {
    return info(PmemImage.open(store, { readOnly: true }));
  } finally {
    store.close();
  }
}

export async function activateApi(): Promise<PmemExplorerApi> {
  const ext = vscode.extensions.getExtension<PmemExplorerApi>(EXT);
  assert.ok(ext, 'the extension is installed');
  return ext.activate();
}

/** Opens an image in the PMem editor and waits until it is the active image. */
export async function openImage(api: PmemExplorerApi, uri: vscode.Uri, column?: vscode.ViewColumn) {
  await vscode.commands.executeCommand('vscode.openWith', uri, VIEW, column);
  return until('the image to become active', () => (api.registry.current?.uri.fsPath === uri.fsPath ? api.registry.current : undefined));
}

/** Runs a command that must do nothing and returns what it told the user (it fails if the command did not refuse). */
export async function refusal(api: PmemExplorerApi, command: string, ...args: unknown[]): Promise<string> {
  const mark = api.commands.mark;
  const result = await vscode.commands.executeCommand(`pmemExplorer.${command}`, ...args);
  const outcomes = api.commands.since(mark);
  assert.equal(result, undefined, `${command} returned ${JSON.stringify(result)}`);
  assert.equal(outcomes.length, 1, `${command}: ${JSON.stringify(outcomes)}`);
  assert.equal(outcomes[0].kind, 'refused', `${command}: ${outcomes[0].message}`);
  return outcomes[0].message;
}

export async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
