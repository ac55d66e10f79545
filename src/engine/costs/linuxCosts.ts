/**
 * What Linux itself built to hold (or shrink) the memmap, as rows of the
 * costs calculator, each with the kernel's own numbers:
 *
 *   struct page on the device   ndctl create-namespace --map=dev: 64 bytes per
 *                               4 KiB page reserved at the namespace's start
 *                               (nd_pfn_sb.page_struct_size), free-list links
 *                               inside struct page (buddy_list)
 *   struct page in RAM          --map=mem: the same bytes in RAM
 *   KMSAN                       a 128-byte struct page (twice the memmap); a
 *                               namespace reserved for 64 is refused ("struct
 *                               page size mismatch")
 *   HugeTLB vmemmap optimisation  of the 8 memmap pages of a 2 MiB huge page
 *                               7 are freed; of the 4,096 of a 1 GiB page, 4,095
 *   device-dax vmemmap dedup    compound pages of a 2 MiB-aligned device-dax:
 *                               of 8 memmap pages, 6 are mapped to one shared
 *                               page (2 kept); in RAM only, never with --map=dev
 *   memmap_on_memory            a hot-plugged memory block's memmap at its own
 *                               head: 2 MiB of each 128 MiB block, 32 MiB of each 2 GiB
 *
 * Pure arithmetic, as costs.ts.
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const PAGE = 4 * KiB;
const STRUCT_PAGE = 64;

export type MemmapHome = 'device' | 'RAM' | 'memory block';

export interface LinuxCostRow {
  name: string;
  /** How the kernel gets there, in its own words and numbers. */
  how: string;
  /** Where those bytes live. */
  home: MemmapHome;
  /** Memmap bytes for the whole device (whole granules only). */
  memmapBytes: number;
  /** memmapBytes as a percentage of the device. */
  percentOfDevice: number;
}

/** `kept` bytes of memmap for each whole `granule` of the device. */
function row(deviceBytes: number, name: string, home: MemmapHome, granule: number, kept: number, how: string): LinuxCostRow {
  const memmapBytes = Math.floor(deviceBytes / granule) * kept;
  return { name, how, home, memmapBytes, percentOfDevice: (memmapBytes / deviceBytes) * 100 };
}

/** The rows for a device of `deviceBytes` (a positive whole number of bytes). */
export function linuxMemmapCosts(deviceBytes: number): LinuxCostRow[] {
  if (!Number.isSafeInteger(deviceBytes) || deviceBytes <= 0) throw new RangeError(`deviceBytes must be a positive whole number of bytes, not ${deviceBytes}`);
  // The memmap pages of one huge page: its 4 KiB pages' struct pages, in whole pages.
  const memmapPagesOf = (huge: number) => ((huge / PAGE) * STRUCT_PAGE) / PAGE;
  return [
    row(deviceBytes, 'struct page on the device (--map=dev)', 'device', PAGE, STRUCT_PAGE, '64 bytes per 4 KiB page reserved at the start of the namespace; free-list links inside struct page'),
    row(deviceBytes, 'struct page in RAM (--map=mem)', 'RAM', PAGE, STRUCT_PAGE, 'the same 64 bytes per page, in RAM, written at every boot'),
    row(deviceBytes, 'KMSAN (128-byte struct page)', 'RAM', PAGE, 2 * STRUCT_PAGE, 'twice the memmap; a namespace reserved for 64-byte struct pages is refused ("struct page size mismatch")'),
    row(deviceBytes, 'HugeTLB vmemmap optimisation, 2 MiB pages', 'RAM', 2 * MiB, PAGE, `of the ${memmapPagesOf(2 * MiB)} memmap pages of a 2 MiB huge page, ${memmapPagesOf(2 * MiB) - 1} freed`),
    row(deviceBytes, 'HugeTLB vmemmap optimisation, 1 GiB pages', 'RAM', GiB, PAGE, `of the ${memmapPagesOf(GiB).toLocaleString('en-US')} memmap pages of a 1 GiB huge page, ${(memmapPagesOf(GiB) - 1).toLocaleString('en-US')} freed`),
    row(deviceBytes, 'device-dax vmemmap deduplication, 2 MiB', 'RAM', 2 * MiB, 2 * PAGE, `of the ${memmapPagesOf(2 * MiB)} memmap pages of a 2 MiB compound page, 6 share one page (2 kept); not with a memmap on the device`),
    row(deviceBytes, 'memmap_on_memory, 128 MiB blocks', 'memory block', 128 * MiB, 2 * MiB, 'each hot-plugged 128 MiB block keeps its 2 MiB memmap at its own head'),
    row(deviceBytes, 'memmap_on_memory, 2 GiB blocks', 'memory block', 2 * GiB, 32 * MiB, 'each hot-plugged 2 GiB block keeps its 32 MiB memmap at its own head'),
  ];
}
