/**
 * The threads' question asked of a real namespace: would a kernel whose
 * struct page is N bytes accept it, and what would laying the namespace out
 * for N-byte struct pages cost? Linux compares page_struct_size with
 * sizeof(struct page) and refuses a smaller one; the design in the threads
 * keeps a fixed core on the device and the rest in RAM, read as 0 until set.
 */
import { INFO_BLOCK_RESERVE } from './infoBlockCommon';
import { LINUX_PAGE_SIZE, PFN_MODE_PMEM, type EffectiveFields } from './pfnInfoBlock';

/** The struct page of Linux 6.1 x86-64 (and most kernels since 2.6): 64 bytes. */
export const STRUCT_PAGE_BYTES = 64;
/** With KMSAN, Linux's struct page grew to 128 bytes for a while (its shadow and origin pointers). */
export const KMSAN_STRUCT_PAGE_BYTES = 128;

export interface StructPageSizeVerdict {
  /** The kernel's sizeof(struct page). */
  bytes: number;
  /** Whether Linux's nd_pfn_validate accepts the namespace as written. */
  linuxAccepts: boolean;
  /** In the kernel's words when it refuses. */
  linux: string;
  /** What the design with a device-resident core and a RAM extension reads. */
  coreOnDevice: string;
  /** The namespace laid out afresh for N-byte struct pages (as nd_pfn_init reserves room): dataoff and data pages. */
  relaid: { dataoff: number; dataPages: number };
  /** Bytes of capacity the larger memmap (and its alignment) takes from the data area, against the namespace as written; negative when it gives some back. */
  capacityCost: number;
}

const alignUp = (n: number, to: number) => Math.ceil(n / to) * to;

/**
 * `size`: the namespace's bytes; `dataoff` and `npfns` as the info block
 * says; `eff` its effective fields. Only meaningful for the memmap on the
 * namespace (PFN_MODE_PMEM); with the memmap in RAM no struct page is on the
 * device and any size fits.
 */
export function structPageSizeVerdict(bytes: number, size: number, mode: number, dataoff: number, eff: EffectiveFields): StructPageSizeVerdict {
  const stored = eff.pageStructSize;
  if (mode !== PFN_MODE_PMEM) {
    return {
      bytes, linuxAccepts: true, linux: 'accepts: with the memmap in RAM (--map=mem) the namespace holds no struct pages, whatever their size',
      coreOnDevice: 'nothing on the device to read', relaid: { dataoff, dataPages: Math.floor((size - dataoff - eff.startPad - eff.endTrunc) / LINUX_PAGE_SIZE) }, capacityCost: 0,
    };
  }
  const linuxAccepts = stored >= bytes;
  // nd_pfn_init: room for one struct page per page of the namespace past the reserve, rounded up to the alignment.
  const usable = size - eff.startPad - eff.endTrunc;
  const pagesToDescribe = Math.floor((usable - INFO_BLOCK_RESERVE) / LINUX_PAGE_SIZE);
  const align = Math.max(eff.align, LINUX_PAGE_SIZE);
  const relaidDataoff = alignUp(INFO_BLOCK_RESERVE + bytes * pagesToDescribe, align);
  const relaidPages = Math.max(0, Math.floor((usable - relaidDataoff) / LINUX_PAGE_SIZE));
  const asWritten = Math.max(0, Math.floor((usable - dataoff) / LINUX_PAGE_SIZE));
  return {
    bytes,
    linuxAccepts,
    linux: linuxAccepts ? `accepts: page_struct_size ${stored} ≥ ${bytes}` : `refuses: "init failed, struct page size mismatch ${stored}" (-EOPNOTSUPP): page_struct_size ${stored} < sizeof(struct page) ${bytes}`,
    coreOnDevice: bytes <= STRUCT_PAGE_BYTES
      ? `reads the ${bytes}-byte descriptor from the device as it is`
      : `reads the ${STRUCT_PAGE_BYTES}-byte core from the device and the other ${bytes - STRUCT_PAGE_BYTES} bytes as 0 (kept in RAM, ${(bytes - STRUCT_PAGE_BYTES) * asWritten} bytes for the ${asWritten} data pages)`,
    relaid: { dataoff: relaidDataoff, dataPages: relaidPages },
    capacityCost: (asWritten - relaidPages) * LINUX_PAGE_SIZE,
  };
}
