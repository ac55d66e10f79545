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

const CHANNEL_WORDS: Record<(typeof MIX_CHANNELS)[number], string> = {
  metadata: 'metadata', memmap: 'memmap', free: 'free', allocated: 'allocated', never: 'never initialised', stale: 'stale',
};

/** A share in words that never reads 0 % for some frames, nor 100 % for not all of them. */
function percent(n: number, of: number): string {
  const p = (n / of) * 100;
  if (n > 0 && p < 0.1) return '< 0.1 %';
  if (n < of && p > 99.9) return '> 99.9 %';
  return `${p < 10 ? p.toFixed(1) : Math.round(p)} %`;
}

/**
 * A cell's exact mix (frames per state, MIX_CHANNELS order) as text, most
 * telling state first (the one its colour shows), e.g. "1 allocated (< 0.1 %),
 * 511 free (49.9 %), 512 never initialised (50 %)"; stale frames last, as they
 * overlap the others.
 */
export function mixWords(counts: ArrayLike<number>, framesPerCell: number): string {
  const order = [3, 2, 4, 1, 0];
  const parts = order.filter((k) => counts[k] > 0).map((k) => `${counts[k]} ${CHANNEL_WORDS[MIX_CHANNELS[k]]} (${percent(counts[k], framesPerCell)})`);
  if (counts[5] > 0) parts.push(`of them ${counts[5]} stale (${percent(counts[5], framesPerCell)})`);
  return parts.join(', ');
}

/** The mix from a cell's shares (0 to 255), while its exact counts are on their way. */
function sharesWords(mix: ArrayLike<number>, cellIndex: number): string {
  const shares = MIX_CHANNELS.map((name, k) => [name, mix[cellIndex * MIX_STRIDE + k]] as const).filter(([, v]) => v > 0);
  return shares.map(([n, v]) => `${v === 255 ? 100 : Math.max(1, Math.min(99, Math.round((v / 255) * 100)))} % ${CHANNEL_WORDS[n]}`).join(', ');
}

export interface CellExtras {
  /** Exact frames per state of the cell (see mixWords). */
  counts?: ArrayLike<number> | null;
  /** The selected frame, when it lies in this cell. */
  selected?: number;
  /** The cell lies inside a section drawn from its summary: its colour says what the section holds. */
  sectionFrames?: number;
  /** With the overlay on: the largest order of a free block with a frame in the cell (0xff: none). */
  largestFree?: number;
}

/** A cell's mix of states (aggregated cells only), then the details of its first frame. */
export function describeCell(pfn: number, framesPerCell: number, mix: ArrayLike<number> | undefined, cellIndex: number, f: FrameDetails | null, extras: CellExtras = {}): TextLine[] {
  const lines: TextLine[] = [];
  if (framesPerCell > 1) {
    // The header is there even before the cell's mix is known, so a cell is never described as one frame.
    lines.push([{ text: `pfn ${pfn}–${pfn + framesPerCell - 1}`, strong: true }, { text: ` (${framesPerCell} frames)` }]);
    lines.push([{ text: extras.counts ? mixWords(extras.counts, framesPerCell) : mix ? sharesWords(mix, cellIndex) : 'mix of states not known yet' }]);
  }
  if (f) {
    lines.push([{ text: framesPerCell > 1 ? 'first frame: ' : '' }, { text: `pfn ${f.pfn}`, strong: true }, { text: ` · physical 0x${f.physAddr.toString(16)}` }]);
    // Without descriptors an allocated frame is only known to be allocated: no block, order or owner to show.
    const unknownBlock = f.noDescriptor && f.kind === 'allocated';
    lines.push([{ text: `${kindLabel(f)}${f.blockPfn !== undefined && !unknownBlock ? ` · block at pfn ${f.blockPfn}, order ${f.order}` : ''}${f.owner ? ` · owner ${f.owner}` : ''}` }]);
    lines.push([{ text: `node ${f.node}, zone ${f.zone} · section ${f.section} (${sectionStateWords(f.sectionState)})` }]);
    // The design's own record where it keeps one other than the 64-byte descriptor (two-word, memdesc, 2m), or none.
    const stored = f.stored;
    lines.push([{ text: stored ? `${stored.structure}${stored.offset !== undefined ? ` at byte 0x${stored.offset.toString(16)}` : ''}` : f.descriptorPresent ? `descriptor initialised in boot ${f.initGeneration}` : 'no descriptor in this boot' }]);
    // After the lines above, whose order other readers of the tooltip rely on.
    if (stored) for (const [k, v] of stored.fields) lines.push([{ text: `${k}: ${v}` }]);
    else if (f.descriptorPresent && f.flagNames) lines.push([{ text: `flags: ${flagWords(f.flagNames)}` }]);
    for (const l of f.links ? linkLines(f.links) : []) lines.push([{ text: l }]);
    for (const [k, v] of Object.entries(f.extended)) lines.push([{ text: `${k}: 0x${v.toString(16)}` }]);
  }
  if (framesPerCell > 1) {
    if (extras.sectionFrames) lines.push([{ text: `coloured by what its section of ${extras.sectionFrames} frames holds` }]);
    if (extras.selected !== undefined) lines.push([{ text: `holds the selected frame, pfn ${extras.selected}` }]);
  }
  // Last, after the lines whose order other readers rely on.
  if (extras.largestFree !== undefined) {
    lines.push([{ text: extras.largestFree === 0xff ? 'no free block in this cell (from the free lists)' : `largest free block in this cell: order ${extras.largestFree} (${blockSize(extras.largestFree)})`, strong: true }]);
  }
  return lines.map((l) => l.filter((r) => r.text !== ''));
}

/** A block of order `o` in words: 4 KiB, 2 MiB, ... */
export function blockSize(o: number): string {
  const bytes = 4096 * 2 ** o;
  return bytes >= 2 ** 30 ? `${bytes / 2 ** 30} GiB` : bytes >= 2 ** 20 ? `${bytes / 2 ** 20} MiB` : `${bytes / 1024} KiB`;
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
