/**
 * Kernel profiles: what the running kernel adds to each descriptor beyond the
 * 64-byte core. The extended part lives in RAM only (it is never written to the
 * device), so rebooting into another profile needs no conversion: fields the
 * profile lacks read 0, and fields it adds read 0 until a page is (re)used.
 */
import { UsageError } from '../core/errors';

export interface ExtendedField {
  name: string;
  bytes: 4 | 8;
  description: string;
}

export interface KernelProfile {
  name: string;
  description: string;
  extended: readonly ExtendedField[];
}

const SHADOW: ExtendedField = { name: 'shadow', bytes: 8, description: 'kmemcheck shadow page pointer (leak tracking)' };
const LAST_CPUPID: ExtendedField = { name: 'last_cpupid', bytes: 4, description: 'NUMA balancing: last cpu and pid to touch the page' };
const PAGE_OWNER: ExtendedField = { name: 'page_owner', bytes: 4, description: 'page_owner: history step that allocated the page' };

export const PROFILES: readonly KernelProfile[] = [
  { name: 'default', description: 'production kernel: core descriptor only', extended: [] },
  { name: 'kmemcheck', description: 'kmemcheck debugging: adds a shadow pointer', extended: [SHADOW] },
  { name: 'numa', description: 'NUMA balancing: adds last_cpupid', extended: [LAST_CPUPID] },
  { name: 'debug', description: 'debug kernel: shadow, last_cpupid and page_owner', extended: [SHADOW, LAST_CPUPID, PAGE_OWNER] },
];

export const ALL_EXTENDED_FIELDS: readonly ExtendedField[] = [SHADOW, LAST_CPUPID, PAGE_OWNER];

export function findProfile(name: string): KernelProfile | undefined {
  return PROFILES.find((p) => p.name === name);
}

/** The profile called `name`; a UsageError naming the known ones otherwise. */
export function knownProfile(name: string): KernelProfile {
  const p = findProfile(name);
  if (!p) throw new UsageError(`unknown kernel profile "${name}" (known: ${PROFILES.map((k) => k.name).join(', ')})`);
  return p;
}

/** Bytes one descriptor takes in RAM under a profile: the core plus its extended part. */
export function descriptorBytesInRam(profile: KernelProfile): number {
  return 64 + profile.extended.reduce((sum, f) => sum + f.bytes, 0);
}
