/**
 * What a file is, told by its content: an image of this project, or a Linux
 * namespace (fsdax or devdax with a pfn/dax info block, sector mode with a
 * BTT info block, or raw with none). Browser-safe: works on the first 8 KiB.
 */
import { SUPERBLOCK_MAGIC } from '../superblock';
import { KMSAN_STRUCT_PAGE_BYTES, STRUCT_PAGE_BYTES, structPageSizeVerdict, type StructPageSizeVerdict } from './structPageSize';
import { bttNdctlFields, decodeBttInfoBlock, isBttInfoBlock } from './bttInfoBlock';
import { hex64, INFO_BLOCK_OFFSET, INFO_BLOCK_SIZE, infoBlockChecksum, storedChecksum } from './infoBlockCommon';
import {
  decodePfnInfoBlock, effectiveFields, ndctlFields, pfnKindOf, pfnLayout, PFN_MODE_PMEM, PFN_MODE_RAM, validatePfnInfoBlock,
  type LayoutArea, type ValidateOptions, type ValidationRule,
} from './pfnInfoBlock';

/** Bytes to read from the start of a file to tell what it is. */
export const DETECT_BYTES = INFO_BLOCK_OFFSET + INFO_BLOCK_SIZE;

export type FileKind = 'pmem-image' | 'fsdax' | 'devdax' | 'sector' | 'raw' | 'too-small';

export interface Detection {
  kind: FileKind;
  /** One line saying what the file is. */
  description: string;
}

function startsWith(bytes: Uint8Array, text: string): boolean {
  if (bytes.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * Tells a file's kind from its first DETECT_BYTES bytes (`head`, fewer if
 * the file is shorter) and its size. Only signatures decide; whether an info
 * block is valid is for validation to say.
 */
export function detectKind(head: Uint8Array, fileSize: number): Detection {
  if (startsWith(head, SUPERBLOCK_MAGIC)) return { kind: 'pmem-image', description: 'a pmem image' };
  if (fileSize < DETECT_BYTES || head.length < DETECT_BYTES) {
    return { kind: 'too-small', description: `not a pmem image, and at ${fileSize} bytes too short for a Linux namespace info block (which ends at byte ${DETECT_BYTES})` };
  }
  const block = head.subarray(INFO_BLOCK_OFFSET, DETECT_BYTES);
  const pfn = pfnKindOf(block);
  if (pfn === 'fsdax') return { kind: 'fsdax', description: 'a Linux fsdax namespace (pfn info block "NVDIMM_PFN_INFO" at byte 4096)' };
  if (pfn === 'devdax') return { kind: 'devdax', description: 'a Linux devdax namespace (dax info block "NVDIMM_DAX_INFO" at byte 4096)' };
  if (isBttInfoBlock(block)) return { kind: 'sector', description: 'a Linux sector-mode namespace (BTT info block "BTT_ARENA_INFO" at byte 4096)' };
  return { kind: 'raw', description: 'not a pmem image, and no Linux info block at byte 4096: a raw namespace (or any other file)' };
}

export function isLinuxNamespace(kind: FileKind): boolean {
  return kind === 'fsdax' || kind === 'devdax' || kind === 'sector';
}

export interface ChecksumReport {
  stored: string;
  computed: string;
  ok: boolean;
}

export interface PfnNamespaceReport {
  kind: 'fsdax' | 'devdax';
  description: string;
  size: number;
  /** Named as `ndctl read-infoblock -j` names them. */
  fields: Record<string, string | number>;
  effective: ReturnType<typeof effectiveFields>;
  memmap: 'namespace' | 'ram' | 'unknown';
  checksum: ChecksumReport;
  validation: { ok: boolean; firstFailure?: string; rules: ValidationRule[] };
  layout: { areas: LayoutArea[]; dataPages: number; memmapBytes: number; vmemmap?: { start: number; end: number; blocks: number; firstPage: number; coveredPages: number } };
  /** Would a kernel whose struct page has this many bytes accept the namespace, and at what capacity (64, 128 and any asked for). */
  structPageSizes: StructPageSizeVerdict[];
}

export interface BttNamespaceReport {
  kind: 'sector';
  description: string;
  size: number;
  fields: Record<string, string | number>;
  checksum: ChecksumReport;
  /** The arena's areas as absolute byte offsets in the namespace. */
  layout: { areas: LayoutArea[] };
}

export interface OtherReport {
  kind: 'raw' | 'too-small' | 'pmem-image';
  description: string;
  size: number;
}

export type NamespaceReport = PfnNamespaceReport | BttNamespaceReport | OtherReport;

function checksumOf(block: Uint8Array): ChecksumReport {
  const stored = storedChecksum(block);
  const computed = infoBlockChecksum(block);
  return { stored: hex64(stored), computed: hex64(computed), ok: stored === computed };
}

/** Everything the info block at byte 4096 says, with its checks and the layout derived from it. Never throws on hostile content. */
export function describeNamespace(head: Uint8Array, fileSize: number, options: Omit<ValidateOptions, 'namespaceSize'> & { structPageSize?: number } = {}): NamespaceReport {
  const d = detectKind(head, fileSize);
  if (d.kind === 'fsdax' || d.kind === 'devdax') {
    const block = head.subarray(INFO_BLOCK_OFFSET, DETECT_BYTES);
    const sb = decodePfnInfoBlock(block);
    const v = validatePfnInfoBlock(block, { ...options, namespaceSize: fileSize });
    const layout = pfnLayout(sb, fileSize, options.physStart);
    const eff = effectiveFields(sb);
    const sizes = [...new Set([STRUCT_PAGE_BYTES, KMSAN_STRUCT_PAGE_BYTES, ...(options.structPageSize ? [options.structPageSize] : [])])].sort((a, b) => a - b);
    return {
      kind: d.kind, description: d.description, size: fileSize, fields: ndctlFields(sb), effective: effectiveFields(sb),
      memmap: sb.mode === PFN_MODE_PMEM ? 'namespace' : sb.mode === PFN_MODE_RAM ? 'ram' : 'unknown',
      checksum: checksumOf(block),
      validation: { ok: v.ok, firstFailure: v.firstFailure?.rule, rules: v.rules },
      layout: { ...layout, vmemmap: layout.vmemmap && { ...layout.vmemmap } },
      structPageSizes: sizes.map((n) => structPageSizeVerdict(n, fileSize, sb.mode, sb.dataoff, eff)),
    };
  }
  if (d.kind === 'sector') {
    const block = head.subarray(INFO_BLOCK_OFFSET, DETECT_BYTES);
    const sb = decodeBttInfoBlock(block);
    const at = (rel: number) => INFO_BLOCK_OFFSET + rel;
    const ordered: Array<[string, number, string]> = [
      ['info block', 0, 'this arena\'s info block'],
      ['data', sb.dataoff, `${sb.internalNlba} internal blocks of ${sb.internalLbasize} bytes`],
      ['map', sb.mapoff, `${sb.externalNlba} map entries of 4 bytes`],
      ['log', sb.logoff, `${sb.nfree} log groups`],
      ['info block copy', sb.info2off, 'the backup info block'],
    ];
    // Offsets come from the block: cut each area to the namespace so a hostile block cannot point past the file.
    const clamp = (n: number) => Math.min(Math.max(0, n), fileSize);
    const areas = ordered.map(([name, rel, what], i) => {
      const next = i + 1 < ordered.length ? ordered[i + 1][1] : sb.info2off + INFO_BLOCK_SIZE;
      const offset = clamp(at(rel));
      return { name, offset, bytes: Math.max(0, clamp(at(next)) - offset), what };
    });
    return { kind: 'sector', description: d.description, size: fileSize, fields: bttNdctlFields(sb), checksum: checksumOf(block), layout: { areas } };
  }
  return { kind: d.kind, description: d.description, size: fileSize };
}
