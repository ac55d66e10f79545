// Starts and stops a real VS Code (code-server, i.e. VS Code for the web with a
// Node server) and drives it with Debian's Chromium through playwright-core.
//
// Used by:
//   - scripts/vscode-web-test.mjs: runs an extension's mocha suite inside the
//     extension host and exits with its result (integration tests);
//   - UI tests: `openVSCode()` returns a Playwright page showing a folder in a
//     workbench, optionally with a .vsix installed.
//
// code-server itself is installed by scripts/install-code-server.sh into
// .cache/code-server. Every start gets a fresh user-data dir in a temp folder,
// runs in its own process group, and is killed (group-wide) by stop(), on
// SIGINT/SIGTERM/SIGHUP, and on process exit.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));

export const REPO_ROOT = path.resolve(here, '..');
export const CODE_SERVER_VERSION = process.env.CODE_SERVER_VERSION || '4.100.3';
export const CODE_SERVER_CACHE =
  process.env.CODE_SERVER_CACHE || path.join(REPO_ROOT, '.cache', 'code-server');
export const CODE_SERVER_ENTRY = path.join(
  CODE_SERVER_CACHE, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const INSTALL_SCRIPT = path.join(here, 'install-code-server.sh');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--no-default-browser-check',
];

/** Settings that keep a fresh workbench quiet. Workspace trust stays on. */
export const QUIET_SETTINGS = Object.freeze({
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'update.showReleaseNotes': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'npm.autoDetect': 'off',
  'typescript.tsserver.experimental.enableProjectDiagnostics': false,
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
});

// ------------------------------------------------------------------ helpers

const PREFIX = '[vscode-web]';
function info(msg) { process.stderr.write(`${PREFIX} ${msg}\n`); }

/** True when the install script has completed for this version. */
export function isCodeServerInstalled() {
  return fs.existsSync(path.join(CODE_SERVER_CACHE, `.installed-${CODE_SERVER_VERSION}`))
    && fs.existsSync(CODE_SERVER_ENTRY);
}

/** Runs scripts/install-code-server.sh when code-server is not installed yet. */
export function ensureCodeServer() {
  if (isCodeServerInstalled()) return;
  info(`code-server ${CODE_SERVER_VERSION} not found in ${CODE_SERVER_CACHE}; installing`);
  const r = spawnSync('bash', [INSTALL_SCRIPT], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CODE_SERVER_VERSION, CODE_SERVER_CACHE },
    timeout: 30 * 60_000,
  });
  if (r.status !== 0 || !isCodeServerInstalled()) {
    const why = r.error?.code === 'ETIMEDOUT' ? 'timed out after 30 min' : `exit ${r.status ?? r.signal}`;
    throw new Error(`${INSTALL_SCRIPT} failed (${why})`);
  }
}

/** Rejects with a clear message when `promise` does not settle within `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(ms / 1000)}s: ${what}`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// Workbench start-up messages that say nothing about the tests (shown with VSCODE_WEB_VERBOSE=1).
const WORKBENCH_CHATTER = [
  /^Resolv(ing|ed) connection token/,
  /^Creating a socket \(/,
  /^\[Service Worker\]/,
  /^Ignoring fetching additional builtin extensions/,
  /^Updating additional builtin extensions cache/,
  /^ChatSessionStore: /,
  /^Creation of workbench contribution .* took \d+ms/,
];
const verbose = !!process.env.VSCODE_WEB_VERBOSE;
/** An error the workbench reports about one of this extension's views (a refresh of a row it cannot find): the run fails on it. */
const OWN_VIEW_ERROR = /TreeError \[pmemExplorer\./;
/**
 * The workbench's own race, not the extension's: a context key that menus
 * depend on changes (another image comes to the front) and the tree redraws
 * the rows those menus cover (tree.rerender), one of which a refresh still
 * under way has just taken away. A refresh the extension asks for fails in
 * updateChildren instead, and still counts.
 */
const WORKBENCH_RERENDER_RACE = /\n\s+at \S+\.rerender \(/;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The errors the extension host logged with a stack through the bundles
 * under `dist/` of one of `extensionPaths` (the extension's own code, not
 * VS Code's, which may lie below the same folder), each with its stack.
 */
export function ownExtensionHostErrors(userDataDir, extensionPaths) {
  const logsDir = path.join(userDataDir, 'logs');
  if (!fs.existsSync(logsDir)) return [];
  const files = fs.readdirSync(logsDir, { recursive: true }).filter((f) => /(^|\/)exthost\d*\/(remote)?exthost\.log$/.test(String(f)));
  const found = [];
  for (const f of files) {
    // An entry is a line with a time and a level, then its stack's indented lines.
    const entries = fs.readFileSync(path.join(logsDir, String(f)), 'utf8').split(/\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \[)/);
    for (const e of entries) {
      if (/^\S+ \S+ \[error\]/.test(e) && extensionPaths.some((p) => e.includes(path.join(p, 'dist', path.sep)))) found.push(e.trim());
    }
  }
  return found;
}

export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** Keeps the last `max` lines written to a stream, for failure reports. */
class LineTail {
  constructor(max = 200, onLine = () => {}) { this.max = max; this.lines = []; this.partial = ''; this.onLine = onLine; }
  push(chunk) {
    const parts = (this.partial + chunk.toString()).split('\n');
    this.partial = parts.pop();
    for (const l of parts) {
      this.onLine(l);
      this.lines.push(l);
      if (this.lines.length > this.max) this.lines.shift();
    }
  }
  last(n = 50) { return [...this.lines, ...(this.partial ? [this.partial] : [])].slice(-n); }
}

// Everything started here, so it can be torn down on signals and exit.
// Browsers are closed before servers, so a workbench never sees its server go.
const live = new Set();
let hooksInstalled = false;
let interrupted = null;
/** The signal that interrupted this process, if any (a run that was interrupted never passes). */
export function interruptedBy() { return interrupted; }
function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => { for (const r of live) r.killNow(); });
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(sig, async () => {
      if (interrupted) return;
      interrupted = sig;
      info(`received ${sig}; stopping browser and code-server`);
      setTimeout(() => process.exit(code), 8000).unref();
      const all = [...live];
      await Promise.allSettled(all.filter((r) => r.kind === 'browser').map((r) => r.stop()));
      await Promise.allSettled(all.filter((r) => r.kind !== 'browser').map((r) => r.stop()));
      process.exit(code);
    });
  }
}

function killGroup(pid, signal) {
  try { process.kill(-pid, signal); return true; } catch { return false; }
}

function groupAlive(pid) {
  try { process.kill(-pid, 0); return true; } catch { return false; }
}

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/** code-server's process environment: isolated config/data dirs, no browser downloads. */
function serverEnv(runDir, extra) {
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(runDir, 'xdg-config'),
    XDG_DATA_HOME: path.join(runDir, 'xdg-data'),
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
    // No extension gallery: there is no network to reach one, and every query logs an error.
    EXTENSIONS_GALLERY: process.env.EXTENSIONS_GALLERY || '{}',
    ...extra,
  };
  // Never let the server inherit a password or a VS Code IPC hook.
  for (const k of ['PASSWORD', 'HASHED_PASSWORD', 'VSCODE_IPC_HOOK_CLI', 'ELECTRON_RUN_AS_NODE']) delete env[k];
  return env;
}

/** Runs code-server once with --install-extension for each vsix, into extensionsDir. */
export async function installExtensions({ vsix, extensionsDir, userDataDir, runDir, timeoutMs = 180_000 }) {
  const list = [vsix].flat().filter(Boolean);
  if (!list.length) return;
  const args = [CODE_SERVER_ENTRY, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
  for (const v of list) args.push('--install-extension', path.resolve(v));
  args.push('--force');
  info(`installing ${list.map((v) => path.basename(v)).join(', ')}`);
  const child = spawn(process.execPath, args, {
    env: serverEnv(runDir), stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  const tail = new LineTail(100);
  child.stdout.on('data', (d) => tail.push(d));
  child.stderr.on('data', (d) => tail.push(d));
  try {
    const [code] = await withTimeout(once(child, 'exit'), timeoutMs, 'code-server --install-extension');
    const out = tail.last(100).join('\n');
    if (code !== 0 || /Failed Installing|Error:/i.test(out)) {
      throw new Error(`installing ${list.join(', ')} failed (exit ${code}):\n${out}`);
    }
  } finally {
    killGroup(child.pid, 'SIGKILL');
  }
}

/** Extensions installed once per process, by vsix path and modification time: a template folder each server copies. */
const installed = new Map();

/**
 * Installs the vsix into extensionsDir: the first time with code-server
 * (seconds), then by copying that installation, whose extensions.json names
 * its folder by absolute path (rewritten for the copy).
 */
async function installCached({ vsix, extensionsDir, userDataDir, runDir }) {
  const list = [vsix].flat().filter(Boolean).map((v) => path.resolve(v));
  const key = list.map((v) => `${v}@${fs.statSync(v).mtimeMs}`).join('|');
  let template = installed.get(key);
  if (!template) {
    template = fs.mkdtempSync(path.join(os.tmpdir(), 'vscode-web-extensions-'));
    process.once('exit', () => fs.rmSync(template, { recursive: true, force: true }));
    await installExtensions({ vsix: list, extensionsDir: template, userDataDir, runDir });
    installed.set(key, template);
  }
  fs.cpSync(template, extensionsDir, { recursive: true });
  const index = path.join(extensionsDir, 'extensions.json');
  if (fs.existsSync(index)) fs.writeFileSync(index, fs.readFileSync(index, 'utf8').split(template).join(extensionsDir));
}

/**
 * Starts code-server on 127.0.0.1 with a fresh user-data dir.
 *
 * @param {object} [o]
 * @param {string} [o.folder]        folder or .code-workspace opened by default
 * @param {number} [o.port]          default: a free port
 * @param {object} [o.settings]      user settings merged over QUIET_SETTINGS
 * @param {boolean} [o.workspaceTrust=true]  false disables workspace trust
 * @param {string} [o.extensionsDir] default: a fresh folder in the run dir
 * @param {string|string[]} [o.vsix] .vsix file(s) installed before starting
 * @param {string[]} [o.extraArgs]   more code-server arguments
 * @param {object} [o.env]           more environment for the server (and extension host)
 * @param {number} [o.startTimeoutMs=60000]
 * @param {boolean} [o.keepRunDir]   keep the temp dir after stop() (default: only on failure)
 * @returns {Promise<{url: string, port: number, runDir: string, userDataDir: string,
 *   extensionsDir: string, logFile: string, logTail(n?: number): string[], stop(): Promise<void>}>}
 */
export async function startCodeServer(o = {}) {
  ensureCodeServer();
  installExitHooks();

  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vscode-web-'));
  const userDataDir = path.join(runDir, 'user-data');
  const extensionsDir = o.extensionsDir ? path.resolve(o.extensionsDir) : path.join(runDir, 'extensions');
  const logFile = path.join(runDir, 'code-server.log');
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.mkdirSync(path.join(runDir, 'xdg-config', 'code-server'), { recursive: true });
  // An explicit (empty) config file stops code-server writing ~/.config/code-server/config.yaml.
  const configFile = path.join(runDir, 'xdg-config', 'code-server', 'config.yaml');
  fs.writeFileSync(configFile, 'auth: none\n');

  const settings = { ...QUIET_SETTINGS, ...(o.workspaceTrust === false ? { 'security.workspace.trust.enabled': false } : {}), ...o.settings };
  writeJson(path.join(userDataDir, 'User', 'settings.json'), settings);

  if (o.vsix) await installCached({ vsix: o.vsix, extensionsDir, userDataDir, runDir });

  const port = o.port || await freePort();
  const args = [
    CODE_SERVER_ENTRY,
    '--config', configFile,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    ...(o.workspaceTrust === false ? ['--disable-workspace-trust'] : []),
    ...(o.extraArgs || []),
  ];
  if (o.folder) args.push(path.resolve(o.folder));

  const log = fs.openSync(logFile, 'a');
  // The server logs how each extension host process ended; the workbench does
  // not always pass that on (see runExtensionTests).
  const extensionHostExits = [];
  const tail = new LineTail(300, (line) => {
    const m = /Extension Host Process exited with code: (\S+), signal: (\S+?)\.?$/.exec(line);
    if (m) extensionHostExits.push({ code: m[1] === 'null' ? null : Number(m[1]), signal: m[2] === 'null' ? null : m[2] });
  });
  const child = spawn(process.execPath, args, {
    cwd: runDir,
    env: serverEnv(runDir, o.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: the whole tree is killed with -pid
  });
  let logOpen = true;
  const onData = (d) => { tail.push(d); if (logOpen) fs.writeSync(log, d); };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  let stopped = false;
  let failed = false;
  const handle = {
    kind: 'server',
    url: `http://127.0.0.1:${port}`,
    port, runDir, userDataDir, extensionsDir, logFile,
    process: child,
    logTail: (n = 50) => tail.last(n),
    /** [{code, signal}] for each extension host process that has ended. */
    extensionHostExits,
    /** null while running, else {code, signal}. */
    get exited() { return exited; },
    /** True when the server still answers /healthz. */
    async healthy() {
      if (exited) return false;
      try {
        return (await fetch(`${handle.url}/healthz`, { signal: AbortSignal.timeout(3000) })).ok;
      } catch { return false; }
    },
    /** Marks the run as failed: its temp dir is kept for inspection. */
    markFailed() { failed = true; },
    killNow() {
      if (!stopped) killGroup(child.pid, 'SIGKILL');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(handle);
      if (killGroup(child.pid, 'SIGTERM')) {
        for (let i = 0; i < 50 && groupAlive(child.pid); i++) await sleep(100);
        killGroup(child.pid, 'SIGKILL');
      }
      logOpen = false;
      fs.closeSync(log);
      if (!o.keepRunDir && !failed && !process.env.VSCODE_WEB_KEEP) {
        fs.rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
      } else {
        info(`kept ${runDir} (code-server log: ${logFile})`);
      }
    },
  };
  live.add(handle);

  const deadline = Date.now() + (o.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      handle.markFailed();
      await handle.stop();
      throw new Error(`code-server exited early (${exited.code ?? exited.signal}):\n${tail.last(40).join('\n')}`);
    }
    try {
      const res = await fetch(`${handle.url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      handle.markFailed();
      await handle.stop();
      throw new Error(`code-server did not answer ${handle.url}/healthz in time:\n${tail.last(40).join('\n')}`);
    }
    await sleep(250);
  }
  return handle;
}

/** Launches Debian's Chromium through playwright-core (never downloads a browser). */
export async function launchChromium({ headless = true, args = [] } = {}) {
  process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found: run scripts/install-code-server.sh (installs Debian's chromium)`);
  }
  installExitHooks();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless,
    args: [...CHROMIUM_ARGS, ...args],
    handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false, // our own hooks stop everything
    timeout: 60_000,
  });
  // playwright-core kills the browser itself when this process exits.
  const record = { kind: 'browser', stop: () => browser.close().catch(() => {}), killNow() {} };
  live.add(record);
  browser.on('disconnected', () => live.delete(record));
  return browser;
}

/** `vscode-remote://remote/<abs path>`: how the web workbench names a server-side path. */
export function remoteUri(p) {
  const abs = path.resolve(p);
  return `vscode-remote://remote${pathToFileURL(abs).pathname}`;
}

/** The workbench URL for a folder (or .code-workspace file) and an optional payload. */
export function workbenchUrl(base, { folder, payload } = {}) {
  const q = [];
  if (folder) {
    const abs = path.resolve(folder);
    q.push(`${abs.endsWith('.code-workspace') ? 'workspace' : 'folder'}=${encodeURIComponent(abs)}`);
  }
  if (payload && payload.length) q.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
  return `${base}/${q.length ? `?${q.join('&')}` : ''}`;
}

/** Resolves once the workbench has rendered (status bar present). */
export async function waitForWorkbench(page, timeoutMs = 90_000) {
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: timeoutMs });
}

/**
 * With workspace trust on, a fresh folder opens behind a "Do you trust the
 * authors" dialog and in restricted mode (extensions without
 * `capabilities.untrustedWorkspaces` stay disabled). This answers "Yes" when
 * the dialog shows within `timeoutMs`; resolves true if it did.
 */
export async function acceptWorkspaceTrust(page, timeoutMs = 10_000) {
  const yes = page.getByRole('button', { name: 'Yes, I trust the authors' });
  try {
    await yes.waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    return false;
  }
  await yes.click();
  await yes.waitFor({ state: 'detached', timeout: timeoutMs });
  return true;
}

/**
 * For UI tests: starts code-server (optionally with a .vsix installed), launches
 * Chromium and opens `folder` in the workbench.
 *
 * @param {object} [o] all options of startCodeServer, plus:
 * @param {{width: number, height: number}} [o.viewport]  default 1400x900
 * @param {boolean} [o.headless=true]
 * @param {number} [o.timeoutMs=90000] time allowed for the workbench to render
 * @returns {Promise<{page: import('playwright-core').Page, url: string,
 *   browser: import('playwright-core').Browser, server: object, stop(): Promise<void>}>}
 */
export async function openVSCode(o = {}) {
  const server = await startCodeServer(o);
  let browser;
  try {
    browser = await launchChromium({ headless: o.headless ?? true });
    const context = await browser.newContext({ viewport: o.viewport || { width: 1400, height: 900 } });
    const page = await context.newPage();
    const url = workbenchUrl(server.url, { folder: o.folder });
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await waitForWorkbench(page, o.timeoutMs ?? 90_000);
    const stop = async () => {
      await browser.close().catch(() => {});
      await server.stop();
    };
    return { page, url, browser, server, stop };
  } catch (e) {
    server.markFailed();
    await browser?.close().catch(() => {});
    await server.stop();
    e.message += `\n--- last code-server log lines ---\n${server.logTail(40).join('\n')}`;
    throw e;
  }
}

/**
 * Runs an extension test suite inside the extension host of a code-server
 * workbench and resolves with the suite's exit code (from codeAutomationExit).
 *
 * @param {object} o
 * @param {string|string[]} o.extensionDevelopmentPath
 * @param {string} o.extensionTestsPath  CommonJS module exporting run(): Promise<void>
 * @param {string} [o.folder]            folder or .code-workspace to open
 * @param {boolean} [o.disableExtensions] run without other installed extensions
 * @param {boolean} [o.workspaceTrust=true]
 * @param {string} [o.extensionsDir]
 * @param {object} [o.env]               extension host environment additions
 * @param {number} [o.timeoutMs=600000]  whole-run limit
 * @param {string} [o.screenshot]        PNG path written when the suite ends
 */
export async function runExtensionTests(o) {
  const timeoutMs = o.timeoutMs ?? 600_000;
  const started = Date.now();
  const devPaths = [o.extensionDevelopmentPath].flat().map((p) => path.resolve(p));
  const testsPath = path.resolve(o.extensionTestsPath);
  const server = await startCodeServer({
    folder: o.folder,
    workspaceTrust: o.workspaceTrust,
    extensionsDir: o.extensionsDir,
    settings: o.settings,
    env: o.env,
  });
  let browser;
  let onServerExit;
  try {
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();

    let resolveExit;
    const exited = new Promise((r) => { resolveExit = r; });
    // The workbench's log, including the extension host's console (mocha's
    // reporter): `args` is [format, ...values] as given to console.log there.
    const viewErrors = [];
    await page.exposeFunction('codeAutomationLog', (level, args) => {
      const text = format(...[args].flat());
      if (OWN_VIEW_ERROR.test(text) && !WORKBENCH_RERENDER_RACE.test(text)) viewErrors.push(text.split('\n')[0]);
      if (!verbose && WORKBENCH_CHATTER.some((re) => re.test(text))) return;
      (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(`${text}\n`);
    });
    await page.exposeFunction('codeAutomationExit', (code, logs) => {
      resolveExit({ code: typeof code === 'number' ? code : 1, logs });
    });
    page.on('pageerror', (err) => info(`page error: ${err.message}`));
    page.on('crash', () => { info('the browser page crashed'); resolveExit({ code: 1 }); });
    onServerExit = (code, signal) => {
      info(`code-server exited during the run (${code ?? signal})`);
      resolveExit({ code: 1 });
    };
    server.process.once('exit', onServerExit);

    const payload = [
      ...devPaths.map((p) => ['extensionDevelopmentPath', remoteUri(p)]),
      ['extensionTestsPath', remoteUri(testsPath)],
    ];
    if (o.disableExtensions) payload.push(['disableExtensions', 'true']);
    const url = workbenchUrl(server.url, { folder: o.folder, payload });
    info(`code-server ${CODE_SERVER_VERSION} at ${server.url}; running ${testsPath}`);
    await withTimeout(page.goto(url, { waitUntil: 'domcontentloaded' }), 60_000, `opening ${url}`);

    const remaining = Math.max(1000, timeoutMs - (Date.now() - started));
    const result = await withTimeout(exited, remaining, 'waiting for the extension tests to finish (codeAutomationExit)');
    // A workbench that lost its server (or a run being interrupted) also ends
    // through codeAutomationExit, sometimes with 0: never count that as a pass.
    if (interrupted) {
      info(`interrupted by ${interrupted}`);
      result.code = 130;
    } else if (result.code === 0 && !(await server.healthy())) {
      info('code-server is gone after the run: counting it as failed');
      result.code = 1;
    } else if (result.code === 0) {
      // When the extension host dies (crash, kill, out of memory) the web
      // workbench still reports 0: trust only an extension host that ended with 0.
      for (let i = 0; i < 50 && !server.extensionHostExits.length; i++) await sleep(100);
      const ends = server.extensionHostExits;
      const bad = ends.find((e) => e.code !== 0 || e.signal);
      if (bad) {
        info(`the extension host ended with ${bad.signal ? `signal ${bad.signal}` : `code ${bad.code}`}: counting the run as failed`);
        result.code = 1;
      } else if (!ends.length) {
        info('warning: no extension host exit seen in the code-server log; trusting the workbench exit code 0');
      }
    }
    if (result.code === 0 && viewErrors.length) {
      info(`the workbench reported ${viewErrors.length} error(s) of this extension's views, the first: ${viewErrors[0]}: counting the run as failed`);
      result.code = 1;
    }
    // An error thrown by the extension where nobody catches it (an event listener, a promise left unhandled) reaches the
    // workbench only as "An unknown error occurred"; the extension host's log keeps its stack.
    const thrown = ownExtensionHostErrors(server.userDataDir, devPaths);
    if (thrown.length) {
      info(`the extension threw ${thrown.length} error(s) that nothing caught (extension host log); the first:\n${thrown[0]}`);
      if (result.code === 0) {
        info('counting the run as failed');
        result.code = 1;
      }
    }
    if (o.screenshot) await page.screenshot({ path: o.screenshot }).catch((e) => info(`screenshot failed: ${e.message}`));
    if (result.code !== 0) {
      server.markFailed();
      if (result.logs?.length) {
        const dir = path.join(server.runDir, 'workbench-logs');
        for (const { relativePath, contents } of result.logs) {
          const f = path.join(dir, relativePath);
          fs.mkdirSync(path.dirname(f), { recursive: true });
          fs.writeFileSync(f, contents);
        }
        info(`workbench logs written to ${dir}`);
      }
    }
    info(`extension tests finished with exit code ${result.code} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return result.code;
  } catch (e) {
    server.markFailed();
    info(`FAILED: ${e.message}`);
    info(`--- last code-server log lines (${server.logFile}) ---`);
    for (const l of server.logTail(40)) process.stderr.write(`  ${l}\n`);
    return 1;
  } finally {
    if (onServerExit) server.process.off('exit', onServerExit);
    await browser?.close().catch(() => {});
    await server.stop();
  }
}
