/** The design's own structures on screen: free-list links of free blocks, descriptor flags by name. */
import { strict as assert } from 'node:assert';
import { allocOp, blockLinks, frames, freeListChain, freeLists, initSectionsOp, PAGE_SIZE, PmemImage, sections } from '../../src/engine';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { flagNames, PG_ALLOCATED, PG_BUDDY, PG_CORE, PG_FREEING, PG_RESERVED } from '../../src/engine/format/descriptor';
import { decodeFreeLink, encodeFreeLink, FREE_LINK_SIZE, LINK } from '../../src/engine/format/freeLink';
import { frameTooltipMarkdown } from '../../src/extension/trees/frameTooltip';
import { describeCell } from '../../webview/cellText';
import { pmem } from './cliRun';
import { newImage } from './helpers';

function initAll(img: PmemImage): PmemImage {
  initSectionsOp(img, sections(img).map((s) => s.index));
  return img;
}

const textOf = (lines: ReturnType<typeof describeCell>) => lines.map((l) => l.map((r) => r.text).join('')).join('\n');

describe('free blocks show their list links', () => {
  for (const links of ['page', 'descriptor'] as const) {
    it(`with links in the ${links}, a listed block's head gives its next, prev and list`, () => {
      const { img } = newImage({ links });
      initAll(img);
      const list = freeLists(img, 8).find((l) => l.count >= 3)!;
      const [a, b, c] = list.blocks;
      const f = frames(img, b, 1)[0];
      assert.equal(f.kind, 'free');
      assert.deepEqual(f.links, { place: links, next: c, prev: a, node: list.node, zone: list.zone, order: list.order });
      assert.deepEqual(blockLinks(img, b), f.links, 'what the map adds for any frame of the block');
      assert.equal(frames(img, b + 1, 1)[0].links, undefined, 'the head alone carries them in frame views, whose changes are tracked by frame');
      assert.equal(frames(img, a, 1)[0].links?.prev, 0, 'the list head has no prev');
      const md = frameTooltipMarkdown(f);
      assert.match(md, new RegExp(`next: pfn ${c} · prev: pfn ${a}`));
      assert.match(md, new RegExp(`list: node ${list.node} ${list.zone} order ${list.order}`));
      const text = textOf(describeCell(f.pfn, 1, undefined, 0, { ...f, region: undefined }));
      assert.match(text, new RegExp(`next: pfn ${c} · prev: pfn ${a}`));
    });
  }

  it('allocated frames have no links', () => {
    const { img } = newImage();
    const p = allocOp(img, { order: 2, owner: 'x' }).blocks[0].pfn;
    assert.equal(frames(img, p, 1)[0].links, undefined);
    assert.doesNotMatch(frameTooltipMarkdown(frames(img, p, 1)[0]), /next:/);
  });

  it('a damaged link record says why the links cannot be read', () => {
    const { store, img } = newImage({ links: 'page' });
    initAll(img);
    const p = freeLists(img, 4).find((l) => l.count >= 2)!.blocks[0];
    store.write(p * PAGE_SIZE + LINK.next, new Uint8Array([7]));
    const f = frames(img, p, 1)[0];
    assert.equal(f.links?.problem, 'free-link checksum mismatch');
    assert.match(frameTooltipMarkdown(f), /links unreadable: free-link checksum mismatch/);
  });
});

describe('descriptor flags by name', () => {
  it('names every defined bit and numbers the others', () => {
    assert.deepEqual(flagNames(0), []);
    assert.deepEqual(flagNames(PG_CORE | PG_BUDDY), ['PG_core', 'PG_buddy']);
    assert.deepEqual(flagNames(PG_CORE | PG_RESERVED), ['PG_core', 'PG_reserved']);
    assert.deepEqual(flagNames(PG_CORE | PG_ALLOCATED | PG_FREEING), ['PG_core', 'PG_allocated', 'PG_freeing']);
    assert.deepEqual(flagNames(PG_CORE | (1 << 7) | 2 ** 31), ['PG_core', 'bit 7', 'bit 31']);
  });

  it('the tooltips name the flags of a free head, an allocated head and a reserved frame', () => {
    const { img } = newImage();
    const p = allocOp(img, { order: 1, owner: 'x' }).blocks[0].pfn;
    const [alloc] = frames(img, p, 1);
    assert.match(frameTooltipMarkdown(alloc), /flags PG_core \| PG_allocated \(0x9\)/);
    const free = frames(img, freeLists(img, 1).find((l) => l.count)!.blocks[0], 1)[0];
    assert.match(frameTooltipMarkdown(free), /flags PG_core \| PG_buddy \(0x5\)/);
    const [reserved] = frames(img, img.layout.data.startPfn - 1, 1); // the last memmap frame, in the section the allocation initialised
    assert.match(frameTooltipMarkdown(reserved), /flags PG_core \| PG_reserved \(0x3\)/);
    const text = textOf(describeCell(p, 1, undefined, 0, { ...alloc, region: undefined, flagNames: flagNames(alloc.flags) }));
    assert.match(text, /^flags: PG_core \| PG_allocated$/m);
  });

  it('pmem descriptors prints the names beside the hex', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-flags-'));
    try {
      const f = path.join(dir, 'a.pmem');
      assert.equal(pmem('create', f, '--size', '16M').code, 0);
      const a = pmem('alloc', f, '--order', '0', '--owner', 'x', '--json');
      assert.equal(a.code, 0, a.stderr);
      const pfn = (JSON.parse(a.stdout) as { blocks: Array<{ pfn: number }> }).blocks[0].pfn;
      const out = pmem('descriptors', f, '--from', String(pfn), '--count', '2');
      assert.equal(out.code, 0, out.stderr);
      const rows = out.stdout.trim().split('\n').slice(2);
      assert.match(rows[0], /0x9 PG_core\|PG_allocated/);
      assert.match(rows[1], /0x5 PG_core\|PG_buddy/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('free-list chains', () => {
  for (const links of ['page', 'descriptor'] as const) {
    it(`with links in the ${links}, an intact list walks as the Free Lists view lists it, no link broken`, () => {
      const { img } = newImage({ links });
      initAll(img);
      allocOp(img, { order: 0, count: 5 });
      for (const l of freeLists(img, 100).filter((x) => x.count)) {
        const c = freeListChain(img, l.node, l.zone, l.order)!;
        assert.deepEqual(c.blocks.map((b) => b.pfn), l.blocks, `${l.zone} ${l.order}`);
        assert.ok(c.blocks.every((b, i) => !b.broken && b.next === (l.blocks[i + 1] ?? 0)));
      }
    });
  }

  it('a link to a block that does not point back is broken there, as check finds it', () => {
    const { store, img } = newImage({ links: 'page' });
    initAll(img);
    const l = freeLists(img, 8).find((x) => x.count >= 4)!;
    const [a, b, , d] = l.blocks;
    // a now skips b and names d, whose prev is c.
    const rec = decodeFreeLink(store.read(a * PAGE_SIZE, FREE_LINK_SIZE));
    assert.ok(rec.ok);
    store.write(a * PAGE_SIZE, encodeFreeLink({ ...rec.link, next: d }));
    const c = freeListChain(img, l.node, l.zone, l.order)!;
    assert.deepEqual(c.blocks.map((x) => x.pfn), [a, d]);
    assert.match(c.blocks[0].broken!, new RegExp(`block ${d}'s prev link is ${l.blocks[2]}, not ${a}`));
    assert.notEqual(b, d);
  });

  it('a link to an allocated block, and an unreadable record, are broken', () => {
    const { store, img } = newImage({ links: 'page' });
    initAll(img);
    const held = allocOp(img, { order: 3 }).blocks[0].pfn;
    const l = freeLists(img, 8).find((x) => x.count >= 2 && x.order <= 3)!;
    const rec = decodeFreeLink(store.read(l.blocks[0] * PAGE_SIZE, FREE_LINK_SIZE));
    assert.ok(rec.ok);
    store.write(l.blocks[0] * PAGE_SIZE, encodeFreeLink({ ...rec.link, next: held }));
    let c = freeListChain(img, l.node, l.zone, l.order)!;
    assert.equal(c.blocks.length, 1);
    assert.equal(c.blocks[0].next, held);
    assert.equal(c.blocks[0].broken, `block ${l.blocks[0]} links to pfn ${held}, which is an allocated block`);
    store.write(l.blocks[0] * PAGE_SIZE + LINK.prev, new Uint8Array([1]));
    c = freeListChain(img, l.node, l.zone, l.order)!;
    assert.match(c.blocks[0].broken!, /unreadable: free-link checksum mismatch/);
  });
});

describe('the chain message', () => {
  it('the webview takes a chain or null, and refuses a malformed one', async () => {
    const { isHostToWebview } = await import('../../src/shared/protocol');
    assert.ok(isHostToWebview({ type: 'chain', chain: null }));
    assert.ok(isHostToWebview({ type: 'chain', chain: { label: 'l', order: 3, blocks: [{ pfn: 8, next: 16 }, { pfn: 16, next: 0, broken: 'why' }] } }));
    assert.ok(!isHostToWebview({ type: 'chain', chain: { label: 'l', order: 3, blocks: [{ pfn: -1, next: 0 }] } }));
    assert.ok(!isHostToWebview({ type: 'chain', chain: { label: 'l', order: 3, blocks: [{ pfn: 8, next: 0, broken: 1 }] } }));
    assert.ok(!isHostToWebview({ type: 'chain' }));
  });
});
