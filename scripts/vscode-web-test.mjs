#!/usr/bin/env node
// A stand-in for the VS Code executable, for @vscode/test-electron's runTests
// ({ vscodeExecutablePath: 'scripts/vscode-web-test.mjs' }) on machines with no
// desktop VS Code: it accepts the same command line, runs the suite in the
// extension host of a code-server workbench opened in headless Chromium, and
// exits with the suite's exit code.
//
//   scripts/vscode-web-test.mjs [folder|file.code-workspace]
//       --extensionDevelopmentPath=DIR (repeatable) --extensionTestsPath=FILE
//       [--disable-extensions] [--disable-workspace-trust] [--extensions-dir=DIR]
//       [--folder-uri=file:///...] [--user-data-dir=DIR (ignored: always fresh)]
//
// Environment:
//   VSCODE_WEB_TIMEOUT     whole-run limit in seconds (default 600)
//   VSCODE_WEB_SCREENSHOT  write a PNG of the workbench when the suite ends
//   VSCODE_WEB_KEEP=1      keep the run's temp dir (logs, user data) even on success
//   CODE_SERVER_CACHE      where code-server is installed (default .cache/code-server)

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODE_SERVER_VERSION, ensureCodeServer, runExtensionTests } from './code-server-host.mjs';

// Flags of the VS Code CLI that mean nothing here (Electron/desktop only).
const IGNORED = new Set([
  'no-sandbox', 'disable-gpu-sandbox', 'disable-gpu', 'disable-updates', 'skip-welcome',
  'skip-release-notes', 'disable-telemetry', 'disable-crash-reporter', 'new-window',
  'reuse-window', 'wait', 'verbose', 'disable-chromium-sandbox', 'crash-reporter-directory',
  'user-data-dir', 'log', 'locale', 'inspect-extensions', 'inspect-brk-extensions',
  'enable-proposed-api', 'sync', 'disable-keytar', 'use-inmemory-secretstorage',
]);

function parseArgs(argv) {
  const o = { extensionDevelopmentPath: [], folders: [], ignored: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { o.folders.push(a); continue; }
    let [name, value] = a.slice(2).split(/=(.*)/s, 2);
    const takesValue = ['extensionDevelopmentPath', 'extensionTestsPath', 'extensions-dir',
      'folder-uri', 'file-uri', 'user-data-dir'].includes(name);
    if (takesValue && value === undefined) value = argv[++i];
    switch (name) {
      case 'extensionDevelopmentPath': o.extensionDevelopmentPath.push(value); break;
      case 'extensionTestsPath': o.extensionTestsPath = value; break;
      case 'extensions-dir': o.extensionsDir = value; break;
      case 'folder-uri':
      case 'file-uri': o.folders.push(value.startsWith('file:') ? fileURLToPath(value) : value); break;
      case 'disable-extensions': o.disableExtensions = true; break;
      case 'disable-workspace-trust': o.workspaceTrust = false; break;
      case 'version': o.version = true; break;
      default:
        if (!IGNORED.has(name)) o.ignored.push(a);
    }
  }
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.version) {
    ensureCodeServer();
    console.log(`code-server ${CODE_SERVER_VERSION}`);
    return 0;
  }
  if (!o.extensionTestsPath || !o.extensionDevelopmentPath.length) {
    console.error('usage: vscode-web-test.mjs [folder] --extensionDevelopmentPath=DIR --extensionTestsPath=FILE');
    return 2;
  }
  if (o.ignored.length) console.error(`[vscode-web] ignoring unsupported arguments: ${o.ignored.join(' ')}`);
  if (o.folders.length > 1) console.error(`[vscode-web] several folders given; opening ${o.folders[0]}`);
  const timeoutMs = Number(process.env.VSCODE_WEB_TIMEOUT || 600) * 1000;
  return runExtensionTests({
    extensionDevelopmentPath: o.extensionDevelopmentPath,
    extensionTestsPath: o.extensionTestsPath,
    folder: o.folders[0] && path.resolve(o.folders[0]),
    disableExtensions: o.disableExtensions,
    workspaceTrust: o.workspaceTrust,
    extensionsDir: o.extensionsDir,
    timeoutMs,
    screenshot: process.env.VSCODE_WEB_SCREENSHOT || undefined,
  });
}

main().then(
  (code) => process.exit(code),
  (e) => { console.error(`[vscode-web] ${e.stack || e}`); process.exit(1); },
);
