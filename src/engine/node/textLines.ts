/** The lines of a text file, read a chunk at a time (Node only): memory stays bounded whatever the file holds. */
import * as fs from 'node:fs';

const CHUNK = 1 << 20;
/** Longer lines are cut there (a reader then finds them not understood). */
export const MAX_LINE = 64 * 1024;

/** Each line without its end of line ("\n" or "\r\n"); a line longer than MAX_LINE is cut to it. */
export function* linesOf(file: string): Generator<string> {
  const fd = fs.openSync(file, 'r');
  try {
    const decoder = new TextDecoder();
    const buf = Buffer.alloc(CHUNK);
    let rest = '';
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      rest += decoder.decode(buf.subarray(0, n), { stream: n > 0 });
      let at: number;
      while ((at = rest.indexOf('\n')) >= 0) {
        yield rest.slice(0, Math.min(at, MAX_LINE)).replace(/\r$/, '');
        rest = rest.slice(at + 1);
      }
      if (rest.length > MAX_LINE) rest = rest.slice(0, MAX_LINE);
      if (n === 0) break;
    }
    if (rest) yield rest;
  } finally {
    fs.closeSync(fd);
  }
}
