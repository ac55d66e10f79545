/**
 * The fields of a kmem event line (pfn=, order=, migratetype=, gfp_flags=),
 * read in one pass, against a model that looks each key up apart as a whole
 * word and reads numbers by the rules written as regular expressions; and
 * the owner tag made of gfp_flags and migratetype.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { ownerTagOf, parseTraceLine } from '../../src/engine/replay/kmemTrace';

/** The value of the first whole-word `key=` (a value runs to the next space). */
function modelField(text: string, key: string): string | undefined {
  const words = text.split(' ');
  const word = words.find((w) => w.startsWith(`${key}=`));
  return word === undefined ? undefined : word.slice(key.length + 1);
}

function modelNumber(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v.slice(2), 16) : /^\d+$/.test(v) ? Number(v) : Number.NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

const PREFIX = '  bash-1  [001] .....  12.500000: mm_page_alloc: ';

/** Words as damaged and real traces hold them: the four keys with numbers of every form, other keys, stray text. */
const value = fc.oneof(
  fc.nat().map((n) => `0x${n.toString(16)}`),
  fc.nat().map((n) => `0X${n.toString(16).toUpperCase()}`),
  fc.nat().map(String),
  fc.bigInt({ min: 0n, max: 2n ** 70n }).map((n) => `0x${n.toString(16)}`),
  fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String),
  fc.constantFrom('', '0x', '0X', '0x1g', '+5', '-1', '1.5', '0009', 'GFP_KERNEL|__GFP_ZERO', '٣', '0x𝟙'),
  fc.string({ maxLength: 6 }).map((s) => s.replace(/ /g, '')),
);
const key = fc.constantFrom('pfn', 'order', 'migratetype', 'gfp_flags', 'xpfn', 'page', 'orde', 'pfn_', 'order=');
const word = fc.oneof(fc.tuple(key, value).map(([k, v]) => `${k}=${v}`), fc.constantFrom('', 'pfn', '=1', 'order'));
const fields = fc.array(word, { maxLength: 8 }).map((ws) => ws.join(' '));

describe('kmem event fields', () => {
  it('reads pfn, order, migratetype and gfp_flags as the first whole word of each, numbers only in hex or decimal within 2^53', () => {
    fc.assert(
      fc.property(fields, (text) => {
        const r = parseTraceLine(PREFIX + text, 1);
        const pfn = modelNumber(modelField(text, 'pfn'));
        const order = modelNumber(modelField(text, 'order'));
        if (pfn === undefined || order === undefined || order > 63) {
          assert.equal(r.kind, 'not-understood', text);
          return;
        }
        assert.ok(r.kind === 'event', text);
        assert.equal(r.event.pfn, pfn);
        assert.equal(r.event.order, order);
        assert.equal(r.event.migratetype, modelNumber(modelField(text, 'migratetype')));
        assert.equal(r.event.gfpFlags, modelField(text, 'gfp_flags'));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads the fields of the forms the tracepoints print', () => {
    const r = parseTraceLine(`${PREFIX}page=0000000000000000 pfn=0x1AfBa order=10 migratetype=2 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO`, 3);
    assert.ok(r.kind === 'event');
    assert.deepEqual([r.event.pfn, r.event.order, r.event.migratetype, r.event.gfpFlags], [0x1afba, 10, 2, 'GFP_KERNEL_ACCOUNT|__GFP_ZERO']);
    // 2^53 - 1 is a pfn; 2^53 is not.
    const last = parseTraceLine(`${PREFIX}pfn=0x1fffffffffffff order=0`, 1);
    assert.ok(last.kind === 'event' && last.event.pfn === 2 ** 53 - 1);
    assert.equal(parseTraceLine(`${PREFIX}pfn=0x20000000000000 order=0`, 1).kind, 'not-understood');
    assert.equal(parseTraceLine(`${PREFIX}pfn=9007199254740992 order=0`, 1).kind, 'not-understood');
    // A bare "0x" is no number; "0X" is hex as "0x" is.
    assert.equal(parseTraceLine(`${PREFIX}pfn=0x order=0`, 1).kind, 'not-understood');
    const upper = parseTraceLine(`${PREFIX}pfn=0X1F order=0`, 1);
    assert.ok(upper.kind === 'event' && upper.event.pfn === 31);
    // Without 0x the digits are decimal: a hex letter there is no number.
    for (const bad of ['1a', '10f', 'a', '0x1g', '1x2']) assert.equal(parseTraceLine(`${PREFIX}pfn=${bad} order=0`, 1).kind, 'not-understood', bad);
  });

  it('makes an owner tag of the first gfp flag without GFP_ (then __GFP_), a slash and the migrate type\'s letter', () => {
    const modelFlag = (gfp: string | undefined) => (gfp ?? '').split('|')[0].replace(/^GFP_/, '').replace(/^__GFP_/, '') || 'trace';
    const gfp = fc.option(fc.oneof(fc.constantFrom('GFP_KERNEL|__GFP_ZERO', 'GFP___GFP_X', '__GFP_COMP', '|GFP_DMA', 'GFP_', '__GFP_', 'GFP_GFP_X', '__GFP_GFP_X', 'GFP_HIGHUSER_MOVABLE|__GFP_COMP'), fc.string({ maxLength: 12 })), { nil: undefined });
    fc.assert(fc.property(gfp, fc.option(fc.nat({ max: 6 }), { nil: undefined }), (flags, mt) => {
      const tag = ownerTagOf({ line: 1, time: 0, cpu: 0, event: 'mm_page_alloc', pfn: 1, order: 0, gfpFlags: flags, migratetype: mt }, 64);
      const letter = mt === undefined ? '' : `/${['U', 'M', 'E', 'H', 'I'][mt] ?? mt}`;
      assert.equal(tag, `${modelFlag(flags)}${letter}`);
    }), { numRuns: 2000 });
  });
});
