import { MemoryStore } from '../src/engine/store/memoryStore';
import { PmemImage } from '../src/engine/image/imageCore';
import { allocOp, freeOp, fastLane } from '../src/engine/image/ops';
const N = Number(process.argv[2] ?? 20000);
const size = 4 * 1024 ** 3;
const store = new MemoryStore(size);
PmemImage.create(store, { sizeBytes: size });
const img = PmemImage.open(store);
// warm: init sections
const w = allocOp(img, { order: 0, count: 1000 }); freeOp(img, w.blocks.map(b=>b.pfn));
const t0 = performance.now();
const pfns: number[] = [];
for (let i = 0; i < N; i++) pfns.push(allocOp(img, { order: 0 }).blocks[0].pfn);
for (let i = 0; i < N; i++) freeOp(img, [pfns[i]]);
const s = (performance.now() - t0) / 1000;
console.log(`${(2*N/s).toFixed(0)} ops/s, fast lane taken ${fastLane.taken}`);
