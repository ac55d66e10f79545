/**
 * Owner colours that can be told apart: a categorical palette for the theme,
 * every colour at least MIN_OWNER_DELTA_E (CIEDE2000) from every state colour
 * and from each other, and at 3:1 against the background; owners beyond its
 * size share one "other owners" colour, drawn striped. No DOM, no Node.
 */
import { withContrast } from './mapContrast';
import type { MapPalette, Rgb } from './mapRaster';

/** Owners with a colour of their own; later ones are "other owners". Every theme's palette holds at least this many. */
export const OWNER_SLOTS = 8;

/** Smallest CIEDE2000 difference kept between two owner colours, and between an owner colour and a state colour. */
export const MIN_OWNER_DELTA_E = 15;

/**
 * Candidates, in order of preference: the categorical colours of Tableau 10,
 * then of Kelly's 22 colours of maximum contrast; those that fall too near a
 * state colour or an earlier pick on a theme are left out there.
 */
const CANDIDATES: Rgb[] = [
  [225, 87, 89], [242, 142, 43], [118, 183, 178], [237, 201, 72], [176, 122, 161], [255, 157, 167], [156, 117, 95], [78, 121, 167], [89, 161, 79],
  [190, 0, 50], [243, 195, 0], [135, 86, 146], [243, 132, 0], [161, 202, 241], [194, 178, 128], [0, 136, 86], [230, 143, 172], [0, 103, 165],
  [249, 147, 121], [96, 78, 151], [246, 166, 0], [179, 68, 108], [220, 211, 0], [136, 45, 23], [141, 182, 0], [101, 69, 34], [226, 88, 34], [43, 61, 38],
];

// ------------------------------------------------------------ CIELAB and CIEDE2000

/** sRGB (0 to 255) to CIELAB under D65. */
export function toLab(c: Rgb): [number, number, number] {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const r = lin(c[0]), g = lin(c[1]), b = lin(c[2]);
  const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const fx = f(x), fy = f(y), fz = f(z);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** CIEDE2000 colour difference (Sharma, Wu and Dalal's formulation); about 2.3 is just noticeable. */
export function deltaE2000(c1: Rgb, c2: Rgb): number {
  return deltaE2000Lab(toLab(c1), toLab(c2));
}

/** CIEDE2000 between two CIELAB colours. */
export function deltaE2000Lab([L1, a1, b1]: readonly number[], [L2, a2, b2]: readonly number[]): number {
  const rad = Math.PI / 180;
  const C1 = Math.hypot(a1, b1), C2 = Math.hypot(a2, b2);
  const Cm = (C1 + C2) / 2;
  const G = 0.5 * (1 - Math.sqrt(Cm ** 7 / (Cm ** 7 + 25 ** 7)));
  const a1p = (1 + G) * a1, a2p = (1 + G) * a2;
  const C1p = Math.hypot(a1p, b1), C2p = Math.hypot(a2p, b2);
  const hue = (a: number, b: number) => (a === 0 && b === 0 ? 0 : (Math.atan2(b, a) / rad + 360) % 360);
  const h1p = hue(a1p, b1), h2p = hue(a2p, b2);
  const dLp = L2 - L1;
  const dCp = C2p - C1p;
  let dhp = 0;
  if (C1p * C2p !== 0) {
    dhp = h2p - h1p;
    if (dhp > 180) dhp -= 360;
    else if (dhp < -180) dhp += 360;
  }
  const dHp = 2 * Math.sqrt(C1p * C2p) * Math.sin((dhp / 2) * rad);
  const Lmp = (L1 + L2) / 2;
  const Cmp = (C1p + C2p) / 2;
  let hmp = h1p + h2p;
  if (C1p * C2p !== 0) {
    if (Math.abs(h1p - h2p) > 180) hmp += h1p + h2p < 360 ? 360 : -360;
    hmp /= 2;
  }
  const T = 1 - 0.17 * Math.cos((hmp - 30) * rad) + 0.24 * Math.cos(2 * hmp * rad) + 0.32 * Math.cos((3 * hmp + 6) * rad) - 0.2 * Math.cos((4 * hmp - 63) * rad);
  const dTheta = 30 * Math.exp(-(((hmp - 275) / 25) ** 2));
  const Rc = 2 * Math.sqrt(Cmp ** 7 / (Cmp ** 7 + 25 ** 7));
  const Sl = 1 + (0.015 * (Lmp - 50) ** 2) / Math.sqrt(20 + (Lmp - 50) ** 2);
  const Sc = 1 + 0.045 * Cmp;
  const Sh = 1 + 0.015 * Cmp * T;
  const Rt = -Math.sin(2 * dTheta * rad) * Rc;
  return Math.sqrt((dLp / Sl) ** 2 + (dCp / Sc) ** 2 + (dHp / Sh) ** 2 + Rt * (dCp / Sc) * (dHp / Sh));
}

// ------------------------------------------------------------ the palette

/** The state colours an owner colour must stay clear of (the free ramp by its ends and middle). */
export function stateColours(p: MapPalette): Rgb[] {
  const mid: Rgb = [(p.freeSmall[0] + p.freeLarge[0]) / 2, (p.freeSmall[1] + p.freeLarge[1]) / 2, (p.freeSmall[2] + p.freeLarge[2]) / 2];
  return [p.metadata, p.memmap, p.freeSmall, mid, p.freeLarge, p.allocated, p.never, p.stale, p.io, p.background];
}

export interface OwnerPalette {
  /** Distinct owner colours, in slot order. */
  colours: Rgb[];
  /** The colour of owners beyond the palette's size, drawn striped with `otherStripe`. */
  other: Rgb;
  otherStripe: Rgb;
}

const cache = new WeakMap<MapPalette, OwnerPalette>();

/** The owner palette of a theme: candidates brought to 3:1, kept when far enough from the states and from earlier picks. */
export function ownerPalette(p: MapPalette): OwnerPalette {
  const known = cache.get(p);
  if (known) return known;
  const states = stateColours(p);
  const candidates = CANDIDATES.map((c) => withContrast(c, p.background));
  let colours: Rgb[] = [];
  // A theme whose state colours crowd the candidates gets a smaller difference rather than fewer owner colours.
  for (let min = MIN_OWNER_DELTA_E; colours.length < OWNER_SLOTS && min >= 0; min -= 2) {
    colours = [];
    for (const on of candidates) if ([...states, ...colours].every((s) => deltaE2000(on, s) >= min)) colours.push(on);
  }
  // "Other owners": a neutral between the foreground side and the never-initialised grey, striped with the allocated colour.
  const other = withContrast(p.never.map((v, i) => (v + p.metadata[i]) / 2) as unknown as Rgb, p.background);
  const out = { colours, other: other.map(Math.round) as unknown as Rgb, otherStripe: p.allocated };
  cache.set(p, out);
  return out;
}

/** FNV-1a of an owner tag: its preferred slot. */
function hashOf(owner: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < owner.length; i++) h = Math.imul(h ^ owner.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Slots of owners, kept for as long as the map shows an image: an owner
 * first seen takes its preferred slot (from its name), or the next free one;
 * once every slot is taken, later owners are "other" (-1). An owner keeps its
 * slot whatever is seen after it, so its colour never changes under the user.
 */
export class OwnerSlots {
  private readonly slots = new Map<string, number>();

  constructor(readonly size: number, seen: Iterable<[string, number]> = []) {
    for (const [o, s] of seen) if (Number.isInteger(s) && s >= -1 && s < size) this.slots.set(o, s);
  }

  /** The slot of `owner` (-1: other owners), giving it one when first seen. New owners in one batch are placed by name, so a batch always places alike. */
  slotsOf(owners: Iterable<string>): Map<string, number> {
    const fresh = [...new Set(owners)].filter((o) => o && !this.slots.has(o)).sort();
    if (fresh.length) {
      const taken = new Set(this.slots.values());
      for (const o of fresh) {
        let slot = -1;
        for (let k = 0; k < this.size; k++) {
          const s = (hashOf(o) + k) % this.size;
          if (!taken.has(s)) {
            slot = s;
            break;
          }
        }
        this.slots.set(o, slot);
        taken.add(slot);
      }
    }
    return this.slots;
  }

  /** Every owner seen with its slot, for saving and the legend. */
  entries(): Array<[string, number]> {
    return [...this.slots];
  }
}
