/**
 * Crash-safe saving of changed byte ranges into an image file (Node only).
 * The ranges go first to a sidecar redo file beside the image, made durable,
 * then into the image, then the sidecar is removed. Opening an image first
 * finishes or drops a pending sidecar, so after any crash the file reads as
 * entirely the old or entirely the new content.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32, readString, view, writeString } from '../bytes';
import { ByteRange, decodeRanges, encodedSize, encodeRanges } from '../format/rangeList';
import { syncDirectory, writeDurably } from './atomicFile';

const MAGIC = 'PMEMSAVE';
const HEADER = 32; // magic[8], u32 payloadBytes, u32 payloadCrc, u64 imageSize, u32 headerCrc at 28

export function sidecarPath(file: string): string {
  return `${file}.pmem-save`;
}

export function saveRangesAtomically(file: string, ranges: ByteRange[]): void {
  writeSaveSidecar(file, ranges);
  applyRanges(file, ranges);
  fs.rmSync(sidecarPath(file));
}

/** Step 1 of a save, on its own so tests can stop right after it. */
export function writeSaveSidecar(file: string, ranges: ByteRange[]): void {
  writeRangeFile(sidecarPath(file), ranges, fs.statSync(file).size);
}

/** Writes ranges to a file of their own, durably (a save sidecar, or an editor's hot-exit backup). */
export function writeRangeFile(target: string, ranges: ByteRange[], imageSize: number): void {
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
  writeDurably(target, record, 'w');
  // The sidecar must be found after a power cut once the image is touched: its directory entry too.
  syncDirectory(path.dirname(path.resolve(target)));
}

function applyRanges(file: string, ranges: ByteRange[]): void {
  const fd = fs.openSync(file, 'r+');
  try {
    for (const r of ranges) fs.writeSync(fd, r.data, 0, r.data.length, r.offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Finishes (rolls forward) or drops an interrupted save. Returns what it did. */
export function recoverPendingSave(file: string): 'none' | 'completed' | 'dropped' {
  const side = sidecarPath(file);
  if (!fs.existsSync(side)) return 'none';
  const ranges = readRangeFile(side, fs.statSync(file).size);
  if (!ranges) {
    fs.rmSync(side); // torn before it was durable: the image was never touched
    return 'dropped';
  }
  applyRanges(file, ranges);
  fs.rmSync(side);
  return 'completed';
}

/** Reads a range file; undefined if it is torn, corrupt, or for an image of another size. */
export function readRangeFile(path: string, imageSize: number): ByteRange[] | undefined {
  const bytes = new Uint8Array(fs.readFileSync(path));
  const dv = view(bytes);
  const valid =
    bytes.length >= HEADER && readString(bytes, 0, 8) === MAGIC && dv.getUint32(28, true) === crc32(bytes.subarray(0, 28)) &&
    bytes.length === HEADER + dv.getUint32(8, true) && dv.getUint32(12, true) === crc32(bytes.subarray(HEADER)) &&
    dv.getUint32(16, true) + dv.getUint32(20, true) * 2 ** 32 === imageSize;
  return valid ? decodeRanges(bytes, HEADER, bytes.length - HEADER, imageSize) : undefined;
}
