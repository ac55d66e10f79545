/**
 * The checker reads the memmap in chunks and clears descriptors on raw words;
 * this holds it to the report of the descriptor-by-descriptor checker it
 * replaced (checkerOracle.ts): the same problems, in the same order, with the
 * same locations and counts, on images with planted faults of every kind and
 * on the detection suite's and the fuzzer's mutations.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allocOp, blocks, check, CheckOptions, CheckReport, CreateOptions, freeOp, initAllOp, MemoryStore, OverlayStore, PAGE_SIZE, PmemImage, Store } from '../../src/engine';
import { openForReading } from '../../src/cli/io';
import { checkImageFile, endWorkerPool, fileScanner, ownRunnableThreads, pooledWorkerIds } from '../../src/engine/node/checkWorkers';
import { Worker } from 'node:worker_threads';
import { FileStore } from '../../src/engine/node/fileStore';
import { crc32 } from '../../src/engine/core/bytes';
import { decodeDescriptor, DESC, encodeDescriptor, PG_ALLOCATED, PG_BUDDY, PG_RESERVED } from '../../src/engine/format/descriptor';
import { FREE_AREA, freeAreaEntryOffset, freeAreaIndex } from '../../src/engine/format/freeArea';
import { LINK } from '../../src/engine/format/freeLink';
import { SECTION, sectionEntryOffset } from '../../src/engine/format/sectionTable';
import { oracleCheck } from './checkerOracle';
import { DETECTION_RECIPES, EDITS } from './fuzz/detection';
import { build, recipeArb, storeOf } from './fuzz/images';
import { mutate, mutationsArb } from './fuzz/mutations';
import { structuresOf } from './fuzz/structures';
import { dataView, GiB, MiB } from './helpers';

/**
 * Checks `open()` with both checkers and asserts the same report, with the
 * default problem limit and with `maxProblems` (the reference runs once without
 * a limit: a limit only cuts its list).
 */
export function assertSameReport(open: () => PmemImage, what: string, options: CheckOptions = {}, maxProblems = [1000]): CheckReport {
  const full = oracleCheck(open(), { maxProblems: Number.MAX_SAFE_INTEGER });
  let got: CheckReport | undefined;
  for (const max of maxProblems) {
    const reference = { ...full, problems: full.problems.slice(0, max), truncated: full.problems.length > max };
    got = check(open(), { ...options, maxProblems: max });
    assert.deepEqual(got, reference, `${what} (at most ${max} problems): the report differs from the reference checker`);
  }
  return got!;
}

interface Built {
  /** The image, when built in memory. */
  store: MemoryStore;
  /** Head pfns of allocated and free blocks, after shutdown. */
  allocated: number[];
  free: number[];
  /** Frames two past the head of an allocated block of order 2 or more and of a free one of order 5 or more: plain frames after a plain frame. */
  deepAllocated: number;
  deepFree: number;
}

type ImageOptions = Partial<CreateOptions> & { sizeBytes: number };

/** An image with blocks of several orders, some freed, shut down cleanly (optionally rebooted once: stale sections). */
function buildImage(options: ImageOptions, orders: number[], reboot = false, initAll = false, file?: string): Built {
  // Closing an image closes its store: a file is opened again for each step.
  const memory = new MemoryStore(options.sizeBytes);
  const open = () => (file ? FileStore.open(file, { readOnly: false }) : memory);
  const store = file ? FileStore.create(file, options.sizeBytes, { overwrite: true }) : memory;
  PmemImage.create(store, { uuid: '00000000-0000-4000-8000-000000000001', nowMs: 0, historyBytes: 64 * 1024, ...options }); // faults are planted where the smallest history leaves data
  const img = PmemImage.open(open(), {});
  if (initAll) initAllOp(img);
  const pfns: number[] = [];
  for (const [i, order] of orders.entries()) pfns.push(...allocOp(img, { order, count: 2, owner: `o${i}` }).blocks.map((b) => b.pfn));
  freeOp(img, pfns.filter((_, i) => i % 3 === 1));
  img.close();
  if (reboot) {
    const again = PmemImage.open(open(), {});
    allocOp(again, { order: 0, count: 3, owner: 'after' });
    again.close();
  }
  const ro = PmemImage.open(open(), { readOnly: true });
  const all = blocks(ro, 0, ro.geometry.totalFrames);
  ro.close();
  // With the memmap in RAM allocated blocks come back as single frames: no deep frame there (and no descriptor faults either).
  const deep = (free: boolean) => (all.find((b) => b.free === free && b.order >= (free ? 5 : 2))?.pfn ?? -2) + 2;
  return { store: memory, allocated: all.filter((b) => !b.free).map((b) => b.pfn), free: all.filter((b) => b.free).map((b) => b.pfn), deepAllocated: deep(false), deepFree: deep(true) };
}

const openLenient = (store: Store) => () => PmemImage.open(store, { readOnly: true, lenient: true });

function editDescriptor(store: Store, img: PmemImage, pfn: number, change: (d: ReturnType<typeof decodeDescriptor>) => void): void {
  const d = decodeDescriptor(store.read(img.memmapOffset(pfn), 64));
  change(d);
  store.write(img.memmapOffset(pfn), encodeDescriptor(d));
}

/** Changes raw bytes of a descriptor, optionally recomputing its checksum. */
function poke(store: Store, img: PmemImage, pfn: number, field: number, bytes: number[], fixCrc = false): void {
  const at = img.memmapOffset(pfn);
  const d = store.read(at, 64).slice();
  d.set(bytes, field);
  if (fixCrc) dataView(d).setUint32(DESC.crc, crc32(d.subarray(0, DESC.crc)), true);
  store.write(at, d);
}

const u32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24];
const u64 = (n: number) => [...u32(n % 2 ** 32), ...u32(Math.floor(n / 2 ** 32))];

interface Fault {
  name: string;
  /** False for faults outside the memmap (the ones that apply to a memmap in RAM too). */
  memmap?: boolean;
  /** Not a problem on every image (or one the reference does not see either): the reports must still agree. */
  mayPass?: boolean;
  plant(store: Store, img: PmemImage, b: Built): void;
}

/** Faults of every kind the checker reports, planted where the raw scan has its edge cases. */
function faults(): Fault[] {
  const firstData = (img: PmemImage) => img.layout.data.startPfn;
  return [
    { name: 'nothing (control)', memmap: false, plant: () => {} },
    { name: 'bad CRC on an allocated head', plant: (s, img, b) => poke(s, img, b.allocated[0], DESC.owner, [0x41]) },
    { name: 'bad CRC inside an allocated block', plant: (s, img, b) => poke(s, img, b.deepAllocated, DESC.refcount, [7]) },
    { name: 'bad CRC inside a free block', plant: (s, img, b) => poke(s, img, b.deepFree, DESC.owner + 15, [7]) },
    { name: 'bad CRC on the first data frame', plant: (s, img) => poke(s, img, firstData(img), DESC.crc, [0, 0, 0, 0]) },
    { name: 'bad CRC on the first frame of a chunk', plant: (s, img) => poke(s, img, img.geometry.totalFrames > 16384 ? 16384 : img.geometry.sectionFrames, DESC.volatileFlags, [1]) },
    { name: 'bad CRC on the last frame of a section', plant: (s, img) => poke(s, img, img.geometry.sectionFrames - 1, DESC.owner + 3, [9]) },
    { name: 'bad CRC on a reserved frame', plant: (s, img) => poke(s, img, 1, DESC.owner, [1]) },
    { name: 'a descriptor copied over its successor (pfn wrong, checksum valid)', plant: (s, img, b) => {
      s.write(img.memmapOffset(b.deepFree + 1), s.read(img.memmapOffset(b.deepFree), 64));
    } },
    { name: 'one byte changed in each word of plain frames, checksums kept', plant: (s, img, b) => {
      for (let k = 0; k < 15; k++) if (k !== DESC.pfn / 4) poke(s, img, b.deepFree + k, 4 * k + 1, [0x10]);
    } },
    { name: 'a descriptor equal to its predecessor but for the checksum', plant: (s, img, b) => poke(s, img, b.deepAllocated + 1, DESC.crc, [0x55]) },
    { name: 'checksums of two neighbours swapped', plant: (s, img, b) => {
      const [x, y] = [s.read(img.memmapOffset(b.deepFree), 64).slice(), s.read(img.memmapOffset(b.deepFree + 1), 64).slice()];
      s.write(img.memmapOffset(b.deepFree) + DESC.crc, y.subarray(DESC.crc));
      s.write(img.memmapOffset(b.deepFree + 1) + DESC.crc, x.subarray(DESC.crc));
    } },
    { name: 'a run of descriptors with the pfn shifted (checksums valid)', plant: (s, img, b) => {
      for (let p = b.deepAllocated; p < b.deepAllocated + 2; p++) editDescriptor(s, img, p, (d) => (d.pfn += 1));
      for (let p = firstData(img) + 20; p < firstData(img) + 30; p++) editDescriptor(s, img, p, (d) => (d.pfn += 1));
    } },
    { name: 'the high word of a pfn set (checksum valid)', plant: (s, img, b) => poke(s, img, b.deepFree, DESC.pfn + 4, [1], true) },
    { name: 'a blank descriptor in an initialised section', plant: (s, img) => s.write(img.memmapOffset(firstData(img) + 3), new Uint8Array(64)) },
    { name: 'blank reserved frames', plant: (s, img) => s.write(img.memmapOffset(1), new Uint8Array(64 * 3)) },
    { name: 'flags both free and allocated', plant: (s, img, b) => editDescriptor(s, img, b.allocated[1], (d) => (d.flags |= PG_BUDDY)) },
    { name: 'PG_reserved on a data frame', plant: (s, img, b) => editDescriptor(s, img, b.deepFree, (d) => (d.flags |= PG_RESERVED)) },
    { name: 'PG_reserved cleared on the backup superblock frame', mayPass: true, plant: (s, img) => editDescriptor(s, img, img.geometry.totalFrames - 1, (d) => (d.flags &= ~PG_RESERVED)) },
    { name: 'bad CRC on the last data frame', mayPass: true, plant: (s, img) => poke(s, img, img.geometry.totalFrames - 2, DESC.owner, [3]) },
    { name: 'PG_reserved cleared on a metadata frame', plant: (s, img) => editDescriptor(s, img, 2, (d) => (d.flags &= ~PG_RESERVED)) },
    { name: 'a reserved frame marked as a head', plant: (s, img) => editDescriptor(s, img, 3, (d) => (d.flags |= PG_ALLOCATED)) },
    { name: 'unknown flag bits', plant: (s, img, b) => editDescriptor(s, img, b.free[0], (d) => (d.flags |= 0x100)) },
    { name: 'PG_core cleared', plant: (s, img, b) => editDescriptor(s, img, b.free[0] + 1, (d) => (d.flags = 0)) },
    { name: 'core version 2', plant: (s, img, b) => poke(s, img, b.allocated[0] + 1, DESC.coreVersion, [2], true) },
    { name: 'wrong node and zone', plant: (s, img, b) => editDescriptor(s, img, b.allocated[0], (d) => { d.node += 1; d.zone = 2; }) },
    { name: 'initGeneration after the boot', plant: (s, img, b) => editDescriptor(s, img, b.deepAllocated, (d) => (d.initGeneration += 5)) },
    { name: 'initGeneration 0', plant: (s, img) => editDescriptor(s, img, firstData(img) + 1, (d) => (d.initGeneration = 0)) },
    { name: 'an order on a frame that heads no block', plant: (s, img, b) => editDescriptor(s, img, b.deepFree, (d) => (d.order = 3)) },
    { name: 'links on an allocated frame', plant: (s, img, b) => editDescriptor(s, img, b.allocated[0], (d) => (d.next = 12345)) },
    { name: 'links inside a free block', plant: (s, img, b) => editDescriptor(s, img, b.deepFree, (d) => (d.prev = 7)) },
    { name: 'a link of 2^53 or more (checksum valid)', mayPass: true, plant: (s, img, b) => poke(s, img, b.allocated[0], DESC.next, u64(2 ** 60), true) },
    { name: 'an owner that is not UTF-8 (checksum valid)', mayPass: true, plant: (s, img, b) => poke(s, img, b.allocated[0], DESC.owner, [0xff, 0xfe], true) },
    { name: 'an interior frame marked as a head', plant: (s, img, b) => editDescriptor(s, img, b.deepAllocated, (d) => { d.flags |= PG_ALLOCATED; d.refcount = 1; }) },
    { name: 'an interior frame of a free block marked free', plant: (s, img, b) => editDescriptor(s, img, b.deepFree, (d) => { d.flags |= PG_BUDDY; d.order = 1; }) },
    { name: 'an allocated head cleared (frames in no block)', plant: (s, img, b) => editDescriptor(s, img, b.allocated[b.allocated.length - 1], (d) => { d.flags &= ~PG_ALLOCATED; d.order = 0; }) },
    { name: 'an impossible order', plant: (s, img, b) => editDescriptor(s, img, b.allocated[0], (d) => (d.order = 30)) },
    { name: 'a misaligned order', plant: (s, img, b) => editDescriptor(s, img, b.free[b.free.length - 1], (d) => (d.order += 1)) },
    { name: 'a free head split into unmerged buddies', plant: (s, img, b) => {
      const f = b.free.find((p) => decodeDescriptor(s.read(img.memmapOffset(p), 64)).order > 0)!;
      const order = decodeDescriptor(s.read(img.memmapOffset(f), 64)).order;
      editDescriptor(s, img, f, (d) => (d.order = order - 1));
      editDescriptor(s, img, f + 2 ** (order - 1), (d) => { d.flags |= PG_BUDDY; d.order = order - 1; });
    } },
    { name: 'a listed free block no longer marked as a head', plant: (s, img, b) => editDescriptor(s, img, b.free[1], (d) => { d.flags &= ~PG_BUDDY; d.order = 0; }) },
    { name: 'every listed free block unmarked', plant: (s, img, b) => b.free.forEach((p) => editDescriptor(s, img, p, (d) => (d.flags &= ~PG_BUDDY))) },
    { name: 'a wrong free-list count', memmap: false, plant: (s, img) => {
      const at = freeAreaEntryOffset(img.layout, freeAreaIndex(img.geometry.maxOrder, 0, 0, img.geometry.maxOrder)) + FREE_AREA.count;
      const v = dataView(s.read(at, 8));
      s.write(at, new Uint8Array(u64(v.getUint32(0, true) + 1)));
    } },
    { name: 'a free-list head of 2^60', memmap: false, plant: (s, img) => {
      const at = freeAreaEntryOffset(img.layout, freeAreaIndex(img.geometry.maxOrder, 0, 0, 0)) + FREE_AREA.head;
      s.write(at, new Uint8Array(u64(2 ** 60)));
      s.write(at + FREE_AREA.count - FREE_AREA.head, new Uint8Array(u64(1)));
    } },
    { name: 'a broken link record', memmap: false, mayPass: true, plant: (s, _img, b) => s.write(b.free[0] * PAGE_SIZE + LINK.crc, new Uint8Array([1, 2, 3, 4])) },
    { name: 'a link record naming another block', memmap: false, mayPass: true, plant: (s, _img, b) => {
      const at = b.free[0] * PAGE_SIZE;
      const r = s.read(at, 48).slice();
      r.set(u64(b.free[0] + 1), LINK.pfn);
      dataView(r).setUint32(LINK.crc, crc32(r.subarray(0, LINK.crc)), true);
      s.write(at, r);
    } },
    { name: 'a torn section count', memmap: false, plant: (s, img) => {
      const at = sectionEntryOffset(img.layout, 1) + SECTION.freeFrames;
      s.write(at, new Uint8Array([0xff, 0xff]));
    } },
    { name: 'section counts swapped', memmap: false, plant: (s, img) => {
      const at = sectionEntryOffset(img.layout, 0);
      const e = s.read(at, 16).slice();
      const f = e.slice(SECTION.freeFrames, SECTION.freeFrames + 4);
      e.copyWithin(SECTION.freeFrames, SECTION.allocatedFrames, SECTION.allocatedFrames + 4);
      e.set(f, SECTION.allocatedFrames);
      s.write(at, e);
    } },
    { name: 'a section marked never initialised', memmap: false, plant: (s, img) => {
      s.write(sectionEntryOffset(img.layout, 1) + SECTION.initGeneration, new Uint8Array(4));
    } },
    { name: 'a section initialised later than its descriptors', memmap: false, mayPass: true, plant: (s, img) => {
      s.write(sectionEntryOffset(img.layout, 0) + SECTION.initGeneration, new Uint8Array(u32(img.bootGeneration)));
    } },
    { name: 'garbage over a whole chunk', plant: (s, img) => {
      const junk = new Uint8Array(64 * 700);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 2654435761) >>> 24;
      s.write(img.memmapOffset(firstData(img) + 100), junk);
    } },
  ];
}

describe('checker: same report as the descriptor-by-descriptor reference', function () {
  this.timeout(600_000);

  const images: Array<{ name: string; ram?: boolean; faults?: string[]; make: () => Built }> = [
    { name: '16 MiB, links in pages', make: () => buildImage({ sizeBytes: 16 * MiB }, [0, 3, 9, 0]) },
    { name: '16 MiB, every section initialised', make: () => buildImage({ sizeBytes: 16 * MiB }, [0, 2, 4], false, true) },
    { name: '16 MiB, links in descriptors', make: () => buildImage({ sizeBytes: 16 * MiB, links: 'descriptor' }, [0, 3, 9, 0]) },
    { name: '16 MiB, memmap in RAM', ram: true, make: () => buildImage({ sizeBytes: 16 * MiB, memmap: 'ram' }, [0, 3, 9, 0]) },
    { name: '64 MiB, two nodes, movable zone, stale sections', make: () => buildImage({ sizeBytes: 64 * MiB, nodes: 2, movablePercent: 50 }, [0, 2, 5, 10, 1], true) },
    {
      name: '2 GiB, 1 GiB sections (16 chunks each)',
      // Faults whose handling depends on a section spanning chunks (the rest are the same code on any section size).
      faults: ['nothing', 'bad CRC on the first frame of a chunk', 'a run of', 'an interior frame marked', 'an allocated head cleared', 'unmerged buddies', 'garbage', 'a torn section count'],
      make: () => buildImage({ sizeBytes: 2 * GiB, sectionBytes: GiB, maxOrder: 12 }, [0, 12, 4, 0, 12], true) },
  ];

  for (const image of images) {
    let built: Built;
    for (const fault of faults().filter((f) => (!image.ram || f.memmap === false) && (!image.faults || image.faults.some((n) => f.name.includes(n))))) {
      it(`${image.name}: ${fault.name}`, () => {
        const b = (built ??= image.make());
        const store = b.store.clone();
        fault.plant(store, PmemImage.open(store, { readOnly: true, lenient: true }), b);
        try {
          openLenient(store)();
        } catch (e) {
          if ((e as Error).name !== 'ImageError') throw e;
          return; // a fault the open refuses: nothing to check
        }
        const r = assertSameReport(openLenient(store), fault.name, {}, [1000, 3]);
        if (fault.name.startsWith('nothing')) assert.equal(r.ok, true, JSON.stringify(r.problems));
        else if (!fault.mayPass) assert.equal(r.ok, false, `${fault.name} is reported`);
      });
    }
  }

  // A sample as detection.test.ts takes (each edit on one image); PMEM_DETECTION_FULL=1: every edit of six instances on every image.
  it('the detection suite\'s mutations', () => {
    const full = process.env.PMEM_DETECTION_FULL === '1';
    let compared = 0;
    // The reference knows the core structures; the designs' own are held against their blocks by designs.test.ts and detection.test.ts.
    const recipes = DETECTION_RECIPES.filter((r) => !r.placement.descriptors);
    for (const [ri, recipe] of recipes.entries()) {
      const { bytes } = build(recipe);
      for (const instance of structuresOf(bytes, full ? 6 : 1)) {
        for (const [k, edit] of EDITS[instance.structure].entries()) {
          if (!full && k % recipes.length !== ri) continue;
          const copy = bytes.slice();
          edit.apply(copy, instance);
          if (edit.fixCrc) instance.fixCrc?.(copy);
          let open: () => PmemImage;
          try {
            PmemImage.open(storeOf(copy), { readOnly: true, lenient: true });
            open = () => PmemImage.open(storeOf(copy), { readOnly: true, lenient: true });
          } catch {
            continue;
          }
          assertSameReport(open, `${recipe.placement.memmap}/${recipe.placement.links} ${instance.structure} @${instance.offset}: ${edit.what}`);
          compared++;
        }
      }
    }
    assert.ok(compared > 100, `${compared} mutated images compared`);
  });

  it('random mutations of random images (fast-check)', () => {
    fc.assert(
      fc.property(recipeArb, mutationsArb, (recipe, mutations) => {
        const b = build(recipe);
        const bytes = mutate(b.bytes, structuresOf(b.bytes), mutations);
        try {
          PmemImage.open(storeOf(bytes), { readOnly: true, lenient: true });
        } catch {
          return;
        }
        assertSameReport(() => PmemImage.open(storeOf(bytes), { readOnly: true, lenient: true }), 'mutated image');
      }),
      { numRuns: Number(process.env.PMEM_FC_RUNS ?? 100), seed: Number(process.env.PMEM_FC_SEED ?? 20240611) },
    );
  });
});

/** A file store whose writes can be taken back, so that one image file serves every fault. */
class UndoableFile implements Store {
  private readonly undo: Array<{ offset: number; data: Uint8Array }> = [];
  constructor(private readonly file: FileStore) {}
  get size(): number {
    return this.file.size;
  }
  read(offset: number, length: number): Uint8Array {
    return this.file.read(offset, length);
  }
  write(offset: number, data: Uint8Array): void {
    this.undo.push({ offset, data: this.file.read(offset, data.length).slice() });
    this.file.write(offset, data);
  }
  flush(): void {}
  close(): void {
    for (let u = this.undo.pop(); u; u = this.undo.pop()) this.file.write(u.offset, u.data);
    this.file.close();
  }
}

describe('checker on an image file, with worker threads: same report as the reference', function () {
  this.timeout(600_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-check-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const openFile = (file: string) => () => PmemImage.open(FileStore.open(file, { readOnly: true }), { readOnly: true, lenient: true, file });
  /** Chunks scanned by worker threads, over every check. */
  const byWorkers = { count: 0 };
  const onClose = (stats: { workers: number }) => void (byWorkers.count += stats.workers);
  /** The file scanner alone, with one worker, and with three (started before the main thread scans, so that they get chunks). */
  const scanners: Array<[string, CheckOptions]> = [
    ['one thread', { memmapScanner: fileScanner({ workers: 0 }) }],
    ['one worker', { memmapScanner: fileScanner({ workersFrom: 0, workers: 1, awaitWorkers: true, onClose }) }],
    ['three workers', { memmapScanner: fileScanner({ workersFrom: 0, workers: 3, awaitWorkers: true, onClose }) }],
  ];
  // What the scanner and the workers change: chunk boundaries, results without their bytes, heads, free-list heads' flags, a cut list.
  const picked = ['nothing', 'first frame of a chunk', 'an interior frame marked', 'every listed', 'garbage', 'torn section count'];
  const images: Array<{ name: string; options: ImageOptions; orders: number[]; reboot: boolean; initAll: boolean }> = [
    // 4 chunks, every section initialised: the workers have most of them.
    { name: '256 MiB, 2 MiB sections', options: { sizeBytes: 256 * MiB }, orders: [0, 10, 3, 0, 6], reboot: false, initAll: true },
    { name: '2 GiB, 1 GiB sections', options: { sizeBytes: 2 * GiB, sectionBytes: GiB, maxOrder: 12 }, orders: [0, 12, 4, 0, 12], reboot: true, initAll: false },
  ];
  for (const image of images) {
    let built: { file: string; b: Built } | undefined;
    const make = () => {
      if (built) return built;
      const file = path.join(dir, `${image.name.replace(/\W+/g, '-')}.pmem`);
      return (built = { file, b: buildImage(image.options, image.orders, image.reboot, image.initAll, file) });
    };
    for (const fault of faults().filter((f) => picked.some((n) => f.name.includes(n)))) {
      it(`${image.name}: ${fault.name}`, () => {
        const { file, b } = make();
        const store = new UndoableFile(FileStore.open(file, { readOnly: false }));
        try {
          fault.plant(store, PmemImage.open(store, { readOnly: true, lenient: true }), b);
          if (fault.name.includes('first frame of a chunk')) {
            // And one in every later chunk, so that the workers' chunks have descriptors to check in full.
            for (let k = 2; k * 16384 < image.options.sizeBytes / PAGE_SIZE; k++) poke(store, PmemImage.open(store, { readOnly: true, lenient: true }), k * 16384 + 7, DESC.owner, [k]);
          }
          const before = byWorkers.count;
          for (const [how, options] of scanners) assertSameReport(openFile(file), `${fault.name}, ${how}`, options, [1000, 3]);
          assert.ok(byWorkers.count > before, 'the workers scanned chunks');
        } finally {
          store.close();
        }
      });
    }
  }

  it('as pmem check opens a file (read cache, overlay): the worker path finds planted faults where the in-process path does', () => {
    const file = path.join(dir, 'cli.pmem');
    const b = buildImage({ sizeBytes: 256 * MiB }, [0, 10, 3], false, true, file);
    const store = new UndoableFile(FileStore.open(file, { readOnly: false }));
    try {
      const img = PmemImage.open(store, { readOnly: true, lenient: true });
      const top = img.geometry.totalFrames - 16384 + 100; // in the last chunk, which a worker takes first
      poke(store, img, top, DESC.owner, [0x41]); // a bad checksum
      poke(store, img, b.deepFree, DESC.node, [1], true); // a field only the field tests see
      const link = b.free[0] * PAGE_SIZE + LINK.order;
      store.write(link, new Uint8Array([store.read(link, 1)[0] ^ 1])); // a link record's checksum, read through the scanner
      const asCli = () => openForReading(file, { lenient: true });
      let stats = { here: 0, workers: 0 };
      const inProcess = check(asCli());
      const viaWorkers = check(asCli(), { memmapScanner: fileScanner({ workersFrom: 0, workers: 1, awaitWorkers: true, onClose: (s) => (stats = s) }) });
      assert.ok(stats.workers > 0, 'the workers scanned chunks of a file opened as the CLI opens it');
      assert.deepEqual(viaWorkers, inProcess);
      assert.deepEqual(checkImageFile(asCli()), inProcess);
      for (const [pfn, message] of [[top, 'checksum'], [b.deepFree, 'node 1']] as const) {
        assert.ok(inProcess.problems.some((p) => p.pfn === pfn && p.offset === img.memmapOffset(pfn) && p.message.includes(message)), `pfn ${pfn}: ${message}`);
      }
      assert.ok(inProcess.problems.some((p) => p.offset === b.free[0] * PAGE_SIZE && p.message.includes('checksum')), 'the link record');
      assertSameReport(asCli, 'as the CLI opens it', scanners[1][1]);
    } finally {
      store.close();
    }
  });

  it('checks one after another reuse the worker threads, and a check after the pool ended starts new ones', async () => {
    const file = path.join(dir, 'pool.pmem');
    buildImage({ sizeBytes: 256 * MiB }, [0, 10], false, true, file);
    await endWorkerPool();
    const stats: Array<{ workers: number }> = [];
    const options = { memmapScanner: fileScanner({ workersFrom: 0, workers: 2, awaitWorkers: true, onClose: (s) => void stats.push(s) }) };
    const reference = assertSameReport(openFile(file), 'the first check', options);
    const first = pooledWorkerIds();
    assert.equal(first.length, 2, 'two workers kept after the check');
    assert.deepEqual(assertSameReport(openFile(file), 'the second check', options), reference);
    assert.deepEqual(pooledWorkerIds(), first, 'the second check used the same threads');
    assert.ok(stats.every((s) => s.workers > 0), `the workers scanned chunks in every check: ${JSON.stringify(stats)}`);
    await endWorkerPool();
    assert.deepEqual(pooledWorkerIds(), []);
    assert.deepEqual(assertSameReport(openFile(file), 'a check after the pool ended', options), reference);
    const again = pooledWorkerIds();
    assert.equal(again.length, 2);
    assert.ok(again.every((id) => !first.includes(id)), 'new threads');
    await endWorkerPool();
  });

  it('a crash at every point of an operation: the read-only open recovers on an overlay, which the workers must not bypass', () => {
    const file = path.join(dir, 'crash.pmem');
    buildImage({ sizeBytes: 128 * MiB }, [0], false, true, file); // two chunks
    const img = PmemImage.open(FileStore.open(file, { readOnly: false }), {});
    const pfns = allocOp(img, { order: 0, count: 20, owner: 'x' }).blocks.map((b) => b.pfn);
    img.close();
    const op = (i: PmemImage) => {
      freeOp(i, pfns.filter((_, k) => k % 2 === 0));
      allocOp(i, { order: 5, count: 2, owner: 'y' });
    };
    const probe = new UndoableFile(FileStore.open(file, { readOnly: false }));
    const total = PmemImage.open(probe, {}).simulateCrash(Number.MAX_SAFE_INTEGER, op).points;
    probe.close();
    let unapplied = 0;
    for (let n = 1; n < total; n++) {
      const s = new UndoableFile(FileStore.open(file, { readOnly: false }));
      try {
        assert.equal(PmemImage.open(s, {}).simulateCrash(n, op).crashed, true);
        const ro = openFile(file)();
        const memmap = [ro.memmapOffset(0), ro.memmapOffset(ro.geometry.totalFrames)];
        if ((ro.store as OverlayStore).changes().some((c) => c.offset < memmap[1] && c.offset + c.data.length > memmap[0])) unapplied++;
        assertSameReport(openFile(file), `crash after ${n} of ${total} writes`, scanners[1][1]);
      } finally {
        s.close(); // the file as it was before the operation
      }
    }
    assert.ok(unapplied > 0, 'some crash leaves descriptors that only the recovery overlay holds');
  });
});

describe('worker threads worth starting: this process\'s own threads are not other load', function () {
  this.timeout(120_000);
  it('counts a thread of this process that spins as runnable, and itself', async function () {
    if (process.platform !== 'linux') this.skip();
    assert.ok(ownRunnableThreads() >= 1, 'the thread that asks is running');
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const spinner = new Worker("const { workerData, parentPort } = require('node:worker_threads'); parentPort.postMessage('spinning'); while (Atomics.load(workerData, 0) === 0);", { eval: true, workerData: stop });
    try {
      await new Promise((resolve) => spinner.once('message', resolve));
      // The spinner is runnable from its message on; the scheduler may show it between two states for an instant, so ask until it is seen.
      let seen = 0;
      for (let i = 0; i < 1000 && seen < 2; i++) seen = Math.max(seen, ownRunnableThreads());
      assert.ok(seen >= 2, `a spinning worker and this thread are runnable, counted ${seen}`);
    } finally {
      Atomics.store(stop, 0, 1);
      await spinner.terminate();
    }
  });
});
