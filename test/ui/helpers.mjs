// Helpers for the UI tests: images made with the `pmem` CLI, a code-server
// workbench with the packaged extension installed, and locators and actions
// for what PMem Explorer shows (custom editor webview, tree views, status bar,
// command palette prompts, context menus).

import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, acceptWorkspaceTrust, openVSCode, ownExtensionHostErrors } from '../../scripts/code-server-host.mjs';

export const VSIX = path.join(REPO_ROOT, 'pmem-explorer.vsix');
export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results', 'screenshots');
export const PACKAGE = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));

/**
 * The colour themes every UI test file runs in, once each. PMEM_UI_THEMES=dark
 * (a comma-separated list of prefixes) runs only some of them.
 */
export const THEMES = [
  { prefix: 'dark', name: 'Default Dark Modern', workbenchClass: 'vs-dark', webviewClass: 'vscode-dark' },
  { prefix: 'light', name: 'Default Light Modern', workbenchClass: 'vs', webviewClass: 'vscode-light' },
].filter((t) => !process.env.PMEM_UI_THEMES || process.env.PMEM_UI_THEMES.split(',').includes(t.prefix));

/** The id of the status bar item: `<publisher>.<name>.<item id>`. */
const STATUS_ITEM_ID = `${PACKAGE.publisher}.${PACKAGE.name}.pmemExplorer.status`;

/** Fails with a clear message when the packaged extension or the CLI is missing. */
export function requireArtifacts() {
  if (!fs.existsSync(VSIX)) {
    throw new Error(`${VSIX} not found: the UI tests install the packaged extension; run \`npm run package\` first`);
  }
  if (!fs.existsSync(CLI)) {
    throw new Error(`${CLI} not found: the UI tests make their images with the pmem CLI; run \`npm run build\` (or \`npm run package\`) first`);
  }
}

/** Runs the pmem CLI; returns its stdout. Throws (with stderr) on a non-zero exit. */
export function pmem(...args) {
  return execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the pmem CLI with --json and parses its output. */
export function pmemJson(...args) {
  return JSON.parse(pmem(...args, '--json'));
}

/** Runs the pmem CLI expecting a failure; returns { status, stderr }. */
export function pmemFails(...args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (r.status === 0) throw new Error(`pmem ${args.join(' ')} succeeded, expected a failure`);
  return { status: r.status, stderr: r.stderr.trim() };
}

export function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * A temporary folder with three images:
 *   plain.pmem    64 MiB, freshly created (machine off, nothing initialised);
 *   used.pmem     64 MiB with blocks allocated by the CLI (owner "fs" and "slab");
 *   corrupt.pmem  a copy of plain.pmem whose superblock magic is overwritten in
 *                 both copies (primary at byte 0, backup in the last 4 KiB), so it
 *                 cannot open from either.
 */
export function makeWorkspace() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-ui-'));
  const file = (name) => path.join(dir, name);
  // A small history (the first format's, for 64 MiB) keeps the data area where the tests look for frames.
  pmem('create', file('plain.pmem'), '--size', '64M', '--history', '256K');
  pmem('create', file('used.pmem'), '--size', '64M', '--history', '256K');
  const fsPfns = pmem('alloc', file('used.pmem'), '--order', '3', '--count', '4', '--owner', 'fs').trim().split(/\s+/).map(Number);
  const slabPfns = pmem('alloc', file('used.pmem'), '--order', '0', '--count', '2', '--owner', 'slab').trim().split(/\s+/).map(Number);
  fs.copyFileSync(file('plain.pmem'), file('corrupt.pmem'));
  const size = fs.statSync(file('corrupt.pmem')).size;
  const fd = fs.openSync(file('corrupt.pmem'), 'r+');
  try {
    for (const offset of [0, size - 4096]) fs.writeSync(fd, Buffer.from('GARBAGE!'), 0, 8, offset);
  } finally {
    fs.closeSync(fd);
  }
  return {
    dir,
    file,
    fsPfns,
    slabPfns,
    remove: () => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 }),
  };
}

/** Polls `fn` until it returns a truthy value; on timeout throws with the last value or error seen. */
export async function eventually(what, fn, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      const seen = last instanceof Error ? last.message.split('\n')[0] : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what} (last: ${seen})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the locator's visible text matches `re`; returns the text. */
export async function textMatching(locator, re, what, timeoutMs = 10_000) {
  let text = '';
  await eventually(`${what} to match ${re}`, async () => {
    text = (await locator.innerText({ timeout: 1000 })).trim();
    if (!re.test(text)) throw new Error(`text is "${text}"`);
    return true;
  }, timeoutMs);
  return text;
}

/** Parses the status bar item: "$(database) 125 free · 15871 uninit · gen 1 (off) · step 3 · unsaved". */
export function parseStatus(text) {
  const num = (re) => { const m = re.exec(text); return m ? Number(m[1]) : undefined; };
  return {
    text,
    free: num(/(\d+) free/),
    uninit: num(/(\d+) uninit/),
    gen: num(/gen (\d+)/),
    off: /\(off\)/.test(text),
    step: num(/step (\d+)/),
    unsaved: /unsaved/.test(text),
  };
}

/** The map's summary line, e.g. "64 MiB · 16384 frames: 125 free (0.8 %), 32 allocated (0.2 %), 15871 uninitialised,
 * 356 metadata · sections: 1 initialised, 0 stale, 31 never · boot 1 (off), profile default, design core64 (memmap on the device)". */
export const SUMMARY_RE = /^(.+?) · (\d+) frames: (\d+) free \([^)]*\), (\d+) allocated \([^)]*\), (\d+) uninitialised, (\d+) metadata · sections: (\d+) initialised, (\d+) stale, (\d+) never · boot (\d+) \(([^)]*)\)/;

export function parseSummary(text) {
  const m = SUMMARY_RE.exec(text);
  if (!m) return { text };
  const [size, totalFrames, free, allocated, uninit, metadata, initialised, stale, never, boot] = m.slice(1, 11);
  const n = Number;
  return {
    text, size, totalFrames: n(totalFrames), free: n(free), allocated: n(allocated), uninit: n(uninit), metadata: n(metadata),
    initialised: n(initialised), stale: n(stale), never: n(never), boot: n(boot), machine: m[11],
  };
}

/** Starts code-server on `folder` with the packaged extension and opens it in Chromium; trusts the folder. */
export async function startWorkbench({ folder, theme }) {
  const vs = await openVSCode({
    folder,
    vsix: VSIX,
    settings: {
      'workbench.colorTheme': theme,
      // VS Code for the Web saves after a delay by default; the tests look at unsaved edits.
      'files.autoSave': 'off',
      // Prompts stay open when the focus moves: when a prompt closes, VS Code gives the focus
      // back to the map webview a moment later, which can close the command's next prompt.
      // The prompt helpers below click back into a prompt that lost the focus.
      'workbench.quickOpen.closeOnFocusLost': false,
      // Long work raises its notification at once, so that tests see it however fast the machine.
      'pmemExplorer.longWork.notifyAfterSeconds': 0,
    },
  });
  try {
    vs.page.setDefaultTimeout(15_000);
    // A fresh user-data dir asks whether to trust the folder; untrusted, images open read-only.
    if (!(await acceptWorkspaceTrust(vs.page, 20_000))) console.warn('    (no workspace trust dialog: images may open read-only)');
    return new Workbench(vs);
  } catch (e) {
    vs.server.markFailed();
    await vs.stop();
    throw e;
  }
}

/** A stack frame in one of the webview scripts the extension ships (dist/webview.js, compare.js, namespace.js), served from its install folder. */
const OWN_WEBVIEW_SCRIPT = new RegExp(`${PACKAGE.publisher}\\.${PACKAGE.name}-[^/]*/dist/[a-z]+\\.js`);

/** The errors the extension host logged with the installed extension's code on their stack. */
function thrownByExtension(server) {
  const installed = path.join(server.extensionsDir, `${PACKAGE.publisher}.${PACKAGE.name}-${PACKAGE.version}`);
  return ownExtensionHostErrors(server.userDataDir, [installed]);
}

/** The workbench page and what PMem Explorer contributes to it. */
export class Workbench {
  constructor(vs) {
    this.vs = vs;
    this.page = vs.page;
    /** The last console lines of the workbench and its webviews, for failure reports. */
    this.consoleTail = [];
    const keep = (line) => {
      this.consoleTail.push(line);
      if (this.consoleTail.length > 100) this.consoleTail.shift();
    };
    this.page.on('console', (m) => keep(`${m.type()}: ${m.text().split('\n')[0].slice(0, 400)}`));
    /** Exceptions nothing caught in this extension's webviews (its scripts on the stack): after() fails the file on them. */
    this.webviewErrors = [];
    this.page.on('pageerror', (e) => {
      keep(`page error: ${e.message}`);
      if (OWN_WEBVIEW_SCRIPT.test(String(e.stack))) this.webviewErrors.push(String(e.stack));
    });
  }

  /** Writes what helps to understand a failure next to its screenshot: the quick input, notifications, console. */
  async failureReport(prefix, name) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await this.page.screenshot({ path: path.join(SCREENSHOT_DIR, `${prefix}-${name}.png`) }).catch(() => {});
    const quickInput = await this.quickInputState().catch((e) => e.message);
    const notifications = await this.page.locator('.notification-toast').allInnerTexts().catch(() => []);
    const status = await this.statusItem().innerText({ timeout: 1000 }).catch(() => '(no PMem status item)');
    const text = [
      `quick input: ${JSON.stringify(quickInput)}`,
      `notifications: ${JSON.stringify(notifications)}`,
      `status bar: ${status}`,
      `focus: ${await this.page.evaluate(() => document.activeElement?.outerHTML.slice(0, 200)).catch(() => '?')}`,
      '--- console ---',
      ...this.consoleTail,
    ].join('\n');
    fs.writeFileSync(path.join(SCREENSHOT_DIR, `${prefix}-${name}.log`), `${text}\n`);
  }

  async stop() {
    await this.vs.stop();
  }

  // ------------------------------------------------------------ locators

  /** The PMem item in the activity bar. */
  activityItem() {
    return this.page.locator('.part.activitybar').getByRole('tab', { name: 'PMem', exact: true });
  }

  /** The content document of the visible webview (the active custom editor). */
  webview() {
    return this.page.frameLocator('iframe.webview.ready:visible').frameLocator('iframe#active-frame');
  }

  /** The one-line summary above the map: size, frames, sections, boot generation. */
  summary() {
    return this.webview().locator('#summary');
  }

  /** The summary, parsed (waits until the map has received the image's state). */
  async summaryNow() {
    return parseSummary(await textMatching(this.summary(), SUMMARY_RE, 'the map summary'));
  }

  /** Waits until the parsed summary passes `ok`; returns it. */
  async summaryWhen(what, ok, timeoutMs = 10_000) {
    let last;
    await eventually(what, async () => {
      last = parseSummary((await this.summary().innerText({ timeout: 1000 })).trim());
      if (!ok(last)) throw new Error(`summary is "${last.text}"`);
      return true;
    }, timeoutMs);
    return last;
  }

  /** The map's notice line (read-only or history step), shown only when there is something to say. */
  banner() {
    return this.webview().getByRole('status');
  }

  /** "step 3/5": where the map's history timeline is. */
  stepLabel() {
    return this.webview().getByText(/^step \d+\/\d+$/);
  }

  statusItem() {
    return this.page.locator(`[id="${STATUS_ITEM_ID}"]`);
  }

  async status() {
    return parseStatus((await this.statusItem().innerText()).trim());
  }

  /** A tree view by its name ("Descriptors", "Free Lists", "Lazy-Init Sections"). */
  tree(name) {
    return this.page.locator('.part.sidebar').getByRole('tree', { name, exact: true });
  }

  /** The tree row whose label is exactly `label`. */
  row(tree, label) {
    return tree.getByRole('treeitem').filter({
      has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(label)}$`) }),
    });
  }

  /** The description text of a tree row (the dimmed text after the label). */
  description(row) {
    return row.locator('.label-description');
  }

  /** The editor tab of a file. */
  tab(fileName) {
    return this.page.locator('.part.editor .tabs-container').getByRole('tab', { name: fileName, exact: true });
  }

  quickInput() {
    return this.page.locator('.quick-input-widget');
  }

  /** The page-frame map of the active PMem editor. */
  map() {
    return new MapEditor(this);
  }

  /** A notification toast whose text contains `text`. */
  notification(text) {
    return this.page.locator('.notification-toast', { hasText: text });
  }

  // ------------------------------------------------------------ actions

  /** Opens a workspace file with Quick Open (Ctrl+P, name, Enter). */
  async quickOpen(fileName) {
    await this.page.keyboard.press('Control+P');
    await this.waitForQuickInputFocus((v) => v === '');
    await this.page.keyboard.type(fileName);
    const focused = this.quickInput().locator('.monaco-list-row.focused');
    await eventually(`Quick Open to offer ${fileName}`, async () => (await focused.getAttribute('aria-label', { timeout: 1000 }))?.includes(fileName));
    await this.page.keyboard.press('Enter');
    await this.quickInput().waitFor({ state: 'hidden' });
  }

  /** Opens a valid image and waits for its map editor to show the image's summary. */
  async openImage(fileName) {
    await this.quickOpen(fileName);
    await eventually(`the tab of ${fileName} to be active`, async () => (await this.tab(fileName).getAttribute('aria-selected')) === 'true');
    await textMatching(this.summary(), SUMMARY_RE, `the map summary of ${fileName}`, 20_000);
  }

  /** Opens an image that cannot be opened and waits for the error view's heading. */
  async openBrokenImage(fileName) {
    await this.quickOpen(fileName);
    await textMatching(this.webview().getByRole('heading', { level: 1 }), new RegExp(`^${escapeRe(fileName)} cannot be opened`), `the error view of ${fileName}`, 20_000);
  }

  /**
   * Resolves once the quick input's text box has the focus and its value
   * passes `ok`; clicks into the text box when the focus is elsewhere.
   */
  async waitForQuickInputFocus(ok = () => true) {
    await eventually('the quick input to have the focus', async () => {
      const r = await this.page.evaluate(() => {
        const el = document.activeElement;
        const input = document.querySelector('.quick-input-widget input');
        const shown = !!input && input.offsetParent !== null;
        return { focused: el === input, shown, value: input?.value };
      });
      if (r.shown && !r.focused) await this.quickInput().locator('input').first().click({ timeout: 2000 });
      return r.focused && ok(r.value);
    });
  }

  /**
   * Runs a command from the command palette (F1): types its full title and
   * moves the selection with the arrow keys to the entry with exactly that
   * label (other commands may sort first), then Enter.
   */
  async runCommand(label) {
    await this.page.keyboard.press('F1');
    await this.waitForQuickInputFocus((v) => v === '>');
    await this.page.keyboard.type(label);
    await eventually(`the palette to list "${label}"`, async () => (await this.quickInputState()).items.includes(label));
    const focused = this.quickInput().locator('.monaco-list-row.focused .label-name').first();
    for (let i = 0; (await focused.innerText()) !== label; i++) {
      if (i > 20) throw new Error(`could not select "${label}" in the palette`);
      await this.page.keyboard.press('ArrowDown');
    }
    await this.page.keyboard.press('Enter');
    // The palette closes (or gives way to the command's first prompt) once it has run the command.
    await eventually(`the palette to run "${label}"`, async () => {
      const s = await this.quickInputState();
      return !s.visible || !s.items.includes(label);
    });
  }

  /** The palette label of a contributed command: "<category>: <title>", read from package.json. */
  static commandLabel(id) {
    const c = PACKAGE.contributes.commands.find((x) => x.command === id);
    if (!c) throw new Error(`no command ${id} in package.json`);
    return c.category ? `${c.category}: ${c.title}` : c.title;
  }

  /** The title of a contributed command (as context menus show it). */
  static commandTitle(id) {
    const c = PACKAGE.contributes.commands.find((x) => x.command === id);
    if (!c) throw new Error(`no command ${id} in package.json`);
    return c.title;
  }

  /** What the quick input shows now: title, prompt, placeholder, and the items when it is a list. */
  async quickInputState() {
    return this.quickInput().evaluate((w) => {
      const visible = (el) => !!el && el.offsetParent !== null && getComputedStyle(el).display !== 'none';
      const list = w.querySelector('.quick-input-list');
      return {
        visible: visible(w),
        title: w.querySelector('.quick-input-title')?.textContent ?? '',
        message: visible(w.querySelector('.quick-input-message')) ? w.querySelector('.quick-input-message').textContent : '',
        placeholder: w.querySelector('input')?.getAttribute('placeholder') ?? '',
        items: visible(list) ? [...list.querySelectorAll('.monaco-list-row')].map((r) => r.querySelector('.label-name')?.textContent ?? '') : [],
      };
    });
  }

  /** Waits for a prompt of an input box or quick pick whose title, prompt or placeholder matches `re`. */
  async waitForPrompt(re) {
    return eventually(`a prompt matching ${re}`, async () => {
      const s = await this.quickInputState();
      if (!s.visible || !re.test(`${s.title} ${s.message} ${s.placeholder}`)) throw new Error(`quick input: ${JSON.stringify(s)}`);
      return s;
    }, 20_000);
  }

  /** Answers an input box prompt with the keyboard: select all, type, Enter. */
  async answer(re, text) {
    await this.waitForPrompt(re);
    await this.waitForQuickInputFocus();
    await this.page.keyboard.press('Control+A');
    if (text) await this.page.keyboard.type(text);
    else await this.page.keyboard.press('Delete');
    await this.page.keyboard.press('Enter');
  }

  /** Answers a quick pick with the keyboard: types to filter, waits for the item, Enter. */
  async pick(re, itemRe) {
    const s = await this.waitForPrompt(re);
    const item = s.items.find((i) => itemRe.test(i));
    if (!item) throw new Error(`no item matching ${itemRe} in ${JSON.stringify(s.items)}`);
    await this.waitForQuickInputFocus();
    await this.page.keyboard.type(item);
    const focused = this.quickInput().locator('.monaco-list-row.focused .label-name').first();
    await eventually(`"${item}" to be selected`, async () => (await focused.innerText({ timeout: 1000 })) === item);
    await this.page.keyboard.press('Enter');
  }

  /** Right-clicks `row` and chooses `item` from its context menu. */
  async contextMenu(row, item) {
    await row.click({ button: 'right' });
    const menu = this.page.getByRole('menu');
    await menu.waitFor();
    const entry = menu.getByRole('menuitem', { name: item, exact: true });
    // The entry under the pointer becomes the menu's focused entry; Enter then runs it. (A click on it
    // was lost once in about ninety runs: the menu stayed open, the entry focused, nothing run.)
    await entry.hover();
    await eventually(`"${item}" to be the focused menu entry`, () => entry.evaluate((el) => !!el.closest('.action-item.focused')));
    await this.page.keyboard.press('Enter');
    await menu.waitFor({ state: 'hidden' });
  }

  /** The labels of the context menu of `row` (the menu stays open). */
  async contextMenuItems(row) {
    await row.click({ button: 'right' });
    const menu = this.page.getByRole('menu');
    await menu.waitFor();
    return menu.getByRole('menuitem').allInnerTexts();
  }

  /** Expands a collapsed tree row with a click (a click on an expanded row would collapse it). */
  async expand(row) {
    if ((await row.getAttribute('aria-expanded')) === 'false') await row.click();
    await eventually('the row to expand', async () => (await row.getAttribute('aria-expanded')) === 'true');
  }

  /**
   * Scrolls a tree with the mouse wheel until `row` is wholly in view (trees
   * render a few rows past their edges, which a click there would miss):
   * from the top, a few rows at a time, then a row at a time.
   */
  async scrollTreeTo(tree, row) {
    const where = async () => {
      if (!(await row.count())) return 'absent';
      const [r, t] = [await row.boundingBox(), await tree.boundingBox()];
      return r.y < t.y ? 'above' : r.y + r.height > t.y + t.height ? 'below' : 'in';
    };
    let at = await where();
    if (at === 'in') return this.unhover();
    const box = await tree.boundingBox();
    await this.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    if (at === 'absent') {
      await this.page.mouse.wheel(0, -1e6);
      await eventually('the tree to scroll', () => this.treeScrolled(tree));
    }
    for (let i = 0; (at = await where()) !== 'in'; i++) {
      if (i > 200) throw new Error(`the row did not come into view while scrolling the tree (${at})`);
      await this.page.mouse.wheel(0, at === 'above' ? -22 : at === 'below' ? 22 : 4 * 22);
      await eventually('the tree to scroll', () => this.treeScrolled(tree)); // rendered, not still moving
    }
    await this.unhover();
  }

  /** Moves the pointer off the workbench's hovers: one left over a tree covers the rows below its row. */
  async unhover() {
    await this.page.mouse.move(0, 0);
    await this.page.locator('.monaco-hover:visible, .workbench-hover:visible').first().waitFor({ state: 'hidden' });
  }

  /** Whether a tree's scroll position has settled since the last call (rows are rendered where they show). */
  async treeScrolled(tree) {
    const top = await tree.locator('.monaco-list-rows').evaluate((r) => r.style.top);
    const settled = top === this.lastTreeTop;
    this.lastTreeTop = top;
    return settled;
  }

  /**
   * Hovers `target` until a hover whose text matches `re` shows; retries when
   * the rows moved under the pointer (a tree may still scroll). Returns the
   * hover's locator and text.
   */
  async hoverFor(target, re, what) {
    const hover = this.page.locator('.monaco-hover:visible, .workbench-hover:visible').last();
    let text = '';
    await eventually(what, async () => {
      await this.page.mouse.move(20, 600); // an empty stretch of the activity bar
      await target.hover();
      text = await textMatching(hover, re, what, 3000);
      return true;
    }, 15_000);
    return { hover, text };
  }

  /** Focuses the active editor as a user does: a click on its content. */
  async focusEditor() {
    await this.summary().click();
    await eventually('the editor to have the focus', () => this.page.evaluate(() => document.activeElement?.matches('iframe.webview') ?? false));
  }

  /** Opens the PMem view container in the side bar. */
  async showSidebar() {
    const item = this.activityItem();
    if ((await item.getAttribute('aria-selected')) !== 'true') await item.click();
    await this.page.locator('.part.sidebar .pane-header', { hasText: 'Descriptors' }).waitFor();
  }

  /**
   * Waits until the extension host runs PMem's commands: on a busy machine it
   * can start tens of seconds after the workbench. New Image's first prompt
   * shows that it does; Escape closes it.
   */
  async waitForExtension(timeoutMs = 120_000) {
    const label = Workbench.commandLabel('pmemExplorer.newImage');
    const end = Date.now() + timeoutMs;
    // The palette lists PMem's commands only once the workbench has read the extension's contributions; on a busy
    // machine that can come after the palette first opens (run 60, beside two CPU hogs): it is opened again until it does.
    for (;;) {
      try {
        await this.runCommand(label);
        break;
      } catch (e) {
        if (Date.now() > end) throw e;
        await this.dismiss();
      }
    }
    await eventually('PMem: New Image… to ask for a size', async () => (await this.quickInputState()).title.startsWith('New Image'), timeoutMs);
    await this.waitForQuickInputFocus();
    await this.page.keyboard.press('Escape');
    await this.quickInput().waitFor({ state: 'hidden' });
  }

  /** Closes any quick input, menu or hover left open. */
  async dismiss() {
    for (let i = 0; i < 3; i++) {
      if ((await this.quickInputState()).visible) await this.quickInput().locator('input').first().click({ timeout: 2000 }).catch(() => {});
      await this.page.keyboard.press('Escape');
    }
  }

  /** Saves a PNG under test-results/screenshots/<prefix>-<name>.png; returns its path. */
  async screenshot(prefix, name) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${prefix}-${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }
}

/**
 * The map's hover tooltip. Zoomed out, a cell stands for several frames:
 *   "pfn 0–63 (64 frames)" / "100 % memmap" / "first frame: pfn 0 · physical 0x0" / state / "node 0, zone DMA32 · section 0 (…)" / …
 * one frame per cell:
 *   "pfn 360 · physical 0x168000" / "allocated · block at pfn 360, order 3 · owner fs" / "node 0, zone DMA32 · section 0 (initialised)" / …
 */
export function parseTooltip(text) {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const cell = /^pfn (\d+)–(\d+) \((\d+) frames\)$/.exec(lines[0] ?? '');
  const single = /^pfn (\d+) · physical 0x([0-9a-f]+)$/.exec(lines[0] ?? '');
  if (!cell && !single) throw new Error(`not a map tooltip: "${text}"`);
  const frame = cell ? lines.slice(2) : lines;
  const head = /^(?:first frame: )?pfn (\d+) · physical 0x([0-9a-f]+)$/.exec(frame[0] ?? '');
  return {
    text,
    lines,
    pfn: Number(cell ? cell[1] : single[1]),
    lastPfn: Number(cell ? cell[2] : single[1]),
    frames: cell ? Number(cell[3]) : 1,
    /** The mix of an aggregated cell, e.g. "100 % never initialised". */
    mix: cell ? lines[1] : undefined,
    physAddr: head ? parseInt(head[2], 16) : undefined,
    state: frame[1],
    where: frame[2],
    descriptor: frame[3],
  };
}

/** The line under the map: "Selected pfn 360 (0x168000): allocated, block at pfn 360 of order 3, owner fs; node 0, zone DMA32, section 0 (initialised). Enter reveals …" */
export function parseSelection(text) {
  const m = /^Selected pfn (\d+) \(0x([0-9a-f]+)\): (.*?); node (\d+), zone (\S+), section (\d+) \(([^)]*)\)\./.exec(text);
  if (!m) return { text };
  return { text, pfn: Number(m[1]), physAddr: parseInt(m[2], 16), state: m[3], node: Number(m[4]), zone: m[5], section: Number(m[6]), sectionState: m[7] };
}

/**
 * The page-frame map of the active PMem editor: canvas, overview strip,
 * tooltip, selection line and toolbar, and the layout they show.
 *
 * The page does not publish the map's layout (frames per cell, row length,
 * cell size, first visible row), so `layout()` measures it as a user could:
 * the tooltip names the frames under the pointer, and the canvas pixels show
 * how far the drawn map reaches.
 */
export class MapEditor {
  /** @param {Workbench} wb */
  constructor(wb) {
    this.wb = wb;
    this.page = wb.page;
    this.view = wb.webview();
  }

  canvas() {
    return this.view.locator('canvas#map');
  }

  overview() {
    return this.view.locator('canvas#overview');
  }

  tooltip() {
    return this.view.locator('#tooltip');
  }

  /** The selection line under the map. */
  selection() {
    return this.view.locator('#selection');
  }

  /** A toolbar button by its accessible name ("Allocate…", "Zoom in", "Fit", "◀ Step" …). */
  button(name) {
    return this.view.getByRole('toolbar', { name: 'Image actions' }).getByRole('button', { name, exact: true });
  }

  /** One of the values the map publishes on its <body>: cells, drawMs, changedCells, rasterised. */
  async data(key) {
    return this.view.locator('body').evaluate((b, k) => b.dataset[k], key);
  }

  /** Forgets the last change flash, so the next one can be seen. */
  async clearChangedCells() {
    await this.view.locator('body').evaluate((b) => delete b.dataset.changedCells);
  }

  /** The canvas's size in CSS pixels and its backing store in device pixels. */
  async canvasSize() {
    return this.canvas().evaluate((c) => ({ cssWidth: c.clientWidth, cssHeight: c.clientHeight, width: c.width, height: c.height, dpr: devicePixelRatio }));
  }

  /**
   * Opens the Memmap costs panel and waits for its four rows: the panel, its
   * table, the rows, and `cells(name)`, the texts of the row whose heading
   * holds `name`.
   */
  async openCosts() {
    const panel = this.view.locator('#costsPanel');
    await panel.locator('.collapsible-header').click();
    const table = panel.locator('#costsTable table');
    const rows = table.locator('tbody tr');
    await eventually('4 rows of costs', async () => (await rows.count()) === 4);
    const cells = async (name) => (await rows.filter({ has: this.view.locator('th', { hasText: name }) }).locator('td').allInnerTexts()).map((t) => t.trim());
    return { panel, table, rows, cells };
  }

  /** Gives the canvas the keyboard focus (as Tab would), without clicking a frame. */
  async focus() {
    await this.canvas().focus();
    await eventually('the map to have the keyboard focus', () => this.canvas().evaluate((c) => document.hasFocus() && document.activeElement === c));
  }

  /**
   * Points at (x, y) on the canvas (CSS pixels from its top left corner) and
   * returns the parsed tooltip. The pointer leaves the canvas first, so that
   * arriving at (x, y) is a move even when it was there already.
   *
   * A tooltip asked for at an earlier position can still arrive after the
   * pointer moved on (the map does not cancel it, and while the host is busy
   * drawing cells it arrives late), so only a tooltip placed for (x, y) counts
   * (the map puts it 14 px below right of the pointer, kept inside the map
   * area), once its text has stayed the same for a moment.
   */
  async hover(x, y) {
    const box = await this.canvas().boundingBox();
    const tip = this.tooltip();
    await this.page.mouse.move(box.x + x, box.y - 3); // just above the canvas
    await this.page.mouse.move(box.x + x, box.y + y);
    let last;
    const text = await eventually(`the tooltip for (${x}, ${y})`, async () => {
      const now = await tip.evaluate((t, p) => {
        if (t.hidden) return undefined;
        const area = t.parentElement.getBoundingClientRect();
        const left = Math.min(p.x + 14, area.width - t.offsetWidth - 4);
        const top = Math.min(p.y + 14, area.height - t.offsetHeight - 4);
        return Math.abs(parseFloat(t.style.left) - left) < 1.5 && Math.abs(parseFloat(t.style.top) - top) < 1.5 ? t.innerText : undefined;
      }, { x, y });
      const settled = now !== undefined && now === last;
      last = now;
      return settled && now;
    }, 8000);
    return parseTooltip(text);
  }

  /** Moves the pointer off the map (onto the summary line), which hides the tooltip. */
  async leave() {
    await this.wb.summary().hover();
    await this.tooltip().waitFor({ state: 'hidden' });
  }

  /**
   * How far the drawn map reaches on the canvas, in CSS pixels: the rightmost
   * and lowest pixels that are not the editor background, the most common
   * value over rows (columns) spread across the map, so a selection outline
   * or a label reaching past the edge does not count.
   */
  async drawnSize() {
    return this.canvas().evaluate((c) => {
      const dpr = devicePixelRatio || 1;
      const { data, width, height } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      const bg = getComputedStyle(document.body).backgroundColor.match(/[\d.]+/g).map(Number);
      const drawnAt = (x, y) => {
        const i = (y * width + x) * 4;
        return Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) + Math.abs(data[i + 2] - bg[2]) > 6;
      };
      const mode = (values) => {
        const counts = new Map();
        for (const v of values.filter((x) => x > 0)) counts.set(v, (counts.get(v) ?? 0) + 1);
        return [...counts].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0] ?? 0;
      };
      const rights = [];
      for (let k = 0; k < 24; k++) {
        const y = Math.floor(((k + 0.5) * height) / 24);
        let x = width - 1;
        while (x >= 0 && !drawnAt(x, y)) x--;
        rights.push(x + 1);
      }
      const right = mode(rights);
      const bottoms = [];
      for (let k = 0; k < 24; k++) {
        const x = Math.floor(((k + 0.5) * right) / 24);
        let y = height - 1;
        while (y >= 0 && !drawnAt(x, y)) y--;
        bottoms.push(y + 1);
      }
      return { width: right / dpr, height: mode(bottoms) / dpr };
    });
  }

  /**
   * The layout shown now: frames per cell and the first visible frame (the
   * tooltip of the top left cell), the row length (the tooltip of the last cell
   * of the top row; rows hold a power of two of cells) and the cell size (the
   * drawn width over the columns).
   */
  async layout() {
    const top = await this.hover(1, 1);
    const drawn = await this.drawnSize();
    const last = await this.hover(drawn.width - 1, 1);
    const framesPerCell = top.frames;
    const columns = 2 ** Math.round(Math.log2((last.pfn - top.pfn) / framesPerCell + 1));
    const framesPerRow = columns * framesPerCell;
    const { cssHeight } = await this.canvasSize();
    return {
      framesPerCell, columns, framesPerRow,
      cellPx: drawn.width / columns,
      topPfn: top.pfn,
      topRow: top.pfn / framesPerRow,
      drawnWidth: drawn.width,
      drawnHeight: drawn.height,
      cssHeight,
    };
  }

  /** Where `pfn` is drawn in `layout` (the middle of its cell, CSS pixels on the canvas), or undefined when it is out of view. */
  pointOf(layout, pfn) {
    const row = Math.floor(pfn / layout.framesPerRow) - layout.topRow;
    const column = Math.floor((pfn % layout.framesPerRow) / layout.framesPerCell);
    const y = (row + 0.5) * layout.cellPx;
    if (row < 0 || y >= layout.cssHeight) return undefined;
    return { x: (column + 0.5) * layout.cellPx, y };
  }

  /** Points at the cell of `pfn` in `layout`; returns the parsed tooltip. */
  async hoverFrame(layout, pfn) {
    const p = this.pointOf(layout, pfn);
    if (!p) throw new Error(`pfn ${pfn} is not in view (${JSON.stringify(layout)})`);
    return this.hover(p.x, p.y);
  }

  /** Clicks the cell of `pfn` (which selects it). */
  async clickFrame(layout, pfn) {
    const p = this.pointOf(layout, pfn);
    if (!p) throw new Error(`pfn ${pfn} is not in view (${JSON.stringify(layout)})`);
    const box = await this.canvas().boundingBox();
    await this.page.mouse.click(box.x + p.x, box.y + p.y);
  }

  /** Waits until the selection line names `pfn`; returns it parsed. */
  async selected(pfn) {
    return parseSelection(await textMatching(this.selection(), new RegExp(`^Selected pfn ${pfn} \\(`), `the selection line to name pfn ${pfn}`));
  }
}

export function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The hooks every UI suite shares: a fresh workspace and workbench before the
 * suite (after `prepare(ws)`, before `ready(wb, ws)`), a FAILED-* screenshot
 * and log for a failing test (keeping the code-server log and the images), and
 * the workbench stopped at the end. `use(wb, ws)` hands both to the suite.
 */
export function workbenchSuite({ theme, prefix, prepare = () => {}, ready = async () => {} }, use) {
  const HOOK_TIMEOUT = 180_000;
  let wb;
  let ws;
  let failed = false;

  before(async function () {
    this.timeout(HOOK_TIMEOUT);
    requireArtifacts();
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    for (const f of fs.readdirSync(SCREENSHOT_DIR, { withFileTypes: true })) {
      if (f.name.startsWith(`${prefix}-FAILED-`)) fs.rmSync(path.join(SCREENSHOT_DIR, f.name));
    }
    ws = makeWorkspace();
    prepare(ws);
    wb = await startWorkbench({ folder: ws.dir, theme: theme.name });
    await wb.waitForExtension();
    use(wb, ws);
    await ready(wb, ws);
  });

  afterEach(async function () {
    if (!wb) return;
    if (this.currentTest?.state === 'failed') {
      failed = true;
      wb.vs.server.markFailed(); // keeps the code-server log and user data
      const slug = this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 60);
      await wb.failureReport(prefix, `FAILED-${slug}`).catch(() => {});
      await wb.dismiss().catch(() => {});
      // A failed test can leave an editor beside the map (a report): one group again, so the next tests find their tabs.
      await wb.runCommand('View: Join All Editor Groups').catch(() => {});
    }
    await wb.dismiss().catch(() => {});
  });

  after(async function () {
    this.timeout(HOOK_TIMEOUT);
    // What the extension threw where nothing caught it, during any test of the file (the workbench says only "An unknown error occurred").
    let thrown;
    try {
      thrown = wb ? [...thrownByExtension(wb.vs.server), ...wb.webviewErrors.map((e) => `in a webview: ${e}`)] : [];
      if (thrown.length) {
        failed = true;
        wb.vs.server.markFailed(); // keeps the logs
      }
      await wb?.stop();
    } finally {
      if (failed) console.error(`    kept the images in ${ws?.dir}`);
      else ws?.remove();
    }
    if (thrown?.length) throw new Error(`the extension threw ${thrown.length} error(s) that nothing caught (extension host log, webviews); the first:\n${thrown[0]}`);
  });
}
