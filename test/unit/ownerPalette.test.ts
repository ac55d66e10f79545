import { strict as assert } from 'node:assert';
import { contrastRatio, MIN_STATE_CONTRAST } from '../../src/shared/mapContrast';
import { DEFAULT_PALETTES, MapPalette, ownerColour, rasterise, Rgb } from '../../src/shared/mapRaster';
import { deltaE2000, deltaE2000Lab, MIN_OWNER_DELTA_E, OWNER_SLOTS, OwnerSlots, ownerPalette, stateColours } from '../../src/shared/ownerPalette';
import { OWNER_TAG, MIX_STRIDE } from '../../src/engine/inspect/mapCodes';
import { accessiblePalette } from '../../src/shared/mapContrast';

/** Approximations of the palettes the map reads from VS Code's default and high contrast themes (webview/palette.ts). */
const THEME_PALETTES: Record<string, MapPalette> = {
  ...DEFAULT_PALETTES,
  'dark modern': accessiblePalette({ background: [31, 31, 31], metadata: [187, 187, 187], memmap: [176, 140, 227], freeSmall: [74, 110, 72], freeLarge: [137, 209, 133], allocated: [55, 148, 255], never: [63, 63, 63], stale: [204, 167, 0], io: [209, 134, 22], ownerLightness: 0.64, orderRamp: [[241, 76, 76], [204, 167, 0], [137, 209, 133]] }),
  'light modern': accessiblePalette({ background: [255, 255, 255], metadata: [83, 83, 83], memmap: [101, 43, 180], freeSmall: [120, 170, 118], freeLarge: [56, 138, 52], allocated: [26, 133, 255], never: [204, 204, 204], stale: [191, 136, 3], io: [195, 105, 0], ownerLightness: 0.42, orderRamp: [[205, 49, 49], [191, 136, 3], [56, 138, 52]] }),
  'high contrast': accessiblePalette({ background: [0, 0, 0], metadata: [230, 230, 230], memmap: [176, 140, 227], freeSmall: [70, 140, 70], freeLarge: [137, 209, 133], allocated: [55, 148, 255], never: [64, 64, 64], stale: [204, 167, 0], io: [209, 134, 22], ownerLightness: 0.64, orderRamp: [[241, 76, 76], [204, 167, 0], [137, 209, 133]] }),
};

describe('owner colours', () => {
  it('measures CIEDE2000 as Sharma, Wu and Dalal\'s test data do', () => {
    const pairs: Array<[number[], number[], number]> = [
      [[50, 2.6772, -79.7751], [50, 0, -82.7485], 2.0425],
      [[50, 0, 0], [50, -1, 2], 2.3669],
      [[50, 2.5, 0], [73, 25, -18], 27.1492],
      [[60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644],
      [[2.0776, 0.0795, -1.135], [0.9033, -0.0636, -0.5514], 0.9082],
    ];
    for (const [a, b, want] of pairs) assert.ok(Math.abs(deltaE2000Lab(a, b) - want) < 1e-4, `${a} / ${b}: ${deltaE2000Lab(a, b)} ≠ ${want}`);
    assert.equal(deltaE2000([10, 20, 30], [10, 20, 30]), 0);
  });

  for (const [name, p] of Object.entries(THEME_PALETTES)) {
    it(`gives ${OWNER_SLOTS} owners colours apart from each other and from every state, at 3:1, on ${name}`, () => {
      const { colours } = ownerPalette(p);
      assert.ok(colours.length >= OWNER_SLOTS, `${colours.length} colours`);
      const used = colours.slice(0, OWNER_SLOTS);
      let minPair = Infinity;
      let minState = Infinity;
      for (let i = 0; i < used.length; i++) {
        assert.ok(contrastRatio(used[i], p.background) >= MIN_STATE_CONTRAST - 0.005, `${used[i]} on ${p.background}`);
        for (const s of stateColours(p)) minState = Math.min(minState, deltaE2000(used[i], s));
        for (let j = 0; j < i; j++) minPair = Math.min(minPair, deltaE2000(used[i], used[j]));
      }
      assert.ok(minPair >= MIN_OWNER_DELTA_E, `owners ΔE00 ≥ ${MIN_OWNER_DELTA_E}: ${minPair.toFixed(1)}`);
      assert.ok(minState >= MIN_OWNER_DELTA_E, `owner to state ΔE00 ≥ ${MIN_OWNER_DELTA_E}: ${minState.toFixed(1)}`);
    });
  }

  it('tells the demo\'s owners apart (journal and dax, ext4 and hugepage, slab and net once collided)', () => {
    const owners = ['ext4', 'slab', 'dax', 'journal', 'hugepage', 'after-reboot', 'net'];
    for (const [name, p] of Object.entries(THEME_PALETTES)) {
      const slots = new OwnerSlots(OWNER_SLOTS).slotsOf(owners);
      const colours = owners.map((o) => ownerColour(o, p, slots)!);
      for (let i = 0; i < owners.length; i++) {
        for (let j = 0; j < i; j++) {
          const d = deltaE2000(colours[i], colours[j]);
          assert.ok(d >= MIN_OWNER_DELTA_E, `${name}: ${owners[i]} ${colours[i]} and ${owners[j]} ${colours[j]} differ by ΔE00 ${d.toFixed(1)}`);
        }
      }
    }
  });

  it('keeps an owner\'s colour whatever is seen after it, and groups owners beyond the palette as other owners', () => {
    const slots = new OwnerSlots(OWNER_SLOTS);
    const first = new Map(slots.slotsOf(['fs', 'db']));
    const many = Array.from({ length: 12 }, (_, i) => `owner-${i}`);
    const after = slots.slotsOf(many);
    assert.equal(after.get('fs'), first.get('fs'));
    assert.equal(after.get('db'), first.get('db'));
    const coloured = [...after.values()].filter((s) => s >= 0);
    assert.equal(coloured.length, OWNER_SLOTS);
    assert.equal(new Set(coloured).size, OWNER_SLOTS, 'one slot per owner');
    assert.equal([...after.values()].filter((s) => s < 0).length, 14 - OWNER_SLOTS, 'the rest are other owners');
    // Seen again from saved slots, in another order: the same.
    const again = new OwnerSlots(OWNER_SLOTS, slots.entries()).slotsOf([...many].reverse());
    assert.deepEqual([...again].sort(), [...after].sort());
  });

  it('stripes cells of other owners, so they read as a group and not as a colour of their own', () => {
    const p = DEFAULT_PALETTES.dark;
    const owners = Array.from({ length: OWNER_SLOTS + 1 }, (_, i) => `o${i}`);
    const slots = new OwnerSlots(OWNER_SLOTS).slotsOf(owners);
    const other = owners.findIndex((o) => slots.get(o) === -1);
    const cells = 4;
    const mix = new Uint8Array(cells * MIX_STRIDE);
    for (let c = 0; c < cells; c++) mix[c * MIX_STRIDE + 3] = 255;
    const out = new Uint8ClampedArray(cells * 4);
    rasterise({ cells, mix, tag: new Uint16Array(cells).fill(OWNER_TAG + other), owners }, p, 10, out, undefined, slots);
    const px = (c: number): Rgb => [out[c * 4], out[c * 4 + 1], out[c * 4 + 2]];
    const op = ownerPalette(p);
    assert.deepEqual([px(0), px(1), px(2), px(3)], [op.other, op.otherStripe, op.other, op.otherStripe]);
    for (const c of op.colours.slice(0, OWNER_SLOTS)) assert.notDeepEqual(c, op.other);
  });
});
