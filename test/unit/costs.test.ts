import { strict as assert } from 'node:assert';
import { costRow, CostInput, linuxMemmapCosts, memmapCosts } from '../../src/engine';

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const TiB = 2 ** 40;

describe('memmap cost calculator', () => {
  const tib = memmapCosts({ deviceBytes: TiB });

  it('gives one row per descriptor size and granularity, 64-byte rows first', () => {
    assert.deepEqual(tib.rows.map((r) => [r.descriptorBytes, r.granularityBytes]), [[64, 4 * KiB], [64, 2 * MiB], [16, 4 * KiB], [16, 2 * MiB]]);
    assert.equal(tib.deviceBytes, TiB);
    assert.equal(tib.vmGuestBytes, TiB, 'the guest defaults to the whole device');
    assert.equal(tib.ramBytes, undefined);
  });

  it('1 TiB at 4 KiB: 2^28 descriptors; 64 bytes = 16 GiB = 1.5625 %, 16 bytes = 4 GiB = 0.390625 %', () => {
    const big = costRow(tib, 64, 4 * KiB);
    assert.equal(big.descriptors, 268_435_456);
    assert.equal(big.memmapBytes, 16 * GiB);
    assert.equal(big.percentOfDevice, 1.5625);
    const small = costRow(tib, 16, 4 * KiB);
    assert.equal(small.descriptors, 268_435_456);
    assert.equal(small.memmapBytes, 4 * GiB);
    assert.equal(small.percentOfDevice, 0.390625);
  });

  it('1 TiB at 2 MiB: 524288 descriptors; 64 bytes = 32 MiB, 16 bytes = 8 MiB', () => {
    const big = costRow(tib, 64, 2 * MiB);
    assert.equal(big.descriptors, 524_288);
    assert.equal(big.memmapBytes, 32 * MiB);
    assert.equal(big.percentOfDevice, 100 / 32768); // 2^25 / 2^40 = 1/32768
    assert.equal(big.percentOfDevice, 0.0030517578125);
    const small = costRow(tib, 16, 2 * MiB);
    assert.equal(small.memmapBytes, 8 * MiB);
    assert.equal(small.percentOfDevice, 0.000762939453125);
  });

  it('on the device the memmap takes capacity; in RAM it takes RAM, as a share of the RAM when given', () => {
    const row = costRow(tib, 64, 4 * KiB);
    assert.deepEqual(row.onDevice, { memmapBytes: 16 * GiB, usableBytes: 1008 * GiB, percentOfDevice: 1.5625 });
    assert.deepEqual(row.inRam, { ramBytesUsed: 16 * GiB }, 'no RAM share without a RAM size');

    const withRam = memmapCosts({ deviceBytes: TiB, ramBytes: 256 * GiB });
    assert.equal(withRam.ramBytes, 256 * GiB);
    assert.deepEqual(costRow(withRam, 64, 4 * KiB).inRam, { ramBytesUsed: 16 * GiB, percentOfRam: 6.25, exceedsRam: false });
    assert.deepEqual(costRow(withRam, 16, 4 * KiB).inRam, { ramBytesUsed: 4 * GiB, percentOfRam: 1.5625, exceedsRam: false });
    assert.deepEqual(costRow(withRam, 64, 2 * MiB).inRam, { ramBytesUsed: 32 * MiB, percentOfRam: 0.01220703125, exceedsRam: false });
    assert.equal(costRow(withRam, 64, 4 * KiB).onDevice.percentOfDevice, 1.5625, 'the device share does not depend on the RAM');

    // 16 TiB of pmem on a machine with 128 GiB of RAM: the 64-byte memmap (256 GiB) does not fit.
    const tight = memmapCosts({ deviceBytes: 16 * TiB, ramBytes: 128 * GiB });
    assert.deepEqual(costRow(tight, 64, 4 * KiB).inRam, { ramBytesUsed: 256 * GiB, percentOfRam: 200, exceedsRam: true });
    assert.deepEqual(costRow(tight, 16, 4 * KiB).inRam, { ramBytesUsed: 64 * GiB, percentOfRam: 50, exceedsRam: false });
    // A memmap of exactly the RAM leaves nothing for anything else: it does not fit either.
    const whole = memmapCosts({ deviceBytes: 16 * TiB, ramBytes: 256 * GiB });
    assert.deepEqual(costRow(whole, 64, 4 * KiB).inRam, { ramBytesUsed: 256 * GiB, percentOfRam: 100, exceedsRam: true });
  });

  it('a virtual machine pays the memmap twice: once in the guest, once in the host', () => {
    const row = costRow(tib, 64, 4 * KiB);
    assert.deepEqual(row.vm, {
      guestBytes: TiB, descriptors: 268_435_456, guestMemmapBytes: 16 * GiB, hostMemmapBytes: 16 * GiB, totalBytes: 32 * GiB, totalPercent: 3.125,
    });

    const guest = memmapCosts({ deviceBytes: TiB, vmGuestBytes: 64 * GiB });
    assert.equal(guest.vmGuestBytes, 64 * GiB);
    assert.deepEqual(costRow(guest, 64, 4 * KiB).vm, {
      guestBytes: 64 * GiB, descriptors: 16_777_216, guestMemmapBytes: GiB, hostMemmapBytes: GiB, totalBytes: 2 * GiB, totalPercent: 3.125,
    });
    assert.deepEqual(costRow(guest, 16, 4 * KiB).vm, {
      guestBytes: 64 * GiB, descriptors: 16_777_216, guestMemmapBytes: 256 * MiB, hostMemmapBytes: 256 * MiB, totalBytes: 512 * MiB, totalPercent: 0.78125,
    });
    const huge = costRow(guest, 64, 2 * MiB).vm;
    assert.equal(huge.descriptors, 32_768);
    assert.equal(huge.totalBytes, 4 * MiB);
    assert.equal(huge.totalPercent, 0.006103515625);
    assert.equal(costRow(guest, 64, 4 * KiB).memmapBytes, 16 * GiB, 'the device rows still describe the whole device');
  });

  it('tracks whole granules only: a partial page at the end has no descriptor', () => {
    const t = memmapCosts({ deviceBytes: 3 * 4 * KiB + 100 });
    assert.equal(costRow(t, 64, 4 * KiB).descriptors, 3);
    assert.equal(costRow(t, 64, 4 * KiB).memmapBytes, 192);
    assert.equal(costRow(t, 16, 2 * MiB).descriptors, 0);
    assert.equal(costRow(t, 16, 2 * MiB).percentOfDevice, 0);
    const odd = memmapCosts({ deviceBytes: 5 * MiB, vmGuestBytes: 3 * MiB });
    assert.equal(costRow(odd, 64, 2 * MiB).descriptors, 2);
    assert.equal(costRow(odd, 64, 2 * MiB).vm.descriptors, 1);
  });

  it('handles the largest image size, 16 TiB, exactly', () => {
    const t = memmapCosts({ deviceBytes: 16 * TiB, vmGuestBytes: 16 * TiB });
    const row = costRow(t, 64, 4 * KiB);
    assert.equal(row.memmapBytes, 256 * GiB);
    assert.equal(row.percentOfDevice, 1.5625);
    assert.equal(row.vm.totalBytes, 512 * GiB);
  });

  describe('input validation', () => {
    const bad: Array<[string, CostInput, RegExp]> = [
      ['a zero device', { deviceBytes: 0 }, /^deviceBytes must be a positive whole number of bytes .*not 0$/],
      ['a negative device', { deviceBytes: -4096 }, /deviceBytes .* not -4096$/],
      ['a fractional device', { deviceBytes: 1.5 }, /deviceBytes .* not 1\.5$/],
      ['a NaN device', { deviceBytes: NaN }, /deviceBytes .* not NaN$/],
      ['an infinite device', { deviceBytes: Infinity }, /deviceBytes .* not Infinity$/],
      ['a device beyond safe integers', { deviceBytes: 2 ** 53 }, /deviceBytes/],
      ['a device given as a string', { deviceBytes: '1024' as unknown as number }, /deviceBytes .* not "1024"$/],
      ['a zero RAM size', { deviceBytes: TiB, ramBytes: 0 }, /^ramBytes .* not 0$/],
      ['a fractional RAM size', { deviceBytes: TiB, ramBytes: 0.5 }, /^ramBytes .* not 0\.5$/],
      ['a negative guest size', { deviceBytes: TiB, vmGuestBytes: -1 }, /^vmGuestBytes .* not -1$/],
      ['a fractional guest size', { deviceBytes: TiB, vmGuestBytes: 4096.25 }, /^vmGuestBytes .* not 4096\.25$/],
    ];
    for (const [what, input, message] of bad) {
      it(`rejects ${what} with a RangeError naming the field`, () => {
        assert.throws(() => memmapCosts(input), (e: unknown) => e instanceof RangeError && message.test(e.message));
      });
    }

    it('accepts the smallest size, one byte', () => {
      const t = memmapCosts({ deviceBytes: 1, ramBytes: 1, vmGuestBytes: 1 });
      assert.ok(t.rows.every((r) => r.descriptors === 0 && r.memmapBytes === 0 && r.vm.totalBytes === 0));
    });
  });
});

describe('memmap costs of what Linux built', () => {
  const rows = (bytes: number) => new Map(linuxMemmapCosts(bytes).map((r) => [r.name, r]));

  it('1 TiB: struct page 16 GiB on the device or in RAM, KMSAN twice that, HugeTLB vmemmap optimisation 2 GiB (2 MiB pages) or 4 MiB (1 GiB pages), device-dax dedup 4 GiB, memmap_on_memory 16 GiB in the blocks', () => {
    const r = rows(TiB);
    const bytes = (name: string) => r.get(name)!.memmapBytes;
    assert.equal(bytes('struct page on the device (--map=dev)'), 16 * GiB);
    assert.equal(r.get('struct page on the device (--map=dev)')!.home, 'device');
    assert.equal(bytes('struct page in RAM (--map=mem)'), 16 * GiB);
    assert.equal(bytes('KMSAN (128-byte struct page)'), 32 * GiB);
    // 524,288 huge pages of 2 MiB, one of the 8 memmap pages kept for each.
    assert.equal(bytes('HugeTLB vmemmap optimisation, 2 MiB pages'), 524_288 * 4 * KiB);
    assert.equal(bytes('HugeTLB vmemmap optimisation, 1 GiB pages'), 1024 * 4 * KiB);
    assert.equal(bytes('device-dax vmemmap deduplication, 2 MiB'), 524_288 * 8 * KiB);
    assert.equal(bytes('memmap_on_memory, 128 MiB blocks'), 8192 * 2 * MiB);
    assert.equal(bytes('memmap_on_memory, 2 GiB blocks'), 512 * 32 * MiB);
    assert.equal(r.get('memmap_on_memory, 2 GiB blocks')!.home, 'memory block');
    assert.equal(r.get('HugeTLB vmemmap optimisation, 2 MiB pages')!.percentOfDevice, 0.1953125, '1/8 of 1.5625 %');
    assert.match(r.get('HugeTLB vmemmap optimisation, 2 MiB pages')!.how, /^of the 8 memmap pages of a 2 MiB huge page, 7 freed$/);
    assert.match(r.get('HugeTLB vmemmap optimisation, 1 GiB pages')!.how, /^of the 4,096 memmap pages of a 1 GiB huge page, 4,095 freed$/);
  });

  it('counts whole granules only: 3 MiB holds one 2 MiB huge page and no memory block', () => {
    const r = rows(3 * MiB);
    assert.equal(r.get('HugeTLB vmemmap optimisation, 2 MiB pages')!.memmapBytes, 4 * KiB);
    assert.equal(r.get('memmap_on_memory, 128 MiB blocks')!.memmapBytes, 0);
    assert.equal(r.get('struct page on the device (--map=dev)')!.memmapBytes, 768 * 64);
  });

  it('refuses a size that is not a positive whole number of bytes', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => linuxMemmapCosts(bad), /^RangeError: deviceBytes must be a positive whole number of bytes/);
  });
});
