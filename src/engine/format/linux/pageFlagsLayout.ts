/**
 * Where a Linux kernel keeps the node, zone, section, last-cpupid and LRU
 * generation numbers in the upper bits of `page->flags`. It depends on the
 * kernel's configuration, so the kernel prints it at boot (with
 * `mminit_loglevel=4`): the `mminit::pageflags_layout_*` lines, which
 * parsePageFlagsLayout reads.
 */

export interface BitField {
  /** Lowest bit. */
  shift: number;
  width: number;
}

export interface PageFlagsLayout {
  /** Bits 0 .. flagBits-1 are the PG_ flags (__NR_PAGEFLAGS). */
  flagBits: number;
  section: BitField;
  node: BitField;
  zone: BitField;
  lastCpupid: BitField;
  kasanTag: BitField;
  /** Multi-gen LRU: the generation and the tier's reference count, below the KASAN tag (include/linux/mm.h). */
  lruGen: BitField;
  lruRefs: BitField;
  /** Where the layout came from, for reports. */
  source: string;
}

/** The layout Debian's 6.1 kernel for x86-64 printed (NODES_SHIFT 10, SPARSEMEM_VMEMMAP, NUMA balancing, LRU_GEN). */
export const DEBIAN_6_1_X86_64_FLAGS_LAYOUT: PageFlagsLayout = {
  flagBits: 25,
  section: { shift: 0, width: 0 },
  node: { shift: 54, width: 10 },
  zone: { shift: 51, width: 3 },
  lastCpupid: { shift: 30, width: 21 },
  kasanTag: { shift: 30, width: 0 },
  lruGen: { shift: 27, width: 3 },
  lruRefs: { shift: 25, width: 2 },
  source: 'Debian 6.1 x86-64 (mminit::pageflags_layout of linux-image-6.1.0-amd64)',
};

function numbersAfter(line: string, names: string[]): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const name of names) {
    const m = new RegExp(`\\b${name} (\\d+)`).exec(line);
    if (!m) return undefined;
    out[name] = Number(m[1]);
  }
  return out;
}

/**
 * Reads the layout from the kernel's boot log (a whole dmesg or just its
 * mminit lines). Returns undefined when the lines are missing; throws with
 * the line when they are there but do not add up to 64 bits.
 */
export function parsePageFlagsLayout(dmesg: string, source = 'the kernel\'s boot log'): PageFlagsLayout | undefined {
  const line = (tag: string) => dmesg.split('\n').find((l) => l.includes(`mminit::pageflags_layout_${tag} `));
  const widthsLine = line('widths');
  const pgshiftsLine = line('pgshifts');
  if (!widthsLine || !pgshiftsLine) return undefined;
  const w = numbersAfter(widthsLine, ['Section', 'Node', 'Zone', 'Lastcpupid', 'Kasantag', 'Flags']);
  const s = numbersAfter(pgshiftsLine, ['Section', 'Node', 'Zone', 'Lastcpupid', 'Kasantag']);
  if (!w || !s) throw new Error(`page-flags layout line not understood: "${(w ? pgshiftsLine : widthsLine).trim()}"`);
  // Kernels without multi-gen LRU print no Gen/Tier.
  const gen = /\bGen (\d+)/.exec(widthsLine);
  const tier = /\bTier (\d+)/.exec(widthsLine);
  const genWidth = gen ? Number(gen[1]) : 0;
  const refsWidth = tier ? Number(tier[1]) : 0;
  // The kernel prints a PGSHIFT of 0 for a field of width 0.
  const kasanShift = w.Kasantag ? s.Kasantag : s.Lastcpupid;
  const layout: PageFlagsLayout = {
    flagBits: w.Flags,
    section: { shift: s.Section, width: w.Section },
    node: { shift: s.Node, width: w.Node },
    zone: { shift: s.Zone, width: w.Zone },
    lastCpupid: { shift: s.Lastcpupid, width: w.Lastcpupid },
    kasanTag: { shift: kasanShift, width: w.Kasantag },
    lruGen: { shift: kasanShift - genWidth, width: genWidth },
    lruRefs: { shift: kasanShift - genWidth - refsWidth, width: refsWidth },
    source,
  };
  const used = w.Section + w.Node + w.Zone + w.Lastcpupid + w.Kasantag + genWidth + refsWidth + w.Flags;
  if (used > 64) throw new Error(`page-flags layout uses ${used} bits, more than the 64 of page->flags: "${widthsLine.trim()}"`);
  return layout;
}

/** The value of one bit field of a 64-bit flags word. */
export function fieldOf(flags: bigint, f: BitField): number {
  if (f.width === 0) return 0;
  return Number((flags >> BigInt(f.shift)) & ((1n << BigInt(f.width)) - 1n));
}
