/**
 * A map's numeric keys in ascending order, as numbers. Filled by a loop:
 * Float64Array.from over the map's iterator took longer than the sort.
 */
export function sortedKeys(map: ReadonlyMap<number, unknown>): Float64Array {
  const out = new Float64Array(map.size);
  let n = 0;
  for (const k of map.keys()) out[n++] = k;
  return out.sort();
}
