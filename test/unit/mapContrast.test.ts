import { strict as assert } from 'node:assert';
import { accessiblePalette, contrastRatio, faintest, MIN_STATE_CONTRAST, withContrast } from '../../src/shared/mapContrast';
import { DEFAULT_PALETTES, MapPalette, orderRampColours, ownerColour, Rgb } from '../../src/shared/mapRaster';

const STATES = ['metadata', 'memmap', 'freeSmall', 'freeLarge', 'allocated', 'never', 'stale', 'io'] as const;

/** Every state colour and a spread of owner colours against the palette's background. */
function assertReadable(p: MapPalette, name: string): void {
  for (const k of STATES) {
    const r = contrastRatio(p[k], p.background);
    assert.ok(r >= MIN_STATE_CONTRAST - 0.005, `${name}: ${k} ${JSON.stringify(p[k])} on ${JSON.stringify(p.background)} is ${r.toFixed(2)}:1`);
  }
  // The overlay's scale, every order of it, not only its three stops.
  orderRampColours(p, 10).forEach((c, o) => {
    const r = contrastRatio(c, p.background);
    assert.ok(r >= MIN_STATE_CONTRAST - 0.05, `${name}: overlay order ${o} ${JSON.stringify(c)} is ${r.toFixed(2)}:1`);
  });
  for (let i = 0; i < 200; i++) {
    const owner = `owner-${i}`;
    const r = contrastRatio(ownerColour(owner, p)!, p.background);
    assert.ok(r >= MIN_STATE_CONTRAST - 0.005, `${name}: owner ${owner} is ${r.toFixed(2)}:1`);
  }
}

describe('map colour contrast', () => {
  it('computes WCAG 2 contrast ratios', () => {
    assert.equal(contrastRatio([0, 0, 0], [255, 255, 255]).toFixed(2), '21.00');
    assert.equal(contrastRatio([255, 255, 255], [255, 255, 255]), 1);
    // #767676 on white is the well-known 4.54:1.
    assert.equal(contrastRatio([0x76, 0x76, 0x76], [255, 255, 255]).toFixed(2), '4.54');
  });

  it('keeps a colour that already stands out and moves one that does not, keeping its hue', () => {
    const blue: Rgb = [55, 148, 255];
    assert.deepEqual(withContrast(blue, [30, 30, 30]), blue);
    const faint: Rgb = [40, 60, 100];
    const fixed = withContrast(faint, [30, 30, 30]);
    assert.ok(contrastRatio(fixed, [30, 30, 30]) >= 3, `${JSON.stringify(fixed)}`);
    assert.ok(fixed[2] > fixed[1] && fixed[1] > fixed[0], `still blue: ${JSON.stringify(fixed)}`);
    // On white, a pale yellow is darkened, not lightened.
    const yellow = withContrast([250, 240, 150], [255, 255, 255]);
    assert.ok(contrastRatio(yellow, [255, 255, 255]) >= 3 && yellow[0] < 250, `${JSON.stringify(yellow)}`);
    // A mid-grey background: whichever of black or white can reach the ratio.
    const onGrey = withContrast([120, 120, 120], [128, 128, 128]);
    assert.ok(contrastRatio(onGrey, [128, 128, 128]) >= 3, `${JSON.stringify(onGrey)}`);
  });

  it('finds the faintest tint that still reads', () => {
    const green: Rgb = [56, 138, 52];
    const tint = faintest(green, [255, 255, 255]);
    const r = contrastRatio(tint, [255, 255, 255]);
    assert.ok(r >= 3 && r < 3.1, `${JSON.stringify(tint)} is ${r.toFixed(2)}:1`);
    assert.ok(tint[1] > tint[0] && tint[1] > tint[2], `still green: ${JSON.stringify(tint)}`);
  });

  it('makes the palettes of the CLI readable, owners included', () => {
    assertReadable(DEFAULT_PALETTES.dark, 'pmem map --theme dark');
    assertReadable(DEFAULT_PALETTES.light, 'pmem map --theme light');
  });

  it('raises every state of a low-contrast palette to 3:1 and leaves the rest alone', () => {
    const washedOut: MapPalette = {
      background: [250, 250, 250], metadata: [220, 220, 220], memmap: [230, 210, 250], freeSmall: [235, 250, 235], freeLarge: [200, 240, 200],
      allocated: [210, 225, 255], never: [245, 245, 245], stale: [250, 240, 200], io: [250, 225, 200], ownerLightness: 0.9,
      orderRamp: [[250, 220, 220], [250, 245, 200], [220, 250, 220]],
    };
    const p = accessiblePalette(washedOut);
    assertReadable(p, 'a washed-out light palette');
    assert.equal(p.ownerLightness, washedOut.ownerLightness);
    assert.deepEqual(accessiblePalette(DEFAULT_PALETTES.dark), DEFAULT_PALETTES.dark, 'a readable palette is unchanged');
  });
});
