/**
 * The memmap cost calculator: what tracking memory with one descriptor per
 * page costs, for 64-byte descriptors (struct page as Linux has it) and
 * 16-byte ones (a slimmed-down descriptor), at 4 KiB and 2 MiB granularity.
 *
 * For each combination it answers three questions:
 *   - how many descriptors and bytes the memmap takes, as a share of the device;
 *   - where it lives: on the device (the memmap takes device capacity) or in
 *     RAM (it takes that many bytes of RAM, shown as a share of the RAM when
 *     its size is known);
 *   - in a virtual machine: the guest keeps a memmap for its memory, and the
 *     host keeps another one for the same memory, so the tax is paid twice.
 *
 * Pure arithmetic: no I/O, usable from the CLI, the extension and a webview.
 */

export const DESCRIPTOR_SIZES = [64, 16] as const;
export const GRANULARITIES = [4096, 2 * 1024 * 1024] as const;

export type DescriptorSize = (typeof DESCRIPTOR_SIZES)[number];
export type Granularity = (typeof GRANULARITIES)[number];

export interface CostInput {
  /** Capacity of the persistent-memory device, in bytes. */
  deviceBytes: number;
  /** RAM of the machine, in bytes; when given, in-RAM costs are also shown as a share of it. */
  ramBytes?: number;
  /** Memory given to a virtual-machine guest, in bytes; defaults to deviceBytes. */
  vmGuestBytes?: number;
}

/** The memmap lives on the device: it takes device capacity. */
export interface OnDeviceCost {
  /** Device bytes taken by the memmap (= memmapBytes). */
  memmapBytes: number;
  /** Device bytes left for data. */
  usableBytes: number;
  /** memmapBytes as a percentage of the device. */
  percentOfDevice: number;
}

/** The memmap lives in RAM: the device keeps all its capacity, RAM pays instead. */
export interface InRamCost {
  /** RAM bytes taken by the memmap (= memmapBytes). */
  ramBytesUsed: number;
  /** ramBytesUsed as a percentage of CostInput.ramBytes; undefined when the RAM size was not given. */
  percentOfRam?: number;
  /** True when the memmap alone would take all the given RAM or more (it does not fit); undefined when the RAM size was not given. */
  exceedsRam?: boolean;
}

/** A guest of `guestBytes`: its own memmap for its memory, plus the host's memmap for the same memory. */
export interface VmCost {
  guestBytes: number;
  /** Descriptors each side keeps for the guest's memory. */
  descriptors: number;
  /** The guest kernel's memmap for its memory. */
  guestMemmapBytes: number;
  /** The host kernel's memmap for the same memory. */
  hostMemmapBytes: number;
  /** host + guest. */
  totalBytes: number;
  /** totalBytes as a percentage of guestBytes (twice the bare-metal percentage). */
  totalPercent: number;
}

export interface CostRow {
  /** Bytes per descriptor. */
  descriptorBytes: DescriptorSize;
  /** Bytes of memory tracked by one descriptor. */
  granularityBytes: Granularity;
  /** One per whole granule of the device; a partial granule at the end is not tracked. */
  descriptors: number;
  /** descriptors × descriptorBytes. */
  memmapBytes: number;
  /** memmapBytes as a percentage of deviceBytes. */
  percentOfDevice: number;
  onDevice: OnDeviceCost;
  inRam: InRamCost;
  vm: VmCost;
}

export interface CostTable {
  /** The input with defaults applied. */
  deviceBytes: number;
  ramBytes?: number;
  vmGuestBytes: number;
  /** One row per descriptor size and granularity: 64-byte rows first, 4 KiB before 2 MiB within each. */
  rows: CostRow[];
}

function checkSize(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw new RangeError(`${name} must be a positive whole number of bytes (at most ${Number.MAX_SAFE_INTEGER}), not ${shown}`);
  }
  return value;
}

/** Whole granules in `bytes`. */
const granules = (bytes: number, granularity: number) => Math.floor(bytes / granularity);
const percent = (part: number, whole: number) => (part / whole) * 100;

/** The memmap cost of every descriptor size and granularity. Throws RangeError on a size that is not a positive safe integer. */
export function memmapCosts(input: CostInput): CostTable {
  const deviceBytes = checkSize(input.deviceBytes, 'deviceBytes');
  const ramBytes = input.ramBytes === undefined ? undefined : checkSize(input.ramBytes, 'ramBytes');
  const vmGuestBytes = input.vmGuestBytes === undefined ? deviceBytes : checkSize(input.vmGuestBytes, 'vmGuestBytes');
  const rows: CostRow[] = [];
  for (const descriptorBytes of DESCRIPTOR_SIZES) {
    for (const granularityBytes of GRANULARITIES) {
      const descriptors = granules(deviceBytes, granularityBytes);
      const memmapBytes = descriptors * descriptorBytes;
      const guestDescriptors = granules(vmGuestBytes, granularityBytes);
      const guestMemmapBytes = guestDescriptors * descriptorBytes;
      rows.push({
        descriptorBytes,
        granularityBytes,
        descriptors,
        memmapBytes,
        percentOfDevice: percent(memmapBytes, deviceBytes),
        onDevice: { memmapBytes, usableBytes: deviceBytes - memmapBytes, percentOfDevice: percent(memmapBytes, deviceBytes) },
        inRam: ramBytes === undefined
          ? { ramBytesUsed: memmapBytes }
          : { ramBytesUsed: memmapBytes, percentOfRam: percent(memmapBytes, ramBytes), exceedsRam: memmapBytes >= ramBytes },
        vm: {
          guestBytes: vmGuestBytes,
          descriptors: guestDescriptors,
          guestMemmapBytes,
          hostMemmapBytes: guestMemmapBytes,
          totalBytes: 2 * guestMemmapBytes,
          totalPercent: percent(2 * guestMemmapBytes, vmGuestBytes),
        },
      });
    }
  }
  return ramBytes === undefined ? { deviceBytes, vmGuestBytes, rows } : { deviceBytes, ramBytes, vmGuestBytes, rows };
}

/** The row for one descriptor size and granularity. */
export function costRow(table: CostTable, descriptorBytes: DescriptorSize, granularityBytes: Granularity): CostRow {
  const row = table.rows.find((r) => r.descriptorBytes === descriptorBytes && r.granularityBytes === granularityBytes);
  if (!row) throw new RangeError(`no cost row for ${descriptorBytes}-byte descriptors at ${granularityBytes}-byte granularity`);
  return row;
}
