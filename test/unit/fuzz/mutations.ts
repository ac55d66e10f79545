/**
 * Mutations of a valid image: bit flips anywhere or aimed at one structure,
 * overwrites with interesting values (with the checksum recomputed or not, so
 * both the checksum and the meaning checks are exercised), zeroed structures,
 * truncation and extension.
 */
import fc from 'fast-check';
import { Instance, STRUCTURES, StructureName } from './structures';

export type Mutation =
  | { kind: 'flip'; aim?: StructureName; pick: number; at: number; bit: number; fixCrc: boolean }
  | { kind: 'write'; aim: StructureName; pick: number; at: number; value: Uint8Array; fixCrc: boolean }
  | { kind: 'zero'; aim: StructureName; pick: number }
  | { kind: 'truncate'; keep: number; pageAligned: boolean }
  | { kind: 'extend'; bytes: number };

const le = (n: bigint, width: number) => {
  const out = new Uint8Array(width);
  for (let i = 0; i < width; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};

/** Values that break length, count and index fields: 0, 1, powers of two, all ones, 2^40, -1. */
const interesting: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constantFrom(0n, 1n, 2n, 7n, 8n, 0x7fn, 0x80n, 0xffn).map((v) => le(v, 1)),
  fc.constantFrom(0n, 1n, 3n, 0x1000n, 0x7fffffffn, 0x80000000n, 0xffffffffn).map((v) => le(v, 4)),
  fc.constantFrom(0n, 1n, 2n ** 32n, 2n ** 40n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n).map((v) => le(v, 8)),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => le(v, 8)),
  fc.uint8Array({ minLength: 1, maxLength: 16 }),
);

const aim = fc.constantFrom(...STRUCTURES);

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flip' as const), pick: fc.nat(), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }), fixCrc: fc.constant(false) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), aim, pick: fc.nat(), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }), fixCrc: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('write' as const), aim, pick: fc.nat(), at: fc.nat(), value: interesting, fixCrc: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('zero' as const), aim, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: fc.double({ min: 0, max: 1, noNaN: true }), pageAligned: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('extend' as const), bytes: fc.oneof(fc.integer({ min: 1, max: 4095 }), fc.constantFrom(4096, 8192, 2 * 2 ** 20)) }) },
);

export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 3 });

/** Applies mutations to a copy of `bytes`. A mutation aimed at a structure the image lacks does nothing. */
export function mutate(bytes: Uint8Array, instances: Instance[], mutations: Mutation[]): Uint8Array {
  let out = bytes.slice();
  for (const m of mutations) {
    if (m.kind === 'truncate') {
      let keep = Math.floor(out.length * m.keep);
      if (m.pageAligned) keep -= keep % 4096;
      out = out.slice(0, keep);
      continue;
    }
    if (m.kind === 'extend') {
      const bigger = new Uint8Array(out.length + m.bytes);
      bigger.set(out);
      out = bigger;
      continue;
    }
    if (m.kind === 'flip' && !m.aim) {
      if (out.length) out[m.at % out.length] ^= 1 << m.bit;
      continue;
    }
    const candidates = instances.filter((i) => i.structure === m.aim && i.offset + i.length <= out.length);
    if (candidates.length === 0) continue;
    const target = candidates[m.pick % candidates.length];
    if (m.kind === 'zero') out.fill(0, target.offset, target.offset + target.length);
    else if (m.kind === 'flip') out[target.offset + (m.at % target.length)] ^= 1 << m.bit;
    else {
      const at = target.offset + (m.at % target.length);
      out.set(m.value.subarray(0, Math.min(m.value.length, out.length - at)), at);
    }
    if (m.kind !== 'zero' && m.fixCrc) target.fixCrc?.(out);
  }
  return out;
}

/** One line naming the mutations, for failure reports. */
export function describeMutations(ms: Mutation[]): string {
  return ms.map((m) => JSON.stringify(m, (_, v) => (v instanceof Uint8Array ? `0x${Buffer.from(v).toString('hex')}` : v))).join(' ; ');
}
