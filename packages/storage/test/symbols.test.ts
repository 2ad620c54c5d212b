import { describe, expect, it } from 'vitest';
import { stringHash, stringHashes } from '../src/hash-table.js';
import { PartitionSymbols } from '../src/symbols.js';
import { request } from './helpers.js';

describe('partition symbols', () => {
  const first = request({ timeMs: 1, samples: { 'main;handler;parse': 3, 'main;gc': 1 } }).profile;
  const second = request({ timeMs: 2, samples: { 'main;handler;render': 2, 'main;gc': 5 } }).profile;

  it('interns the same strings and locations whether the hashes come with the profile or not', () => {
    const given = new PartitionSymbols();
    const computed = new PartitionSymbols();
    for (const p of [first, second]) {
      expect(given.importSymbols(p, stringHashes(p.strings))).toEqual(computed.importSymbols(p));
    }
    expect(given.columns()).toEqual(computed.columns());
    // main, handler, parse, render, gc (+ "" and the file names the builder writes) — each once.
    const names = given.columns().strings;
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['main', 'handler', 'parse', 'render', 'gc']));
  });

  it('compares strings by content, so two names with the same hash stay two symbols', () => {
    // Found by a birthday search over "fn0", "fn1", …
    const pair = ['fn660215', 'fn1759800'];
    expect(stringHash(pair[0])).toBe(stringHash(pair[1]));
    const symbols = new PartitionSymbols();
    const p = request({ timeMs: 1, samples: { [`main;${pair[0]}`]: 1, [`main;${pair[1]}`]: 2 } }).profile;
    const remap = symbols.importSymbols(p, stringHashes(p.strings));
    const { strings, functionName, lineFunction } = symbols.columns();
    expect(strings).toEqual(expect.arrayContaining(pair));
    expect(new Set(remap).size).toBe(p.locationCount);
    const names = [...lineFunction].map((f) => strings[functionName[f]]);
    expect(names).toEqual(expect.arrayContaining([...pair, 'main']));
  });
});
