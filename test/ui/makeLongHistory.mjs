// Makes an image whose history holds many steps, for the UI test of the History list:
//   node --import tsx test/ui/makeLongHistory.mjs FILE STEPS
// (the pmem CLI would take one process per step). Allocations and frees of single
// frames, made in memory and copied to a sparse file.
import { allocOp, freeOp, MemoryStore, PmemImage } from '../../src/engine/index.ts';
import { copyImage } from '../../src/engine/image/copy.ts';
import { FileStore } from '../../src/engine/node/fileStore.ts';

const [file, stepsArg] = process.argv.slice(2);
const steps = Number(stepsArg);
const size = 64 * 2 ** 20;
const memory = new MemoryStore(size);
PmemImage.create(memory, { sizeBytes: size });
const img = PmemImage.open(memory, {});
const held = [];
for (let i = 0; i < steps; i++) {
  if (held.length > 200 || (held.length > 0 && i % 3 === 2)) freeOp(img, [held.shift()]);
  else held.push(allocOp(img, { order: i % 2, owner: `t${i % 5}` }).blocks[0].pfn);
}
img.close();
const store = FileStore.create(file, size, { overwrite: false });
copyImage(PmemImage.open(memory, { readOnly: true }), store);
store.close();
