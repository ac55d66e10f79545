/**
 * Turns map cells into pixels: one RGBA pixel per cell, colours blended by
 * each cell's mix. The webview and the `pmem map` command share it, so an
 * exported PNG looks like the editor. No DOM, no Node.
 */
import { accessiblePalette } from './mapContrast';
import { OWNER_SLOTS, OwnerSlots, ownerPalette } from './ownerPalette';
import { MIX_STRIDE, OWNER_TAG } from '../engine/inspect/mapCodes';

export type Rgb = readonly [number, number, number];

export interface MapPalette {
  background: Rgb;
  metadata: Rgb;
  memmap: Rgb;
  /** Free blocks: small orders in `freeSmall`, the largest in `freeLarge`, shades between. */
  freeSmall: Rgb;
  freeLarge: Rgb;
  /** Allocated without an owner tag. */
  allocated: Rgb;
  never: Rgb;
  stale: Rgb;
  /** Frames under I/O on a dynamic image (a descriptor from the pool attached): the theme's orange. */
  io: Rgb;
  /** Lightness (0 to 1) of owner colours: darker on light themes. */
  ownerLightness: number;
  /** The largest-free-order overlay's scale: order 0 (fragmented), the middle order, the largest order (red, yellow, blue: told apart with the common colour blindnesses). */
  orderRamp: readonly [Rgb, Rgb, Rgb];
}

export interface RasterCells {
  cells: number;
  mix: Uint8Array;
  tag: Uint16Array;
  owners: string[];
}

/**
 * The colour of an owner tag: its slot's colour in the theme's categorical
 * owner palette (see ownerPalette.ts), or undefined for "other owners" (drawn
 * striped). `slots` are the owners the map has seen; alone, an owner takes its
 * preferred slot.
 */
export function ownerColour(owner: string, palette: MapPalette, slots: ReadonlyMap<string, number> = new OwnerSlots(OWNER_SLOTS).slotsOf([owner])): Rgb | undefined {
  const slot = slots.get(owner) ?? -1;
  return slot >= 0 ? ownerPalette(palette).colours[slot] : undefined;
}

const lerp = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

/** One pixel as a little-endian RGBA word (every browser and Node platform in use is little-endian). */
const pack = (c: Rgb) => ((255 << 24) | (Math.round(c[2]) << 16) | (Math.round(c[1]) << 8) | Math.round(c[0])) >>> 0;

/** How far a stale cell's colour goes towards the background: enough to tell, not enough to read as another state. */
export const STALE_DIMMING = 0.3;

/** Whether pixel (x, y) of a stale cell carries the hatch: a diagonal line 2 pixels wide every 6. */
export const staleHatchAt = (x: number, y: number) => (x + y) % 6 < 2;

/** Writes RGBA pixels (4 bytes per cell) into `out`: for every cell, or only for the cells listed in `only`. */
export function rasterise(cells: RasterCells, palette: MapPalette, maxOrder: number, out: Uint8ClampedArray, only?: ArrayLike<number>, slots?: ReadonlyMap<string, number>): void {
  const seen = slots ?? new OwnerSlots(OWNER_SLOTS).slotsOf(cells.owners);
  const others = ownerPalette(palette);
  const owners = cells.owners.map((o) => (o ? ownerColour(o, palette, seen) : palette.allocated));
  const freeByOrder: Rgb[] = [];
  for (let o = 0; o <= maxOrder; o++) freeByOrder.push(lerp(palette.freeSmall, palette.freeLarge, maxOrder ? o / maxOrder : 1));
  const freeMid = lerp(palette.freeSmall, palette.freeLarge, 0.5);
  // Cells wholly in one state (every cell, zoomed in) take a precomputed word: no blending.
  const words = new Uint32Array(out.buffer, out.byteOffset, out.length >> 2);
  const metadataWord = pack(palette.metadata), memmapWord = pack(palette.memmap), neverWord = pack(palette.never);
  const allocatedWord = pack(palette.allocated), freeMidWord = pack(freeMid), backgroundWord = pack(palette.background);
  // A tagged cell lies wholly in one block: its word is the block's, looked up by tag.
  const tagWords = new Uint32Array(OWNER_TAG + owners.length).fill(allocatedWord);
  freeByOrder.forEach((c, o) => (tagWords[1 + o] = pack(c)));
  for (let o = maxOrder + 1; o < OWNER_TAG - 1; o++) tagWords[1 + o] = tagWords[1 + maxOrder];
  // Owners beyond the palette ("other owners") are striped: two words, by cell parity.
  const otherWord = pack(others.other), otherStripeWord = pack(others.otherStripe);
  const isOther = new Uint8Array(OWNER_TAG + owners.length);
  owners.forEach((c, i) => {
    if (c) tagWords[OWNER_TAG + i] = pack(c);
    else isOther[OWNER_TAG + i] = 1;
  });
  const { mix, tag } = cells;
  const n = only ? only.length : cells.cells;
  for (let i = 0; i < n; i++) {
    const c = only ? only[i] : i;
    const m = c * MIX_STRIDE;
    const t = tag[c];
    // A cell takes the colour of the most telling state it holds, however few of its frames
    // are in it (a single allocation among a million frames shows): a tag (one block fills
    // the cell), else allocated, free, never initialised, memmap, metadata. Its tooltip gives the mix.
    const word = t !== 0 ? (isOther[t] ? (c & 1 ? otherStripeWord : otherWord) : tagWords[t])
      : mix[m + 3] ? allocatedWord
        : mix[m + 2] ? freeMidWord
          : mix[m + 4] ? neverWord
            : mix[m + 1] ? memmapWord
              : mix[m] ? metadataWord
                : backgroundWord;
    const staleShare = mix[m + 5];
    if (staleShare === 0 || word === backgroundWord) {
      words[c] = word;
      continue;
    }
    // Stale is not a state of its own: the state the frames hold, dimmed (the map hatches it on top).
    const p = c * 4;
    const rgb = [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff];
    out[p] = rgb[0] + (palette.background[0] - rgb[0]) * STALE_DIMMING;
    out[p + 1] = rgb[1] + (palette.background[1] - rgb[1]) * STALE_DIMMING;
    out[p + 2] = rgb[2] + (palette.background[2] - rgb[2]) * STALE_DIMMING;
    out[p + 3] = 255;
  }
}

/** How far a cell with no free block goes from the metadata colour towards the background in the overlay: a grey between metadata's and never-initialised's. */
export const NO_FREE_DIMMING = 0.45;

/** The overlay's colour of a cell with frames but no free block: a neutral grey, apart from the ramp's hues. */
export function noFreeColour(palette: MapPalette): Rgb {
  return lerp(palette.metadata, palette.background, NO_FREE_DIMMING);
}

/** The overlay's colour for each free order 0..maxOrder: along the ramp, order 0 at its start. */
export function orderRampColours(palette: MapPalette, maxOrder: number): Rgb[] {
  const [low, mid, high] = palette.orderRamp;
  return Array.from({ length: maxOrder + 1 }, (_, o) => {
    const t = maxOrder ? o / maxOrder : 1;
    return t <= 0.5 ? lerp(low, mid, t * 2) : lerp(mid, high, (t - 0.5) * 2);
  });
}

/**
 * The largest-free-order overlay: a cell holding a frame of a free block
 * takes the ramp's colour of the largest such order (`largest`, 0xff for
 * none); the others keep what they are (metadata, memmap, never initialised),
 * with allocated frames faded, so fragmentation reads at the whole-device zoom.
 */
export function rasteriseLargestFree(cells: RasterCells, largest: Uint8Array, palette: MapPalette, maxOrder: number, out: Uint8ClampedArray, only?: ArrayLike<number>): void {
  const words = new Uint32Array(out.buffer, out.byteOffset, out.length >> 2);
  const ramp = orderRampColours(palette, maxOrder).map(pack);
  const faded = pack(noFreeColour(palette));
  const metadataWord = pack(palette.metadata), memmapWord = pack(palette.memmap), neverWord = pack(palette.never), backgroundWord = pack(palette.background);
  const { mix } = cells;
  const n = only ? only.length : cells.cells;
  for (let i = 0; i < n; i++) {
    const c = only ? only[i] : i;
    const m = c * MIX_STRIDE;
    const order = largest[c];
    words[c] = order !== 0xff ? ramp[Math.min(order, maxOrder)]
      : mix[m + 3] || mix[m + 2] ? faded
        : mix[m + 4] ? neverWord
          : mix[m + 1] ? memmapWord
            : mix[m] ? metadataWord
              : backgroundWord;
  }
}

/** Colours for exports and the CLI, matching VS Code's default dark and light themes. */
export const DEFAULT_PALETTES: Record<'dark' | 'light', MapPalette> = {
  dark: accessiblePalette({
    background: [30, 30, 30], metadata: [185, 185, 185], memmap: [180, 130, 220], freeSmall: [62, 116, 80], freeLarge: [100, 210, 120],
    allocated: [55, 148, 255], never: [104, 104, 107], stale: [204, 167, 0], io: [209, 134, 22], ownerLightness: 0.62,
    orderRamp: [[241, 76, 76], [204, 167, 0], [55, 148, 255]],
  }),
  light: accessiblePalette({
    background: [255, 255, 255], metadata: [70, 70, 70], memmap: [130, 80, 180], freeSmall: [90, 170, 110], freeLarge: [25, 110, 50],
    allocated: [0, 100, 200], never: [148, 148, 151], stale: [190, 140, 0], io: [195, 105, 0], ownerLightness: 0.45,
    orderRamp: [[205, 49, 49], [191, 136, 3], [0, 100, 200]],
  }),
};
