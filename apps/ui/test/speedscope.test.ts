import { describe, expect, it } from 'vitest';
import { AdhocError, parseCollapsed, stacksToFlamebearer } from '../src/adhoc.js';
import { readAdhocFile } from '../src/adhoc-files.js';
import { isSpeedscope, parseSpeedscope } from '../src/speedscope.js';

const SCHEMA = 'https://www.speedscope.app/file-format-schema.json';
const frames = ['main', 'work', 'parse', 'gc'].map((name) => ({ name, file: 'app.js', line: 1 }));

const file = (...profiles: unknown[]) => ({ $schema: SCHEMA, shared: { frames }, profiles });
const sampled = (samples: number[][], weights: number[], unit = 'milliseconds') => ({
  type: 'sampled',
  name: 'thread 1',
  unit,
  startValue: 0,
  endValue: 100,
  samples,
  weights,
});
const ev = (type: 'O' | 'C', frame: number, at: number) => ({ type, frame, at });
const evented = (events: unknown[], unit = 'microseconds') => ({
  type: 'evented',
  name: 'main thread',
  unit,
  startValue: 0,
  endValue: 100,
  events,
});

/** The flame graph of a parsed file, compared with the same stacks written as collapsed text. */
const flame = (json: unknown) => stacksToFlamebearer(parseSpeedscope(json).stacks);
const bytes = (json: unknown) => new TextEncoder().encode(JSON.stringify(json));

describe('speedscope files', () => {
  it('sums sampled stacks by their weights, root first', () => {
    const p = parseSpeedscope(file(sampled([[0, 1, 2], [0, 1], [0, 1, 2], [3]], [5, 2, 3, 4])));
    expect(p.unit).toBe('milliseconds');
    expect(p.type).toBe('time');
    expect(flame(file(sampled([[0, 1, 2], [0, 1], [0, 1, 2], [3]], [5, 2, 3, 4])))).toEqual(
      parseCollapsed('main;work;parse 8\nmain;work 2\ngc 4\n'),
    );
    expect(flame(file(sampled([[0, 1, 2], [0, 1], [0, 1, 2], [3]], [5, 2, 3, 4]))).numTicks).toBe(14);
  });

  it('gives an evented frame its close minus its open, nested frames their own share', () => {
    // main 0..100, work 10..70 inside it, parse 20..50 inside work, then gc 80..90 inside main.
    const events = [
      ev('O', 0, 0),
      ev('O', 1, 10),
      ev('O', 2, 20),
      ev('C', 2, 50),
      ev('C', 1, 70),
      ev('O', 3, 80),
      ev('C', 3, 90),
      ev('C', 0, 100),
    ];
    const p = parseSpeedscope(file(evented(events)));
    expect(p.unit).toBe('microseconds');
    const fb = flame(file(evented(events)));
    expect(fb).toEqual(parseCollapsed('main 30\nmain;work 30\nmain;work;parse 30\nmain;gc 10\n'));
    expect(fb.numTicks).toBe(100);
    // main's total is its close minus its open; work's is 70 − 10.
    expect(fb.levels[1]).toEqual([0, 100, 30, 1]);
    expect(fb.levels[2].slice(4, 8)).toEqual([0, 60, 30, 2]);
  });

  it('handles recursion and frames that open and close at the same time', () => {
    const events = [
      ev('O', 0, 0),
      ev('O', 0, 5),
      ev('O', 1, 5),
      ev('C', 1, 5),
      ev('C', 0, 15),
      ev('C', 0, 20),
    ];
    expect(flame(file(evented(events)))).toEqual(parseCollapsed('main 10\nmain;main 10\n'));
  });

  it('merges all profiles of a file; duration units are converted to nanoseconds when they differ', () => {
    const p = parseSpeedscope(
      file(sampled([[0, 1]], [2], 'milliseconds'), evented([ev('O', 3, 0), ev('C', 3, 500)], 'microseconds')),
    );
    expect(p.unit).toBe('nanoseconds');
    expect(stacksToFlamebearer(p.stacks)).toEqual(parseCollapsed('main;work 2000000\ngc 500000\n'));
    const same = parseSpeedscope(file(sampled([[0]], [1], 'none'), sampled([[0], [3]], [2, 4], 'none')));
    expect(same.unit).toBe('count');
    expect(stacksToFlamebearer(same.stacks)).toEqual(parseCollapsed('main 3\ngc 4\n'));
    expect(parseSpeedscope(file(sampled([[0]], [1024], 'bytes'))).unit).toBe('bytes');
  });

  it('refuses bad input with a message that says what is wrong', () => {
    const bad = (json: unknown, message: RegExp) => {
      expect(() => parseSpeedscope(json)).toThrow(AdhocError);
      expect(() => parseSpeedscope(json)).toThrow(message);
    };
    // Unbalanced and crossed events.
    bad(file(evented([ev('O', 0, 0), ev('O', 1, 1), ev('C', 1, 2)])), /"main" opened at 0 is never closed/);
    bad(file(evented([ev('C', 0, 3)])), /event 0 closes "main" at 3, but no frame is open/);
    bad(
      file(evented([ev('O', 0, 0), ev('O', 1, 1), ev('C', 0, 2), ev('C', 1, 3)])),
      /event 2 closes "main" at 2, but the innermost open frame is "work" \(events must nest\)/,
    );
    bad(file(evented([ev('O', 0, 5), ev('C', 0, 4)])), /event 1 at 4 comes before the previous event at 5/);
    // Broken references and fields.
    bad(file(sampled([[0, 9]], [1])), /sample 0: frame 9 is not an index into shared.frames \(4 frames\)/);
    bad(file(sampled([[0], [1]], [1])), /needs one weight per sample \(2 samples\)/);
    bad(
      file({ ...sampled([[0]], [1]), unit: 'furlongs' }),
      /profile 0 \("thread 1"\) has an unknown unit "furlongs"/,
    );
    bad(file({ ...sampled([[0]], [1]), type: 'traced' }), /unknown type "traced"/);
    bad(file(), /no profiles/);
    bad(
      file(sampled([[0]], [1], 'bytes'), sampled([[0]], [1], 'seconds')),
      /cannot be merged: bytes, seconds/,
    );
  });

  it('is recognised by its content, with or without the $schema', () => {
    const json = file(sampled([[0, 1]], [3]));
    expect(isSpeedscope(json)).toBe(true);
    expect(isSpeedscope({ shared: { frames }, profiles: [] })).toBe(true);
    expect(isSpeedscope({ frames, profiles: [] })).toBe(false);
    const { $schema: _, ...noSchema } = json;
    for (const f of [json, noSchema]) {
      const p = readAdhocFile(bytes(f));
      expect(p.unit).toBe('milliseconds');
      expect(stacksToFlamebearer(p.stacks)).toEqual(parseCollapsed('main;work 3\n'));
    }
    expect(() => readAdhocFile(bytes({ hello: 'world' }))).toThrow(/not a speedscope profile/);
    // Collapsed text whose first frame starts with "{" is still collapsed text.
    expect(readAdhocFile(new TextEncoder().encode('{closure};f 2\n')).stacks).toEqual([
      [['{closure}', 'f'], 2],
    ]);
  });
});
