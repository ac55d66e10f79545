/**
 * Text in a PNG without a font file: a 3 × 5 pixel font (lower-case letters,
 * digits and the punctuation the map's legend and axis use), drawn at a whole
 * scale. Upper case is drawn as lower case; any other character as '?'.
 */

/** Each glyph: five rows of three pixels, '#' set. */
const GLYPHS: Record<string, string> = {
  ' ': '... ... ... ... ...', 'a': '.#. #.# ### #.# #.#', 'b': '##. #.# ##. #.# ##.', 'c': '.## #.. #.. #.. .##', 'd': '##. #.# #.# #.# ##.',
  'e': '### #.. ##. #.. ###', 'f': '### #.. ##. #.. #..', 'g': '.## #.. #.# #.# .##', 'h': '#.# #.# ### #.# #.#', 'i': '### .#. .#. .#. ###',
  'j': '..# ..# ..# #.# .#.', 'k': '#.# #.# ##. #.# #.#', 'l': '#.. #.. #.. #.. ###', 'm': '#.# ### ### #.# #.#', 'n': '##. #.# #.# #.# #.#',
  'o': '.#. #.# #.# #.# .#.', 'p': '##. #.# ##. #.. #..', 'q': '.#. #.# #.# ##. .##', 'r': '##. #.# ##. #.# #.#', 's': '.## #.. .#. ..# ##.',
  't': '### .#. .#. .#. .#.', 'u': '#.# #.# #.# #.# ###', 'v': '#.# #.# #.# #.# .#.', 'w': '#.# #.# ### ### #.#', 'x': '#.# #.# .#. #.# #.#',
  'y': '#.# #.# .#. .#. .#.', 'z': '### ..# .#. #.. ###',
  '0': '### #.# #.# #.# ###', '1': '.#. ##. .#. .#. ###', '2': '##. ..# .#. #.. ###', '3': '##. ..# .#. ..# ##.', '4': '#.# #.# ### ..# ..#',
  '5': '### #.. ##. ..# ##.', '6': '.## #.. ### #.# ###', '7': '### ..# .#. .#. .#.', '8': '### #.# ### #.# ###', '9': '### #.# ### ..# ##.',
  '.': '... ... ... ... .#.', ',': '... ... ... .#. #..', ':': '... .#. ... .#. ...', '-': '... ... ### ... ...', '_': '... ... ... ... ###',
  '(': '.#. #.. #.. #.. .#.', ')': '.#. ..# ..# ..# .#.', '/': '..# ..# .#. #.. #..', '·': '... ... .#. ... ...', '→': '#.. .#. ..# .#. #..', '↑': '.#. ### .#. .#. .#.',
  '%': '#.# ..# .#. #.. #.#', '+': '... .#. ### .#. ...', '?': '##. ..# .#. ... .#.', "'": '.#. .#. ... ... ...', '=': '... ### ... ### ...',
};

const BITS = new Map(Object.entries(GLYPHS).map(([ch, rows]) => [ch, rows.split(' ').map((r) => [...r].map((c) => c === '#'))]));

/** Width of `text` in pixels at `scale` (4 pixel columns per character, the last one a space). */
export const textWidth = (text: string, scale: number) => [...text].length * 4 * scale;
export const TEXT_HEIGHT = 5;

/** Draws `text` with its top left corner at (x, y) into RGBA words, clipped to the picture. */
export function drawText(pixels: Uint32Array, width: number, height: number, x: number, y: number, text: string, word: number, scale: number): void {
  let left = x;
  for (const raw of text) {
    const bits = BITS.get(raw) ?? BITS.get(raw.toLowerCase()) ?? BITS.get('?')!;
    for (let r = 0; r < 5; r++) {
      for (let c = 0; c < 3; c++) {
        if (!bits[r][c]) continue;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const px = left + c * scale + dx, py = y + r * scale + dy;
            if (px >= 0 && px < width && py >= 0 && py < height) pixels[py * width + px] = word;
          }
        }
      }
    }
    left += 4 * scale;
  }
}
