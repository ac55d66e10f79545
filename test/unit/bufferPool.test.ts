/**
 * Buffers lent for a transaction and given back at its commit: lent again,
 * never two borrowers at once, and a section initialised from a buffer
 * that held anything comes out byte for byte as from a fresh one.
 */
import { strict as assert } from 'node:assert';
import { allocOp, check, initAllOp, MemoryStore, PmemImage } from '../../src/engine';
import { borrowBuffer, giveBackBuffer } from '../../src/engine/core/bufferPool';
import { DESCRIPTOR_SIZE } from '../../src/engine/format/constants';

const SIZE = 256 * 2 ** 20;

/** Fills the pool's buffers of `bytes` with `value` (borrowed all at once, so each is a different one, then given back). */
function poison(bytes: number, value: number, count = 40): void {
  const held = Array.from({ length: count }, () => borrowBuffer(bytes));
  for (const b of held) b.fill(value);
  for (const b of held) giveBackBuffer(b);
}

/** A new image, made once: each test image starts as a copy of it. */
let made: Uint8Array | undefined;

/** An image whose every section is initialised (sixteen a transaction) after the pool was filled with `value`. */
function initialisedImage(value: number): MemoryStore {
  if (!made) {
    const first = new MemoryStore(SIZE);
    PmemImage.create(first, { sizeBytes: SIZE });
    made = first.read(0, SIZE);
  }
  const store = new MemoryStore(SIZE);
  store.write(0, made);
  const img = PmemImage.open(store);
  // Lent only for descriptors on the device: this image must keep them there, in 2 MiB sections (32 KiB of descriptors each).
  assert.equal(img.geometry.memmap, 'device');
  assert.equal(img.geometry.sectionFrames, 512);
  poison(img.geometry.sectionFrames * DESCRIPTOR_SIZE, value);
  initAllOp(img);
  allocOp(img, { order: 3, count: 100, owner: 'after' });
  const report = check(img);
  assert.ok(report.ok && report.complete, JSON.stringify(report.problems.slice(0, 3)));
  assert.equal(report.sectionsChecked, img.geometry.sectionCount);
  img.close();
  return store;
}

describe('buffers lent for a transaction', () => {
  it('lends a given-back buffer again, never to two borrowers at once, and takes back only what it lent', () => {
    const a = borrowBuffer(1000);
    const b = borrowBuffer(1000);
    assert.notEqual(a, b, 'two borrowers, two buffers');
    giveBackBuffer(a);
    giveBackBuffer(a); // a second give-back of the same buffer is ignored: it must not be lent twice
    const c = borrowBuffer(1000);
    const d = borrowBuffer(1000);
    assert.equal(c, a, 'the given-back buffer is lent again');
    assert.notEqual(d, a, 'and only once');
    const foreign = new Uint8Array(1000);
    giveBackBuffer(foreign);
    assert.notEqual(borrowBuffer(1000), foreign, 'a buffer it never lent is not taken');
    assert.equal(borrowBuffer(999).length, 999, 'another size: a buffer of that size');
    const huge = borrowBuffer(16 * 2 ** 20);
    giveBackBuffer(huge);
    assert.notEqual(borrowBuffer(16 * 2 ** 20), huge, 'a 1 GiB section\'s 16 MiB is not kept');
  });

  it('initialises sections from buffers that held anything exactly as from zeroed ones', () => {
    // Every byte of a lent buffer is written: images made after the pool held 0xab or zeros are the same, byte for byte.
    const dirty = initialisedImage(0xab);
    const clean = initialisedImage(0);
    for (let at = 0; at < SIZE; at += 16 * 2 ** 20) assert.deepEqual(dirty.read(at, 16 * 2 ** 20), clean.read(at, 16 * 2 ** 20), `bytes ${at}..`);
  });
});
