/** The Markdown of a frame's tooltip in the Descriptors view; image strings (the owner tag) are escaped, never rendered. */
import { REGION_LABELS } from '../../engine/format/layout';
import type { FrameInfo } from '../../engine/inspect/views';
import type { StoredRecord } from '../../engine/inspect/storedRecord';
import { flagNames } from '../../engine/format/descriptor';
import { escapeMarkdown } from '../../shared/plainText';
import { flagWords, linkLines } from '../../shared/structureWords';
import { frameStateWords, sectionStateWords } from '../../shared/words';

export function frameTooltipMarkdown(f: FrameInfo): string {
  const lines = [
    `**pfn ${f.pfn}** (physical address 0x${f.physAddr.toString(16)})`,
    `state: ${frameStateWords(f.kind, f.region && REGION_LABELS[f.region])}`,
    f.blockPfn !== undefined ? `block: pfn ${f.blockPfn}, order ${f.order} (${2 ** (f.order ?? 0)} frames)` : '',
    f.owner ? `owner: ${escapeMarkdown(f.owner)}` : '',
    ...(f.links ? linkLines(f.links) : []),
    `node ${f.node}, zone ${f.zone}; section ${f.section} (${sectionStateWords(f.sectionState)})`,
    // The design's own record where it keeps one other than the 64-byte descriptor (two-word, memdesc, 2m), or none.
    f.stored ? storedLine(f.stored) : f.descriptorPresent ? `descriptor: flags ${flagWords(flagNames(f.flags), f.flags)}, refcount ${f.refcount}, initialised in generation ${f.initGeneration}` : 'descriptor: not present in this boot',
    ...Object.entries(f.extended).map(([k, v]) => `${escapeMarkdown(k)}: 0x${v.toString(16)}`),
  ].filter(Boolean);
  return lines.join('  \n');
}

function storedLine(r: StoredRecord): string {
  const where = r.offset !== undefined ? ` (byte 0x${r.offset.toString(16)})` : '';
  return `${escapeMarkdown(r.structure)}${where}: ${r.fields.map(([k, v]) => `${escapeMarkdown(k)} ${escapeMarkdown(v)}`).join('; ')}`;
}
