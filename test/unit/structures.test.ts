/** The design's own structures on screen: free-list links of free blocks, descriptor flags by name. */
import { strict as assert } from 'node:assert';
import { allocOp, frames, freeLists, initSectionsOp, PAGE_SIZE, PmemImage, sections } from '../../src/engine';
import { LINK } from '../../src/engine/format/freeLink';
import { frameTooltipMarkdown } from '../../src/extension/trees/frameTooltip';
import { describeCell } from '../../webview/cellText';
import { newImage } from './helpers';

function initAll(img: PmemImage): PmemImage {
  initSectionsOp(img, sections(img).map((s) => s.index));
  return img;
}

const textOf = (lines: ReturnType<typeof describeCell>) => lines.map((l) => l.map((r) => r.text).join('')).join('\n');

describe('free blocks show their list links', () => {
  for (const links of ['page', 'descriptor'] as const) {
    it(`with links in the ${links}, every frame of a listed block gives its next, prev and list`, () => {
      const { img } = newImage({ links });
      initAll(img);
      const list = freeLists(img, 8).find((l) => l.count >= 3)!;
      const [a, b, c] = list.blocks;
      const f = frames(img, b + 1, 1)[0]; // not the head: the block's links still
      assert.equal(f.kind, 'free');
      assert.deepEqual(f.links, { place: links, next: c, prev: a, node: list.node, zone: list.zone, order: list.order });
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
