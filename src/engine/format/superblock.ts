/**
 * The superblock: one 4 KiB frame at pfn 0, with a backup copy in the last
 * frame of the device. Writers update both; readers take the valid copy with
 * the higher update sequence, so an image survives losing either copy.
 */
import { crc32, readString, readU64, view, writeString, writeU64 } from '../core/bytes';
import { ImageError } from '../core/errors';
import { DESCRIPTOR_SIZE, FORMAT_REVISION, FORMAT_VERSION, MAX_NODES, PAGE_SIZE, READABLE_VERSIONS, ZONE_COUNT } from './constants';
import { Geometry, Layout, NodeInfo, Region, REGION_NAMES } from './layout';

export const SUPERBLOCK_MAGIC = 'PMEMIMG\0';
export const SUPERBLOCK_SIZE = PAGE_SIZE;
export const SB_FLAG_CLEAN = 1 << 0;

/** Byte offsets of superblock fields (see docs/FORMAT.md). */
export const SB = {
  magic: 0, formatVersion: 8, formatRevision: 10, headerBytes: 12, uuid: 16, updateSeq: 32, sizeBytes: 40, pageSize: 48,
  descriptorSize: 52, totalFrames: 56, sectionFrames: 64, sectionCount: 68, memmapPlacement: 72,
  linksPlacement: 73, maxOrder: 74, nodeCount: 75, flags: 76, bootGeneration: 80, movablePercent: 84,
  profile: 88, createdAtMs: 104, regions: 112, nodes: 240, crc: 4092,
} as const;
const PROFILE_BYTES = 16;
const REGION_ENTRY = 16;
const NODE_ENTRY = 16 + ZONE_COUNT * 16;
export const SB_HEADER_BYTES = SB.nodes + MAX_NODES * NODE_ENTRY; // 752

export interface Superblock {
  formatVersion: number;
  /** Compatible additions: a newer revision than FORMAT_REVISION may be read but not written. */
  formatRevision: number;
  uuid: string;
  updateSeq: number;
  geometry: Geometry;
  layout: Layout;
  nodes: NodeInfo[];
  clean: boolean;
  bootGeneration: number;
  profile: string;
  createdAtMs: number;
}

function uuidToBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function bytesToUuid(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** memmapPlacement: descriptors on the device (core64), in RAM (ram64), none (pfn-only) or a pool attached during I/O (dynamic); the last two index the free blocks in RAM. */
const MEMMAP_DEVICE = 0;
const MEMMAP_RAM = 1;
const MEMMAP_NONE = 2;
const MEMMAP_POOL = 3;
const MEMMAP_UNIT2M = 4;
const MEMMAP_TWO_WORD = 5;
const MEMMAP_MEMDESC = 6;

export function encodeSuperblock(sb: Superblock): Uint8Array {
  const bytes = new Uint8Array(SUPERBLOCK_SIZE);
  const dv = view(bytes);
  const g = sb.geometry;
  writeString(bytes, SB.magic, 8, SUPERBLOCK_MAGIC);
  dv.setUint16(SB.formatVersion, sb.formatVersion, true);
  dv.setUint16(SB.formatRevision, sb.formatRevision, true);
  dv.setUint32(SB.headerBytes, SB_HEADER_BYTES, true);
  bytes.set(uuidToBytes(sb.uuid), SB.uuid);
  writeU64(dv, SB.updateSeq, sb.updateSeq);
  writeU64(dv, SB.sizeBytes, g.sizeBytes);
  dv.setUint32(SB.pageSize, PAGE_SIZE, true);
  dv.setUint32(SB.descriptorSize, DESCRIPTOR_SIZE, true);
  writeU64(dv, SB.totalFrames, g.totalFrames);
  dv.setUint32(SB.sectionFrames, g.sectionFrames, true);
  dv.setUint32(SB.sectionCount, g.sectionCount, true);
  dv.setUint8(SB.memmapPlacement, g.memmap === 'device' ? MEMMAP_DEVICE : g.descriptors === 'none' ? MEMMAP_NONE : g.descriptors === 'pool' ? MEMMAP_POOL : g.descriptors === 'unit2m' ? MEMMAP_UNIT2M : g.descriptors === 'twoWord' ? MEMMAP_TWO_WORD : g.descriptors === 'memdesc' ? MEMMAP_MEMDESC : MEMMAP_RAM);
  dv.setUint8(SB.linksPlacement, g.links === 'page' ? 0 : 1);
  dv.setUint8(SB.maxOrder, g.maxOrder);
  dv.setUint8(SB.nodeCount, g.nodeCount);
  dv.setUint32(SB.flags, sb.clean ? SB_FLAG_CLEAN : 0, true);
  dv.setUint32(SB.bootGeneration, sb.bootGeneration, true);
  dv.setUint32(SB.movablePercent, g.movablePercent, true);
  writeString(bytes, SB.profile, PROFILE_BYTES, sb.profile);
  writeU64(dv, SB.createdAtMs, sb.createdAtMs);
  REGION_NAMES.forEach((name, i) => {
    const r = sb.layout[name];
    writeU64(dv, SB.regions + i * REGION_ENTRY, r.startPfn);
    writeU64(dv, SB.regions + i * REGION_ENTRY + 8, r.frames);
  });
  sb.nodes.forEach((n, i) => {
    const at = SB.nodes + i * NODE_ENTRY;
    writeU64(dv, at, n.firstPfn);
    writeU64(dv, at + 8, n.frames);
    n.zones.forEach((z, zi) => {
      writeU64(dv, at + 16 + zi * 16, z.firstPfn);
      writeU64(dv, at + 24 + zi * 16, z.frames);
    });
  });
  dv.setUint32(SB.crc, crc32(bytes.subarray(0, SB.crc)), true);
  return bytes;
}

/**
 * Decodes and checks one superblock copy. `base` is the copy's byte offset in
 * the image, used only to say where a problem is.
 */
export function decodeSuperblock(bytes: Uint8Array, base: number, file?: string): Superblock {
  const where = (field: keyof typeof SB) => ({ file, field: `superblock.${field}`, offset: base + SB[field] });
  if (bytes.length < SUPERBLOCK_SIZE) throw new ImageError(`superblock is truncated (${bytes.length} of ${SUPERBLOCK_SIZE} bytes)`, { file, offset: base });
  const dv = view(bytes);
  const magic = readString(bytes, SB.magic, 8);
  if (magic + '\0' !== SUPERBLOCK_MAGIC) {
    const hexBytes = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new ImageError(`not a pmem image (magic is ${hexBytes}, expected "PMEMIMG")`, where('magic'));
  }
  const formatVersion = dv.getUint16(SB.formatVersion, true);
  const formatRevision = dv.getUint16(SB.formatRevision, true);
  const crc = dv.getUint32(SB.crc, true);
  if (crc !== crc32(bytes.subarray(0, SB.crc))) throw new ImageError('superblock checksum mismatch', where('crc'));
  if (!READABLE_VERSIONS.includes(formatVersion)) {
    throw new ImageError(`format version ${formatVersion} is not supported (this build reads versions ${READABLE_VERSIONS.join(' and ')})`, where('formatVersion'));
  }
  const pageSize = dv.getUint32(SB.pageSize, true);
  if (pageSize !== PAGE_SIZE) throw new ImageError(`page size ${pageSize} is not ${PAGE_SIZE}`, where('pageSize'));
  const descriptorSize = dv.getUint32(SB.descriptorSize, true);
  if (descriptorSize !== DESCRIPTOR_SIZE) throw new ImageError(`descriptor size ${descriptorSize} is not ${DESCRIPTOR_SIZE}`, where('descriptorSize'));
  const memmapByte = dv.getUint8(SB.memmapPlacement);
  const linksByte = dv.getUint8(SB.linksPlacement);
  if (memmapByte > MEMMAP_MEMDESC) throw new ImageError(`unknown memmap placement ${memmapByte}`, where('memmapPlacement'));
  if (linksByte > 1) throw new ImageError(`unknown links placement ${linksByte}`, where('linksPlacement'));
  const regions = {} as Record<string, Region>;
  REGION_NAMES.forEach((name, i) => {
    regions[name] = { startPfn: readU64(dv, SB.regions + i * REGION_ENTRY), frames: readU64(dv, SB.regions + i * REGION_ENTRY + 8) };
  });
  const geometry: Geometry = {
    sizeBytes: readU64(dv, SB.sizeBytes),
    totalFrames: readU64(dv, SB.totalFrames),
    sectionFrames: dv.getUint32(SB.sectionFrames, true),
    sectionCount: dv.getUint32(SB.sectionCount, true),
    nodeCount: dv.getUint8(SB.nodeCount),
    maxOrder: dv.getUint8(SB.maxOrder),
    memmap: memmapByte === MEMMAP_DEVICE ? 'device' : 'ram',
    ...(memmapByte === MEMMAP_NONE ? { descriptors: 'none' as const } : memmapByte === MEMMAP_POOL ? { descriptors: 'pool' as const } : memmapByte === MEMMAP_UNIT2M ? { descriptors: 'unit2m' as const } : memmapByte === MEMMAP_TWO_WORD ? { descriptors: 'twoWord' as const } : memmapByte === MEMMAP_MEMDESC ? { descriptors: 'memdesc' as const } : {}),
    links: linksByte === 0 ? 'page' : 'descriptor',
    movablePercent: dv.getUint32(SB.movablePercent, true),
    // The history's size is a creation choice, recorded only in its region entry.
    historyFrames: regions.history.frames,
  };
  const nodes: NodeInfo[] = [];
  for (let i = 0; i < Math.min(geometry.nodeCount, MAX_NODES); i++) {
    const at = SB.nodes + i * NODE_ENTRY;
    const zones = [];
    for (let z = 0; z < ZONE_COUNT; z++) zones.push({ id: z, firstPfn: readU64(dv, at + 16 + z * 16), frames: readU64(dv, at + 24 + z * 16) });
    nodes.push({ id: i, firstPfn: readU64(dv, at), frames: readU64(dv, at + 8), zones });
  }
  return {
    formatVersion,
    formatRevision,
    uuid: bytesToUuid(bytes.subarray(SB.uuid, SB.uuid + 16)),
    updateSeq: readU64(dv, SB.updateSeq),
    geometry,
    layout: regions as unknown as Layout,
    nodes,
    clean: (dv.getUint32(SB.flags, true) & SB_FLAG_CLEAN) !== 0,
    bootGeneration: dv.getUint32(SB.bootGeneration, true),
    profile: readString(bytes, SB.profile, PROFILE_BYTES),
    createdAtMs: readU64(dv, SB.createdAtMs),
  };
}

/** Why an image must not be written by this build, or undefined when it may be. */
export function writeRefusal(sb: Pick<Superblock, 'formatVersion' | 'formatRevision'>): string | undefined {
  if (sb.formatRevision <= FORMAT_REVISION) return undefined;
  return `it was written by a newer revision of the format (${sb.formatVersion}.${sb.formatRevision}; this build writes ${FORMAT_VERSION}.${FORMAT_REVISION}), whose additions it would not keep up to date`;
}
