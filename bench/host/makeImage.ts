/**
 * Makes the host benchmark's image outside the extension host (so its memory
 * is not the host's): a 1 TiB image with `steps` history steps of
 * allocations and frees, as a workload leaves them.
 *   node dist/bench/hostImage.js FILE STEPS
 */
import { allocOp, freeOp, PmemImage } from '../../src/engine';
import { FileStore } from '../../src/engine/node/fileStore';

const [file, stepsArg] = process.argv.slice(2);
const steps = Number(stepsArg);
if (!file || !Number.isSafeInteger(steps) || steps < 1) throw new Error('usage: hostImage FILE STEPS');
const store = FileStore.create(file, 2 ** 40, { overwrite: true });
try {
  PmemImage.create(store, { sizeBytes: 2 ** 40 });
  const img = PmemImage.open(store, {});
  const live: number[] = [];
  for (let i = 0; i < steps; i++) {
    if (live.length > 64 && i % 3 === 2) freeOp(img, live.splice((i * 7919) % live.length, 1));
    else live.push(allocOp(img, { order: i % 4, owner: `o${i % 8}` }).blocks[0].pfn);
  }
  img.shutdown();
} finally {
  store.close();
}
