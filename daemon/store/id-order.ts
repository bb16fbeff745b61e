/**
 * User IDs are ordered by their UTF-8 bytes, the order LevelDB keeps keys in, so every
 * backend pages through users the same way. JavaScript compares strings by UTF-16 code
 * units, which disagrees with UTF-8 only where a surrogate pair (U+10000 and up) meets a
 * unit in U+E000–U+FFFF; lifting surrogates above that range restores code point order,
 * which is UTF-8 byte order.
 */
export function compareIds(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** The index of the first element of `sorted` that is greater than `id` (binary search). */
export function indexAfter(sorted: readonly string[], id: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareIds(sorted[mid]!, id) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}
