/** A size typed into a form: a unit is required, since "400" alone could mean 400 GiB as well as 400 bytes. */
import { parseSize } from '../engine';

export function parseTypedSize(text: string, what: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) throw new Error(`${what} "${t}" has no unit: type ${t}G for GiB (K, M, G, T), or ${t}B for bytes`);
  return parseSize(t, what);
}
