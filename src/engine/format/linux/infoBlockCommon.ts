/**
 * What the pfn, dax and BTT info blocks of Linux's libnvdimm share: a 4 KiB
 * block at byte 4096 of the namespace, a 16-byte signature, uuids, and the
 * Fletcher-64 checksum of drivers/nvdimm/core.c in its last 8 bytes.
 */
import { dataView } from '../../core/bytes';

/** Byte offset of the info block in the namespace (the first 4 KiB are left alone for labels and partition tables). */
export const INFO_BLOCK_OFFSET = 4096;
export const INFO_BLOCK_SIZE = 4096;
/** Offset of the checksum in every info block (struct nd_gen_sb). */
export const INFO_BLOCK_CHECKSUM = 4088;
/** nd_info_block_reserve(): the start of the namespace the kernel keeps for the info block, 8 KiB. */
export const INFO_BLOCK_RESERVE = 8192;
export const SIGNATURE_BYTES = 16;

/**
 * nd_fletcher64 over a whole info block with its checksum field read as zero
 * (nd_sb_checksum): 32-bit little-endian words summed into lo32, lo32 summed
 * into hi32, both modulo 2^32, returned as hi32 << 32 | lo32.
 */
export function infoBlockChecksum(block: Uint8Array): bigint {
  if (block.length < INFO_BLOCK_SIZE) throw new RangeError(`an info block is ${INFO_BLOCK_SIZE} bytes, not ${block.length}`);
  const dv = dataView(block);
  let lo = 0;
  let hi = 0;
  for (let at = 0; at < INFO_BLOCK_SIZE; at += 4) {
    const word = at >= INFO_BLOCK_CHECKSUM ? 0 : dv.getUint32(at, true);
    lo = (lo + word) >>> 0;
    hi = (hi + lo) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function storedChecksum(block: Uint8Array): bigint {
  return dataView(block).getBigUint64(INFO_BLOCK_CHECKSUM, true);
}

/** Writes the checksum the kernel expects into a block (for building blocks in tests and tools). */
export function sealInfoBlock(block: Uint8Array): void {
  dataView(block).setBigUint64(INFO_BLOCK_CHECKSUM, infoBlockChecksum(block), true);
}

export function hex64(value: bigint): string {
  return `0x${value.toString(16).padStart(16, '0')}`;
}

/** A uuid as ndctl prints it: the 16 bytes in stored order, 8-4-4-4-12. */
export function formatUuid(bytes: Uint8Array): string {
  const h = Array.from(bytes.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const NULL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * The signature as ndctl prints it: up to the first NUL. Bytes outside
 * printable ASCII are shown as \xNN so a hostile block cannot reach a terminal.
 */
export function signatureText(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes.subarray(0, SIGNATURE_BYTES)) {
    if (b === 0) break;
    out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export function signatureIs(bytes: Uint8Array, signature: string): boolean {
  if (bytes.length < SIGNATURE_BYTES) return false;
  for (let i = 0; i < SIGNATURE_BYTES; i++) if (bytes[i] !== (signature.charCodeAt(i) || 0)) return false;
  return true;
}

/** A u64 as a number; values of 2^53 or more come back rounded, still above any namespace size. */
export function readU64Number(dv: DataView, at: number): number {
  return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 0x1_0000_0000;
}
