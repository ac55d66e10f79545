/**
 * The typed message protocol between the extension host and a webview. Both
 * sides validate every message they receive with the guards below before
 * acting on it: a webview is untrusted input.
 */

/** Where an image problem is, as the engine reports it. */
export interface ProblemLocation {
  file?: string;
  field?: string;
  offset?: number;
  pfn?: number;
  section?: number;
}

export type HostToWebview =
  | { type: 'error'; title: string; message: string; location: ProblemLocation }
  | { type: 'summary'; text: string };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'reopenWith' }
  | { type: 'revealFrame'; pfn: number };

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isPfn = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

export function isWebviewToHost(x: unknown): x is WebviewToHost {
  if (!isRecord(x)) return false;
  switch (x.type) {
    case 'ready':
    case 'reopenWith':
      return Object.keys(x).length === 1;
    case 'revealFrame':
      return isPfn(x.pfn) && Object.keys(x).length === 2;
    default:
      return false;
  }
}

export function isHostToWebview(x: unknown): x is HostToWebview {
  if (!isRecord(x)) return false;
  switch (x.type) {
    case 'error':
      return typeof x.title === 'string' && typeof x.message === 'string' && isRecord(x.location);
    case 'summary':
      return typeof x.text === 'string';
    default:
      return false;
  }
}
