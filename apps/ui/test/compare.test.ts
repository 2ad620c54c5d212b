import { describe, expect, it } from 'vitest';
import {
  baselineFor,
  moveRange,
  nodeOfLongestPrefix,
  presetOf,
  resolveRange,
  shiftTime,
  timelineWindow,
} from '../src/compare.js';
import { decodeFlamebearer } from '../src/flamebearer.js';
import { EXAMPLE } from './fixtures.js';

const NOW = 1_700_000_000_000;
const H = 3600e3;

describe('shifting time expressions', () => {
  it('keeps relative expressions relative', () => {
    expect(shiftTime('now', H)).toBe('now-1h');
    expect(shiftTime('now-1h', H)).toBe('now-2h');
    expect(shiftTime('now-30m', H)).toBe('now-90m');
    expect(shiftTime('now-1h', 24 * H)).toBe('now-25h');
    expect(shiftTime('now', 24 * H)).toBe('now-24h');
    expect(shiftTime('now-1d', 7 * 24 * H)).toBe('now-8d');
    expect(shiftTime('now-15s', 0)).toBe('now-15s');
    expect(shiftTime('now', 0)).toBe('now');
  });

  it('shifts absolute times in milliseconds (seconds are read as seconds)', () => {
    expect(shiftTime(String(NOW), H)).toBe(String(NOW - H));
    expect(shiftTime(String(NOW / 1000), H)).toBe(String(NOW - H));
  });
});

describe('baseline presets', () => {
  const lastHour = { from: 'now-1h', until: 'now' };

  it('places the baseline 1 h, 24 h, 7 d or one period before the comparison', () => {
    expect(baselineFor(lastHour, '1h', NOW)).toEqual({ from: 'now-2h', until: 'now-1h' });
    expect(baselineFor(lastHour, '24h', NOW)).toEqual({ from: 'now-25h', until: 'now-24h' });
    expect(baselineFor(lastHour, '7d', NOW)).toEqual({ from: 'now-169h', until: 'now-7d' });
    expect(baselineFor({ from: 'now-6h', until: 'now' }, 'previous', NOW)).toEqual({
      from: 'now-12h',
      until: 'now-6h',
    });
    const abs = { from: String(NOW - 2 * H), until: String(NOW - H) };
    expect(baselineFor(abs, 'previous', NOW)).toEqual({
      from: String(NOW - 3 * H),
      until: String(NOW - 2 * H),
    });
  });

  it('recognises which preset a baseline is, whatever its spelling', () => {
    expect(presetOf({ from: 'now-2h', until: 'now-1h' }, lastHour, NOW)).toBe('1h');
    expect(presetOf({ from: String(NOW - 25 * H), until: String(NOW - 24 * H) }, lastHour, NOW)).toBe('24h');
    expect(presetOf({ from: 'now-3h', until: 'now-2h' }, lastHour, NOW)).toBeUndefined();
    // For a one-hour range, "1 h prior" and "previous period" are the same baseline: the first one wins.
    expect(presetOf(baselineFor(lastHour, 'previous', NOW), lastHour, NOW)).toBe('1h');
  });

  it('resolves unreadable ranges to the last hour', () => {
    expect(resolveRange({ from: 'soon', until: 'later' }, NOW)).toEqual({ fromMs: NOW - H, untilMs: NOW });
    expect(resolveRange({ from: 'now', until: 'now-1h' }, NOW)).toEqual({ fromMs: NOW, untilMs: NOW + 1000 });
  });
});

describe('the shared timeline', () => {
  const left = { fromMs: NOW - 2 * H, untilMs: NOW - H };
  const right = { fromMs: NOW - H, untilMs: NOW };

  it('shows both selections with a margin, never past now', () => {
    expect(timelineWindow(left, right, undefined, NOW)).toEqual({ fromMs: NOW - 2.2 * H, untilMs: NOW });
    const past = { fromMs: NOW - 10 * H, untilMs: NOW - 9 * H };
    expect(timelineWindow(past, { fromMs: NOW - 8 * H, untilMs: NOW - 7 * H }, undefined, NOW)).toEqual({
      fromMs: NOW - 10.3 * H,
      untilMs: NOW - 6.7 * H,
    });
  });

  it('keeps the window the user brushed in while it shows both selections', () => {
    const kept = { fromMs: NOW - 5 * H, untilMs: NOW };
    expect(timelineWindow(left, right, kept, NOW)).toBe(kept);
    const tooSmall = { fromMs: NOW - 1.5 * H, untilMs: NOW };
    expect(timelineWindow(left, right, tooSmall, NOW)).toEqual({ fromMs: NOW - 2.2 * H, untilMs: NOW });
  });

  it('moves a selection without resizing it or leaving the window', () => {
    const bounds = { fromMs: 0, untilMs: 100 };
    expect(moveRange({ fromMs: 10, untilMs: 30 }, 50, bounds)).toEqual({ fromMs: 50, untilMs: 70 });
    expect(moveRange({ fromMs: 10, untilMs: 30 }, 95, bounds)).toEqual({ fromMs: 80, untilMs: 100 });
    expect(moveRange({ fromMs: 10, untilMs: 30 }, -5, bounds)).toEqual({ fromMs: 0, untilMs: 20 });
  });
});

describe('linked zoom', () => {
  it('finds the same call path, or its longest prefix, in the other tree', () => {
    const tree = decodeFlamebearer(EXAMPLE);
    const bar = nodeOfLongestPrefix(tree, ['foo', 'bar']);
    expect(tree.names[tree.name[bar]]).toBe('bar');
    const foo = nodeOfLongestPrefix(tree, ['foo', 'nope', 'deeper']);
    expect(tree.names[tree.name[foo]]).toBe('foo');
    expect(nodeOfLongestPrefix(tree, ['missing'])).toBe(0);
    expect(nodeOfLongestPrefix(tree, [])).toBe(0);
  });
});
