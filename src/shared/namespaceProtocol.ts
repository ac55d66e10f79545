/**
 * Messages between the extension host and the Linux namespace editor's
 * webview. The host validates every message with isNamespaceWebviewMessage:
 * a webview is untrusted input.
 */
import type { DecodedStructPage } from '../engine/format/linux/structPage';

export interface NamespaceField {
  name: string;
  value: string;
  /** Byte offset in the info block. */
  offset: number;
}

export interface NamespaceRule {
  rule: string;
  verdict: string;
  check: string;
  kernel?: string;
  errno?: string;
}

export interface NamespaceArea {
  name: string;
  offset: number;
  bytes: number;
  what: string;
}

/** The page map's shape: `cells` cells of `pagesPerCell` pages each, the last one maybe shorter. */
export interface NamespaceMapShape {
  pages: number;
  pagesPerCell: number;
  cells: number;
  /** Pages with a struct page in the file: [from, to). */
  described: { from: number; to: number };
  /** The first page of the data area, where the inspector starts. */
  firstDataPage: number;
}

/** Everything the editor shows apart from the page map's cells and the inspected page. */
export interface NamespaceView {
  name: string;
  kind: string;
  description: string;
  size: number;
  /** e.g. "struct nd_pfn_sb". */
  struct?: string;
  fields?: NamespaceField[];
  checksum?: { stored: string; computed: string; ok: boolean };
  validation?: { ok: boolean; firstFailure?: string; rules: NamespaceRule[]; title: string };
  /** Defaults an older minor version implies. */
  defaults?: string[];
  memmap?: string;
  areas?: NamespaceArea[];
  /** Where the struct pages are, in a sentence. */
  vmemmap?: string;
  /** The page map, or why there is none. */
  map?: NamespaceMapShape | { none: string };
  /** What the editor does not show for this kind of file. */
  note?: string;
}

/** Counts per PAGE_CLASS for a run of cells: `classes` numbers per cell. */
export interface MapSlice {
  firstCell: number;
  classes: number;
  counts: Uint32Array;
  /** Pages classified so far, out of the map's pages. */
  done: number;
}

export type InspectedPage = DecodedStructPage & { area?: string };

export type NamespaceHostMessage =
  | { type: 'view'; view: NamespaceView }
  | ({ type: 'mapSlice' } & MapSlice)
  | { type: 'mapFailed'; message: string }
  | { type: 'page'; id: number; page?: InspectedPage; error?: string };

export type NamespaceWebviewMessage =
  | { type: 'ready' }
  | { type: 'getPage'; id: number; page: number };

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

export function isNamespaceWebviewMessage(x: unknown): x is NamespaceWebviewMessage {
  if (!isRecord(x)) return false;
  const keys = Object.keys(x);
  if (x.type === 'ready') return keys.length === 1;
  if (x.type === 'getPage') return isCount(x.id) && isCount(x.page) && keys.length === 3 && keys.every((k) => ['type', 'id', 'page'].includes(k));
  return false;
}

export function isNamespaceHostMessage(x: unknown): x is NamespaceHostMessage {
  if (!isRecord(x)) return false;
  switch (x.type) {
    case 'view':
      return isRecord(x.view) && typeof x.view.name === 'string' && isCount(x.view.size);
    case 'mapSlice':
      return isCount(x.firstCell) && isCount(x.classes) && x.counts instanceof Uint32Array && isCount(x.done);
    case 'mapFailed':
      return typeof x.message === 'string';
    case 'page':
      return isCount(x.id) && (isRecord(x.page) || typeof x.error === 'string');
    default:
      return false;
  }
}
