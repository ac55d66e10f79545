/**
 * The memmap scan's WebAssembly loop (format/descriptorWasm.ts) against the
 * JavaScript scan it stands in for: over runs of descriptors as initialisation
 * and the allocator write them, with faults planted in raw bytes and in fields
 * with their checksum recomputed, both report the same descriptors to check in
 * full and the same block heads, in the same order. Runs follow each other
 * with the same and with different expectations, so that a template carried
 * over from one run to the next is exercised too.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { crc32 } from '../../src/engine/core/bytes';
import {
  DESC, descriptorCrcTable, DescriptorRun, DescriptorScan, encodeDescriptorInto, newDescriptorScan, PG_ALLOCATED, PG_BUDDY, PG_CORE, PG_RESERVED, scanDescriptorRun,
} from '../../src/engine/format/descriptor';
import { descriptorScanModule, newWasmScan, scanRunWasm, WASM_LAYOUT } from '../../src/engine/format/descriptorWasm';

interface RunSpec {
  count: number;
  reserved: boolean;
  node: number;
  zone: number;
  gen: number;
  /** Every this many frames a block head (0: none). */
  headEvery: number;
}

const runArb: fc.Arbitrary<RunSpec> = fc.record({
  count: fc.integer({ min: 1, max: 300 }),
  reserved: fc.boolean(),
  node: fc.integer({ min: 0, max: 1 }),
  zone: fc.integer({ min: 0, max: 2 }),
  gen: fc.integer({ min: 1, max: 3 }),
  headEvery: fc.constantFrom(0, 1, 7, 64),
});

type Fault =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'field'; at: number; word: number; value: number }
  | { kind: 'copy'; from: number; to: number };

const faultArb = (frames: number): fc.Arbitrary<Fault> => fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.integer({ min: 0, max: frames * 64 - 1 }), bit: fc.integer({ min: 0, max: 7 }) }),
  // A word of the body changed and the checksum recomputed: only the field tests can tell.
  fc.record({ kind: fc.constant('field' as const), at: fc.integer({ min: 0, max: frames - 1 }), word: fc.integer({ min: 0, max: 14 }), value: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer()) }),
  fc.record({ kind: fc.constant('copy' as const), from: fc.integer({ min: 0, max: frames - 1 }), to: fc.integer({ min: 0, max: frames - 1 }) }),
);

/** The descriptors of `runs`, from pfn `first` on, as a fresh image would hold them, and the runs to scan. */
function lay(first: number, specs: RunSpec[], bytes: Uint8Array): DescriptorRun[] {
  const runs: DescriptorRun[] = [];
  let at = 0;
  for (const r of specs) {
    for (let i = 0; i < r.count; i++) {
      const head = !r.reserved && r.headEvery > 0 && i % r.headEvery === 0;
      encodeDescriptorInto({
        flags: PG_CORE | (r.reserved ? PG_RESERVED : 0) | (head ? (i % 2 ? PG_ALLOCATED : PG_BUDDY) : 0), order: head ? 1 : 0, node: r.node, zone: r.zone,
        pfn: first + at + i, refcount: head && i % 2 ? 1 : 0, initGeneration: r.gen, owner: head && i % 2 ? 'x' : '', next: 0, prev: 0, volatileFlags: 0,
      }, bytes, (at + i) * 64);
    }
    runs.push({ at, count: r.count, firstPfn: first + at, reserved: r.reserved, node: r.node, zone: r.zone, minGeneration: r.gen, maxGeneration: 3, linksInDescriptor: false });
    at += r.count;
  }
  return runs;
}

function plant(bytes: Uint8Array, f: Fault): void {
  if (f.kind === 'flip') bytes[f.at] ^= 1 << f.bit;
  else if (f.kind === 'copy') bytes.copyWithin(f.to * 64, f.from * 64, f.from * 64 + 64);
  else {
    const d = new DataView(bytes.buffer, bytes.byteOffset + f.at * 64, 64);
    d.setInt32(f.word * 4, f.value, true);
    d.setUint32(DESC.crc, crc32(bytes.subarray(f.at * 64, f.at * 64 + DESC.crc)), true);
  }
}

const found = (s: DescriptorScan) => ({ odd: Array.from(s.odd.subarray(0, s.oddCount)), heads: Array.from(s.heads.subarray(0, s.headCount * 5)) });

describe('memmap scan in WebAssembly: same results as the JavaScript scan', () => {
  const mod = descriptorScanModule();
  const T = descriptorCrcTable();

  it('is available in Node.js (else the checker scans in JavaScript only)', () => {
    assert.ok(mod);
  });

  it('over runs with planted faults, runs after runs through one scanner', () => {
    const x = newWasmScan(mod!, 4096, T, WASM_LAYOUT);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 5000 }), fc.array(runArb, { minLength: 1, maxLength: 8 }).chain((specs) => {
          const frames = specs.reduce((n, r) => n + r.count, 0);
          return fc.tuple(fc.constant(specs), fc.array(faultArb(frames), { maxLength: 12 }));
        }),
        (first, [specs, faults]) => {
          x.dataBytes.fill(0);
          const runs = lay(first, specs, x.dataBytes);
          for (const f of faults) plant(x.dataBytes, f);
          const js = newDescriptorScan(first);
          const wasm = newDescriptorScan(first);
          for (const r of runs) scanDescriptorRun(x.dataWords, r, T, js);
          for (const r of runs) scanRunWasm(x.dataWords, r, T, wasm, x, scanDescriptorRun);
          assert.deepEqual(found(wasm), found(js));
          if (!faults.length) assert.equal(js.oddCount, 0, 'a fault-free run is cleared');
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a fault in every position of a long run, pfns across 2^31', () => {
    const x = newWasmScan(mod!, 4096, T, WASM_LAYOUT);
    const first = 2 ** 31 - 1000;
    for (let at = 0; at < 64; at++) {
      x.dataBytes.fill(0);
      const runs = lay(first, [{ count: 2000, reserved: false, node: 1, zone: 2, gen: 2, headEvery: 512 }], x.dataBytes);
      const victim = 3 + at * 31;
      x.dataBytes[victim * 64 + at] ^= 0x10;
      const js = newDescriptorScan(first);
      const wasm = newDescriptorScan(first);
      let general = 0;
      scanDescriptorRun(x.dataWords, runs[0], T, js);
      scanRunWasm(x.dataWords, runs[0], T, wasm, x, (...args) => {
        general++;
        scanDescriptorRun(...args);
      });
      assert.deepEqual(found(wasm), found(js));
      assert.deepEqual(found(js).odd, [victim], `byte ${at} of a descriptor`);
      // The loop itself clears the rest: only the first frame (the template), the heads and the fault go to the general test.
      assert.ok(general <= 1 + 4 + 1, `${general} descriptors went to the general test`);
    }
  });
});
