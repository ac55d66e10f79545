/** Plain words for the design's own structures (free-list links, descriptor flags), shared by the views, the map and the CLI. */
import type { BlockLinks } from '../engine/inspect/views';

const pfnOrNone = (pfn: number, none: string) => (pfn ? `pfn ${pfn}` : none);

/** A free block's list and links, one line each. */
export function linkLines(l: BlockLinks): string[] {
  const where = l.place === 'page' ? 'link record in the free page' : 'links in the descriptor';
  const list = `list: node ${l.node} ${l.zone} order ${l.order} (${where})`;
  if (l.problem) return [list, `links unreadable: ${l.problem}`];
  return [list, `next: ${pfnOrNone(l.next, 'none (list tail)')} · prev: ${pfnOrNone(l.prev, 'none (list head)')}`];
}

/** Descriptor flags as names, with the raw value (`PG_core | PG_buddy (0x5)`). */
export function flagWords(names: readonly string[], flags?: number): string {
  const hex = flags === undefined ? '' : ` (0x${flags.toString(16)})`;
  return `${names.length ? names.join(' | ') : 'none'}${hex}`;
}
