import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, pmem } from './cliRun';
import { PNG } from 'pngjs';
import { renderMap } from '../../src/cli/commands/map';
import { allocOp, freeOp, MemoryStore, PmemImage } from '../../src/engine';
import { fitZoom, layoutAt } from '../../src/shared/mapGeometry';
import { DEFAULT_PALETTES, orderRampColours, ownerColour, rasterise, Rgb } from '../../src/shared/mapRaster';

const MiB = 2 ** 20;


function ok(...args: string[]): string {
  const r = pmem(...args);
  assert.equal(r.code, 0, `pmem ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Runs a command that must fail with a usage error: exit 2 and exactly one line on stderr. */
function usageError(...args: string[]): string {
  const r = pmem(...args);
  assert.equal(r.code, 2, `pmem ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `one line of error: ${r.stderr}`);
  assert.equal(r.stdout, '');
  return lines[0];
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function readPng(file: string): PNG {
  return PNG.sync.read(fs.readFileSync(file));
}

function pixel(png: PNG, x: number, y: number): Rgb {
  const i = (y * png.width + x) * 4;
  return [png.data[i], png.data[i + 1], png.data[i + 2]];
}

/** The map's layout for the whole device fitted to a box, as the editor and `pmem map` compute it. */
function fitted(totalFrames: number, box: [number, number] = [1024, 768]) {
  const l = layoutAt(fitZoom(totalFrames, box[0], box[1]), totalFrames, box[0]);
  return { ...l, width: Math.round(l.columns * l.cellPx), height: Math.round(l.rows * l.cellPx) };
}

/** The pixel at the centre of the cell holding `pfn`. */
function pixelOfPfn(png: PNG, totalFrames: number, pfn: number, box: [number, number] = [1024, 768]): Rgb {
  const l = fitted(totalFrames, box);
  const cell = Math.floor(pfn / l.framesPerCell);
  const x = Math.floor(((cell % l.columns) + 0.5) * l.cellPx);
  const y = Math.floor((Math.floor(cell / l.columns) + 0.5) * l.cellPx);
  return pixel(png, x, y);
}

describe('pmem map', function () {
  this.timeout(120_000);
  let dir: string;
  let n = 0;
  const file = (name: string, ext = 'pmem') => path.join(dir, `${name}-${n++}.${ext}`);
  const FRAMES_64M = (64 * MiB) / 4096;

  before(function () {
    this.timeout(300_000);
    // Built once for the whole run (test/unit/globalBuild.mjs): a build here would race the other worker's CLI runs.
    assert.ok(fs.existsSync(CLI), `${CLI} exists (npm run build)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmem-map-'));
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A 64 MiB image with an "fs" block (step 3) and then a "db" block (step 5). */
  function sample(): { f: string; fsPfn: number; dbPfn: number } {
    const f = file('img');
    ok('create', f, '--size', '64M');
    const fsPfn = Number(ok('alloc', f, '--order', '3', '--owner', 'fs').trim());
    const dbPfn = Number(ok('alloc', f, '--order', '5', '--owner', 'db').trim());
    return { f, fsPfn, dbPfn };
  }

  it('is listed in the help and has its own usage', () => {
    assert.match(ok('--help'), /^ {2}map {2}/m);
    const r = pmem('map', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: pmem map FILE --out PNG/);
  });

  it('adds an axis and a legend by default: the map unchanged at the top left, the owners and states listed below it', () => {
    const { f, fsPfn } = sample();
    const bareFile = file('bare', 'png');
    ok('map', f, '--out', bareFile, '--no-legend');
    const bare = readPng(bareFile);
    const out = file('legend', 'png');
    ok('map', f, '--out', out);
    const full = readPng(out);
    assert.ok(full.width > bare.width && full.height > bare.height, `${full.width} × ${full.height} holds the map of ${bare.width} × ${bare.height}, an axis and a legend`);
    for (const [x, y] of [[0, 0], [bare.width - 1, bare.height - 1], [Math.floor(bare.width / 2), Math.floor(bare.height / 3)]]) assert.deepEqual(pixel(full, x, y), pixel(bare, x, y), `(${x}, ${y}) as without the legend`);
    assert.deepEqual(pixelOfPfn(full, FRAMES_64M, fsPfn), ownerColour('fs', DEFAULT_PALETTES.dark));
    // Under the map: one swatch per entry at x 4 to 15, the owners' among them; right of the map: text.
    const swatches = new Set<string>();
    for (let y = bare.height; y < full.height; y++) swatches.add(pixel(full, 8, y).join());
    for (const c of [DEFAULT_PALETTES.dark.metadata, DEFAULT_PALETTES.dark.allocated, DEFAULT_PALETTES.dark.never, ownerColour('fs', DEFAULT_PALETTES.dark)!, ownerColour('db', DEFAULT_PALETTES.dark)!]) {
      assert.ok(swatches.has(c.map(Math.round).join()), `the legend has a swatch of rgb(${c})`);
    }
    const bg = DEFAULT_PALETTES.dark.background.join();
    let axisInk = 0;
    for (let y = 0; y < bare.height; y++) for (let x = bare.width; x < full.width; x++) if (pixel(full, x, y).join() !== bg) axisInk++;
    assert.ok(axisInk > 100, `the axis has text (${axisInk} pixels)`);
  });

  it('draws the whole device at the largest zoom that fits the box, never changing the image', () => {
    const { f, fsPfn, dbPfn } = sample();
    const before = sha256(f);
    const out = file('map', 'png');
    const said = ok('map', f, '--out', out, '--no-legend');
    const l = fitted(FRAMES_64M);
    assert.equal(l.framesPerCell, 1, 'a 64 MiB device is drawn a frame per cell in 1024 × 768');
    assert.ok(l.cellPx > 1);
    assert.match(said, new RegExp(`: ${l.width} × ${l.height} pixels, ${Number(l.cellPx.toFixed(2))} pixels per frame, ${l.columns} × ${l.rows} cells$`, 'm'));
    const png = readPng(out);
    assert.equal(png.width, l.width);
    assert.equal(png.height, l.height);
    assert.ok(png.width <= 1024 && png.height <= 768, 'within the box');
    assert.ok(png.width > 512 || png.height > 384, 'and filling it');
    const dark = DEFAULT_PALETTES.dark;
    assert.deepEqual(pixel(png, 0, 0), dark.metadata, 'pfn 0 (the superblock) is metadata');
    assert.deepEqual(pixelOfPfn(png, FRAMES_64M, 0), dark.metadata, 'the whole cell of pfn 0');
    assert.deepEqual(pixelOfPfn(png, FRAMES_64M, fsPfn), ownerColour('fs', dark), 'the fs block has the owner colour of "fs"');
    assert.deepEqual(pixelOfPfn(png, FRAMES_64M, fsPfn + 7), ownerColour('fs', dark), 'every frame of the block');
    assert.deepEqual(pixelOfPfn(png, FRAMES_64M, dbPfn + 31), ownerColour('db', dark));
    assert.deepEqual(pixelOfPfn(png, FRAMES_64M, FRAMES_64M - 2048), dark.never, 'the last section was never initialised');
    assert.equal(sha256(f), before, 'the image is unchanged');
    assert.deepEqual(fs.readdirSync(dir).filter((x) => x.endsWith('.tmp')), [], 'no temporary file is left');
  });

  it('follows --width and --height (cells of a fractional size too), and --theme light', () => {
    const { f, fsPfn } = sample();
    const out = file('small', 'png');
    ok('map', f, '--out', out, '--no-legend', '--width', '300', '--height', '200', '--theme', 'light');
    const png = readPng(out);
    const l = fitted(FRAMES_64M, [300, 200]);
    assert.equal(png.width, l.width);
    assert.equal(png.height, l.height);
    assert.ok(png.width <= 300 && png.height <= 200);
    const light = DEFAULT_PALETTES.light;
    assert.deepEqual(pixel(png, 0, 0), light.metadata);
    for (const pfn of [fsPfn, fsPfn + 3, fsPfn + 7]) assert.deepEqual(pixelOfPfn(png, FRAMES_64M, pfn, [300, 200]), ownerColour('fs', light), `pfn ${pfn}`);
  });

  it('aggregates frames into cells on a large device', () => {
    const f = file('large');
    ok('create', f, '--size', '16G');
    const out = file('large', 'png');
    const said = ok('map', f, '--out', out, '--no-legend');
    const frames = (16 * 2 ** 30) / 4096;
    const l = fitted(frames);
    assert.ok(l.framesPerCell > 1, 'several frames per cell');
    assert.match(said, new RegExp(`${l.framesPerCell} frames per cell`));
    const png = readPng(out);
    assert.equal(png.width, l.width);
    assert.equal(png.height, l.height);
    assert.ok(png.width <= 1024 && png.height <= 768);
    assert.deepEqual(pixel(png, 0, 0), DEFAULT_PALETTES.dark.metadata);
    assert.deepEqual(pixelOfPfn(png, frames, frames / 2), DEFAULT_PALETTES.dark.never, 'the middle of the device was never initialised');
  });

  it('--at STEP draws an earlier state, without changing the image', () => {
    const { f, fsPfn, dbPfn } = sample();
    const before = sha256(f);
    const now = file('now', 'png');
    const then = file('then', 'png');
    ok('map', f, '--out', now, '--no-legend');
    assert.match(ok('map', f, '--out', then, '--at', '3', '--no-legend'), /after step 3/);
    const a = readPng(now);
    const b = readPng(then);
    assert.equal(b.width, a.width);
    assert.equal(b.height, a.height);
    assert.notDeepEqual(b.data, a.data, 'the past differs from the present');
    const dark = DEFAULT_PALETTES.dark;
    assert.deepEqual(pixelOfPfn(b, FRAMES_64M, fsPfn), ownerColour('fs', dark), 'after step 3 the fs block exists');
    assert.notDeepEqual(pixelOfPfn(b, FRAMES_64M, dbPfn), ownerColour('db', dark), 'and the db block does not yet');
    assert.deepEqual(pixelOfPfn(a, FRAMES_64M, dbPfn), ownerColour('db', dark));
    ok('map', f, '--out', then, '--at', '5', '--force', '--no-legend');
    assert.deepEqual(readPng(then).data, a.data, 'the last step is the present');
    assert.equal(sha256(f), before, 'the image is unchanged');
    assert.match(usageError('map', f, '--out', then, '--at', '99', '--force'), /^pmem map: step 99 is not available: steps 1 to 5/);
  });

  it('--overlay largest-free colours each cell by the largest free block in it: order 0 red where single frames are all that is free, the largest order green', () => {
    const f = file('overlay');
    ok('create', f, '--size', '64M', '--section', '2M');
    // One 2 MiB section of single frames, every other one freed: only order 0 free there.
    const all = JSON.parse(ok('alloc', f, '--order', '0', '--count', '512', '--json')) as { pfns: number[] };
    ok('free', f, ...all.pfns.filter((_, i) => i % 2 === 0).map(String));
    // A whole largest-order block free: touch a new section by allocating and freeing one of its frames.
    const big = Number(ok('alloc', f, '--order', '10').trim());
    ok('free', f, String(big));
    const png = file('overlay', 'png');
    assert.match(ok('map', f, '--out', png, '--overlay', 'largest-free', '--no-legend'), /coloured by the largest free order in each cell/);
    const ramp = orderRampColours(DEFAULT_PALETTES.dark, 10);
    const map = readPng(png);
    const lone = all.pfns[0];
    assert.deepEqual(pixelOfPfn(map, FRAMES_64M, lone), ramp[0], `pfn ${lone}: a freed single frame`);
    assert.deepEqual(pixelOfPfn(map, FRAMES_64M, big + 600), ramp[10], `pfn ${big + 600}: inside a free order-10 block`);
    // The same cells in the plain map are the free shades, not the ramp.
    const plain = file('plain', 'png');
    ok('map', f, '--out', plain, '--no-legend');
    assert.notDeepEqual(pixelOfPfn(readPng(plain), FRAMES_64M, lone), ramp[0]);
    const legend = file('legend', 'png');
    ok('map', f, '--out', legend, '--overlay', 'largest-free');
    assert.ok(readPng(legend).height > map.height, 'a legend under the map');
    assert.match(usageError('map', f, '--out', file('x', 'png'), '--overlay', 'owners'), /--overlay must be largest-free, not "owners"/);
  });

  it('scales every cell to whole pixels, for whole and fractional cell sizes', () => {
    for (const [size, boxes] of [[64 * MiB, [[1024, 768], [300, 200], [333, 97], [97, 333]]], [16 * 2 ** 30, [[1600, 1000], [1024, 768], [701, 499]]]] as const) {
      const store = new MemoryStore(size);
      PmemImage.create(store, { sizeBytes: size });
      const w = PmemImage.open(store, {});
      const held = allocOp(w, { order: 0, count: 300, owner: 'a' }).blocks.map((b) => b.pfn);
      allocOp(w, { order: 4, count: 20, owner: 'b' });
      freeOp(w, held.filter((_, i) => i % 3 === 0));
      w.close();
      const img = PmemImage.open(store, { readOnly: true });
      for (const [bw, bh] of boxes) {
        const map = renderMap(img, bw, bh, 'dark');
        const l = map.layout;
        assert.ok(map.width <= bw && map.height <= bh, `${bw} × ${bh}: ${map.width} × ${map.height} fits`);
        assert.equal(map.width, Math.round(l.columns * l.cellPx));
        assert.equal(map.height, Math.round(l.rows * l.cellPx));
        const colours = new Uint8ClampedArray(map.cells.cells * 4);
        rasterise(map.cells, DEFAULT_PALETTES.dark, img.geometry.maxOrder, colours);
        const seen = new Uint8Array(map.cells.cells);
        for (let y = 0; y < map.height; y++) {
          for (let x = 0; x < map.width; x++) {
            const cell = Math.min(l.rows - 1, Math.floor((y + 0.5) / l.cellPx)) * l.columns + Math.min(l.columns - 1, Math.floor((x + 0.5) / l.cellPx));
            seen[cell] = 1;
            const p = (y * map.width + x) * 4;
            if (map.rgba[p] !== colours[cell * 4] || map.rgba[p + 1] !== colours[cell * 4 + 1] || map.rgba[p + 2] !== colours[cell * 4 + 2] || map.rgba[p + 3] !== 255) {
              assert.fail(`${bw} × ${bh}: pixel (${x}, ${y}) is not the colour of cell ${cell}`);
            }
          }
        }
        assert.equal(seen.indexOf(0), -1, `${bw} × ${bh}: every cell is drawn (cell size ${l.cellPx})`);
      }
    }
  });

  describe('errors', () => {
    let f: string;
    let hash: string;
    before(() => {
      f = sample().f;
      hash = sha256(f);
    });
    after(() => assert.equal(sha256(f), hash, 'no error changed the image'));

    const out = () => path.join(dir, 'never-written.png');
    const cases: Array<[string, () => string[], RegExp]> = [
      ['missing --out', () => [f], /--out PNG is required/],
      ['--out without a value', () => [f, '--out'], /--out/],
      ['--width 0', () => [f, '--out', out(), '--width', '0'], /--width must be 1 to 16384, not 0/],
      ['--width abc', () => [f, '--out', out(), '--width', 'abc'], /--width must be a whole number, not "abc"/],
      ['--width -5', () => [f, '--out', out(), '--width', '-5'], /--width/],
      ['--height 1.5', () => [f, '--out', out(), '--height', '1.5'], /--height must be a whole number/],
      ['a box over 2^24 pixels', () => [f, '--out', out(), '--width', '8192', '--height', '4096'], /--width × --height must be at most 16777216 pixels/],
      ['--theme blue', () => [f, '--out', out(), '--theme', 'blue'], /--theme must be dark or light, not "blue"/],
      ['--at x', () => [f, '--out', out(), '--at', 'x'], /--at must be a whole number/],
      ['no image', () => ['--out', out()], /give exactly one image file/],
      ['two images', () => [f, f, '--out', out()], /give exactly one image file/],
      ['an unknown option', () => [f, '--out', out(), '--zoom', '3'], /zoom/],
    ];
    for (const [what, args, message] of cases) {
      it(`exits 2 with one line for ${what}`, () => {
        assert.match(usageError('map', ...args()), message);
        assert.equal(fs.existsSync(out()), false, 'nothing was written');
      });
    }

    it('refuses to write over the image itself', () => {
      assert.match(usageError('map', f, '--out', f), /--out: .* is the image itself/);
      const link = file('link');
      fs.linkSync(f, link);
      assert.match(usageError('map', f, '--out', link), /is the image itself/, 'nor a hard link to it');
    });

    it('refuses an output in a missing directory, in a file, or that is a directory', () => {
      assert.match(usageError('map', f, '--out', path.join(dir, 'missing', 'x.png')), /--out: directory .*missing does not exist/);
      assert.match(usageError('map', f, '--out', path.join(f, 'x.png')), /--out: .* is not a directory/);
      assert.match(usageError('map', f, '--out', dir), /--out: .* is a directory/);
    });

    it('reports an unwritable output and leaves no temporary file', function () {
      let target: string;
      if (process.platform !== 'linux') this.skip();
      if (process.getuid?.() === 0) {
        target = '/sys/pmem-map-test.png'; // read-only even for root
      } else {
        const ro = path.join(dir, 'read-only');
        fs.mkdirSync(ro, { recursive: true });
        fs.chmodSync(ro, 0o555);
        target = path.join(ro, 'x.png');
      }
      assert.match(usageError('map', f, '--out', target), /^pmem map: --out: cannot write .*x?\.png: (permission denied|read-only file system)$/);
      assert.equal(fs.existsSync(target), false);
      assert.deepEqual(fs.readdirSync(path.dirname(target)).filter((x) => x.endsWith('.tmp')), []);
    });

    it('rejects a bad image with exit 2, leaving an existing output untouched', () => {
      const bad = file('bad');
      fs.writeFileSync(bad, Buffer.alloc(3 * MiB, 0x5a));
      const existing = file('existing', 'png');
      fs.writeFileSync(existing, 'old');
      assert.match(usageError('map', bad, '--out', existing), /^pmem map: .*bad-\d+\.pmem/);
      assert.equal(fs.readFileSync(existing, 'utf8'), 'old');
      assert.match(usageError('map', path.join(dir, 'absent.pmem'), '--out', existing), /no such file/);
      assert.equal(fs.readFileSync(existing, 'utf8'), 'old');
    });

    it('refuses an existing output without --force, naming it, and replaces it whole with --force', () => {
      const existing = file('replaced', 'png');
      fs.writeFileSync(existing, 'old');
      assert.equal(usageError('map', f, '--out', existing), `pmem map: --out: ${existing} already exists; add --force to replace it`);
      assert.equal(fs.readFileSync(existing, 'utf8'), 'old');
      ok('map', f, '--out', existing, '--force', '--no-legend');
      assert.equal(readPng(existing).width, fitted(FRAMES_64M).width);
      assert.deepEqual(fs.readdirSync(dir).filter((x) => x.endsWith('.tmp')), []);
    });
  });
});
