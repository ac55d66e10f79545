/**
 * The descriptor scan's common case in WebAssembly (128-bit SIMD): a run of
 * descriptors that equal a template in everything but the pfn (most of every
 * initialised section) is compared four vectors at a time, its pfn and
 * checksum checked with one table step, several times faster than the same
 * loop on JavaScript words. Every descriptor it cannot clear goes to
 * scanDescriptorRun, so the scan's results are the same either way (see
 * scanRunWasm). Where WebAssembly or its SIMD is missing, the scan stays in
 * JavaScript.
 *
 * The module is assembled here from its instructions (a few dozen), so no
 * binary is checked in.
 */
import { DESCRIPTOR_SIZE } from './constants';
import type { DescriptorRun, DescriptorScan, scanDescriptorRun } from './descriptor';

/** Where things lie in a scanner's memory (bytes); the data to scan follows `misses`' room. */
export const WASM_LAYOUT = {
  /** 1024 u32: what each value of body bytes 8..11 (the pfn's low word) adds to the checksum (rows 8..11 of descriptorCrcTable). */
  crcRows: 0,
  /** The template descriptor, 64 bytes. */
  template: 4096,
  /** u32 per descriptor of a call: the index of each descriptor that did not match. */
  misses: 4160,
} as const;

// ---------------------------------------------------------------------------
// A minimal assembler: just the encodings this module needs.
// ---------------------------------------------------------------------------

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 127;
    n >>>= 7;
    if (n) b |= 128;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 127;
    n >>= 7;
    if ((n === 0 && !(b & 64)) || (n === -1 && b & 64)) return [...out, b];
    out.push(b | 128);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => vec([...s].map((c) => [c.charCodeAt(0)]));
const I32 = 0x7f;
const V128 = 0x7b;
const simd = (op: number, ...rest: number[]): number[] => [0xfd, ...uleb(op), ...rest];
const W = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  const: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a], xor: [0x73], and: [0x71], or: [0x72], shl: [0x74], shrU: [0x76], eqz: [0x45], ne: [0x47], ltU: [0x49], geU: [0x4f],
  /** i32.load / i32.store with 4-byte alignment and a constant offset. */
  load: (offset: number) => [0x28, 2, ...uleb(offset)],
  store: (offset: number) => [0x36, 2, ...uleb(offset)],
  block: [0x02, 0x40], loop: [0x03, 0x40], if: [0x04, 0x40], end: [0x0b], brIf: (depth: number) => [0x0d, ...uleb(depth)],
  vload: (offset: number) => simd(0x00, 4, ...uleb(offset)),
  replaceLane32: (lane: number) => simd(0x1c, lane),
  vor: simd(0x50), vxor: simd(0x51), anyTrue: simd(0x53),
};

/**
 * scan(p, n, pfn, out) → misses: for descriptors i = 0..n−1 at p + 64 i, of
 * frames pfn + i, a miss unless the descriptor equals the template but for
 * bytes 8..11, which hold (pfn + i) mod 2^32, and its checksum, which is the
 * template's corrected for that word. Writes the index of each miss from
 * `out` on and returns how many.
 */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const L = WASM_LAYOUT;
  // Parameters 0..3: p, n, pfn, out. Locals: 4 i, 5 misses, 6 x, 7 template pfn word, 8 template crc, 9 that crc corrected for bytes 1..3 of x;
  // v128 10..13 the template.
  const [p, n, pfn, out, i, misses, x, tpfn, tcrc, hi, t0, t1, t2, t3] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  /** crc ^= row[byte k of x], for the pfn word's byte k. */
  const crcStep = (k: number) => [
    ...W.get(x), ...(k ? [...W.const(8 * k), ...W.shrU] : []), ...(k < 3 ? [...W.const(255), ...W.and] : []),
    ...W.const(2), ...W.shl, ...W.load(L.crcRows + 1024 * k), ...W.xor,
  ];
  const body = [
    ...W.const(0), ...W.vload(L.template), ...W.set(t0),
    ...W.const(0), ...W.vload(L.template + 16), ...W.set(t1),
    ...W.const(0), ...W.vload(L.template + 32), ...W.set(t2),
    ...W.const(0), ...W.vload(L.template + 48), ...W.set(t3),
    ...W.const(0), ...W.load(L.template + 8), ...W.set(tpfn),
    ...W.const(0), ...W.load(L.template + 60), ...W.set(tcrc),
    ...W.block,
    ...W.get(i), ...W.get(n), ...W.geU, ...W.brIf(0),
    ...W.loop,
    // The index goes down on every descriptor; the count moves on only for a miss.
    ...W.get(out), ...W.get(misses), ...W.const(2), ...W.shl, ...W.add, ...W.get(i), ...W.store(0),
    // The template's checksum with this pfn. Bytes 1..3 of x change only where the pfn's do: every 256 frames.
    ...W.get(pfn), ...W.get(tpfn), ...W.xor, ...W.set(x),
    ...W.get(i), ...W.eqz, ...W.get(pfn), ...W.const(255), ...W.and, ...W.eqz, ...W.or,
    ...W.if, ...W.get(tcrc), ...crcStep(1), ...crcStep(2), ...crcStep(3), ...W.set(hi), ...W.end,
    // A miss: any bit that differs from the template with this pfn and this checksum put into their lanes.
    ...W.get(misses),
    ...W.get(p), ...W.vload(0), ...W.get(t0), ...W.get(pfn), ...W.replaceLane32(2), ...W.vxor,
    ...W.get(p), ...W.vload(16), ...W.get(t1), ...W.vxor, ...W.vor,
    ...W.get(p), ...W.vload(32), ...W.get(t2), ...W.vxor, ...W.vor,
    ...W.get(p), ...W.vload(48), ...W.get(t3), ...W.get(hi), ...crcStep(0), ...W.replaceLane32(3), ...W.vxor, ...W.vor,
    ...W.anyTrue, ...W.add, ...W.set(misses),
    ...W.get(p), ...W.const(64), ...W.add, ...W.set(p),
    ...W.get(pfn), ...W.const(1), ...W.add, ...W.set(pfn),
    ...W.get(i), ...W.const(1), ...W.add, ...W.tee(i), ...W.get(n), ...W.ltU, ...W.brIf(0),
    ...W.end,
    ...W.end,
    ...W.get(misses),
    ...W.end,
  ];
  const code = [...vec([[...uleb(6), I32], [...uleb(4), V128]]), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([[I32]])]])), // type: (i32 × 4) → i32
    ...section(2, vec([[...name('m'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])), // import the memory (at least one page)
    ...section(3, vec([uleb(0)])), // one function of type 0
    ...section(7, vec([[...name('scan'), 0x00, ...uleb(0)]])),
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ]);
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module (shared with worker threads as is), or undefined where WebAssembly SIMD is not available. */
export function descriptorScanModule(): WebAssembly.Module | undefined {
  if (compiled === undefined) {
    compiled = null;
    try {
      const bytes = moduleBytes();
      if (typeof WebAssembly === 'object' && WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
    } catch {
      // No WebAssembly here (or compiling is not allowed): the JavaScript scan does it all.
    }
  }
  return compiled ?? undefined;
}

/** One scanner: its memory, the view of the data to scan, and the template in use. */
export interface WasmScan {
  scan: (p: number, n: number, pfn: number, out: number) => number;
  bytes: Uint8Array;
  words: Int32Array;
  /** Byte offset of the data in the memory (a multiple of 64). */
  data: number;
  /** The data area, as bytes and as the words a scan reads. */
  dataBytes: Uint8Array;
  dataWords: Int32Array;
  /** Descriptors the data area holds. */
  frames: number;
  layout: typeof WASM_LAYOUT;
  /** What the template was cleared for (the run's expectations), or undefined when there is none. */
  key: number[] | undefined;
  /** A run of one descriptor, reused for each descriptor the general scan checks. */
  one: DescriptorRun;
}

/**
 * A scanner over `frames` descriptors. Self-contained (worker threads run its
 * source): `T` is descriptorCrcTable(), `L` is WASM_LAYOUT.
 */
export function newWasmScan(mod: WebAssembly.Module, frames: number, T: Int32Array, L: typeof WASM_LAYOUT): WasmScan {
  const data = Math.ceil((L.misses + frames * 4) / 64) * 64;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((data + frames * 64) / 65536) });
  const instance = new WebAssembly.Instance(mod, { m: { memory } });
  const words = new Int32Array(memory.buffer);
  words.set(T.subarray(8 * 256, 12 * 256), L.crcRows / 4);
  return {
    scan: instance.exports.scan as WasmScan['scan'], bytes: new Uint8Array(memory.buffer), words, data, frames, layout: L, key: undefined,
    dataBytes: new Uint8Array(memory.buffer, data, frames * 64), dataWords: new Int32Array(memory.buffer, data, frames * 16),
    one: { at: 0, count: 1, firstPfn: 0, reserved: false, node: 0, zone: 0, minGeneration: 0, maxGeneration: 0, linksInDescriptor: false },
  };
}

/**
 * scanDescriptorRun over descriptors that lie in the scanner's data area (`w`
 * views it from its start), with the same results: a descriptor the template
 * loop clears equals a descriptor the general test cleared in everything the
 * tests read but its pfn, which is right, and its checksum, which is right
 * for it; every other descriptor goes to `general` (scanDescriptorRun) alone.
 * The template carries over to the next run when that expects the same
 * (reserved, node, zone, generations), as it is cleared under them.
 * Self-contained (worker threads run its source).
 */
export function scanRunWasm(w: Int32Array, run: DescriptorRun, T: Int32Array, out: DescriptorScan, x: WasmScan, general: typeof scanDescriptorRun): void {
  const one = x.one;
  one.reserved = run.reserved;
  one.node = run.node;
  one.zone = run.zone;
  one.minGeneration = run.minGeneration;
  one.maxGeneration = run.maxGeneration;
  one.linksInDescriptor = run.linksInDescriptor;
  const key = x.key;
  let i = 0;
  if (!key || key[0] !== (run.reserved ? 1 : 0) || key[1] !== run.node || key[2] !== run.zone || key[3] !== run.minGeneration || key[4] !== run.maxGeneration) {
    x.key = undefined;
    // The template: the first descriptor the general test clears that heads no block.
    while (i < run.count) {
      const at = run.at + i;
      one.at = at;
      one.firstPfn = run.firstPfn + i;
      const before = out.oddCount;
      general(w, one, T, out);
      i++;
      if (out.oddCount === before && (w[at * 16] & 12) === 0) {
        x.bytes.copyWithin(x.layout.template, x.data + at * 64, x.data + at * 64 + 64);
        x.key = [run.reserved ? 1 : 0, run.node, run.zone, run.minGeneration, run.maxGeneration];
        break;
      }
    }
  }
  if (i >= run.count) return;
  const misses = x.scan(x.data + (run.at + i) * 64, run.count - i, (run.firstPfn + i) | 0, x.layout.misses);
  for (let m = 0; m < misses; m++) {
    const k = i + x.words[x.layout.misses / 4 + m];
    one.at = run.at + k;
    one.firstPfn = run.firstPfn + k;
    general(w, one, T, out);
  }
}

if (DESCRIPTOR_SIZE !== 64) throw new Error('scanRunWasm does not match the descriptor size');
