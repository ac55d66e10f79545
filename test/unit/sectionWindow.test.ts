/** Views of a few frames or sections read only the section-table entries they need. */
import { strict as assert } from 'node:assert';
import { allocOp, frames, MemoryStore, PmemImage, sections } from '../../src/engine';
import { SECTION_ENTRY_SIZE } from '../../src/engine/format/layout';
import { StoreWrapper } from '../../src/engine/store/storeWrapper';
import { SectionWindow } from '../../src/engine/inspect/sectionWindow';
import { GiB } from './helpers';

/** Counts the bytes read from the section table. */
class TableMeter extends StoreWrapper {
  tableBytes = 0;
  constructor(base: MemoryStore, private readonly tableAt: number, private readonly tableEnd: number) {
    super(base);
  }
  override read(offset: number, length: number): Uint8Array {
    const a = Math.max(offset, this.tableAt);
    const b = Math.min(offset + length, this.tableEnd);
    if (b > a) this.tableBytes += b - a;
    return super.read(offset, length);
  }
}

describe('section-table windows', () => {
  it('one section or one frame reads a few entries, not the table, and gives what the whole table gives', () => {
    const size = 64 * GiB;
    const base = new MemoryStore(size);
    PmemImage.create(base, { sizeBytes: size });
    const img = PmemImage.open(base);
    allocOp(img, { order: 3, owner: 'w' });
    img.close();
    const probe = PmemImage.open(base, { readOnly: true });
    const t = probe.layout.sectionTable;
    const tableBytes = probe.geometry.sectionCount * SECTION_ENTRY_SIZE;
    const meter = new TableMeter(base, t.startPfn * 4096, t.startPfn * 4096 + tableBytes);
    const ro = PmemImage.open(meter, { readOnly: true, lenient: true });
    const whole = sections(ro);
    meter.tableBytes = 0;
    const s = whole.find((x) => x.state !== 'never')!;
    assert.deepEqual(sections(ro, s.index, 1), [s]);
    assert.ok(meter.tableBytes <= 64 * SECTION_ENTRY_SIZE, `${meter.tableBytes} table bytes read for one section (the table has ${tableBytes})`);
    meter.tableBytes = 0;
    const f = frames(ro, s.firstPfn + 100, 1);
    assert.equal(f.length, 1);
    assert.ok(meter.tableBytes <= 64 * SECTION_ENTRY_SIZE, `${meter.tableBytes} table bytes read for one frame`);
    assert.deepEqual(sections(ro, 10, 5), whole.slice(10, 15));
    assert.deepEqual(sections(ro, whole.length - 2, 10), whole.slice(-2));
    assert.deepEqual(sections(ro, whole.length, 3), []);
    // A window that has to move (a walk across the table) reads the right entries.
    const walker = new SectionWindow(ro);
    for (const i of [0, 100, 99, 5000, whole.length - 1, 3]) assert.equal(walker.generation(i), whole[i].initGeneration, `section ${i}`);
  });
});
