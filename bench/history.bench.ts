/**
 * History benchmarks: prints figures, asserts nothing. Run with `npm run bench`.
 *   - bytes per allocation and per free record (checkpoints included)
 *   - steps kept on a 64 MiB image (target: 100,000) and on a 1 TiB image
 *   - stepping back to the oldest step kept of a 1 TiB image whose ring is full (target: 100 ms)
 */
import { allocOp, freeOp, info, MemoryStore, PmemImage, stateAt, stepRange } from '../src/engine';
import { fmt, timeRuns } from './stats';

const TiB = 2 ** 40;
const quick = process.argv.includes('--quick');

function fillHistory(img: PmemImage, steps: number): { allocBytes: number; freeBytes: number; allocs: number; frees: number } {
  const held: number[] = [];
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const out = { allocBytes: 0, freeBytes: 0, allocs: 0, frees: 0 };
  for (let i = 0; i < steps; i++) {
    const before = img.history.readHeader(img.store).tail;
    const free = held.length > 400 || (held.length > 0 && random() < 0.45);
    if (free) freeOp(img, held.splice(Math.floor(random() * held.length), 1));
    else held.push(allocOp(img, { order: random() < 0.7 ? 0 : Math.floor(random() * 4), owner: 'bench' }).blocks[0].pfn);
    const grown = img.history.readHeader(img.store).tail - before;
    if (grown <= 0) continue; // the ring wrapped
    if (free) {
      out.freeBytes += grown;
      out.frees++;
    } else {
      out.allocBytes += grown;
      out.allocs++;
    }
  }
  return out;
}

const small = new MemoryStore(64 * 2 ** 20);
PmemImage.create(small, { sizeBytes: 64 * 2 ** 20 });
let img = PmemImage.open(small);
const sizes = fillHistory(img, quick ? 20_000 : 100_000);
let range = stepRange(img.historyRecords());
console.log(`history records: alloc ${(sizes.allocBytes / sizes.allocs).toFixed(1)} bytes, free ${(sizes.freeBytes / sizes.frees).toFixed(1)} bytes (mean, checkpoints included)`);
console.log(`history of a 64 MiB image (${info(img).history.bytes / 2 ** 20} MiB region): steps ${range.first} to ${range.last} kept (target: 100,000 steps)`);
const big = new MemoryStore(TiB);
PmemImage.create(big, { sizeBytes: TiB });
img = PmemImage.open(big);
fillHistory(img, quick ? 20_000 : 150_000);
range = stepRange(img.historyRecords());
const oldest = timeRuns(quick ? 3 : 9, () => stateAt(img, range.first));
console.log(`history of a 1 TiB image (${info(img).history.bytes / 2 ** 20} MiB region): ${range.last - range.first + 1} steps kept (${range.first} to ${range.last}); the oldest shown in median ${fmt(oldest.medianMs)} (runs ${oldest.runsMs.map(fmt).join(', ')}), target 100 ms`);
