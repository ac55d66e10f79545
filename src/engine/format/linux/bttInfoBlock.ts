/**
 * The BTT arena info block ("BTT_ARENA_INFO", sector mode) of Linux's
 * libnvdimm: struct btt_sb of drivers/nvdimm/btt.h. Decoded field by field;
 * the arena's offsets are relative to the arena's own info block.
 */
import { dataView } from '../../core/bytes';
import { formatUuid, INFO_BLOCK_SIZE, infoBlockChecksum, readU64Number, signatureIs, signatureText, storedChecksum } from './infoBlockCommon';

export const BTT_SIG = 'BTT_ARENA_INFO\0';

/** Byte offsets of struct btt_sb fields (see docs/FORMAT.md). */
export const BTT_SB = {
  signature: 0, uuid: 16, parentUuid: 32, flags: 48, versionMajor: 52, versionMinor: 54, externalLbasize: 56,
  externalNlba: 60, internalLbasize: 64, internalNlba: 68, nfree: 72, infosize: 76, nextoff: 80, dataoff: 88,
  mapoff: 96, logoff: 104, info2off: 112, checksum: 4088,
} as const;

export interface BttInfoBlock {
  signature: string;
  uuid: string;
  parentUuid: string;
  flags: number;
  versionMajor: number;
  versionMinor: number;
  externalLbasize: number;
  externalNlba: number;
  internalLbasize: number;
  internalNlba: number;
  nfree: number;
  infosize: number;
  nextoff: number;
  dataoff: number;
  mapoff: number;
  logoff: number;
  info2off: number;
  checksum: bigint;
}

export function isBttInfoBlock(block: Uint8Array): boolean {
  return signatureIs(block, BTT_SIG);
}

export function decodeBttInfoBlock(block: Uint8Array): BttInfoBlock {
  if (block.length < INFO_BLOCK_SIZE) throw new RangeError(`a BTT info block is ${INFO_BLOCK_SIZE} bytes, not ${block.length}`);
  const dv = dataView(block);
  const u32 = (at: number) => dv.getUint32(at, true);
  return {
    signature: signatureText(block.subarray(BTT_SB.signature)),
    uuid: formatUuid(block.subarray(BTT_SB.uuid)),
    parentUuid: formatUuid(block.subarray(BTT_SB.parentUuid)),
    flags: u32(BTT_SB.flags),
    versionMajor: dv.getUint16(BTT_SB.versionMajor, true),
    versionMinor: dv.getUint16(BTT_SB.versionMinor, true),
    externalLbasize: u32(BTT_SB.externalLbasize),
    externalNlba: u32(BTT_SB.externalNlba),
    internalLbasize: u32(BTT_SB.internalLbasize),
    internalNlba: u32(BTT_SB.internalNlba),
    nfree: u32(BTT_SB.nfree),
    infosize: u32(BTT_SB.infosize),
    nextoff: readU64Number(dv, BTT_SB.nextoff),
    dataoff: readU64Number(dv, BTT_SB.dataoff),
    mapoff: readU64Number(dv, BTT_SB.mapoff),
    logoff: readU64Number(dv, BTT_SB.logoff),
    info2off: readU64Number(dv, BTT_SB.info2off),
    checksum: storedChecksum(block),
  };
}

/** ndctl's name of each field, with the field it shows. */
export const BTT_NDCTL_NAMES: Record<string, keyof typeof BTT_SB> = {
  signature: 'signature', uuid: 'uuid', parent_uuid: 'parentUuid', flags: 'flags', version: 'versionMajor',
  external_lbasize: 'externalLbasize', external_nlba: 'externalNlba', internal_lbasize: 'internalLbasize', internal_nlba: 'internalNlba',
  nfree: 'nfree', infosize: 'infosize', nextoff: 'nextoff', dataoff: 'dataoff', mapoff: 'mapoff', logoff: 'logoff', info2off: 'info2off',
};

/** Named and shaped exactly as `ndctl read-infoblock -j` prints a BTT info block. */
export function bttNdctlFields(sb: BttInfoBlock): Record<string, string | number> {
  return {
    signature: sb.signature, uuid: sb.uuid, parent_uuid: sb.parentUuid, flags: sb.flags, version: `${sb.versionMajor}.${sb.versionMinor}`,
    external_lbasize: sb.externalLbasize, external_nlba: sb.externalNlba, internal_lbasize: sb.internalLbasize,
    internal_nlba: sb.internalNlba, nfree: sb.nfree, infosize: sb.infosize, nextoff: sb.nextoff, dataoff: sb.dataoff,
    mapoff: sb.mapoff, logoff: sb.logoff, info2off: sb.info2off,
  };
}

export function bttChecksumOk(block: Uint8Array): boolean {
  return infoBlockChecksum(block) === storedChecksum(block);
}
