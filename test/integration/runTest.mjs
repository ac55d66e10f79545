#!/usr/bin/env node
// Runs the integration tests inside a real VS Code extension host through
// @vscode/test-electron's runTests.
//
//   node test/integration/runTest.mjs [--extension DIR] [--tests FILE] [--workspace DIR]
//                                     [--untrusted] [-- extra VS Code arguments]
//
// Defaults: the repo root, test/integration/out/index.js, test/integration/fixtures/workspace.
// --untrusted runs test/integration/out/untrusted.js with workspace trust on,
// in a fresh folder nobody has trusted (runTests always turns trust off).
//
// VS Code used:
//   - VSCODE_EXECUTABLE set: that desktop VS Code binary (e.g. /usr/share/code/code,
//     or .../Visual Studio Code.app/Contents/MacOS/Electron);
//   - otherwise scripts/vscode-web-test.mjs: code-server 4.100.3 (VS Code 1.100.3) in
//     headless Chromium, installed into .cache/code-server on first use.
//
// The tests entry must be a CommonJS module exporting `run(): Promise<void>`
// that runs mocha in the extension host (rejecting when a test fails).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { runTests, TestRunFailedError } from '@vscode/test-electron';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const wrapper = path.join(repoRoot, 'scripts', 'vscode-web-test.mjs');

function parseArgs(argv) {
  const o = {
    extension: repoRoot,
    tests: path.join(repoRoot, 'test', 'integration', 'out', 'index.js'),
    workspace: path.join(repoRoot, 'test', 'integration', 'fixtures', 'workspace'),
    passThrough: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { o.passThrough.push(...argv.slice(i + 1)); break; }
    const m = /^--(extension|tests|workspace)(?:=(.*))?$/s.exec(a);
    if (m) {
      const value = m[2] ?? argv[++i];
      if (value === undefined) throw new Error(`${a} needs a value`);
      o[m[1]] = path.resolve(value);
    } else if (a === '--untrusted') {
      o.untrusted = true;
    } else if (a === '-h' || a === '--help') {
      o.help = true;
    } else {
      o.passThrough.push(a);
    }
  }
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) {
    console.log('usage: node test/integration/runTest.mjs [--extension DIR] [--tests FILE] [--workspace DIR] [--untrusted] [-- VS Code args]');
    return 0;
  }
  if (o.untrusted) {
    if (!process.argv.some((a) => a.startsWith('--tests'))) o.tests = path.join(repoRoot, 'test', 'integration', 'out', 'untrusted.js');
    if (!process.argv.some((a) => a.startsWith('--workspace'))) o.workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-untrusted-'));
  }
  if (!fs.existsSync(path.join(o.extension, 'package.json'))) {
    throw new Error(`no package.json in extension folder ${o.extension}`);
  }
  if (!fs.existsSync(o.tests)) {
    throw new Error(`tests entry ${o.tests} not found (build the integration tests first)`);
  }
  if (!fs.existsSync(o.workspace)) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vscode-test-workspace-'));
    console.error(`[runTest] workspace ${o.workspace} not found; using empty ${tmp}`);
    o.workspace = tmp;
  }

  const desktop = process.env.VSCODE_EXECUTABLE;
  if (!desktop) {
    // Install code-server now (not inside the test timeout) when it is missing.
    const { ensureCodeServer } = await import('../../scripts/code-server-host.mjs');
    ensureCodeServer();
  }

  // Keep VS Code's profile out of the work tree (runTests defaults to ./.vscode-test).
  const profile = path.join(repoRoot, '.cache', o.untrusted ? 'vscode-test-untrusted' : 'vscode-test');
  const launchArgs = [
    o.workspace,
    `--extensions-dir=${path.join(profile, 'extensions')}`,
    `--user-data-dir=${path.join(profile, 'user-data')}`,
    ...o.passThrough,
  ];

  console.error(`[runTest] ${desktop ? `VS Code ${desktop}` : 'code-server (scripts/vscode-web-test.mjs)'}`);
  console.error(`[runTest] extension ${o.extension}\n[runTest] tests     ${o.tests}\n[runTest] workspace ${o.workspace}${o.untrusted ? ' (untrusted)' : ''}`);
  if (o.untrusted) return runWithTrust(desktop || wrapper, [...launchArgs, `--extensionTestsPath=${o.tests}`, `--extensionDevelopmentPath=${o.extension}`, '--no-sandbox', '--disable-gpu-sandbox', '--disable-updates', '--skip-welcome', '--skip-release-notes']);
  try {
    return await runTests({
      vscodeExecutablePath: desktop || wrapper,
      extensionDevelopmentPath: o.extension,
      extensionTestsPath: o.tests,
      launchArgs,
    });
  } catch (e) {
    if (e instanceof TestRunFailedError) {
      console.error(`[runTest] ${e.message}`);
      return typeof e.code === 'number' && e.code !== 0 ? e.code : 1;
    }
    throw e;
  }
}

/** Runs VS Code as runTests does, but with workspace trust left on. Resolves with its exit code. */
function runWithTrust(executable, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

main().then(
  (code) => process.exit(code),
  (e) => { console.error(`[runTest] ${e.stack || e}`); process.exit(1); },
);
