import { strict as assert } from 'node:assert';
import { parseTypedSize } from '../../src/shared/typedSize';

describe('sizes typed into forms', () => {
  it('takes a size with its unit, bytes only when said', () => {
    assert.equal(parseTypedSize('400G', 'device size'), 400 * 2 ** 30);
    assert.equal(parseTypedSize(' 1T ', 'device size'), 2 ** 40);
    assert.equal(parseTypedSize('4096B', 'device size'), 4096);
  });

  it('refuses a bare number, saying what it could mean', () => {
    assert.throws(() => parseTypedSize('400', 'device size'), /^Error: device size "400" has no unit: type 400G for GiB \(K, M, G, T\), or 400B for bytes$/);
    assert.throws(() => parseTypedSize('12Q', 'RAM size'), /RAM size "12Q" is not a size/);
  });
});
