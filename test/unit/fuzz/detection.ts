/**
 * check's detection rate per structure: mutations that change what a
 * structure means, by construction (a flipped bit under a checksum; a changed
 * count, order, link or flag with the checksum recomputed), each counted as
 * detected when check reports a problem or the image refuses to open with a
 * located error.
 */
import { check, ImageError, PmemImage } from '../../../src/engine';
import { DESC, PG_ALLOCATED, PG_BUDDY, PG_RESERVED } from '../../../src/engine/format/descriptor';
import { LINK } from '../../../src/engine/format/freeLink';
import { CR, CR_CHECKPOINT, CR_JSON_SUMMARY, CR_KIND, CR_UNDO_DROPPED, HH } from '../../../src/engine/format/history';
import { JH, JOURNAL_COMMITTED, JOURNAL_INTENT } from '../../../src/engine/format/journal';
import { FREE_AREA_ENTRY_SIZE, SECTION_ENTRY_SIZE } from '../../../src/engine/format/layout';
import { SB } from '../../../src/engine/format/superblock';
import { build, Recipe, storeOf } from './images';
import { Instance, structuresOf, StructureName } from './structures';

export interface Edit {
  /** What the edit changes, e.g. "order +1". */
  what: string;
  apply(bytes: Uint8Array, at: Instance): void;
  /** Recompute the structure's checksum after the edit (the meaning check is what is measured). */
  fixCrc: boolean;
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const u8 = (field: number, f: (v: number) => number) => (b: Uint8Array, i: Instance) => dv(b).setUint8(i.offset + field, f(dv(b).getUint8(i.offset + field)) & 0xff);
const u32 = (field: number, f: (v: number) => number) => (b: Uint8Array, i: Instance) => dv(b).setUint32(i.offset + field, f(dv(b).getUint32(i.offset + field, true)) >>> 0, true);
const u64 = (field: number, f: (v: number) => number) => (b: Uint8Array, i: Instance) => {
  const d = dv(b);
  const v = f(d.getUint32(i.offset + field, true) + d.getUint32(i.offset + field + 4, true) * 2 ** 32);
  d.setUint32(i.offset + field, v % 2 ** 32, true);
  d.setUint32(i.offset + field + 4, Math.floor(v / 2 ** 32), true);
};
const flipBits = (count: number, step: number): Edit[] =>
  Array.from({ length: count }, (_, k) => ({ what: `bit flip at byte ${k * step}`, fixCrc: false, apply: (b: Uint8Array, i: Instance) => (b[i.offset + ((k * step) % i.length)] ^= 1 << (k % 8)) }));
const fixed = (what: string, apply: Edit['apply']): Edit => ({ what, apply, fixCrc: true });

const superblockEdits: Edit[] = [
  ...flipBits(48, 89),
  fixed('updateSeq +1', u64(SB.updateSeq, (v) => v + 1)), fixed('bootGeneration +1', u32(SB.bootGeneration, (v) => v + 1)),
  fixed('clean flag toggled', u32(SB.flags, (v) => v ^ 1)), fixed('maxOrder -1', u8(SB.maxOrder, (v) => v - 1)),
  fixed('totalFrames -512', u64(SB.totalFrames, (v) => v - 512)), fixed('nodeCount +1', u8(SB.nodeCount, (v) => v + 1)),
  fixed('memmap placement toggled', u8(SB.memmapPlacement, (v) => v ^ 1)), fixed('profile renamed', u8(SB.profile, () => 0x6e)),
  fixed('createdAtMs +1', u64(SB.createdAtMs, (v) => v + 1)), fixed('uuid changed', u8(SB.uuid, (v) => v ^ 0x55)),
  fixed('reserved byte set', u8(2000, () => 1)), fixed('movablePercent +10', u32(SB.movablePercent, (v) => v + 10)),
];

export const EDITS: Record<StructureName, Edit[]> = {
  superblock: superblockEdits,
  backupSuperblock: superblockEdits,
  sectionTable: [
    fixed('section 0 reservedFrames +1', u32(12, (v) => v + 1)),
    ...[1, 2].flatMap((s) => [
      fixed(`section ${s} freeFrames +1`, u32(s * SECTION_ENTRY_SIZE + 4, (v) => v + 1)),
      fixed(`section ${s} allocatedFrames -1`, u32(s * SECTION_ENTRY_SIZE + 8, (v) => v - 1)),
      fixed(`section ${s} free/allocated swapped`, (b, i) => {
        const d = dv(b);
        const at = i.offset + s * SECTION_ENTRY_SIZE;
        const f = d.getUint32(at + 4, true);
        d.setUint32(at + 4, d.getUint32(at + 8, true), true);
        d.setUint32(at + 8, f, true);
      }),
      fixed(`section ${s} initGeneration -1`, u32(s * SECTION_ENTRY_SIZE, (v) => v - 1)),
      fixed(`section ${s} initGeneration +1`, u32(s * SECTION_ENTRY_SIZE, (v) => v + 1)),
      fixed(`section ${s} initGeneration set to 0`, u32(s * SECTION_ENTRY_SIZE, () => 0)),
    ]),
  ],
  freeArea: [0, 1, 2, 3, 4].flatMap((list) => [
    fixed(`list ${list} count +1`, u64(list * FREE_AREA_ENTRY_SIZE + 8, (v) => v + 1)),
    fixed(`list ${list} count -1`, u64(list * FREE_AREA_ENTRY_SIZE + 8, (v) => Math.max(0, v - 1))),
    fixed(`list ${list} head +1`, u64(list * FREE_AREA_ENTRY_SIZE, (v) => (v ? v + 1 : 0))),
    fixed(`list ${list} head cleared`, u64(list * FREE_AREA_ENTRY_SIZE, () => 0)),
  ]),
  freeLink: [
    ...flipBits(8, 5),
    fixed('next +1', u64(LINK.next, (v) => v + 1)), fixed('next cleared', u64(LINK.next, () => 0)), fixed('prev +1', u64(LINK.prev, (v) => v + 1)),
    fixed('pfn +1', u64(LINK.pfn, (v) => v + 1)), fixed('order +1', u8(LINK.order, (v) => v + 1)), fixed('node +1', u8(LINK.node, (v) => v + 1)),
    fixed('zone +1', u8(LINK.zone, (v) => v + 1)), fixed('reserved byte 35 set', u8(35, () => 1)), fixed('reserved byte 40 set', u8(40, () => 1)),
  ],
  journalHeader: [
    ...flipBits(16, 8),
    fixed('state intent', u32(JH.state, () => JOURNAL_INTENT)), fixed('state committed', u32(JH.state, () => JOURNAL_COMMITTED)),
    fixed('payloadBytes set while empty', u32(JH.payloadBytes, () => 64)), fixed('payloadCrc set while empty', u32(JH.payloadCrc, () => 1)),
    fixed('reserved byte 28 set', u8(28, () => 1)), fixed('reserved byte 100 set', u8(100, () => 1)),
  ],
  journalPayload: [],
  historyHeader: [
    ...flipBits(16, 8),
    fixed('version +1', u32(HH.version, (v) => v + 1)), fixed('firstSeq +1', u64(HH.firstSeq, (v) => v + 1)), fixed('nextSeq +1', u64(HH.nextSeq, (v) => v + 1)),
    fixed('nextSeq -1', u64(HH.nextSeq, (v) => v - 1)), fixed('head +8', u64(HH.head, (v) => v + 8)), fixed('tail +8', u64(HH.tail, (v) => v + 8)),
    fixed('tail -8', u64(HH.tail, (v) => Math.max(0, v - 8))), fixed('reserved byte 12 set', u8(12, () => 1)), fixed('reserved byte 60 set', u8(60, () => 1)),
  ],
  historyRecord: [
    ...flipBits(16, 7),
    fixed('kind +1', u8(CR.tag, (v) => (v & ~CR_KIND) | (((v & CR_KIND) + 1) & CR_KIND))), fixed('kind 7', u8(CR.tag, (v) => v | CR_KIND)),
    fixed('tag: checkpoint bit toggled', u8(CR.tag, (v) => v ^ CR_CHECKPOINT)), fixed('tag: undo dropped set', u8(CR.tag, (v) => v | CR_UNDO_DROPPED)),
    fixed('tag: summary form toggled', u8(CR.tag, (v) => v ^ CR_JSON_SUMMARY)),
    fixed('totalBytes +1', u8(CR.totalBytes, (v) => (v < 0x7f ? v + 1 : v))), fixed('totalBytes -1', u8(CR.totalBytes, (v) => (v > 8 && v < 0x80 ? v - 1 : v))),
    fixed('bootGeneration +1', (b, i) => u8(i.fields!.generation, (v) => (v < 0x7f ? v + 1 : v))(b, i)),
    fixed('first undo entry of type 7', (b, i) => (i.fields!.undo < i.fields!.undoEnd ? u8(i.fields!.undo, (v) => v | 7)(b, i) : undefined)),
  ],
  descriptorAllocated: [],
  descriptorFree: [],
  descriptorReserved: [],
  descriptorNever: [],
  twoWordAllocated: [
    fixed('state none', u8(0, () => 0)), fixed('state free', u8(0, () => 2)), fixed('state 7', u8(0, () => 7)),
    fixed('order +1', u8(1, (v) => v + 1)), fixed('order -1 (or 255)', u8(1, (v) => v - 1)), fixed('reserved byte set', u8(4, () => 1)),
    fixed('owner changed', u8(8, (v) => v ^ 0x20)),
  ],
  twoWordFree: [
    fixed('state allocated', u8(0, () => 1)), fixed('state 7', u8(0, () => 7)), fixed('order +1', u8(1, (v) => v + 1)),
    fixed('order -1 (or 255)', u8(1, (v) => v - 1)), fixed('reserved byte set', u8(4, () => 1)), fixed('allocatee set', u8(8, () => 0x61)),
    fixed('state none', u8(0, () => 0)),
  ],
  memdescWord: [
    fixed('type none', u8(7, (v) => v & 0x0f)), fixed('type 2', u8(7, (v) => (v & 0x0f) | 0x20)), fixed('slot +1', u32(0, (v) => v + 1)),
    fixed('slot beyond the pool', u32(0, () => 0x7fffffff)), fixed('word zeroed', u64(0, () => 0)),
  ],
  memdescSlot: [],
  unitDescriptor: [],
};

const descriptorEdits: Edit[] = [
  ...flipBits(16, 4),
  fixed('PG_allocated toggled', u32(DESC.flags, (v) => v ^ PG_ALLOCATED)), fixed('PG_buddy toggled', u32(DESC.flags, (v) => v ^ PG_BUDDY)),
  fixed('PG_reserved toggled', u32(DESC.flags, (v) => v ^ PG_RESERVED)), fixed('unknown flag bit', u32(DESC.flags, (v) => v | 64)),
  fixed('order +1', u8(DESC.order, (v) => v + 1)), fixed('order -1 (or 255)', u8(DESC.order, (v) => v - 1)), fixed('node +1', u8(DESC.node, (v) => v + 1)),
  fixed('zone +1', u8(DESC.zone, (v) => v + 1)), fixed('coreVersion +1', u8(DESC.coreVersion, (v) => v + 1)), fixed('pfn +1', u64(DESC.pfn, (v) => v + 1)),
  fixed('initGeneration +1', u32(DESC.initGeneration, (v) => v + 1)), fixed('next set', u64(DESC.next, (v) => v + 4096)), fixed('prev set', u64(DESC.prev, (v) => v + 4096)),
];
EDITS.descriptorAllocated = descriptorEdits;
EDITS.descriptorFree = descriptorEdits;
EDITS.descriptorReserved = descriptorEdits;
EDITS.descriptorNever = descriptorEdits;
/** A pool slot or a unit head is a core descriptor of a whole block. */
const blockDescriptorEdits: Edit[] = [
  ...flipBits(16, 4),
  fixed('PG_allocated toggled', u32(DESC.flags, (v) => v ^ PG_ALLOCATED)), fixed('order +1', u8(DESC.order, (v) => v + 1)),
  fixed('order -1 (or 255)', u8(DESC.order, (v) => v - 1)), fixed('pfn +512', u64(DESC.pfn, (v) => v + 512)), fixed('owner changed', u8(DESC.owner, (v) => v ^ 0x20)),
  { what: 'blanked', fixCrc: false, apply: (b, i) => b.fill(0, i.offset, i.offset + i.length) },
];
EDITS.memdescSlot = blockDescriptorEdits;
EDITS.unitDescriptor = blockDescriptorEdits;

/** Images the rates are measured on: every placement, with history, allocated and free blocks, stale and never-initialised sections. */
export const DETECTION_RECIPES: Recipe[] = (['device/page', 'device/descriptor', 'ram/page', 'ram/page/twoWord', 'ram/page/memdesc', 'ram/page/unit2m'] as const).map((p) => {
  const [memmap, links, descriptors] = p.split('/') as ['device' | 'ram', 'page' | 'descriptor', Recipe['placement']['descriptors']];
  return {
    sizeMiB: 8, nodes: 1, maxOrder: 6, placement: { memmap, links, ...(descriptors ? { descriptors } : {}) }, movablePercent: 0, crashed: false,
    steps: [
      { op: 'alloc', order: 0, count: 3, owner: 'a' }, { op: 'alloc', order: 2, count: 2, owner: 'b' }, { op: 'free', pick: 1 },
      { op: 'reboot' }, { op: 'alloc', order: 1, count: 2, owner: 'c' }, { op: 'free', pick: 0 }, { op: 'alloc', order: 6, count: 2, owner: 'd' },
    ],
  };
});

export interface Rate {
  structure: StructureName;
  mutations: number;
  detected: number;
  /** Edits that went unnoticed, with the placement. */
  missed: string[];
}

/** True when check (or opening for it) notices the mutated image. */
export function detects(bytes: Uint8Array): boolean {
  let img: PmemImage;
  try {
    img = PmemImage.open(storeOf(bytes), { readOnly: true, lenient: true });
  } catch (e) {
    if (e instanceof ImageError) return true;
    throw e;
  }
  return !check(img).ok;
}

/** Applies every edit of every structure to every instance in the detection images (spread: each edit on one image only); returns the rate per structure. */
export function measureDetection(options: { recipes?: Recipe[]; perStructure?: number; spread?: boolean } = {}): Rate[] {
  const { recipes = DETECTION_RECIPES, perStructure = 6, spread = false } = options;
  const rates = new Map<StructureName, Rate>();
  for (const [ri, recipe] of recipes.entries()) {
    const { bytes } = build(recipe);
    const placement = Object.values(recipe.placement).join('/');
    if (detects(bytes)) throw new Error(`the unmutated ${placement} image already fails check`);
    for (const instance of structuresOf(bytes, perStructure)) {
      const rate = rates.get(instance.structure) ?? { structure: instance.structure, mutations: 0, detected: 0, missed: [] };
      rates.set(instance.structure, rate);
      for (const [k, edit] of EDITS[instance.structure].entries()) {
        if (spread && k % recipes.length !== ri) continue; // the sample: each edit on one of the images
        const copy = bytes.slice();
        edit.apply(copy, instance);
        if (edit.fixCrc) instance.fixCrc?.(copy);
        if (copy.every((b, i) => b === bytes[i])) continue; // a no-op edit (e.g. clearing a zero link) changes nothing
        rate.mutations++;
        if (detects(copy)) rate.detected++;
        else rate.missed.push(`${placement} ${instance.structure}${instance.pfn !== undefined ? ` pfn ${instance.pfn}` : ` @${instance.offset}`}: ${edit.what}`);
      }
    }
  }
  return [...rates.values()];
}
