/**
 * Whether a kernel profile's descriptor fits the room the device reserves for
 * it. The core of every descriptor is 64 bytes on the device; a profile adds
 * fields. The seed design keeps those in RAM and reads them as 0 until set;
 * Linux records the struct page size a namespace was laid out for
 * (nd_pfn_sb.page_struct_size) and its nd_pfn_validate refuses a kernel whose
 * struct page is larger ("init failed, struct page size mismatch N").
 */
import { OperationError, UsageError } from '../core/errors';
import { DESCRIPTOR_SIZE } from './constants';
import type { MemmapPlacement } from './layout';
import { descriptorBytesInRam, type KernelProfile } from './profiles';

/** How a boot treats a profile whose descriptor is larger than the device reserves. */
export const MISMATCH_POLICIES = ['seed', 'linux'] as const;
export type MismatchPolicy = (typeof MISMATCH_POLICIES)[number];

export function mismatchPolicy(text: string): MismatchPolicy {
  if (!(MISMATCH_POLICIES as readonly string[]).includes(text)) throw new UsageError(`--as must be ${MISMATCH_POLICIES.join(' or ')}, not "${text}"`);
  return text as MismatchPolicy;
}

/** A boot into a profile whose descriptor is larger than the room reserved on the device. */
export interface StructPageMismatch {
  profile: string;
  /** The profile's descriptor: the core and its extended fields. */
  bytes: number;
  /** What the device reserves a frame. */
  reserved: number;
  /** Linux's words when it refuses (drivers/nvdimm/pfn_devs.c). */
  linux: string;
  /** What the seed design does instead. */
  seed: string;
}

/** The mismatch a boot of `profile` meets on an image whose memmap is at `memmap`; undefined when the descriptor fits (or the memmap is in RAM, built at any size). */
export function structPageMismatch(memmap: MemmapPlacement, profile: KernelProfile): StructPageMismatch | undefined {
  const bytes = descriptorBytesInRam(profile);
  if (memmap !== 'device' || bytes <= DESCRIPTOR_SIZE) return undefined;
  return {
    profile: profile.name, bytes, reserved: DESCRIPTOR_SIZE,
    linux: `init failed, struct page size mismatch ${DESCRIPTOR_SIZE}`,
    seed: `the ${DESCRIPTOR_SIZE}-byte core is read from the device and the other ${bytes - DESCRIPTOR_SIZE} bytes (${profile.extended.map((f) => f.name).join(', ')}) are kept in RAM, read as 0 until set`,
  };
}

/** One line for a boot Linux refuses. */
export function linuxRefusalText(m: StructPageMismatch): string {
  return `Linux refuses the namespace: "${m.linux}" (profile ${m.profile}'s struct page is ${m.bytes} bytes; the device reserves ${m.reserved} a frame)`;
}

/** A boot as Linux would do it: a profile whose descriptor is larger than the device reserves is refused before anything is written. */
export function refuseMismatchAsLinux(memmap: MemmapPlacement, profile: KernelProfile): void {
  const mismatch = structPageMismatch(memmap, profile);
  if (mismatch) throw new OperationError(`${linuxRefusalText(mismatch)}; the machine did not boot and the image is as it was`);
}
