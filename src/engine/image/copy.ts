/**
 * Copies an image into an empty (sparse) store, writing only what the format
 * uses: metadata, the memmap of sections that were ever initialised, and the
 * free-list link records inside free blocks. Everything else is zero in both.
 */
import { PAGE_SIZE, DESCRIPTOR_SIZE } from '../format/constants';
import { FREE_LINK_SIZE } from '../format/freeLink';
import { readSectionGeneration } from '../format/sectionTable';
import type { PmemImage } from './imageCore';
import { readSectionTable } from './ops';
import type { Store } from '../store/store';
import { freeLists } from '../inspect/views';

const COPY_CHUNK = 8 * 2 ** 20;

function copyRange(from: Store, to: Store, offset: number, length: number): void {
  for (let done = 0; done < length; done += COPY_CHUNK) {
    const n = Math.min(COPY_CHUNK, length - done);
    const bytes = from.read(offset + done, n);
    if (bytes.some((b) => b !== 0)) to.write(offset + done, bytes);
  }
}

export function copyImage(img: PmemImage, to: Store): void {
  if (to.size !== img.store.size) throw new RangeError(`target store is ${to.size} bytes, the image ${img.store.size}`);
  const L = img.layout;
  const g = img.geometry;
  copyRange(img.store, to, 0, L.memmap.startPfn * PAGE_SIZE);
  if (g.memmap === 'device') {
    const table = readSectionTable(img);
    for (let s = 0; s < g.sectionCount; s++) {
      if (readSectionGeneration(table, s) === 0 && s * g.sectionFrames >= L.data.startPfn) continue;
      copyRange(img.store, to, img.memmapOffset(s * g.sectionFrames), g.sectionFrames * DESCRIPTOR_SIZE);
    }
  }
  // A 2m image's memmap region holds one descriptor per 2 MiB: small enough to copy whole.
  if (g.memmap !== 'device' && L.memmap.frames > 0) copyRange(img.store, to, L.memmap.startPfn * PAGE_SIZE, L.memmap.frames * PAGE_SIZE);
  if (g.links === 'page') {
    for (const list of freeLists(img, Number.MAX_SAFE_INTEGER)) for (const pfn of list.blocks) copyRange(img.store, to, pfn * PAGE_SIZE, FREE_LINK_SIZE);
  }
  copyRange(img.store, to, L.backupSuperblock.startPfn * PAGE_SIZE, PAGE_SIZE);
  to.flush();
}
