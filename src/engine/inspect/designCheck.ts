/**
 * The checker's part for the designs that keep their own structures on the
 * device beside the engine's index in RAM (docs/FORMAT.md): two-word words,
 * memdesc page words and pool, 2m unit descriptors. Each initialised
 * section's index (what this boot made, or what a boot would rebuild from the
 * device) is held against what the device says of the same frames, so a word
 * or a slot that disagrees with the blocks is reported where it lies; for
 * memdesc, a pool slot no allocation points to (a leak) is reported at the end.
 */
import { DESCRIPTOR_SIZE } from '../format/constants';
import { checkDescriptorBytes, decodeDescriptor, DESC, isBlank, OWNER_BYTES, PG_ALLOCATED, PG_BUDDY } from '../format/descriptor';
import { decodeMemdescWord, MEMDESC_ALLOCATION, MEMDESC_NONE, MEMDESC_WORD, memdescPoolSlots, memdescSlotOffset, memdescWordOffset } from '../format/memdesc';
import { ALLOCATEE_BYTES, decodeTwoWord, TWO_WORD, TWO_WORD_ALLOCATED, TWO_WORD_FREE, TWO_WORD_SIZE, twoWordOffset } from '../format/twoWord';
import { hasMemdescs } from '../alloc/memdescs';
import { hasUnitDescriptors, UNIT_FRAMES, UNIT_ORDER, unitOffset } from '../alloc/units2m';
import type { PmemImage } from '../image/imageCore';

/** An allocated block as the index has it, carried into the sections it reaches. */
interface Carried {
  pfn: number;
  end: number;
  /** memdesc: the pool slot its head's word names. */
  slot?: number;
}

const SLOTS_A_READ = 4096;

/** A finding, as the checker reports it (checker.ts's Problem). */
type Finding = { structure: string; message: string; pfn?: number; section?: number; offset?: number };

export class DesignStructureCheck {
  private carried: Carried | undefined;
  /** memdesc: the pool slots some block's words name, a bit each (a 16 TiB device has 2^28 slots). */
  private readonly named: Uint8Array;

  private constructor(
    private readonly img: PmemImage,
    private readonly problem: (p: Finding) => void,
  ) {
    this.named = new Uint8Array(hasMemdescs(img.geometry) ? Math.ceil(memdescPoolSlots(img.geometry.totalFrames) / 8) : 0);
  }

  /** Marks a slot as named; false when a block named it already. */
  private name(slot: number): boolean {
    const bit = 1 << (slot & 7);
    if (this.named[slot >>> 3] & bit) return false;
    this.named[slot >>> 3] |= bit;
    return true;
  }

  /** A check for the image's design, or undefined when it keeps nothing of its own on the device. */
  static of(img: PmemImage, problem: (p: Finding) => void): DesignStructureCheck | undefined {
    const g = img.geometry;
    return g.descriptors === 'twoWord' || hasMemdescs(g) || hasUnitDescriptors(g) ? new DesignStructureCheck(img, problem) : undefined;
  }

  /** Section s (its first frame `first`), whose index descriptors are `index`, against the device. */
  section(s: number, index: Uint8Array, first: number): void {
    const g = this.img.geometry;
    const count = Math.min(g.sectionFrames, g.totalFrames - first);
    if (g.descriptors === 'twoWord') this.twoWords(s, index, first, count);
    else if (hasMemdescs(g)) this.memdescWords(s, index, first, count);
    else this.units(s, index, first, count);
  }

  /** After the last section: the pool as a whole (memdesc), its findings to `report`. */
  finish(report: (p: Finding) => void): void {
    if (!hasMemdescs(this.img.geometry)) return;
    const { geometry: g, layout } = this.img;
    const slots = memdescPoolSlots(g.totalFrames);
    for (let firstSlot = 0; firstSlot < slots; firstSlot += SLOTS_A_READ) {
      const n = Math.min(SLOTS_A_READ, slots - firstSlot);
      const offset = memdescSlotOffset(layout, g.totalFrames, firstSlot);
      const bytes = this.img.store.read(offset, n * DESCRIPTOR_SIZE);
      for (let i = 0; i < n; i++) {
        const slot = firstSlot + i;
        if (isBlank(bytes, i * DESCRIPTOR_SIZE) || this.named[slot >>> 3] & (1 << (slot & 7))) continue;
        const c = checkDescriptorBytes(bytes, i * DESCRIPTOR_SIZE);
        const what = c.ok ? `block at pfn ${decodeDescriptor(bytes, i * DESCRIPTOR_SIZE).pfn}` : `${c.field}: ${c.reason}`;
        report({ structure: 'memdesc', message: `pool slot ${slot} is in use (${what}) but no page's word points to it: a leak of the pool`, offset: offset + i * DESCRIPTOR_SIZE });
      }
    }
  }

  private twoWords(s: number, index: Uint8Array, first: number, count: number): void {
    const base = twoWordOffset(this.img.layout, first);
    const words = this.img.store.read(base, count * TWO_WORD_SIZE);
    for (let i = 0; i < count; i++) {
      const at = i * TWO_WORD_SIZE;
      const d = i * DESCRIPTOR_SIZE;
      const flags = index[d + DESC.flags];
      const order = index[d + DESC.order];
      const pfn = first + i;
      const w = decodeTwoWord(words, at);
      const blank = isZero(words, at, at + TWO_WORD_SIZE);
      const say = (why: string) => this.problem({ structure: 'two-word descriptor', message: `pfn ${pfn}: ${why}`, pfn, section: s, offset: base + at });
      if (w.state > TWO_WORD_FREE) {
        say(`state ${w.state} is none of 0 (none), 1 (allocated head), 2 (free head)`);
        continue;
      }
      if (!isZero(words, at + TWO_WORD.order + 1, at + TWO_WORD.allocatee)) say('allocator word bytes 2..7 are not 0');
      if (flags & PG_ALLOCATED) {
        const owner = index.subarray(d + DESC.owner, d + DESC.owner + Math.min(ALLOCATEE_BYTES, OWNER_BYTES));
        if (w.state !== TWO_WORD_ALLOCATED || w.order !== order) say(`heads an allocated block of order ${order}, but its allocator word says ${stateName(w.state, w.order)}`);
        else if (!owner.every((b, k) => b === words[at + TWO_WORD.allocatee + k])) say(`allocatee word says owner "${w.owner}", the block's owner is "${new TextDecoder().decode(owner).replace(/\0+$/, '')}"`);
      } else if (flags & PG_BUDDY) {
        // Every change of a frame's entry writes its words, a section's hand-over included: a free head has its word.
        if (w.state !== TWO_WORD_FREE || w.order !== order) say(`heads a free block of order ${order}, but its allocator word says ${stateName(w.state, w.order)}`);
        else if (!isZero(words, at + TWO_WORD.allocatee, at + TWO_WORD_SIZE)) say(`heads a free block, but its allocatee word holds "${w.owner}"`);
      } else if (!blank) {
        say(w.state === 0 ? 'heads no block, and its allocator word says none, but its words are not all 0' : `heads no block, but its allocator word says ${stateName(w.state, w.order)}`);
      }
    }
  }

  private memdescWords(s: number, index: Uint8Array, first: number, count: number): void {
    const { geometry: g, layout } = this.img;
    const base = memdescWordOffset(layout, first);
    const words = this.img.store.read(base, count * MEMDESC_WORD);
    const slots = memdescPoolSlots(g.totalFrames);
    for (let i = 0; i < count; i++) {
      const at = i * MEMDESC_WORD;
      const pfn = first + i;
      const d = i * DESCRIPTOR_SIZE;
      const say = (why: string) => this.problem({ structure: 'memdesc', message: `pfn ${pfn}: ${why}`, pfn, section: s, offset: base + at });
      const w = decodeMemdescWord(words, at);
      if (this.carried && pfn >= this.carried.end) this.carried = undefined;
      if (w.type !== MEMDESC_NONE && w.type !== MEMDESC_ALLOCATION) {
        say(`word type ${w.type} is none of 0 (none), 1 (a page of an allocation)`);
        if (!this.carried && index[d + DESC.flags] & PG_ALLOCATED) this.carried = { pfn, end: pfn + 2 ** index[d + DESC.order] };
        continue;
      }
      if (!this.carried && index[d + DESC.flags] & PG_ALLOCATED) {
        const order = index[d + DESC.order];
        this.carried = { pfn, end: pfn + 2 ** order };
        if (w.type !== MEMDESC_ALLOCATION) {
          say(`heads an allocated block of order ${order}, but its word points to no descriptor`);
          continue;
        }
        this.carried.slot = w.slot;
        if (w.slot >= slots) {
          say(`word points to slot ${w.slot}, beyond the pool's ${slots}`);
          continue;
        }
        if (!this.name(w.slot)) say(`word points to pool slot ${w.slot}, which an earlier block's words point to too`);
        else this.poolSlot(s, pfn, w.slot, order, index.subarray(d, d + DESCRIPTOR_SIZE));
        continue;
      }
      if (this.carried) {
        const want = this.carried.slot;
        if (want === undefined) {
          // The head's word named nothing (reported there): the slot the other pages name is in use, not leaked.
          if (w.type === MEMDESC_ALLOCATION && w.slot < slots) this.name((this.carried.slot = w.slot));
        } else if (w.type !== MEMDESC_ALLOCATION || w.slot !== want) say(`is in the allocated block at pfn ${this.carried.pfn}, whose descriptor is pool slot ${want}, but its word says ${w.type === MEMDESC_ALLOCATION ? `slot ${w.slot}` : 'none'}`);
      } else if (!isZero(words, at, at + MEMDESC_WORD)) {
        say(`is in no allocation, but its word points to ${w.type === MEMDESC_ALLOCATION ? `pool slot ${w.slot}` : `type ${w.type}`}`);
      }
    }
  }

  /** The pool's descriptor of the block at `pfn` says what the index does. */
  private poolSlot(s: number, pfn: number, slot: number, order: number, indexed: Uint8Array): void {
    const g = this.img.geometry;
    const offset = memdescSlotOffset(this.img.layout, g.totalFrames, slot);
    const raw = this.img.store.read(offset, DESCRIPTOR_SIZE);
    const say = (why: string) => this.problem({ structure: 'memdesc', message: `pool slot ${slot} (block at pfn ${pfn}): ${why}`, pfn, section: s, offset });
    if (isBlank(raw, 0)) return say('is empty, yet the block\'s words point to it');
    const c = checkDescriptorBytes(raw, 0);
    if (!c.ok) return say(`${c.field}: ${c.reason}`);
    const d = decodeDescriptor(raw, 0);
    const owner = decodeDescriptor(indexed, 0).owner;
    if (!(d.flags & PG_ALLOCATED) || d.pfn !== pfn || d.order !== order || d.owner !== owner) {
      say(`describes ${d.flags & PG_ALLOCATED ? '' : 'an unallocated '}block at pfn ${d.pfn} order ${d.order} owner "${d.owner}", the index has order ${order} owner "${owner}"`);
    }
  }

  private units(s: number, index: Uint8Array, first: number, count: number): void {
    const layout = this.img.layout;
    // Frames a boot could not give back to a block (its unit head damaged) come back allocated one by one: one finding per run of them.
    let lost = -1;
    const lostRun = (end: number) => {
      if (lost < 0) return;
      const frames = end - lost;
      this.problem({ structure: 'unit descriptor', message: `pfn ${lost}${frames > 1 ? `–${end - 1}` : ''}: ${frames} allocated block(s) below a unit (order ${UNIT_ORDER}), which no unit descriptor can record: a block's head was lost`, pfn: lost, section: s, offset: unitOffset(layout, lost) });
      lost = -1;
    };
    for (let i = 0; i < count; i++) {
      const d = i * DESCRIPTOR_SIZE;
      const pfn = first + i;
      const small = (index[d + DESC.flags] & PG_ALLOCATED) !== 0 && (index[d + DESC.order] < UNIT_ORDER || pfn % UNIT_FRAMES !== 0);
      if (small && lost < 0) lost = pfn;
      // A run goes on over the frames inside those blocks (no head of their own); anything else ends it.
      else if (!small && lost >= 0 && (index[d + DESC.flags] & (PG_ALLOCATED | PG_BUDDY) || index[d + DESC.flags] === 0)) lostRun(pfn);
    }
    lostRun(first + count);
    const firstUnit = Math.ceil(first / UNIT_FRAMES) * UNIT_FRAMES;
    const end = first + count;
    if (firstUnit >= end) return;
    const base = unitOffset(layout, firstUnit);
    const units = Math.ceil((end - firstUnit) / UNIT_FRAMES);
    const raw = this.img.store.read(base, units * DESCRIPTOR_SIZE);
    for (let u = 0; u < units; u++) {
      const pfn = firstUnit + u * UNIT_FRAMES;
      const at = u * DESCRIPTOR_SIZE;
      const d = (pfn - first) * DESCRIPTOR_SIZE;
      const say = (why: string) => this.problem({ structure: 'unit descriptor', message: `unit of pfn ${pfn}: ${why}`, pfn, section: s, offset: base + at });
      if (this.carried && pfn >= this.carried.end) this.carried = undefined;
      const heads = (index[d + DESC.flags] & PG_ALLOCATED) !== 0 && index[d + DESC.order] >= UNIT_ORDER;
      if (heads && !this.carried) {
        const order = index[d + DESC.order];
        this.carried = { pfn, end: pfn + 2 ** order };
        if (isBlank(raw, at)) {
          say(`heads an allocated block of order ${order}, but its unit descriptor is blank`);
          continue;
        }
        const c = checkDescriptorBytes(raw, at);
        if (!c.ok) {
          say(`${c.field}: ${c.reason}`);
          continue;
        }
        const u0 = decodeDescriptor(raw, at);
        const owner = decodeDescriptor(index, d).owner;
        if (!(u0.flags & PG_ALLOCATED) || u0.pfn !== pfn || u0.order !== order || u0.owner !== owner) {
          say(`describes block at pfn ${u0.pfn} order ${u0.order} owner "${u0.owner}", the index has order ${order} owner "${owner}"`);
        }
        continue;
      }
      if (isBlank(raw, at)) continue;
      const c = checkDescriptorBytes(raw, at);
      if (!c.ok) say(`${c.field}: ${c.reason} (a damaged head reads as none: a boot loses its block)`);
      else say(this.carried ? `is inside the allocated block at pfn ${this.carried.pfn}, whose other units are blank, but it is not` : 'heads no allocated block, but it is not blank');
    }
  }
}

function isZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

function stateName(state: number, order: number): string {
  if (state === TWO_WORD_ALLOCATED) return `allocated, order ${order}`;
  if (state === TWO_WORD_FREE) return `free, order ${order}`;
  return 'none';
}
