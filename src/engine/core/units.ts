/** Parsing and printing of sizes and frame numbers, shared by the CLI and the extension. */
import { UsageError } from './errors';

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "64M", "16G", "1T", "2MiB", "4096" → bytes. */
export function parseSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) throw new UsageError(`${what} "${text}" is not a size (examples: 64M, 16G, 1T)`);
  const value = Number(m[1]) * UNITS[m[2].toUpperCase()];
  if (!Number.isSafeInteger(value)) throw new UsageError(`${what} "${text}" is too large`);
  return value;
}

export function formatBytes(bytes: number): string {
  const unit = binaryUnit(bytes);
  const v = bytes / unit.bytes;
  return `${Number.isInteger(v) ? v : v.toFixed(v < 10 ? 2 : 1)} ${unit.name}`;
}

/** The binary unit a byte count is told in: the largest that leaves at least 1 (B below 1 KiB, TiB at most). */
export function binaryUnit(bytes: number): { name: string; bytes: number } {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (i < units.length - 1 && bytes >= 1024 ** (i + 1)) i++;
  return { name: units[i], bytes: 1024 ** i };
}

/** A pfn in decimal or 0x hex. */
export function parsePfn(text: string, what = 'pfn'): number {
  const t = text.trim();
  const value = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(value)) throw new UsageError(`${what} "${text}" is not a frame number (decimal or 0x hex)`);
  return value;
}
