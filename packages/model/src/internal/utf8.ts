/** Compares strings by their UTF-8 bytes, the order of Go's sort and therefore of Pyroscope. */
export function compareUtf8(a: string, b: string): number {
  return compareCodeUnits(utf8SortKey(a), utf8SortKey(b));
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const ABOVE_D800 = /[\ud800-\uffff]/;

/**
 * A string whose UTF-16 order is the UTF-8 order of `s`: the two differ only where a surrogate (half of a
 * code point above U+FFFF) meets a code unit from U+E000 up, so surrogates are moved above the rest of
 * the BMP. Most names have no such code units and are their own key.
 */
export function utf8SortKey(s: string): string {
  if (!ABOVE_D800.test(s)) return s;
  let key = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    key += String.fromCharCode(c >= 0xe000 ? c - 0x800 : c >= 0xd800 ? c + 0x2000 : c);
  }
  return key;
}
