import { describe, expect, test } from 'vitest';
import { ByteReader, ByteWriter } from '../src/bytes.js';

describe('ByteWriter strings', () => {
  test('ASCII, non-ASCII, empty and long strings read back as written, with UTF-8 byte lengths', () => {
    const strings = [
      '',
      'main.main',
      'github.com/acme/shop/internal/cart.(*Cart).Add',
      'héllo wörld',
      '日本語の関数',
      'emoji 🔥 and a lone surrogate \ud800 end',
      '\u007f\u0080',
      'x'.repeat(100_000),
    ];
    const w = new ByteWriter(4);
    w.strings(strings);
    const bytes = w.finish();
    expect(new ByteReader(bytes).strings()).toEqual(strings.map((s) => s.replace('\ud800', '\ufffd')));
    // Length prefix is the UTF-8 byte length: 'héllo wörld' is 11 chars, 13 bytes.
    const one = new ByteWriter();
    one.string('héllo wörld');
    expect(one.finish()[0]).toBe(13);
  });
});
