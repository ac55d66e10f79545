/**
 * check's detection rate per structure, on images of every placement. A
 * sample runs by default; PMEM_DETECTION_FULL=1 applies every edit to up to
 * six instances of each structure and prints the table.
 */
import { strict as assert } from 'node:assert';
import { measureDetection } from './fuzz/detection';

const FULL = process.env.PMEM_DETECTION_FULL === '1';

/**
 * The only meaning-changing edits the format cannot reveal:
 * - a journal header turned into a pending intent or commit (checksum kept) is exactly what a crash leaves; a read-only
 *   open recovers it on an overlay as a boot would, so check sees the recovered image;
 * - a journal header failing its checksum is what a power cut during the first write of a transaction leaves (a torn
 *   intent): recovery drops it as a transaction that never committed, and the image means what it meant before;
 * - an empty journal's payloadBytes and payloadCrc are the last transaction's (clearing rewrites only the state word):
 *   changing them changes nothing;
 * - a history record's kind moved between alloc, free and init (checksum kept): nothing else records the kind, the
 *   generation stays the same, and the summary text is free-form.
 * - an owner tag changed in a two-word allocatee word (no checksum), or in a memdesc pool slot or a 2m unit head
 *   with its checksum recomputed: the owner is data that nothing else records;
 * - on two-word, memdesc and 2m images, a section of this boot marked as of the boot before: its index is rebuilt
 *   from the device, and these designs keep every block there, so it means the same.
 * Descriptors of never-initialised sections mean nothing until a hand-over rewrites them, so edits to them are not
 * meaning-changing; they are measured (and stay undetected) but not required.
 */
const UNDETECTABLE: Record<string, RegExp> = {
  journalHeader: /: (state (intent|committed)|bit flip at byte \d+|payload(Bytes|Crc) set while empty)$/,
  historyRecord: /: kind \+1$/,
  descriptorNever: /./,
  twoWordAllocated: /: owner changed$/,
  memdescSlot: /: owner changed$/,
  unitDescriptor: /: owner changed$/,
  sectionTable: /^ram\/page\/(twoWord|memdesc|unit2m) sectionTable @\d+: section \d+ initGeneration -1$/,
};

describe('check: detection rate per structure', function () {
  this.timeout(FULL ? 900_000 : 120_000);

  it(`reports every meaning-changing mutation the format can reveal (${FULL ? 'every edit, six instances' : 'a sample'})`, () => {
    const rates = measureDetection(FULL ? {} : { perStructure: 1, spread: true });
    const table = rates.map((r) => `${r.structure.padEnd(20)} ${String(r.detected).padStart(4)}/${String(r.mutations).padEnd(4)} ${(r.mutations ? (100 * r.detected) / r.mutations : 100).toFixed(1)} %`);
    if (FULL) console.log(table.join('\n'));
    const unexplained = rates.flatMap((r) => r.missed.filter((m) => !UNDETECTABLE[r.structure]?.test(m)));
    assert.deepEqual(unexplained, [], table.join('\n'));
    for (const r of rates.filter((x) => !UNDETECTABLE[x.structure] && x.structure !== 'journalPayload')) assert.ok(r.mutations > 0, `${r.structure} was mutated`);
  });
});
