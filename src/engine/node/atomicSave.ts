/**
 * Crash-safe saving of changed byte ranges into an image file (Node only).
 * The ranges go first to a sidecar redo file beside the image, made durable,
 * then into the image, then the sidecar is removed. Opening an image first
 * finishes or drops a pending sidecar, so after any crash the file reads as
 * entirely the old or entirely the new content.
 */
import * as path from 'node:path';
import { crc32, readString, view, writeString } from '../core/bytes';
import { ByteRange, decodeRanges, encodedSize, encodeRanges } from '../format/rangeList';
import { writeDurably } from './atomicFile';
import { FileSystem, nodeFileSystem } from './fileSystem';

const MAGIC = 'PMEMSAVE';
const HEADER = 32; // magic[8], u32 payloadBytes, u32 payloadCrc, u64 imageSize, u32 headerCrc at 28

export function sidecarPath(file: string): string {
  return `${file}.pmem-save`;
}

export function saveRangesAtomically(file: string, ranges: ByteRange[], fsys: FileSystem = nodeFileSystem): void {
  writeSaveSidecar(file, ranges, fsys);
  applyRanges(file, ranges, fsys);
  removeSidecar(file, fsys);
}

/** The removal is made durable: a sidecar coming back after a power cut would be applied over later writes. */
function removeSidecar(file: string, fsys: FileSystem): void {
  fsys.remove(sidecarPath(file));
  fsys.syncDirectory(path.dirname(path.resolve(file)));
}

/** Step 1 of a save, on its own so tests can stop right after it. */
export function writeSaveSidecar(file: string, ranges: ByteRange[], fsys: FileSystem = nodeFileSystem): void {
  writeRangeFile(sidecarPath(file), ranges, fsys.size(file), fsys);
}

/** Writes ranges to a file of their own, durably (a save sidecar, or an editor's hot-exit backup). */
export function writeRangeFile(target: string, ranges: ByteRange[], imageSize: number, fsys: FileSystem = nodeFileSystem): void {
  const payloadBytes = encodedSize(ranges);
  const record = new Uint8Array(HEADER + payloadBytes);
  encodeRanges(ranges, record, HEADER);
  const dv = view(record);
  writeString(record, 0, 8, MAGIC);
  dv.setUint32(8, payloadBytes, true);
  dv.setUint32(12, crc32(record.subarray(HEADER)), true);
  dv.setUint32(16, imageSize % 2 ** 32, true);
  dv.setUint32(20, Math.floor(imageSize / 2 ** 32), true);
  dv.setUint32(28, crc32(record.subarray(0, 28)), true);
  writeDurably(target, record, 'w', fsys);
  // The sidecar must be found after a power cut once the image is touched: its directory entry too.
  fsys.syncDirectory(path.dirname(path.resolve(target)));
}

function applyRanges(file: string, ranges: ByteRange[], fsys: FileSystem): void {
  const fd = fsys.open(file, 'r+');
  try {
    for (const r of ranges) fsys.write(fd, r.data, r.offset);
    fsys.sync(fd);
  } finally {
    fsys.close(fd);
  }
}

/** Finishes (rolls forward) or drops an interrupted save. Returns what it did. */
export function recoverPendingSave(file: string, fsys: FileSystem = nodeFileSystem): 'none' | 'completed' | 'dropped' {
  const side = sidecarPath(file);
  if (!fsys.exists(side)) return 'none';
  const ranges = readRangeFile(side, fsys.size(file), fsys);
  if (!ranges) {
    removeSidecar(file, fsys); // torn before it was durable: the image was never touched
    return 'dropped';
  }
  applyRanges(file, ranges, fsys);
  removeSidecar(file, fsys);
  return 'completed';
}

/** Reads a range file; undefined if it is torn, corrupt, or for an image of another size. */
export function readRangeFile(path: string, imageSize: number, fsys: FileSystem = nodeFileSystem): ByteRange[] | undefined {
  const bytes = fsys.readFile(path);
  const dv = view(bytes);
  const valid =
    bytes.length >= HEADER && readString(bytes, 0, 8) === MAGIC && dv.getUint32(28, true) === crc32(bytes.subarray(0, 28)) &&
    bytes.length === HEADER + dv.getUint32(8, true) && dv.getUint32(12, true) === crc32(bytes.subarray(HEADER)) &&
    dv.getUint32(16, true) + dv.getUint32(20, true) * 2 ** 32 === imageSize;
  return valid ? decodeRanges(bytes, HEADER, bytes.length - HEADER, imageSize) : undefined;
}
