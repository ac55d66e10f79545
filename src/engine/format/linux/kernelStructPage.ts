/**
 * The struct page of a Linux kernel generation, as data: its size, its
 * fields with their offsets (from the kernel's BTF), the PG_ flag names, the
 * zone names, how a free buddy page is marked, and the poison values. One
 * entry per generation; decoding (structPage.ts) reads only this.
 */
import { DEBIAN_6_1_X86_64_FLAGS_LAYOUT, type PageFlagsLayout } from './pageFlagsLayout';

export interface StructPageField {
  name: string;
  offset: number;
  size: 4 | 8;
  /** The union member it belongs to when the word means different things for different pages. */
  union?: string;
}

export interface KernelStructPage {
  /** Stable key, e.g. "linux-6.1-x86_64". */
  id: string;
  title: string;
  size: number;
  /** PG_ names by bit, up to __NR_PAGEFLAGS. */
  flagNames: string[];
  zoneNames: string[];
  /** The zone number of ZONE_DEVICE (pages of a namespace). */
  deviceZone: number;
  flagsLayout: PageFlagsLayout;
  /**
   * How page_type marks a free buddy page. `inverted`: 6.1's scheme, where
   * page_type starts at -1 (_mapcount unused) and a type clears its bit under
   * PAGE_TYPE_BASE; PageBuddy(page) is (page_type & (base | bit)) == base.
   */
  pageTypes: { scheme: 'inverted'; base: number; bits: Record<string, number> };
  /** Values the kernel stores as markers, by name. */
  poison: Record<string, bigint>;
  /** The first eight words, as the generation's unions name them. */
  words: StructPageField[];
}

/**
 * Linux 6.1, x86-64, as Debian builds it: struct page from its BTF
 * (64 bytes), enum pageflags and zone_type from the same BTF, PAGE_TYPE_BASE
 * and PG_buddy from include/linux/page-flags.h, TAIL_MAPPING and the list
 * poisons from include/linux/poison.h (POISON_POINTER_DELTA 0xdead000000000000).
 */
export const LINUX_6_1_X86_64: KernelStructPage = {
  id: 'linux-6.1-x86_64',
  title: 'Linux 6.1, x86-64',
  size: 64,
  flagNames: [
    'locked', 'referenced', 'uptodate', 'dirty', 'lru', 'active', 'workingset', 'waiters', 'error', 'slab',
    'owner_priv_1', 'arch_1', 'reserved', 'private', 'private_2', 'writeback', 'head', 'mappedtodisk', 'reclaim',
    'swapbacked', 'unevictable', 'mlocked', 'uncached', 'hwpoison', 'arch_2',
  ],
  zoneNames: ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'],
  deviceZone: 4,
  flagsLayout: DEBIAN_6_1_X86_64_FLAGS_LAYOUT,
  pageTypes: { scheme: 'inverted', base: 0xf0000000, bits: { buddy: 0x80, offline: 0x100, table: 0x200, guard: 0x400 } },
  poison: {
    LIST_POISON1: 0xdead000000000100n,
    LIST_POISON2: 0xdead000000000122n,
    TAIL_MAPPING: 0xdead000000000400n,
  },
  words: [
    { name: 'flags', offset: 0, size: 8 },
    { name: 'lru.next | buddy_list.next | compound_head | pgmap', offset: 8, size: 8, union: 'word1' },
    { name: 'lru.prev | buddy_list.prev | compound_dtor/order/mapcount | zone_device_data', offset: 16, size: 8, union: 'word2' },
    { name: 'mapping', offset: 24, size: 8 },
    { name: 'index', offset: 32, size: 8 },
    { name: 'private', offset: 40, size: 8 },
    { name: '_mapcount | page_type', offset: 48, size: 4 },
    { name: '_refcount', offset: 52, size: 4 },
    { name: 'memcg_data', offset: 56, size: 8 },
  ],
};

export const KERNEL_STRUCT_PAGES: readonly KernelStructPage[] = [LINUX_6_1_X86_64];

export function kernelStructPage(id: string): KernelStructPage | undefined {
  return KERNEL_STRUCT_PAGES.find((k) => k.id === id);
}
