/**
 * The words of the map's hover tooltip, as runs of plain text. The webview
 * puts each run in the page with textContent, so an owner tag from the image
 * is shown as the characters it holds and never parsed as HTML.
 */
import { MIX_CHANNELS, MIX_STRIDE } from '../src/engine/inspect/mapCodes';
import type { FrameDetails } from '../src/shared/protocol';
import { flagWords, linkLines } from '../src/shared/structureWords';
import { frameStateWords, sectionStateWords } from '../src/shared/words';

export interface TextRun {
  text: string;
  strong?: boolean;
}
/** One tooltip line: runs shown one after another. */
export type TextLine = TextRun[];

export const kindLabel = (f: FrameDetails) => frameStateWords(f.kind, f.region);

/** A cell's mix of states (aggregated cells only), then the details of its first frame. */
export function describeCell(pfn: number, framesPerCell: number, mix: ArrayLike<number> | undefined, cellIndex: number, f: FrameDetails | null): TextLine[] {
  const lines: TextLine[] = [];
  if (framesPerCell > 1 && mix) {
    const shares = MIX_CHANNELS.map((name, k) => [name, mix[cellIndex * MIX_STRIDE + k]] as const).filter(([, v]) => v > 2);
    lines.push([{ text: `pfn ${pfn}–${pfn + framesPerCell - 1}`, strong: true }, { text: ` (${framesPerCell} frames)` }]);
    lines.push([{ text: shares.map(([n, v]) => `${Math.round((v / 255) * 100)} % ${n === 'never' ? 'never initialised' : n}`).join(', ') }]);
  }
  if (f) {
    lines.push([{ text: framesPerCell > 1 ? 'first frame: ' : '' }, { text: `pfn ${f.pfn}`, strong: true }, { text: ` · physical 0x${f.physAddr.toString(16)}` }]);
    lines.push([{ text: `${kindLabel(f)}${f.blockPfn !== undefined ? ` · block at pfn ${f.blockPfn}, order ${f.order}` : ''}${f.owner ? ` · owner ${f.owner}` : ''}` }]);
    lines.push([{ text: `node ${f.node}, zone ${f.zone} · section ${f.section} (${sectionStateWords(f.sectionState)})` }]);
    lines.push([{ text: f.descriptorPresent ? `descriptor initialised in boot ${f.initGeneration}` : 'no descriptor in this boot' }]);
    // After the lines above, whose order other readers of the tooltip rely on.
    if (f.descriptorPresent && f.flagNames) lines.push([{ text: `flags: ${flagWords(f.flagNames)}` }]);
    for (const l of f.links ? linkLines(f.links) : []) lines.push([{ text: l }]);
    for (const [k, v] of Object.entries(f.extended)) lines.push([{ text: `${k}: 0x${v.toString(16)}` }]);
  }
  return lines.map((l) => l.filter((r) => r.text !== ''));
}

/** Replaces `el`'s content with the lines, each run a text node (bold runs in <b>), lines separated by <br>. */
export function renderLines(el: HTMLElement, lines: TextLine[]): void {
  const doc = el.ownerDocument;
  const nodes: Node[] = [];
  lines.forEach((line, i) => {
    if (i > 0) nodes.push(doc.createElement('br'));
    for (const run of line) {
      if (!run.strong) {
        nodes.push(doc.createTextNode(run.text));
        continue;
      }
      const b = doc.createElement('b');
      b.textContent = run.text;
      nodes.push(b);
    }
  });
  el.replaceChildren(...nodes);
}
