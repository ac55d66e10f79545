/** The crash prompt's words: what each persistence point of an operation writes, from a dry run that keeps nothing. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allocOp, check, freeOp, initSectionsOp, PmemImage, sections } from '../../src/engine';
import { describePoint } from '../../src/engine/inspect/persistencePoints';
import { FileStore } from '../../src/engine/node/fileStore';
import { ImageSession } from '../../src/engine/node/session';
import { MiB, snapshot } from './helpers';

describe('persistence points of an operation', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-points-'));
    file = path.join(dir, 'a.pmem');
    const store = FileStore.create(file, 16 * MiB, { overwrite: false });
    PmemImage.create(store, { sizeBytes: 16 * MiB });
    store.close();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const ops = {
    alloc: () => (img: PmemImage) => void allocOp(img, { order: 2, owner: 'x' }),
    free: (pfn: number) => (img: PmemImage) => void freeOp(img, [pfn]),
    init: (s: number) => (img: PmemImage) => void initSectionsOp(img, [s]),
  };

  for (const kind of ['alloc', 'free', 'init'] as const) {
    it(`a dry run of ${kind === 'init' ? 'an initialisation' : `a${kind === 'alloc' ? 'n allocation' : ' free'}`} changes nothing and writes as many points as the crash counts, journal first, clear last`, () => {
      const s = ImageSession.open(file);
      s.bootIfNeeded();
      const held = s.perform('alloc', (img) => allocOp(img, { order: 1, owner: 'h' })).result.blocks[0].pfn;
      const never = sections(s.image).find((x) => x.state === 'never')!.index;
      const op = kind === 'alloc' ? ops.alloc() : kind === 'free' ? ops.free(held) : ops.init(never);
      const before = snapshot(s.image);
      const sectionsBefore = sections(s.image);
      const points = s.dryRun(op);
      assert.deepEqual(snapshot(s.image), before, 'nothing of the dry run is kept');
      assert.deepEqual(sections(s.image), sectionsBefore);
      assert.ok(check(s.image).ok);
      const words = points.map((p) => describePoint(s.image, p));
      const intent = words.findIndex((w) => w.startsWith('journal intent'));
      assert.ok(intent >= 0, words.join('\n'));
      assert.match(words[intent + 1], /^commit record/);
      assert.match(words[words.length - 1], /^clear/);
      assert.ok(words.slice(intent + 2, -1).length >= 1 && words.slice(intent + 2, -1).every((w) => !/^journal|^commit|^clear/.test(w)), words.join('\n'));
      if (kind !== 'init') assert.ok(words.some((w) => /^descriptors: pfn/.test(w)), words.join('\n'));
      assert.ok(words.some((w) => /^section table: section/.test(w)), words.join('\n'));
      // The crash itself, past the last point, completes after exactly as many points.
      const r = s.crashAndReboot(10_000, kind, op);
      assert.equal(r.crashed, false);
      assert.equal(r.points, points.length);
    });
  }
});
