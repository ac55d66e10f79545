/**
 * Crash-safe saving of changed byte ranges into an image file (Node only).
 * The ranges go first to a sidecar redo file beside the image, made durable,
 * then into the image, then the sidecar is removed. Opening an image first
 * finishes or drops a pending sidecar, so after any crash the file reads as
 * entirely the old or entirely the new content.
 */
import * as path from 'node:path';
import { crc32, readString, view, writeString } from '../core/bytes';
import { ByteRange, decodeRanges, encodeRanges, rangeEntrySize } from '../format/rangeList';
import { FileSystem, nodeFileSystem } from './fileSystem';

const MAGIC = 'PMEMSAVE';
const HEADER = 32; // magic[8], u32 payloadBytes, u32 payloadCrc, u64 imageSize, u32 headerCrc at 28
/** Bytes of ranges encoded and written at a time: a save never holds all its ranges encoded at once. */
const PIECE_BYTES = 1 << 20;

export function sidecarPath(file: string): string {
  return `${file}.pmem-save`;
}

/**
 * Ranges to save that need not all be in memory at once (an editor's unsaved
 * changes, partly in a temporary file): their lengths, and a fresh pass over
 * them each time they are asked for.
 */
export interface RangeSource {
  lengths: number[];
  ranges(): Iterable<ByteRange>;
}

const sourceOf = (r: ByteRange[] | RangeSource): RangeSource => (Array.isArray(r) ? { lengths: r.map((x) => x.data.length), ranges: () => r } : r);

export function saveRangesAtomically(file: string, ranges: ByteRange[] | RangeSource, fsys: FileSystem = nodeFileSystem): void {
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
export function writeSaveSidecar(file: string, ranges: ByteRange[] | RangeSource, fsys: FileSystem = nodeFileSystem): void {
  writeRangeFile(sidecarPath(file), ranges, fsys.size(file), fsys);
}

/** Writes ranges to a file of their own, durably (a save sidecar, or an editor's hot-exit backup). */
export function writeRangeFile(target: string, ranges: ByteRange[] | RangeSource, imageSize: number, fsys: FileSystem = nodeFileSystem): void {
  const source = sourceOf(ranges);
  const payloadBytes = source.lengths.reduce((n, length) => n + rangeEntrySize(length), 0);
  // The payload is written in pieces of about a MiB, its checksum carried from piece to piece; the header, which holds it, last.
  const fd = fsys.open(target, 'w');
  try {
    let crc = 0;
    let at = HEADER;
    let piece: ByteRange[] = [];
    let pieceBytes = 0;
    const writePiece = () => {
      const bytes = new Uint8Array(pieceBytes);
      encodeRanges(piece, bytes, 0);
      crc = crc32(bytes, crc);
      fsys.write(fd, bytes, at);
      at += bytes.length;
      piece = [];
      pieceBytes = 0;
    };
    for (const r of source.ranges()) {
      piece.push(r);
      pieceBytes += rangeEntrySize(r.data.length);
      if (pieceBytes >= PIECE_BYTES) writePiece();
    }
    if (pieceBytes) writePiece();
    if (at !== HEADER + payloadBytes) throw new Error(`the ranges to save changed while they were written (${at - HEADER} of ${payloadBytes} bytes)`);
    const header = new Uint8Array(HEADER);
    const dv = view(header);
    writeString(header, 0, 8, MAGIC);
    dv.setUint32(8, payloadBytes, true);
    dv.setUint32(12, crc, true);
    dv.setUint32(16, imageSize % 2 ** 32, true);
    dv.setUint32(20, Math.floor(imageSize / 2 ** 32), true);
    dv.setUint32(28, crc32(header.subarray(0, 28)), true);
    fsys.write(fd, header, 0);
    fsys.sync(fd);
  } finally {
    fsys.close(fd);
  }
  // The sidecar must be found after a power cut once the image is touched: its directory entry too.
  fsys.syncDirectory(path.dirname(path.resolve(target)));
}

function applyRanges(file: string, ranges: ByteRange[] | RangeSource, fsys: FileSystem): void {
  const fd = fsys.open(file, 'r+');
  try {
    for (const r of sourceOf(ranges).ranges()) fsys.write(fd, r.data, r.offset);
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
