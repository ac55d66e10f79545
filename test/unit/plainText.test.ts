/**
 * Strings from an image are text everywhere: each rendering function is fed
 * owner tags and history summaries that try to be HTML, Markdown, links,
 * XML or terminal commands, and the result is rendered (or parsed) by a real
 * Markdown renderer, HTML parser or XML parser to check nothing was interpreted.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { frames, ImageError, MemoryStore, PmemImage } from '../../src/engine';
import type { CheckReport } from '../../src/engine';
import { escapeHtml, escapeIcons, escapeMarkdown, escapeNotification, escapeXml, printable } from '../../src/shared/plainText';
import { frameTooltipMarkdown } from '../../src/extension/trees/frameTooltip';
import { checkReportMarkdown } from '../../src/extension/checkReport';
import { errorBody, mapBody } from '../../src/extension/imageViews';
import { describeCell } from '../../webview/cellText';
import { svgOfMap } from '../../src/shared/svgMap';
import { HOSTILE_OWNERS, HOSTILE_SUMMARY, writeHostileImage, writeHostileImageFile } from './hostileImage';
import { pmem } from './cliRun';

// Real parsers (development dependencies) judge the output.
const load = createRequire(__filename);
const markdownIt = load('markdown-it') as (o: object) => { render(md: string): string };
const parse5 = load('parse5') as { parseFragment(html: string): HtmlNode };
const sax = load('sax') as { parser(strict: boolean): SaxParser };
interface HtmlNode { nodeName: string; value?: string; childNodes?: HtmlNode[]; attrs?: Array<{ name: string; value: string }> }
interface SaxParser { onerror(e: Error): void; ontext(t: string): void; onopentag(t: { name: string }): void; write(s: string): { close(): void } }

/** Markdown as VS Code's renderers can treat it at their most permissive: raw HTML and bare links on. */
const renderMarkdown = (md: string) => markdownIt({ html: true, linkify: true }).render(md);

function elements(node: HtmlNode, out: string[] = []): string[] {
  for (const c of node.childNodes ?? []) {
    if (!c.nodeName.startsWith('#')) out.push(c.nodeName);
    elements(c, out);
  }
  return out;
}
function textOf(node: HtmlNode): string {
  return node.nodeName === '#text' ? (node.value ?? '') : (node.childNodes ?? []).map(textOf).join('');
}
/** The elements and visible text of an HTML fragment, as a browser parses it. */
function parseHtml(html: string): { elements: string[]; text: string } {
  const root = parse5.parseFragment(html);
  return { elements: elements(root), text: textOf(root) };
}

const ALL = [...HOSTILE_OWNERS, HOSTILE_SUMMARY, 'www.example.com https://x.test/a a@b.test', '`code` ~~s~~ $x$ | a | # h _u_ \\*'];

describe('image strings are text everywhere', () => {
  let img: PmemImage;
  before(() => {
    const store = new MemoryStore(16 * 2 ** 20);
    writeHostileImage(store);
    img = PmemImage.open(store, { readOnly: true });
  });
  const ownedFrames = () => frames(img, 0, img.geometry.totalFrames).filter((f) => f.owner);

  it('the crafted image is valid and holds the strings verbatim', () => {
    assert.deepEqual([...new Set(ownedFrames().map((f) => f.owner))].sort(), [...HOSTILE_OWNERS].sort());
    assert.equal(img.historyRecords().at(-1)!.summary.text, HOSTILE_SUMMARY);
  });

  it('escapeHtml: a browser parses no element and shows the literal text', () => {
    for (const s of ALL) {
      const parsed = parseHtml(`<p>${escapeHtml(s)}</p><p title="${escapeHtml(s)}">x</p>`);
      assert.deepEqual(parsed.elements, ['p', 'p'], s);
      assert.equal(parsed.text, `${s}x`);
    }
  });

  it('escapeMarkdown: rendered with HTML and linkify on, no markup appears and the text reads as given', () => {
    for (const s of ALL) {
      const parsed = parseHtml(renderMarkdown(`value: ${escapeMarkdown(s)}`));
      assert.deepEqual(parsed.elements, ['p'], `${s} rendered as ${renderMarkdown(escapeMarkdown(s))}`);
      assert.equal(parsed.text.trim(), `value: ${s}`);
    }
    assert.equal(escapeMarkdown('a\nb\r\nc'), 'a b c', 'one value stays on its line');
  });

  it('escapeXml keeps a document well-formed: entities for markup, U+FFFD for what XML cannot hold', () => {
    assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.equal(escapeXml('a\x00b\x1bc\td\ne\ud800f\udc00g\ud83d\ude00'), 'a\ufffdb\ufffdc\td\ne\ufffdf\ufffdg\ud83d\ude00');
  });

  it('escapeNotification breaks [label](command:…) links and keeps the visible text', () => {
    const text = escapeNotification('see [here](command:workbench.action.quit) and [x] (y)');
    assert.ok(!/\[[^\]]*\]\(/.test(text), text);
    assert.equal(text.replace(/\u200b/g, ''), 'see [here](command:workbench.action.quit) and [x] (y)');
  });

  it('escapeIcons keeps $(name) in a quick pick as the characters it is', () => {
    assert.equal(escapeIcons('boot $(zap) and $(x)'), 'boot \\$(zap) and \\$(x)');
    assert.equal(escapeIcons('no icons, $ ( apart'), 'no icons, $ ( apart');
  });

  it('printable shows terminal controls and bidi overrides as escapes, keeping tabs and line feeds', () => {
    assert.equal(printable('a\x1b]0;title\x07b\tc\nd\u202ee\x9bf'), 'a\\u001b]0;title\\u0007b\tc\nd\\u202ee\\u009bf');
    assert.equal(printable('<img src=x> é 中'), '<img src=x> é 中');
  });

  it('the Descriptors view tooltip shows each owner tag as text', () => {
    const owned = ownedFrames();
    assert.ok(owned.length >= HOSTILE_OWNERS.length);
    for (const f of owned) {
      const parsed = parseHtml(renderMarkdown(frameTooltipMarkdown(f)));
      assert.deepEqual([...new Set(parsed.elements)].sort(), ['br', 'p', 'strong'], `owner ${f.owner}`);
      assert.ok(parsed.text.includes(`owner: ${f.owner}`), `${f.owner} in ${parsed.text}`);
    }
  });

  it('the check report escapes the file name and the problem messages', () => {
    const report: CheckReport = {
      ok: false, truncated: false, framesChecked: 1, sectionsChecked: 1, freeBlocks: 0, allocatedBlocks: 1, complete: true,
      problems: [{ structure: 'descriptor', message: `owner "${HOSTILE_OWNERS[0]}" ${HOSTILE_SUMMARY}`, pfn: 7 }],
    };
    const parsed = parseHtml(renderMarkdown(checkReportMarkdown('*a*[x](y).pmem', report)));
    assert.deepEqual([...new Set(parsed.elements)].sort(), ['h1', 'li', 'p', 'strong', 'ul']);
    assert.ok(parsed.text.includes('Check of *a*[x](y).pmem'), parsed.text);
    assert.ok(parsed.text.includes(`descriptor pfn 7: owner "${HOSTILE_OWNERS[0]}" ${HOSTILE_SUMMARY}`), parsed.text);
  });

  it('the error view and the map skeleton escape the file name and the reason', () => {
    const name = '</script><img src=x>.pmem';
    const body = parseHtml(errorBody(name, new ImageError(`profile "${HOSTILE_SUMMARY}" unknown`, { field: 'superblock.profile', offset: 88 })));
    assert.deepEqual([...new Set(body.elements)].sort(), ['button', 'div', 'h1', 'p']);
    assert.ok(body.text.includes(`${name} cannot be opened`));
    assert.ok(body.text.includes(`profile "${HOSTILE_SUMMARY}" unknown`));
    const map = parse5.parseFragment(mapBody(name));
    assert.ok(!elements(map).some((e) => e === 'img' || e === 'script'));
    const app = map.childNodes!.find((n) => n.nodeName === 'div')!;
    assert.equal(app.attrs!.find((a) => a.name === 'data-name')!.value, name);
  });

  it("the map's hover text carries the owner tag as a plain text run", () => {
    for (const f of ownedFrames()) {
      const details = { ...f, region: f.region };
      const lines = describeCell(f.pfn, 1, undefined, 0, details);
      const text = lines.map((l) => l.map((r) => r.text).join('')).join('\n');
      assert.ok(text.includes(`owner ${f.owner}`), text);
    }
  });

  it('an exported SVG parses as XML and its title reads the literal name', () => {
    const title = `${HOSTILE_SUMMARY} & ]]> \x01: pfn 0 to 3`;
    const svg = svgOfMap({ columns: 2, rows: 2, cellPx: 4, fills: ['#000000', '#ffffff', '#ff0000', '#00ff00'], title });
    const tags: string[] = [];
    let text = '';
    const parser = sax.parser(true);
    parser.onerror = (e) => assert.fail(`not well-formed XML: ${e.message}`);
    parser.onopentag = (t) => tags.push(t.name);
    parser.ontext = (t) => (text += t);
    parser.write(svg).close();
    assert.deepEqual(tags, ['svg', 'title', 'rect', 'rect', 'rect', 'rect']);
    assert.equal(text.trim(), title.replace('\x01', '\ufffd'));
  });

  describe('the CLI', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-text-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('prints image strings as text, with terminal controls escaped', () => {
      const file = path.join(dir, 'hostile.pmem');
      writeHostileImageFile(file);
      const history = pmem('history', file);
      assert.equal(history.code, 0, history.stderr);
      assert.ok(history.stdout.includes(HOSTILE_SUMMARY), history.stdout);
      // An owner that tries to retitle the terminal, added with the CLI itself.
      const alloc = pmem('alloc', file, '--order', '0', '--owner', '\x1b]0;pwned\x07');
      assert.equal(alloc.code, 0, alloc.stderr);
      const pfn = alloc.stdout.trim();
      for (const out of [pmem('descriptors', file, '--from', pfn, '--count', '1').stdout, pmem('history', file).stdout]) {
        // eslint-disable-next-line no-control-regex
        assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(out), JSON.stringify(out));
        assert.ok(out.includes('\\u001b]0;pwned\\u0007'), out);
      }
      const json = JSON.parse(pmem('descriptors', file, '--from', pfn, '--count', '1', '--json').stdout);
      assert.equal(json[0].owner, '\x1b]0;pwned\x07', 'JSON keeps the exact string');
      // Errors too: a path holding an escape sequence is shown, not obeyed.
      const missing = path.join(dir, '\x1b[2Jgone.pmem');
      const err = pmem('info', missing);
      assert.equal(err.code, 2);
      assert.equal(err.stderr, `pmem info: ${path.join(dir, '\\u001b[2Jgone.pmem')}: no such file\n`);
    });
  });
});
