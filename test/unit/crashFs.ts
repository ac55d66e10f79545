/**
 * A file system under the write-back crash model, for the saves. Each file's
 * writes and size changes since its last sync are pending: after a power cut
 * any subset of them has landed, each possibly torn (as the device model in
 * writeBackCacheStore.ts). A sync makes one file's data and size durable.
 * Creations, renames and removals are pending until the directory is synced;
 * a journaling file system (ext4, xfs) commits them in order, so a prefix of
 * them survives. The model keeps every moment (its state after each call), so
 * a test can cut the power after any call.
 */
import * as path from 'node:path';
import { FileSystem } from '../../src/engine/node/fileSystem';
import { Landing, CachedWrite, tornSpan } from '../../src/engine/store/writeBackCacheStore';
import { CaseBudget, crashCases } from './crashCases';

type FileOp = { kind: 'write'; position: number; data: Uint8Array } | { kind: 'truncate'; size: number };
type DirOp = { kind: 'link'; name: string; ino: number } | { kind: 'unlink'; name: string } | { kind: 'rename'; from: string; to: string };

interface Inode {
  /** Never mutated: a sync replaces it. */
  durable: Uint8Array;
  pending: FileOp[];
}

export interface FsState {
  inodes: Map<number, Inode>;
  durableDir: Map<string, number>;
  pendingDir: DirOp[];
}

/** A file's content after `ops` (with their landings) on `content`; copies once, never changes `content`. */
function materialise(content: Uint8Array, ops: Array<{ op: FileOp; landing?: Landing }>): Uint8Array {
  if (ops.length === 0) return content;
  let out = content.slice(); // durable contents are shared between moments and never change
  let length = out.length;
  const resize = (n: number) => {
    if (n > out.length) {
      const grown = new Uint8Array(Math.max(n, out.length * 2));
      grown.set(out.subarray(0, length));
      out = grown;
    } else if (n < length) out.fill(0, n, length);
    length = n;
  };
  for (const { op, landing } of ops) {
    if (op.kind === 'truncate') {
      resize(op.size);
      continue;
    }
    let [from, to] = [0, op.data.length];
    if (landing?.torn) [from, to] = tornSpan(op.position, op.data.length, landing.torn);
    if (op.position + to > length) resize(op.position + to);
    out.set(op.data.subarray(from, to), op.position + from);
  }
  return out.length === length ? out : out.slice(0, length);
}

function applyDir(dir: Map<string, number>, op: DirOp): void {
  if (op.kind === 'link') dir.set(op.name, op.ino);
  else if (op.kind === 'unlink') dir.delete(op.name);
  else {
    const ino = dir.get(op.from);
    if (ino === undefined) return;
    dir.delete(op.from);
    dir.set(op.to, ino);
  }
}

function clone(s: FsState): FsState {
  const inodes = new Map<number, Inode>();
  for (const [i, n] of s.inodes) inodes.set(i, { durable: n.durable, pending: n.pending.slice() });
  return { inodes, durableDir: new Map(s.durableDir), pendingDir: s.pendingDir.slice() };
}

export class CrashFileSystem implements FileSystem {
  private state: FsState;
  private nextIno = 1;
  private readonly fds = new Map<number, number>();
  private nextFd = 3;
  /** The state after each call that changed something, oldest first. */
  readonly moments: FsState[] = [];

  constructor(files: Record<string, Uint8Array> = {}) {
    this.state = { inodes: new Map(), durableDir: new Map(), pendingDir: [] };
    for (const [name, data] of Object.entries(files)) {
      const ino = this.nextIno++;
      this.state.inodes.set(ino, { durable: data, pending: [] });
      this.state.durableDir.set(path.resolve(name), ino);
    }
    this.moments.push(clone(this.state));
  }

  /** A file system holding exactly a crash's durable state (everything in it is durable). */
  static fromState(s: FsState): CrashFileSystem {
    const fsys = new CrashFileSystem();
    fsys.state = clone(s);
    fsys.nextIno = Math.max(0, ...s.inodes.keys()) + 1;
    fsys.moments.length = 0;
    fsys.moments.push(clone(fsys.state));
    return fsys;
  }

  private mark(): void {
    this.moments.push(clone(this.state));
  }

  private liveDir(): Map<string, number> {
    const dir = new Map(this.state.durableDir);
    for (const op of this.state.pendingDir) applyDir(dir, op);
    return dir;
  }

  private content(ino: number): Uint8Array {
    const n = this.state.inodes.get(ino)!;
    return materialise(n.durable, n.pending.map((op) => ({ op })));
  }

  private ino(file: string): number {
    const ino = this.liveDir().get(path.resolve(file));
    if (ino === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    return ino;
  }

  private inoOf(fd: number): number {
    const ino = this.fds.get(fd);
    if (ino === undefined) throw new Error(`EBADF: ${fd}`);
    return ino;
  }

  exists(file: string): boolean {
    return this.liveDir().has(path.resolve(file));
  }

  size(file: string): number {
    return this.content(this.ino(file)).length;
  }

  readFile(file: string): Uint8Array {
    return this.content(this.ino(file)).slice();
  }

  open(file: string, flags: 'r+' | 'w' | 'wx'): number {
    const name = path.resolve(file);
    let ino = this.liveDir().get(name);
    if (ino !== undefined && flags === 'wx') throw Object.assign(new Error(`EEXIST: ${file}`), { code: 'EEXIST' });
    if (ino === undefined && flags === 'r+') throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    if (ino === undefined) {
      ino = this.nextIno++;
      this.state.inodes.set(ino, { durable: new Uint8Array(0), pending: [] });
      this.state.pendingDir.push({ kind: 'link', name, ino });
      this.mark();
    } else if (flags === 'w') {
      this.state.inodes.get(ino)!.pending.push({ kind: 'truncate', size: 0 });
      this.mark();
    }
    const fd = this.nextFd++;
    this.fds.set(fd, ino);
    return fd;
  }

  read(fd: number, length: number, position: number): Uint8Array {
    const c = this.content(this.inoOf(fd));
    if (position + length > c.length) throw new RangeError(`unexpected end of file at byte ${c.length}`);
    return c.slice(position, position + length);
  }

  write(fd: number, data: Uint8Array, position: number): void {
    this.state.inodes.get(this.inoOf(fd))!.pending.push({ kind: 'write', position, data: data.slice() });
    this.mark();
  }

  truncate(fd: number, size: number): void {
    this.state.inodes.get(this.inoOf(fd))!.pending.push({ kind: 'truncate', size });
    this.mark();
  }

  sync(fd: number): void {
    const ino = this.inoOf(fd);
    this.state.inodes.set(ino, { durable: this.content(ino), pending: [] });
    this.mark();
  }

  close(fd: number): void {
    this.inoOf(fd);
    this.fds.delete(fd);
  }

  rename(from: string, to: string): void {
    this.ino(from);
    this.state.pendingDir.push({ kind: 'rename', from: path.resolve(from), to: path.resolve(to) });
    this.mark();
  }

  remove(file: string): void {
    if (!this.exists(file)) return;
    this.state.pendingDir.push({ kind: 'unlink', name: path.resolve(file) });
    this.mark();
  }

  syncDirectory(): void {
    this.state.durableDir = this.liveDir();
    this.state.pendingDir = [];
    this.mark();
  }

  /** The files of a crash state, by name, as they would read after the power cut. */
  static files(s: FsState): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const [name, ino] of s.durableDir) out.set(name, s.inodes.get(ino)!.durable);
    return out;
  }
}

export interface FsCrash {
  moment: number;
  label: string;
  state: FsState;
}

/**
 * Every power cut worth trying over the recorded moments: after each call,
 * each prefix of the pending directory operations, and for each file with
 * pending writes the landings crashCases() picks (subsets, torn shapes).
 */
export function* fsCrashes(moments: FsState[], budget: CaseBudget): Generator<FsCrash> {
  // A generator: each crash's files are built only when asked for (they are whole images).
  for (let moment = 0; moment < moments.length; moment++) {
    const m = moments[moment];
    const files = [...m.inodes.entries()].filter(([, n]) => n.pending.length > 0);
    // Per file: its landing choices (the first is "nothing landed").
    const choices = files.map(([ino, n]) => {
      const writes: CachedWrite[] = n.pending.map((op) => (op.kind === 'write' ? { offset: op.position, data: op.data } : { offset: 0, data: new Uint8Array(0) }));
      return { ino, cases: crashCases([writes], { ...budget, seed: budget.seed + moment }) };
    });
    for (let k = 0; k <= m.pendingDir.length; k++) {
      const dir = new Map(m.durableDir);
      for (const op of m.pendingDir.slice(0, k)) applyDir(dir, op);
      // Each file's choices are tried with the others at "nothing landed" and at their own first choice: a cross product would explode.
      const combos: Array<Array<{ ino: number; landings: Landing[]; label: string }>> = [[]];
      for (const c of choices) for (const x of c.cases) combos.push([{ ino: c.ino, landings: x.landings, label: `ino ${c.ino} ${x.label}` }]);
      for (const combo of combos) {
        const inodes = new Map<number, Inode>();
        for (const [ino, n] of m.inodes) {
          const picked = combo.find((c) => c.ino === ino);
          const landed = [...(picked?.landings ?? [])].sort((a, b) => a.index - b.index);
          inodes.set(ino, { durable: materialise(n.durable, landed.map((l) => ({ op: n.pending[l.index], landing: l }))), pending: [] });
        }
        yield { moment, label: `after call ${moment}, ${k} of ${m.pendingDir.length} directory ops, ${combo.map((c) => c.label).join('; ') || 'no pending data'}`, state: { inodes, durableDir: dir, pendingDir: [] } };
      }
    }
  }
}
