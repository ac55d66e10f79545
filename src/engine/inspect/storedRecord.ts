/**
 * What the image's design keeps of a frame, in the design's own terms, for
 * tooltips and trees: a two-word image's two words, a memdesc image's page
 * word and the pool descriptor it points to, a 2m image's unit descriptor,
 * and for the designs without descriptors, that there is none. core64 and
 * ram64 keep the 64-byte descriptor the frame's other fields already show.
 */
import { DESCRIPTOR_SIZE, PAGE_SIZE, ZONE_NAMES } from '../format/constants';
import { checkDescriptorBytes, decodeDescriptor, isBlank, PG_ALLOCATED } from '../format/descriptor';
import { decodeMemdescWord, MEMDESC_ALLOCATION, MEMDESC_NONE, MEMDESC_WORD, memdescPoolSlots, memdescSlotOffset, memdescWordOffset } from '../format/memdesc';
import { decodeTwoWord, TWO_WORD_ALLOCATED, TWO_WORD_FREE, TWO_WORD_SIZE, twoWordOffset } from '../format/twoWord';
import { UNIT_FRAMES, unitOffset } from '../alloc/units2m';
import type { PmemImage } from '../image/imageCore';

export interface StoredRecord {
  /** What it is: "two-word descriptor", "memdesc page word", "unit descriptor", "no descriptor". */
  structure: string;
  /** Where it lies on the device (none for a design that keeps nothing there). */
  offset?: number;
  /** Its fields as the design names them, in order. */
  fields: Array<[name: string, value: string]>;
}

/** Reads of a whole block's descriptor (a 2m unit, a memdesc pool slot) shared by the frames of one view: each is read once. */
export type RecordReads = Map<number, Uint8Array>;

/** The design's record of `pfn` (of kind `kind`), or undefined where the frame's 64-byte descriptor is the record (core64, ram64). */
export function storedRecord(img: PmemImage, pfn: number, kind: string, reads: RecordReads = new Map()): StoredRecord | undefined {
  const g = img.geometry;
  switch (g.descriptors) {
    case 'twoWord':
      return twoWordRecord(img, pfn);
    case 'memdesc':
      return memdescRecord(img, pfn, reads);
    case 'unit2m':
      return unitRecord(img, pfn, reads);
    case 'none':
    case 'pool':
      return {
        structure: `no descriptor (${g.descriptors === 'none' ? 'pfn-only' : 'dynamic: one from the pool only while under I/O'})`,
        fields: [['kept', kind === 'allocated' ? 'nothing: its owner and its block\'s order are not kept' : kind === 'free' ? 'its free block\'s link record, in the block\'s first page' : 'nothing']],
      };
    default:
      return undefined;
  }
}

function twoWordRecord(img: PmemImage, pfn: number): StoredRecord {
  const offset = twoWordOffset(img.layout, pfn);
  const w = decodeTwoWord(img.store.read(offset, TWO_WORD_SIZE), 0);
  const allocator = w.state === TWO_WORD_ALLOCATED ? `allocated head, order ${w.order}` : w.state === TWO_WORD_FREE ? `free head, order ${w.order}` : w.state === 0 ? 'none' : `state ${w.state} (unknown)`;
  return { structure: 'two-word descriptor', offset, fields: [['allocator', allocator], ['allocatee', w.owner ? `"${w.owner}"` : '0']] };
}

/** 64 bytes at `offset`, read once per view. */
function blockDescriptorAt(img: PmemImage, offset: number, reads: RecordReads): Uint8Array {
  let raw = reads.get(offset);
  if (!raw) reads.set(offset, (raw = img.store.read(offset, DESCRIPTOR_SIZE)));
  return raw;
}

function memdescRecord(img: PmemImage, pfn: number, reads: RecordReads): StoredRecord {
  const { geometry: g, layout } = img;
  const offset = memdescWordOffset(layout, pfn);
  const w = decodeMemdescWord(img.store.read(offset, MEMDESC_WORD), 0);
  const fields: StoredRecord['fields'] = [['type', w.type === MEMDESC_ALLOCATION ? '1 (a page of an allocation)' : w.type === MEMDESC_NONE ? '0 (none)' : `${w.type} (unknown)`]];
  if (w.type === MEMDESC_ALLOCATION) {
    const slots = memdescPoolSlots(g.totalFrames);
    if (w.slot >= slots) fields.push(['value', `slot ${w.slot}, beyond the pool's ${slots}`]);
    else {
      const at = memdescSlotOffset(layout, g.totalFrames, w.slot);
      fields.push(['value', `pool slot ${w.slot} (byte 0x${at.toString(16)})`]);
      fields.push(['pool descriptor', blockDescriptorWords(blockDescriptorAt(img, at, reads))]);
    }
  }
  return { structure: 'memdesc page word', offset, fields };
}

function unitRecord(img: PmemImage, pfn: number, reads: RecordReads): StoredRecord {
  const offset = unitOffset(img.layout, pfn);
  const unit = Math.floor(pfn / UNIT_FRAMES);
  const first = unit * UNIT_FRAMES;
  return {
    structure: 'unit descriptor', offset,
    fields: [['unit', `${unit} (pfn ${first}–${first + UNIT_FRAMES - 1}, ${(UNIT_FRAMES * PAGE_SIZE) / 2 ** 20} MiB)`], ['descriptor', blockDescriptorWords(blockDescriptorAt(img, offset, reads), 'blank: no allocated block starts in this unit')]],
  };
}

/** A whole block's 64-byte descriptor (a memdesc pool slot, a 2m unit head) in words. */
function blockDescriptorWords(raw: Uint8Array, blank = 'blank'): string {
  if (isBlank(raw, 0)) return blank;
  const c = checkDescriptorBytes(raw, 0);
  if (!c.ok) return `damaged (${c.field}: ${c.reason})`;
  const d = decodeDescriptor(raw, 0);
  const what = d.flags & PG_ALLOCATED ? 'allocated block' : 'block';
  return `${what} at pfn ${d.pfn}, order ${d.order}${d.owner ? `, owner "${d.owner}"` : ''}, refcount ${d.refcount}, node ${d.node} ${ZONE_NAMES[d.zone] ?? `zone ${d.zone}`}, boot ${d.initGeneration}`;
}
