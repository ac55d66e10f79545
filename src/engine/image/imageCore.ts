/**
 * PmemImage: an open image. It owns the store, the superblock and the RAM-only
 * state of the current boot (a volatile memmap when descriptors live in RAM,
 * the extended descriptor fields of the running profile). Operations run as
 * transactions (txn.ts) and are committed through the journal with a history
 * record. Queries live in views.ts, the allocator in alloc/.
 */
import { dataView } from '../core/bytes';
import { giveBackBuffer } from '../core/bufferPool';
import { ImageError, JournalFullError, SimulatedCrash, UsageError } from '../core/errors';
import { CrashingStore } from '../store/crashingStore';
import { DESCRIPTOR_SIZE, FORMAT_VERSION, PAGE_SIZE, REVISION_PLACED } from '../format/constants';
import { HH, HistoryKind, HistoryRecord, HistoryRing, encodeHistoryHeader } from '../format/history';
import { commitThroughJournal, encodeJournalHeader, JH, JOURNAL_EMPTY, journalCapacity, journalChunks, peekJournal, recoverJournal, RecoveryResult } from '../format/journal';
import { computeLayout, computeNodes, FREE_AREA_ENTRY_SIZE, freeAreaEntries, Geometry, GeometryOptions, Layout, makeGeometry, NodeInfo, REGION_NAMES, reservedFramesIn, SECTION_ENTRY_SIZE } from '../format/layout';
import { ChangeSet, changeSetOf, emptyChangeSet } from './changeSet';
import { decodeIntent, Intent, INTENT_SIZE, intentOffset } from '../format/intent';
import { freeAreaEntryAt, freeAreaEntryOffset } from '../format/freeArea';
import { findProfile, KernelProfile, knownProfile } from '../format/profiles';
import { MismatchPolicy, refuseMismatchAsLinux, StructPageMismatch, structPageMismatch } from '../format/structPageFit';
import { ByteRange, encodedSize } from '../format/rangeList';
import { encodeSectionEntry, readSectionField, readSectionGeneration, SECTION, sectionEntryOffset } from '../format/sectionTable';
import { decodeSuperblock, encodeSuperblock, SB, Superblock, SUPERBLOCK_SIZE, writeRefusal } from '../format/superblock';
import { OverlayStore } from '../store/overlayStore';
import { Store } from '../store/store';
import type { DeferredWriteBack, ImageCore } from './imageContext';
import { ExtendedValues, StagedChanges, Txn } from './txn';
import { FastTxn } from './fastTxn';
import { EMPTY_IO_POOL, type IoPool } from './ioPool';
import { LineLog } from '../store/lineLog';
// Stepping back over a record kept as its inverse runs the allocator: installed for every open image.
import '../alloc/inverseUndo';

export interface CreateOptions extends GeometryOptions {
  /** Fixed uuid and clock, for reproducible images in tests. */
  uuid?: string;
  nowMs?: number;
  file?: string;
}

export interface OpenOptions {
  /** Inspect without booting: nothing is written (recovery runs on an in-memory overlay). */
  readOnly?: boolean;
  /** Profile of the kernel that boots (writable opens); default: the last boot's. */
  profile?: string;
  file?: string;
  /**
   * Read-only opens only: skip the section-table and free-list validation so
   * the checker can report those problems itself instead of refusing to open.
   */
  lenient?: boolean;
  /**
   * History checkpoints only from the bytes gathered while their steps were
   * appended by this image, never rebuilt by undoing records appended before
   * it opened (or undone since): an editor must not hold its thread for that
   * (hundreds of milliseconds on a large ring). Such a span keeps no checkpoint.
   */
  gatheredCheckpointsOnly?: boolean;
  /**
   * Writable opens: what the boot does when the profile's descriptor is larger
   * than the device reserves (format/structPageFit.ts). 'seed' (the default)
   * boots and keeps the rest in RAM; 'linux' refuses, as Linux does, and writes nothing.
   */
  onMismatch?: MismatchPolicy;
}

export interface VolatileState {
  sb: Superblock;
  ram: Map<number, Uint8Array>;
  extended: Map<number, ExtendedValues>;
  io: IoPool;
  bootReport?: BootReport;
  txnSeq: number;
}

export interface BootReport {
  generation: number;
  wasClean: boolean;
  profile: string;
  previousProfile: string;
  recovery: RecoveryResult;
  historySeq: number;
  /** The format version this boot upgraded from, when it did. */
  upgradedFrom?: number;
  /** The profile's descriptor is larger than the device reserves: this boot kept the rest in RAM, where Linux refuses the namespace. */
  mismatch?: StructPageMismatch;
  /**
   * An operation a crash interrupted, which this boot completed (its history
   * step), or rolled back (`rolledBack`, step 0: a listed free cut short while
   * it was marking its blocks, so nothing had been freed).
   */
  resumed?: { text: string; step: number; rolledBack?: boolean };
}

function newUuid(): string {
  return globalThis.crypto.randomUUID();
}

/** Which superblock copy an open used, and why the other was passed over (absent when both agree). */
export interface SuperblockChoice {
  used: 'primary' | 'backup';
  /** Byte offset of the copy used. */
  usedOffset: number;
  rejected?: {
    copy: 'primary' | 'backup';
    /** Byte offset of the copy passed over. */
    offset: number;
    /** Byte offset of the field found wrong (the copy's own offset when it is merely older). */
    faultOffset: number;
    reason: string;
  };
}

/** Reads both superblock copies and returns the valid one with the higher update sequence. */
export function readSuperblock(store: Store, file?: string): Superblock {
  return readSuperblockCopies(store, file).sb;
}

/** As readSuperblock, also saying which copy was used and why the other was not. */
export function readSuperblockCopies(store: Store, file?: string): { sb: Superblock; choice: SuperblockChoice } {
  if (store.size < SUPERBLOCK_SIZE * 2) throw new ImageError(`file is ${store.size} bytes: too small to be a pmem image`, { file, offset: 0 });
  let primary: Superblock | undefined;
  let backup: Superblock | undefined;
  let primaryError: unknown;
  let backupError: unknown;
  try {
    primary = decodeSuperblock(store.read(0, SUPERBLOCK_SIZE), 0, file);
  } catch (e) {
    primaryError = e;
  }
  // The backup sits in the last frame; if the primary is unreadable, trust the file size.
  const backupOffset = primary ? primary.geometry.sizeBytes - SUPERBLOCK_SIZE : store.size - SUPERBLOCK_SIZE;
  if (backupOffset >= SUPERBLOCK_SIZE && backupOffset + SUPERBLOCK_SIZE <= store.size && backupOffset % PAGE_SIZE === 0) {
    try {
      backup = decodeSuperblock(store.read(backupOffset, SUPERBLOCK_SIZE), backupOffset, file);
    } catch (e) {
      backupError = e;
    }
  }
  const chosen = primary && backup ? (backup.updateSeq > primary.updateSeq ? backup : primary) : (primary ?? backup);
  if (!chosen) throw primaryError;
  validateSuperblock(chosen, store, file);
  const used = chosen === primary ? 'primary' : 'backup';
  const choice: SuperblockChoice = { used, usedOffset: used === 'primary' ? 0 : backupOffset };
  const fault = (e: unknown, offset: number) => ({
    faultOffset: e instanceof ImageError ? (e.location.offset ?? offset) : offset,
    reason: e instanceof ImageError ? e.reason : String(e),
  });
  if (!primary) choice.rejected = { copy: 'primary', offset: 0, ...fault(primaryError, 0) };
  else if (backupError) choice.rejected = { copy: 'backup', offset: backupOffset, ...fault(backupError, backupOffset) };
  else if (!backup) choice.rejected = { copy: 'backup', offset: backupOffset, faultOffset: backupOffset, reason: 'the backup copy lies outside the file' };
  else if (primary.updateSeq !== backup.updateSeq) {
    const older = used === 'primary' ? { copy: 'backup' as const, offset: backupOffset, sb: backup } : { copy: 'primary' as const, offset: 0, sb: primary };
    choice.rejected = { copy: older.copy, offset: older.offset, faultOffset: older.offset, reason: `out of date (update ${older.sb.updateSeq}, the other copy has ${chosen.updateSeq})` };
  }
  return { sb: chosen, choice };
}

function validateSuperblock(sb: Superblock, store: Store, file?: string): void {
  const g = sb.geometry;
  const at = (field: string) => ({ file, field: `superblock.${field}` });
  if (!Number.isSafeInteger(g.sizeBytes) || g.sizeBytes !== g.totalFrames * PAGE_SIZE) throw new ImageError(`size ${g.sizeBytes} disagrees with ${g.totalFrames} frames`, at('sizeBytes'));
  if (store.size < g.sizeBytes) throw new ImageError(`image is truncated: the superblock says ${g.sizeBytes} bytes but the file has ${store.size}`, { file, field: 'superblock.sizeBytes', offset: store.size });
  let expected: Geometry;
  try {
    expected = makeGeometry({
      sizeBytes: g.sizeBytes, sectionBytes: g.sectionFrames * PAGE_SIZE, nodes: g.nodeCount, maxOrder: g.maxOrder,
      memmap: g.memmap, links: g.links, movablePercent: g.movablePercent, historyBytes: g.historyFrames * PAGE_SIZE, descriptors: g.descriptors,
    });
  } catch (e) {
    throw new ImageError(`geometry is invalid: ${(e as Error).message}`, at('geometry'));
  }
  if (expected.sectionCount !== g.sectionCount) throw new ImageError(`section count ${g.sectionCount} should be ${expected.sectionCount}`, at('sectionCount'));
  const layout = computeLayout(expected);
  for (const name of REGION_NAMES) {
    const r = sb.layout[name];
    if (r.startPfn !== layout[name].startPfn || r.frames !== layout[name].frames) {
      throw new ImageError(`region ${name} (${r.startPfn}+${r.frames}) disagrees with the geometry (${layout[name].startPfn}+${layout[name].frames})`, at(`regions.${name}`));
    }
  }
  const nodes = computeNodes(expected);
  nodes.forEach((n, i) => {
    const got = sb.nodes[i];
    const same = got && got.firstPfn === n.firstPfn && got.frames === n.frames && n.zones.every((z, zi) => got.zones[zi].firstPfn === z.firstPfn && got.zones[zi].frames === z.frames);
    if (!same) throw new ImageError(`node ${i} ranges disagree with the geometry`, at(`nodes[${i}]`));
  });
  if (!findProfile(sb.profile)) throw new ImageError(`unknown kernel profile "${sb.profile}"`, at('profile'));
}

/** Checks the section table and free-area heads, so nothing is ever written on the strength of a corrupt table. */
function validateTables(store: Store, sb: Superblock, file?: string): void {
  const g = sb.geometry;
  const L = sb.layout;
  const table = store.read(sectionEntryOffset(L, 0), g.sectionCount * SECTION_ENTRY_SIZE);
  const dv = dataView(table);
  const where = (s: number, field: keyof typeof SECTION) => ({ file, field: `sectionTable[${s}].${field}`, offset: sectionEntryOffset(L, s) + SECTION[field], section: s });
  for (let s = 0; s < g.sectionCount; s++) {
    const gen = readSectionGeneration(dv, s);
    const free = readSectionField(dv, s, SECTION.freeFrames);
    const alloc = readSectionField(dv, s, SECTION.allocatedFrames);
    const reserved = readSectionField(dv, s, SECTION.reservedFrames);
    if (gen > sb.bootGeneration) throw new ImageError(`section ${s} claims initialisation in generation ${gen}, after the last boot (${sb.bootGeneration})`, where(s, 'initGeneration'));
    if (reserved !== reservedFramesIn(L, g.sectionFrames, s)) throw new ImageError(`section ${s} reserved count ${reserved} disagrees with the layout`, where(s, 'reservedFrames'));
    if (free + alloc + reserved > g.sectionFrames) throw new ImageError(`section ${s} counts (${free} free + ${alloc} allocated + ${reserved} reserved) exceed its ${g.sectionFrames} frames`, where(s, 'freeFrames'));
    if (gen !== 0 && free + alloc + reserved !== g.sectionFrames) throw new ImageError(`initialised section ${s} counts (${free} + ${alloc} + ${reserved}) do not add up to ${g.sectionFrames}`, where(s, 'freeFrames'));
  }
  const entries = freeAreaEntries(g);
  const area = store.read(freeAreaEntryOffset(L, 0), entries * FREE_AREA_ENTRY_SIZE);
  const av = dataView(area);
  for (let i = 0; i < entries; i++) {
    const { head, count } = freeAreaEntryAt(av, i);
    const bad = head !== 0 && (head < L.data.startPfn || head >= L.data.startPfn + L.data.frames);
    if (bad || count > g.totalFrames || (head === 0) !== (count === 0)) {
      throw new ImageError(`free list ${i} (head ${head}, count ${count}) is invalid`, { file, field: `freeArea[${i}]`, offset: freeAreaEntryOffset(L, i) });
    }
  }
}

/** Operations one writable open may count before a u64 counter must still fit below 2^53 (FORMAT.md). */
const COUNTER_HEADROOM = 2 ** 32;

/**
 * Refuses to boot an image whose counters cannot grow: the next write would
 * overflow the field (or, for the u32 boot generation, wrap to 0 silently).
 */
function refuseExhaustedCounters(store: Store, sb: Superblock, file?: string): void {
  const txnSeq = peekJournal(store, sb.layout.journal, file).txnSeq;
  const history = new HistoryRing(sb.layout.history, file);
  const historyNextSeq = history.readHeader(store).nextSeq;
  const historyAt = history.start;
  const limit = Number.MAX_SAFE_INTEGER - COUNTER_HEADROOM;
  const full = (what: string, value: number, field: string, offset: number) =>
    new ImageError(`${what} ${value} has no room left to count further changes; the image can only be opened read-only`, { file, field, offset });
  // Written as `!(x <= limit)`: a field of 2^53 or more reads as NaN, which has no room either.
  if (!(sb.updateSeq <= limit)) throw full('update sequence', sb.updateSeq, 'superblock.updateSeq', SB.updateSeq);
  if (!(sb.bootGeneration < 2 ** 32 - 1)) throw full('boot generation', sb.bootGeneration, 'superblock.bootGeneration', SB.bootGeneration);
  if (!(txnSeq <= limit)) throw full('journal transaction number', txnSeq, 'journal.txnSeq', sb.layout.journal.startPfn * PAGE_SIZE + JH.txnSeq);
  if (!(historyNextSeq <= limit)) throw full('history step number', historyNextSeq, 'history.nextSeq', historyAt + HH.nextSeq);
  // Every boot rewrites the superblock whole: a creation time it cannot write back refuses the boot instead.
  if (!Number.isSafeInteger(sb.createdAtMs)) throw new ImageError('superblock creation time is 2^53 or more; the image can only be opened read-only', { file, field: 'superblock.createdAtMs', offset: SB.createdAtMs });
}

/** A boot as Linux would do it: a profile whose descriptor is larger than the device reserves is refused before anything is written. */
function refuseAsLinux(sb: Superblock, profileName: string | undefined): void {
  refuseMismatchAsLinux(sb.geometry.memmap, knownProfile(profileName ?? sb.profile));
}

/** Journal description of the transactions that carry re-initialised descriptors ahead of their operation's own. */
const DESCRIPTORS_FOR = 'descriptors for: ';

/**
 * What recovery means for the operation the power cut interrupted. When the
 * journal holds one of its descriptor transactions, the operation itself never
 * committed: it is rolled back, whatever became of those (idempotent) descriptors.
 */
function operationOutcome(r: RecoveryResult): RecoveryResult {
  if (!r.description.startsWith(DESCRIPTORS_FOR)) return r;
  return { ...r, action: 'rolled-back', description: r.description.slice(DESCRIPTORS_FOR.length) };
}

export class PmemImage implements ImageCore {
  readonly ram = new Map<number, Uint8Array>();
  readonly extended = new Map<number, ExtendedValues>();
  /** The dynamic design's descriptors attached for I/O in flight (image/ioPool.ts): RAM only, replaced (never mutated) by each change. */
  io: IoPool = EMPTY_IO_POOL;
  readonly history: HistoryRing;
  /** Problems found by lazy re-initialisation during this boot. */
  readonly warnings: string[] = [];
  bootReport?: BootReport;
  private txnSeq: number;
  /** Per node/zone: first section that may still be never-initialised (sections are handed over lowest first). */
  readonly neverHint = new Map<string, number>();
  /**
   * Which superblock copy the open used; `rejected` says why the other was
   * passed over (damaged or out of date), so a caller can warn: the image then
   * rests on one copy until a write rewrites both.
   */
  superblockChoice: SuperblockChoice = { used: 'primary', usedOffset: 0 };

  private constructor(
    private raw: Store,
    public sb: Superblock,
    readonly readOnly: boolean,
    readonly file?: string,
  ) {
    this.history = new HistoryRing(sb.layout.history, file, sb);
    this.txnSeq = peekJournal(raw, sb.layout.journal, file).txnSeq;
  }

  /**
   * The image's store, every operation in it: home structures an operation
   * left in RAM (a deferred write-back, image/deferredHome.ts) are written
   * back first, so whoever reads or writes it sees the whole image.
   */
  get store(): Store {
    if (this.deferred?.pending && !this.dead) this.deferred.writeBack();
    return this.raw;
  }

  set store(store: Store) {
    this.raw = store;
    this.deferred?.rebase(store);
  }

  /** The store as it is, deferred home structures not written back: for the deferred write-back alone. */
  get storeAsIs(): Store {
    return this.raw;
  }

  /** Set by whoever opts in to one-block operations whose home structures are written back later (image/deferredHome.ts). */
  deferred?: DeferredWriteBack;

  /** Commits a deferred write-back (home structures, history header) through the journal: no history step. */
  commitWriteBack(ranges: ByteRange[], description: string): void {
    commitThroughJournal(this.raw, this.layout.journal, ranges, description, this.txnSeq + 1);
    this.txnSeq++;
  }

  /**
   * Redoes the operations a crash left committed in the history but not
   * written back (image/deferredHome.ts installs it); returns how many.
   */
  static redoDeferred: (img: PmemImage) => number = (img) => {
    if (img.history.deferredRecords(img.raw, img.bootGeneration).records.length) throw new ImageError('operations committed after the last write-back need redoing, and this build cannot redo them', { file: img.file, field: 'history.tail' });
    return 0;
  };

  get geometry(): Geometry { return this.sb.geometry; }
  get layout(): Layout { return this.sb.layout; }
  get nodes(): NodeInfo[] { return this.sb.nodes; }
  get bootGeneration(): number { return this.sb.bootGeneration; }
  get profile(): KernelProfile { return findProfile(this.sb.profile)!; }

  memmapOffset(pfn: number): number {
    return this.layout.memmap.startPfn * PAGE_SIZE + pfn * DESCRIPTOR_SIZE;
  }

  /** Formats a new image on an empty store. The image is left cleanly shut down, never booted. */
  static create(store: Store, options: CreateOptions): PmemImage {
    const geometry = makeGeometry(options);
    if (store.size !== geometry.sizeBytes) throw new UsageError(`store is ${store.size} bytes, expected ${geometry.sizeBytes}`);
    const layout = computeLayout(geometry);
    const sb: Superblock = {
      formatVersion: FORMAT_VERSION, formatRevision: 0, uuid: options.uuid ?? newUuid(), updateSeq: 1, geometry, layout,
      nodes: computeNodes(geometry), clean: true, bootGeneration: 0, profile: options.profile ?? 'default',
      createdAtMs: options.nowMs ?? Date.now(),
    };
    // Only sections holding reserved frames get a non-zero entry; the rest stay sparse zeros.
    for (let s = 0; s < geometry.sectionCount; s++) {
      const reserved = reservedFramesIn(layout, geometry.sectionFrames, s);
      if (reserved === 0) continue;
      store.write(layout.sectionTable.startPfn * PAGE_SIZE + s * SECTION_ENTRY_SIZE, encodeSectionEntry({ initGeneration: 0, freeFrames: 0, allocatedFrames: 0, reservedFrames: reserved }));
    }
    store.write(layout.journal.startPfn * PAGE_SIZE, encodeJournalHeader({ state: JOURNAL_EMPTY, payloadBytes: 0, txnSeq: 0, payloadCrc: 0, description: '' }));
    const ring = new HistoryRing(layout.history, options.file);
    store.write(layout.history.startPfn * PAGE_SIZE, encodeHistoryHeader(ring.emptyHeader()));
    const describe = `create ${geometry.sizeBytes} bytes, ${geometry.nodeCount} node(s), memmap on ${geometry.memmap}, links in ${geometry.links}`;
    ring.append(store, 'create', 0, { text: describe, sizeBytes: geometry.sizeBytes }, []);
    const encoded = encodeSuperblock(sb);
    // Barriers, because a cache lands writes in any order: everything else, then
    // the backup, then the primary, so a torn primary always has a backup to fall back on.
    store.flush();
    store.write(layout.backupSuperblock.startPfn * PAGE_SIZE, encoded);
    store.flush();
    store.write(0, encoded); // until a copy lands, the file is not an image
    store.flush();
    return new PmemImage(store, sb, false, options.file);
  }

  /** Opens an image. A writable open is a boot; a read-only open changes nothing. */
  static open(base: Store, options: OpenOptions = {}): PmemImage {
    if (options.lenient && !options.readOnly) throw new UsageError('only a read-only open may skip validation');
    // Recovery and validation run on an overlay first: nothing reaches the
    // store until the whole image, as recovery would leave it, has been validated.
    const trial = new OverlayStore(base);
    const firstRead = readSuperblockCopies(trial, options.file);
    const first = firstRead.sb;
    const recovery = recoverJournal(trial, first.layout.journal, options.file);
    const { sb, choice } = recovery.action === 'rolled-forward' ? readSuperblockCopies(trial, options.file) : firstRead;
    const refusal = options.readOnly ? undefined : writeRefusal(first);
    if (refusal) throw new ImageError(`the image can only be opened read-only: ${refusal}`, { file: options.file, field: 'superblock.formatRevision', offset: SB.formatRevision });
    if (!options.readOnly && options.onMismatch === 'linux') refuseAsLinux(sb, options.profile);
    if (!options.lenient) validateTables(trial, sb, options.file);
    if (!options.readOnly) {
      refuseExhaustedCounters(trial, sb, options.file);
      // An interrupted operation the boot would go on with must be readable before the boot writes anything.
      const at = intentOffset(sb.layout.history);
      decodeIntent(trial.read(at, INTENT_SIZE), at, options.file);
      // So must the operations a crash left to redo: redone first on the trial, which the store never sees.
      PmemImage.redoDeferred(new PmemImage(trial, sb, true, options.file));
    }
    const store = options.readOnly ? trial : base;
    if (!options.readOnly && recovery.action !== 'none') recoverJournal(base, first.layout.journal, options.file);
    const img = new PmemImage(store, sb, !!options.readOnly, options.file);
    img.history.gatheredCheckpointsOnly = !!options.gatheredCheckpointsOnly;
    img.superblockChoice = choice;
    img.history.readHeader(store);
    try {
      img.redone = PmemImage.redoDeferred(img);
    } catch (e) {
      // A damaged image read leniently shows what it holds; the checker reports the records.
      if (!(options.lenient && e instanceof ImageError)) throw e;
      img.warnings.push(e.message);
    }
    if (!options.readOnly) {
      img.boot(options.profile, operationOutcome(recovery));
      const intent = img.pendingIntent();
      if (intent) img.bootReport!.resumed = PmemImage.resumeIntent(img, intent);
    } else if (options.profile !== undefined) throw new UsageError('a profile can only be chosen when booting (opening for writing)');
    return img;
  }

  /** A boot: recovery has run; bump the generation (every initialised section becomes stale). */
  private boot(profileName: string | undefined, recovery: RecoveryResult): BootReport {
    const profile = profileName ?? this.sb.profile;
    if (!findProfile(profile)) throw new UsageError(`unknown kernel profile "${profile}"`);
    const previous = this.sb;
    // The first boot by this build upgrades an older version: what it lacks reads as empty (FORMAT.md).
    // It also raises the revision to one whose history may keep an operation as its inverse (putting blocks back where they stood), and hold records after its tail.
    const formatRevision = Math.max(previous.formatRevision, REVISION_PLACED);
    const next: Superblock = { ...previous, formatVersion: FORMAT_VERSION, formatRevision, bootGeneration: previous.bootGeneration + 1, clean: false, profile, updateSeq: previous.updateSeq + 1 };
    this.ram.clear();
    this.extended.clear();
    this.io = EMPTY_IO_POOL; // I/O in flight does not survive a boot
    this.warnings.length = 0;
    this.neverHint.clear();
    const recoveryText =
      recovery.action === 'rolled-forward' ? `; recovery rolled forward "${recovery.description}"`
      : recovery.action === 'rolled-back' ? `; recovery rolled back "${recovery.description}"` : '';
    const upgradedFrom = previous.formatVersion !== FORMAT_VERSION ? previous.formatVersion : undefined;
    const upgradeText = upgradedFrom ? `; format upgraded from version ${upgradedFrom} to ${FORMAT_VERSION}` : '';
    const redoneText = this.redone ? `; ${this.redone} operation${this.redone === 1 ? '' : 's'} committed but not written back redone` : '';
    const text = `boot ${next.bootGeneration} (${previous.clean ? 'clean' : 'after crash'}, profile ${profile})${recoveryText}${redoneText}${upgradeText}`;
    const txn = new Txn(this);
    this.writeSuperblockIn(txn, next);
    const historySeq = this.commit(txn, 'boot', { text, wasClean: previous.clean, profile, previousProfile: previous.profile, recovery }, next);
    const mismatch = structPageMismatch(this.geometry.memmap, findProfile(profile)!);
    this.bootReport = { generation: next.bootGeneration, wasClean: previous.clean, profile, previousProfile: previous.profile, recovery, historySeq, upgradedFrom, ...(mismatch ? { mismatch } : {}) };
    return this.bootReport;
  }

  private writeSuperblockIn(txn: Txn, sb: Superblock): void {
    const bytes = encodeSuperblock(sb);
    txn.write(0, bytes);
    txn.write(this.layout.backupSuperblock.startPfn * PAGE_SIZE, bytes);
  }

  /** Clean shutdown: marks the superblock clean. The RAM state of this boot is gone after it. */
  shutdown(): void {
    // Already clean (what create returns, never booted, is): nothing to write.
    if (this.sb.clean && !this.readOnly && !this.dead) return;
    this.assertWritable();
    const next = { ...this.sb, clean: true, updateSeq: this.sb.updateSeq + 1 };
    const txn = new Txn(this);
    this.writeSuperblockIn(txn, next);
    this.commit(txn, undefined, { text: 'shutdown' }, next);
  }

  /**
   * Raises the image's format revision to `revision` (both superblock copies,
   * one transaction, no history step) before it first holds what needs it:
   * an earlier build then opens it read-only instead of misreading it.
   */
  raiseRevision(revision: number): void {
    this.assertWritable();
    if (this.sb.formatRevision >= revision) return;
    const next = { ...this.sb, formatRevision: revision, updateSeq: this.sb.updateSeq + 1 };
    const txn = new Txn(this);
    this.writeSuperblockIn(txn, next);
    this.commit(txn, undefined, { text: `format revision ${revision}` }, next);
  }

  close(): void {
    if (!this.readOnly && !this.dead) this.shutdown();
    this.store.close();
  }

  assertWritable(): void {
    if (this.readOnly) throw new UsageError('the image is open read-only');
    if (this.dead) throw new UsageError('the simulated machine crashed: reopen the image to boot it again');
    // What create returns is formatted, never booted: no section is initialised for this boot, and every operation would say so misleadingly.
    if (this.sb.bootGeneration === 0) throw new UsageError('the image has never been booted: open it (a writable open boots it) before running operations');
  }

  /**
   * Runs an operation as one transaction. `body` stages changes and returns the
   * result plus its history summary; nothing reaches the store if it throws.
   */
  run<R>(kind: HistoryKind, body: (txn: Txn) => { result: R; summary: HistoryRecord['summary'] }): R & { step: number; changed: ChangeSet } {
    return this.runPart(kind, body);
  }

  /**
   * As run, for one transaction of an operation that takes several: `kind`
   * undefined records no history step (the operation's last part records
   * it), and `dropUndo` marks the step as one that cannot be stepped back over.
   */
  runPart<R>(kind: HistoryKind | undefined, body: (txn: Txn) => { result: R; summary: HistoryRecord['summary'] }, dropUndo = false): R & { step: number; changed: ChangeSet } {
    const { result, step } = this.runTxn(kind, body, dropUndo);
    return { ...result, step, changed: this.lastChange };
  }

  /** As run, for a caller that needs the step alone (a replay's batches): what changed is worked out only if lastChange is asked for. */
  runStep(kind: HistoryKind, body: (txn: Txn) => { summary: HistoryRecord['summary'] }): number {
    return this.runTxn(kind, (txn) => ({ result: undefined, summary: body(txn).summary })).step;
  }

  private runTxn<R>(kind: HistoryKind | undefined, body: (txn: Txn) => { result: R; summary: HistoryRecord['summary'] }, dropUndo = false): { result: R; step: number } {
    this.assertWritable();
    const began = clock();
    const txn = new Txn(this);
    const { result, summary } = body(txn);
    const step = this.commit(txn, kind, summary, undefined, dropUndo);
    this.warnings.push(...txn.notes);
    this.lastPartMs = clock() - began;
    return { result, step };
  }

  /** How long the last runPart took, in milliseconds (the next part of a long run is sized from it). */
  lastPartMs = 0;

  /** What the last committed transaction changed (frames, sections, free lists), worked out when first asked for. */
  get lastChange(): ChangeSet {
    if (this.changeToWorkOut) {
      this.knownChange = this.changeToWorkOut();
      this.changeToWorkOut = undefined;
    }
    return this.knownChange;
  }

  set lastChange(change: ChangeSet) {
    this.knownChange = change;
    this.changeToWorkOut = undefined;
  }

  private knownChange: ChangeSet = emptyChangeSet();
  /** What works out lastChange from the last commit's ranges, which nothing writes to afterwards. */
  private changeToWorkOut?: () => ChangeSet;
  /** The journaled bytes the last committed transaction replaced. */
  lastUndo: ByteRange[] = [];

  /** Commits a transaction; returns the history sequence number (0 when not recorded). */
  private lineLog?: LineLog;

  /** A fresh staging for the fast lane (its line buffers are reused from one operation to the next). */
  fastTxn(): FastTxn {
    if (!this.lineLog) this.lineLog = new LineLog(this.store);
    this.lineLog.reset(this.store);
    return new FastTxn(this, this.lineLog);
  }

  /**
   * Commits what the fast lane staged (one block allocated or freed), as run
   * commits a transaction; returns the history step and what changed.
   */
  commitStaged<R>(staged: StagedChanges, kind: HistoryKind, result: R, summary: HistoryRecord['summary']): R & { step: number; changed: ChangeSet } {
    this.assertWritable();
    const step = this.commit(staged, kind, summary);
    if (staged.notes.length) this.warnings.push(...staged.notes);
    return Object.assign(result as R & { step: number; changed: ChangeSet }, { step, changed: this.lastChange });
  }

  private commit(txn: StagedChanges, kind: HistoryKind | undefined, summary: HistoryRecord['summary'], nextSb?: Superblock, dropUndo = false): number {
    if (this.deferred?.pending) this.deferred.writeBack(); // (a transaction reading the store has done so already)
    const { redo: staged, undo } = txn.stagedRanges();
    const seq = kind ? this.history.append(txn, kind, nextSb?.bootGeneration ?? this.bootGeneration, summary, undo, dropUndo, txn.inverse) : 0;
    // The history record is staged too: then the journaled ranges are taken again.
    const redo = kind ? txn.stagedRedo() : staged;
    // Refuse an oversized transaction before the bulk writes, so that nothing at all reaches the store.
    const payloadBytes = encodedSize(redo);
    const capacity = journalCapacity(this.layout.journal);
    if (payloadBytes > capacity) throw new JournalFullError(`operation too large for the journal (${payloadBytes} bytes, capacity ${capacity}); try a smaller count`);
    const bulk = txn.bulkRanges();
    for (const r of bulk.plain) this.store.write(r.offset, r.data);
    if (bulk.plain.length) this.store.flush();
    // Each sequence number advances only once the journal has taken its transaction.
    for (const part of journalChunks(bulk.journaled, capacity, DESCRIPTOR_SIZE)) {
      commitThroughJournal(this.store, this.layout.journal, part, `${DESCRIPTORS_FOR}${summary.text}`, this.txnSeq + 1);
      this.txnSeq++;
    }
    commitThroughJournal(this.store, this.layout.journal, redo, summary.text, this.txnSeq + 1);
    this.txnSeq++;
    for (const [s, buf] of txn.ramSections) this.ram.set(s, buf);
    this.lastUndo = undo;
    const ramSections = [...txn.ramSections.keys()];
    if (bulk.plain.length || bulk.journaled.length) {
      // Bulk buffers go back to their pool below: their change set is worked out now.
      this.lastChange = changeSetOf(this.layout, this.geometry, [...bulk.plain, ...bulk.journaled, ...redo], ramSections, undo);
    } else {
      const { layout, geometry } = this;
      this.changeToWorkOut = () => changeSetOf(layout, geometry, redo, ramSections, undo);
    }
    // The store took copies, and the transaction is done: its borrowed buffers serve the next one.
    for (const r of bulk.plain) giveBackBuffer(r.data);
    for (const [key, s] of txn.stagedNeverHints()) this.neverHint.set(key, s);
    for (const [pfn, v] of txn.extended) {
      if (v) this.extended.set(pfn, v);
      else this.extended.delete(pfn);
    }
    if (nextSb) this.sb = nextSb;
    return seq;
  }

  /**
   * Runs `op` with a simulated power failure after `afterPoints` persistence
   * points. Returns whether the failure struck. Afterwards this instance is
   * dead (its RAM state is lost, as in a real crash): reopen the store to boot.
   */
  simulateCrash(afterPoints: number, op: (img: PmemImage) => void): { crashed: boolean; points: number } {
    this.assertWritable();
    const base = this.store;
    const crashing = new CrashingStore(base, afterPoints);
    this.store = crashing;
    try {
      op(this);
      return { crashed: false, points: crashing.writes };
    } catch (e) {
      if (e instanceof SimulatedCrash) return { crashed: true, points: crashing.writes };
      throw e;
    } finally {
      this.store = base;
      this.dead = true;
      this.deferred?.drop();
    }
  }

  /**
   * Completes (or rolls back) an interrupted operation (see format/intent.ts); installed by the
   * module that runs operations, which sits above this one.
   */
  static resumeIntent: (img: PmemImage, intent: Intent) => { text: string; step: number; rolledBack?: boolean } = () => {
    throw new ImageError('an operation was interrupted and this build cannot complete it');
  };

  /** The operation a crash interrupted, still to be completed by the next boot; undefined when none. */
  pendingIntent(): Intent | undefined {
    const at = intentOffset(this.layout.history);
    return decodeIntent(this.store.read(at, INTENT_SIZE), at, this.file);
  }

  /** Set after a simulated crash: the RAM state of this boot is gone. */
  dead = false;

  /** Operations the open redid: committed before a crash, their write-back lost with it. */
  redone = 0;

  /**
   * The RAM-only state of this boot, for an editor's undo: the superblock as
   * cached, the volatile memmap and extended fields. Buffers are replaced, never
   * mutated, by commits, so shallow copies are exact snapshots.
   */
  captureVolatile(): VolatileState {
    return { sb: this.sb, ram: new Map(this.ram), extended: new Map(this.extended), io: this.io, bootReport: this.bootReport, txnSeq: this.txnSeq };
  }

  /**
   * Puts back the RAM-only state of `v` (volatile memmap, extended fields),
   * keeping the superblock and transaction count as they are now: after the
   * device was rolled back by transactions of its own.
   */
  restoreRamState(v: VolatileState): void {
    this.ram.clear();
    v.ram.forEach((buf, s) => this.ram.set(s, buf));
    this.extended.clear();
    v.extended.forEach((x, pfn) => this.extended.set(pfn, x));
    this.io = v.io;
    this.neverHint.clear();
  }

  restoreVolatile(v: VolatileState): void {
    this.sb = v.sb;
    this.ram.clear();
    v.ram.forEach((buf, s) => this.ram.set(s, buf));
    this.extended.clear();
    v.extended.forEach((x, pfn) => this.extended.set(pfn, x));
    this.io = v.io;
    this.bootReport = v.bootReport;
    this.txnSeq = v.txnSeq;
    this.neverHint.clear();
  }

  /** Reads an extended descriptor field; 0 when the running profile lacks it (or it was never set). */
  extendedField(pfn: number, name: string): number {
    if (!this.profile.extended.some((f) => f.name === name)) return 0;
    return this.extended.get(pfn)?.[name] ?? 0;
  }

  historyRecords(withUndo = false): HistoryRecord[] {
    return this.history.records(this.store, withUndo);
  }
}

const clock = () => globalThis.performance?.now() ?? Date.now();
