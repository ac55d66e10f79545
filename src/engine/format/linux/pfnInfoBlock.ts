/**
 * The pfn info block (fsdax, "NVDIMM_PFN_INFO") and dax info block (devdax,
 * "NVDIMM_DAX_INFO") that Linux's libnvdimm writes at byte 4096 of a
 * namespace: struct nd_pfn_sb of drivers/nvdimm/pfn.h, its defaults for older
 * minor versions and the checks of nd_pfn_validate (drivers/nvdimm/pfn_devs.c,
 * Linux 6.1), reported one by one in the kernel's words. Read-only.
 */
import { dataView } from '../../core/bytes';
import {
  formatUuid, INFO_BLOCK_RESERVE, INFO_BLOCK_SIZE, infoBlockChecksum, NULL_UUID, readU64Number,
  signatureIs, signatureText, storedChecksum,
} from './infoBlockCommon';

export const PFN_SIG = 'NVDIMM_PFN_INFO\0';
export const DAX_SIG = 'NVDIMM_DAX_INFO\0';

/** Byte offsets of struct nd_pfn_sb fields in the info block (see docs/FORMAT.md). */
export const PFN_SB = {
  signature: 0, uuid: 16, parentUuid: 32, flags: 48, versionMajor: 52, versionMinor: 54, dataoff: 56, npfns: 64,
  mode: 72, startPad: 76, endTrunc: 80, align: 84, pageSize: 88, pageStructSize: 92, checksum: 4088,
} as const;

/** enum nd_pfn_mode. */
export const PFN_MODE_NONE = 0;
export const PFN_MODE_RAM = 1; // --map=mem: the memmap lives in RAM
export const PFN_MODE_PMEM = 2; // --map=dev: the memmap lives on the namespace

/** x86-64 figures of the kernel that wrote the fixtures (Debian's 6.1 amd64 build). */
export const LINUX_PAGE_SIZE = 4096;
export const LINUX_STRUCT_PAGE_SIZE = 64;
/** memremap_compat_align() on x86-64: SUBSECTION_SIZE. */
export const LINUX_COMPAT_ALIGN = 2 * 2 ** 20;
/** nd_pfn_supported_alignments() with transparent huge pages: PAGE_SIZE, PMD and PUD sizes. */
export const LINUX_SUPPORTED_ALIGNMENTS = [4096, 2 * 2 ** 20, 2 ** 30];
/** nd_pfn_default_alignment() with transparent huge pages: what nd_pfn->align holds at probe time. */
export const LINUX_DEFAULT_ALIGN = 2 * 2 ** 20;
/** vmemmap is populated in PMD-sized blocks taken from the altmap. */
export const VMEMMAP_BLOCK = 2 * 2 ** 20;

/** The fields as stored. */
export interface PfnInfoBlock {
  signature: string;
  uuid: string;
  parentUuid: string;
  flags: number;
  versionMajor: number;
  versionMinor: number;
  dataoff: number;
  npfns: number;
  mode: number;
  startPad: number;
  endTrunc: number;
  align: number;
  pageSize: number;
  pageStructSize: number;
  checksum: bigint;
}

export type InfoBlockKind = 'fsdax' | 'devdax';

export function pfnKindOf(block: Uint8Array): InfoBlockKind | undefined {
  if (signatureIs(block, PFN_SIG)) return 'fsdax';
  if (signatureIs(block, DAX_SIG)) return 'devdax';
  return undefined;
}

export function decodePfnInfoBlock(block: Uint8Array): PfnInfoBlock {
  if (block.length < INFO_BLOCK_SIZE) throw new RangeError(`a pfn info block is ${INFO_BLOCK_SIZE} bytes, not ${block.length}`);
  const dv = dataView(block);
  return {
    signature: signatureText(block.subarray(PFN_SB.signature)),
    uuid: formatUuid(block.subarray(PFN_SB.uuid)),
    parentUuid: formatUuid(block.subarray(PFN_SB.parentUuid)),
    flags: dv.getUint32(PFN_SB.flags, true),
    versionMajor: dv.getUint16(PFN_SB.versionMajor, true),
    versionMinor: dv.getUint16(PFN_SB.versionMinor, true),
    dataoff: readU64Number(dv, PFN_SB.dataoff),
    npfns: readU64Number(dv, PFN_SB.npfns),
    mode: dv.getUint32(PFN_SB.mode, true),
    startPad: dv.getUint32(PFN_SB.startPad, true),
    endTrunc: dv.getUint32(PFN_SB.endTrunc, true),
    align: dv.getUint32(PFN_SB.align, true),
    pageSize: dv.getUint32(PFN_SB.pageSize, true),
    pageStructSize: dv.getUint16(PFN_SB.pageStructSize, true),
    checksum: storedChecksum(block),
  };
}

/** ndctl's name of each field, with the field it shows. */
export const PFN_NDCTL_NAMES: Record<string, keyof typeof PFN_SB> = {
  signature: 'signature', uuid: 'uuid', parent_uuid: 'parentUuid', flags: 'flags', version: 'versionMajor', dataoff: 'dataoff',
  npfns: 'npfns', mode: 'mode', start_pad: 'startPad', end_trunc: 'endTrunc', align: 'align', page_size: 'pageSize', page_struct_size: 'pageStructSize',
};

/** The fields named and shaped exactly as `ndctl read-infoblock -j` prints them. */
export function ndctlFields(sb: PfnInfoBlock): Record<string, string | number> {
  return {
    signature: sb.signature, uuid: sb.uuid, parent_uuid: sb.parentUuid, flags: sb.flags,
    version: `${sb.versionMajor}.${sb.versionMinor}`, dataoff: sb.dataoff, npfns: sb.npfns, mode: sb.mode,
    start_pad: sb.startPad, end_trunc: sb.endTrunc, align: sb.align, page_size: sb.pageSize, page_struct_size: sb.pageStructSize,
  };
}

/** The values nd_pfn_validate works with once it has applied the defaults for older minor versions. */
export interface EffectiveFields {
  startPad: number;
  endTrunc: number;
  /** The alignment the kernel uses: the stored one, or 1 << ilog2(dataoff) when that is 0. */
  align: number;
  pageSize: number;
  pageStructSize: number;
  /** One line per default applied, saying why. */
  defaults: string[];
}

export function effectiveFields(sb: PfnInfoBlock): EffectiveFields {
  const defaults: string[] = [];
  let { startPad, endTrunc, align, pageSize, pageStructSize } = sb;
  if (sb.versionMinor < 1) {
    startPad = 0;
    endTrunc = 0;
    defaults.push('minor version < 1: start_pad and end_trunc read as 0');
  }
  if (sb.versionMinor < 2) {
    align = 0;
    defaults.push('minor version < 2: align read as 0');
  }
  if (sb.versionMinor < 4) {
    pageStructSize = 64;
    pageSize = LINUX_PAGE_SIZE;
    defaults.push(`minor version < 4: page_struct_size read as 64, page_size as PAGE_SIZE (${LINUX_PAGE_SIZE})`);
  }
  if (align === 0) {
    align = sb.dataoff > 0 ? 2 ** Math.floor(Math.log2(sb.dataoff)) : 0;
    // Math.log2 can round up just below a power of two: keep the largest power not above dataoff.
    if (align > sb.dataoff) align /= 2;
    defaults.push(`align is 0: the kernel uses 1 << ilog2(dataoff) = ${align}`);
  }
  return { startPad, endTrunc, align, pageSize, pageStructSize, defaults };
}

export type Verdict = 'pass' | 'fail' | 'unknown' | 'note' | 'not applicable';

export interface ValidationRule {
  /** Short stable name, e.g. "checksum", "page-size". */
  rule: string;
  verdict: Verdict;
  /** What is checked, in the kernel's terms. */
  check: string;
  /** On failure (or note), what the kernel says or returns, in its own words. */
  kernel?: string;
  /** The kernel's return code on failure. */
  errno?: string;
}

export interface ValidateOptions {
  /** The namespace's size in bytes (for a label-less namespace, the whole file). */
  namespaceSize: number;
  /**
   * Physical address of the namespace start. Unknown from the file: by default
   * assumed aligned to every alignment the checks use (it is 4 GiB in the fixtures).
   */
  physStart?: number;
  /** The namespace's own uuid; a label-less namespace has none (the null uuid). */
  namespaceUuid?: string;
  /** The signature the kernel probes with; by default the block's own (fsdax probes PFN, devdax DAX). */
  expect?: InfoBlockKind;
}

const hexNo0x = (n: number) => n.toString(16);
/** IS_ALIGNED as the kernel computes it: a mask test, so a non-power-of-two alignment behaves as it does there. */
const aligned = (value: number, to: number) => to > 0 && (BigInt(Math.trunc(value)) & (BigInt(to) - 1n)) === 0n;

/**
 * Every check of nd_pfn_validate in the kernel's order, then the two of
 * __nvdimm_setup_pfn and the altmap's room for vmemmap. The kernel stops at
 * the first failure; here each is evaluated on its own so that every problem
 * shows. `firstFailure` is what the kernel would act on.
 */
export function validatePfnInfoBlock(block: Uint8Array, options: ValidateOptions): { rules: ValidationRule[]; ok: boolean; firstFailure?: ValidationRule } {
  const sb = decodePfnInfoBlock(block);
  const eff = effectiveFields(sb);
  const size = options.namespaceSize;
  const phys = options.physStart ?? 0;
  const rules: ValidationRule[] = [];
  const add = (rule: string, failed: boolean, check: string, kernel: string, errno: string, applies = true) =>
    rules.push(!applies ? { rule, verdict: 'not applicable', check } : failed ? { rule, verdict: 'fail', check, kernel, errno } : { rule, verdict: 'pass', check });

  const kind = pfnKindOf(block);
  const expect = options.expect ?? kind ?? 'fsdax';
  const sig = expect === 'devdax' ? DAX_SIG : PFN_SIG;
  add('signature', !signatureIs(block, sig), `signature is "${sig.slice(0, -1)}\\0"`,
    `no ${expect === 'devdax' ? 'dax' : 'pfn'} info block (the kernel would treat the namespace as unclaimed and write a new one when asked to)`, '-ENODEV');
  const computed = infoBlockChecksum(block);
  add('checksum', computed !== sb.checksum, 'checksum equals nd_fletcher64 of the block with the checksum field zeroed',
    `checksum mismatch (stored 0x${sb.checksum.toString(16)}, computed 0x${computed.toString(16)}): treated as no info block`, '-ENODEV');
  const parent = options.namespaceUuid ?? NULL_UUID;
  if (options.namespaceUuid === undefined && sb.parentUuid !== NULL_UUID) {
    rules.push({ rule: 'parent-uuid', verdict: 'unknown', check: 'parent_uuid equals the namespace uuid', kernel: `parent_uuid ${sb.parentUuid} names a labelled namespace whose uuid is not in this file` });
  } else {
    add('parent-uuid', sb.parentUuid !== parent, `parent_uuid equals the namespace uuid (${parent === NULL_UUID ? 'the null uuid of a label-less namespace' : parent})`,
      `parent_uuid ${sb.parentUuid} does not match: treated as no info block`, '-ENODEV');
  }
  add('mode', sb.mode !== PFN_MODE_RAM && sb.mode !== PFN_MODE_PMEM, 'mode is PFN_MODE_RAM (1) or PFN_MODE_PMEM (2)',
    `unknown mode ${sb.mode}`, '-ENXIO');
  const pmem = sb.mode === PFN_MODE_PMEM;
  add('page-size', eff.pageSize > LINUX_PAGE_SIZE, `page_size (${eff.pageSize}) is at most PAGE_SIZE (${LINUX_PAGE_SIZE}) when the memmap is on the namespace`,
    `init failed, page size mismatch ${eff.pageSize | 0}`, '-EOPNOTSUPP', pmem);
  add('struct-page-size', eff.pageStructSize < LINUX_STRUCT_PAGE_SIZE,
    `page_struct_size (${eff.pageStructSize}) is at least sizeof(struct page) (${LINUX_STRUCT_PAGE_SIZE}) when the memmap is on the namespace`,
    `init failed, struct page size mismatch ${eff.pageStructSize}`, '-EOPNOTSUPP', pmem);
  const daxSigned = signatureIs(block, DAX_SIG);
  add('alignment', !LINUX_SUPPORTED_ALIGNMENTS.includes(eff.align),
    `a dax info block's alignment (${eff.align}) is one of ${LINUX_SUPPORTED_ALIGNMENTS.join(', ')}`,
    `init failed, alignment mismatch: ${LINUX_DEFAULT_ALIGN}:${eff.align}`, '-EOPNOTSUPP', daxSigned);
  add('alignment-capacity', eff.align > size, `align (${eff.align}) is at most the namespace capacity (${size})`,
    `alignment: ${hexNo0x(eff.align)} exceeds capacity ${hexNo0x(size)}`, '-EOPNOTSUPP');
  add('dataoff-capacity', sb.dataoff >= size, `dataoff (${sb.dataoff}) is inside the namespace (${size} bytes)`,
    'pfn array size exceeds capacity of the namespace', '-EOPNOTSUPP');
  add('dataoff-alignment', (eff.align !== 0 && !aligned(phys + sb.dataoff + eff.startPad, eff.align)) || !aligned(sb.dataoff, LINUX_PAGE_SIZE),
    `namespace start + dataoff + start_pad is a multiple of align (${eff.align}) and dataoff of PAGE_SIZE`,
    `bad offset: 0x${hexNo0x(sb.dataoff)} dax disabled align: 0x${hexNo0x(eff.align)}`, '-EOPNOTSUPP');
  add('start-alignment', !aligned(phys + eff.startPad, LINUX_COMPAT_ALIGN), `namespace start + start_pad is a multiple of ${LINUX_COMPAT_ALIGN}`,
    'resource start misaligned', '-EOPNOTSUPP');
  add('end-alignment', !aligned(phys + size - eff.endTrunc, LINUX_COMPAT_ALIGN), `namespace end - end_trunc is a multiple of ${LINUX_COMPAT_ALIGN}`,
    'resource end misaligned', '-EOPNOTSUPP');
  add('small-namespace', sb.dataoff >= size - eff.startPad - eff.endTrunc, `dataoff (${sb.dataoff}) is below the namespace size less start_pad and end_trunc (${size - eff.startPad - eff.endTrunc})`,
    'bad offset with small namespace', '-EOPNOTSUPP');
  // __nvdimm_setup_pfn, once nd_pfn_validate has passed.
  if (sb.mode === PFN_MODE_RAM) {
    add('ram-reserve', sb.dataoff < INFO_BLOCK_RESERVE, `dataoff is past the ${INFO_BLOCK_RESERVE}-byte info-block reserve`,
      `dataoff ${sb.dataoff} is inside the info-block reserve`, '-EINVAL');
  } else if (pmem) {
    const available = Math.max(0, Math.floor((size - eff.startPad - eff.endTrunc - sb.dataoff) / LINUX_PAGE_SIZE));
    if (sb.npfns > available) rules.push({ rule: 'npfns', verdict: 'note', check: `npfns (${sb.npfns}) is at most the pages after dataoff (${available})`, kernel: `number of pfns truncated from ${sb.npfns} to ${available}` });
    else rules.push({ rule: 'npfns', verdict: 'pass', check: `npfns (${sb.npfns}) is at most the pages after dataoff (${available})` });
    const vm = vmemmapPlacement(eff, size, phys);
    add('memmap-room', vm.end > sb.dataoff, `the vmemmap blocks (${vm.blocks} x ${VMEMMAP_BLOCK} bytes from byte ${vm.start}) end by dataoff (${sb.dataoff})`,
      `vmemmap needs bytes ${vm.start} to ${vm.end} of the namespace but the altmap ends at dataoff ${sb.dataoff}: memory hot-add fails`, '-ENOMEM');
  }
  const firstFailure = rules.find((r) => r.verdict === 'fail');
  return { rules, ok: !firstFailure, firstFailure };
}

/**
 * Where vmemmap puts the struct pages when the memmap is on the namespace
 * (x86-64): PMD-sized blocks taken from the altmap, the first at the first
 * 2 MiB boundary past the info-block reserve; each block holds the struct
 * pages of one 128 MiB-aligned stretch of physical memory, from the
 * namespace's start rounded down to a subsection.
 */
export function vmemmapPlacement(eff: EffectiveFields, size: number, phys = 0): { start: number; end: number; blocks: number; firstPage: number; coveredPages: number } {
  const base = phys + eff.startPad;
  const firstPfn = Math.floor(Math.floor(base / LINUX_PAGE_SIZE) / (LINUX_COMPAT_ALIGN / LINUX_PAGE_SIZE)) * (LINUX_COMPAT_ALIGN / LINUX_PAGE_SIZE);
  const endPfn = Math.floor((phys + size - eff.endTrunc) / LINUX_PAGE_SIZE);
  const pagesPerBlock = VMEMMAP_BLOCK / LINUX_STRUCT_PAGE_SIZE;
  const blocks = endPfn > firstPfn ? Math.ceil(endPfn / pagesPerBlock) - Math.floor(firstPfn / pagesPerBlock) : 0;
  const start = Math.ceil((base + INFO_BLOCK_RESERVE) / VMEMMAP_BLOCK) * VMEMMAP_BLOCK - phys;
  return { start, end: start + blocks * VMEMMAP_BLOCK, blocks, firstPage: firstPfn - Math.floor(phys / LINUX_PAGE_SIZE), coveredPages: Math.max(0, endPfn - firstPfn) };
}

export interface LayoutArea {
  name: string;
  offset: number;
  bytes: number;
  what: string;
}

export interface PfnLayout {
  areas: LayoutArea[];
  /** Pages of the data area (what the kernel exposes). */
  dataPages: number;
  /** npfns x page_struct_size: the struct pages of the data pages. */
  memmapBytes: number;
  vmemmap?: ReturnType<typeof vmemmapPlacement>;
}

/** The namespace as the kernel divides it, with byte offsets. Sizes are clamped to the namespace so a hostile block cannot produce negative areas. */
export function pfnLayout(sb: PfnInfoBlock, size: number, phys = 0): PfnLayout {
  const eff = effectiveFields(sb);
  const clamp = (n: number) => Math.min(Math.max(0, n), size);
  const areas: LayoutArea[] = [];
  // Every area is cut to the namespace, so a hostile block cannot describe bytes the file does not have.
  const area = (name: string, from: number, to: number, what: string) => {
    const offset = clamp(from);
    areas.push({ name, offset, bytes: Math.max(0, clamp(to) - offset), what });
  };
  const base = clamp(eff.startPad);
  const dataStart = clamp(base + sb.dataoff);
  const dataEnd = Math.max(dataStart, clamp(size - eff.endTrunc));
  const reserveEnd = Math.min(clamp(base + INFO_BLOCK_RESERVE), dataStart);
  const memmapBytes = sb.npfns * eff.pageStructSize;
  if (base > 0) area('start pad', 0, base, 'skipped (section collision with System RAM)');
  area('info-block reserve', base, reserveEnd, `bytes ${base}..${base + 4095} left for labels, the info block at byte ${base + 4096}`);
  let vmemmap: PfnLayout['vmemmap'];
  if (sb.mode === PFN_MODE_PMEM) {
    const memmapEnd = Math.min(reserveEnd + memmapBytes, dataStart);
    area('memmap', reserveEnd, memmapEnd, `npfns x page_struct_size = ${sb.npfns} x ${eff.pageStructSize} = ${memmapBytes} bytes of struct page`);
    area('alignment padding', memmapEnd, dataStart, `the rest of the area before dataoff, up to the ${eff.align}-byte alignment`);
    vmemmap = vmemmapPlacement(eff, size, phys);
  } else {
    area('alignment padding', reserveEnd, dataStart, `up to the ${eff.align}-byte alignment (the memmap is in RAM)`);
  }
  area('data', dataStart, dataEnd, `from start_pad + dataoff: ${Math.floor((dataEnd - dataStart) / LINUX_PAGE_SIZE)} pages`);
  if (dataEnd < size) area('end truncation', dataEnd, size, 'not used (end_trunc)');
  return { areas, dataPages: Math.floor((dataEnd - dataStart) / LINUX_PAGE_SIZE), memmapBytes, vmemmap };
}
