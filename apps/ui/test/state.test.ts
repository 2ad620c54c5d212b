import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { colorOfPackage, packageOf } from '../src/colors.js';
import { decodeFlamebearer } from '../src/flamebearer.js';
import { compileSearch, exactSearch, matchedTicks, matchNames } from '../src/search.js';
import { parseSelector, printSelector, splitQuery, withService } from '../src/selector.js';
import { functionTable, sortRows } from '../src/table-data.js';
import { axisTimeLabel, resolveTime, stepSeconds } from '../src/time.js';
import {
  DEFAULT_STATE,
  fromSearchParams,
  leftQueryOf,
  pageOf,
  pagePath,
  toSearchParams,
  type ViewState,
} from '../src/url-state.js';
import { EXAMPLE } from './fixtures.js';

describe('URL state', () => {
  it('round-trips every field through the query string and the path', () => {
    const s: ViewState = {
      page: 'diff',
      query: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="shop", region=~"eu-.*"}',
      from: '1700000000000',
      until: '1700003600000',
      search: 'json.(Marshal|Unmarshal)',
      regex: true,
      focus: ['main.main', 'net/http.(*conn).serve', 'a;b'],
      view: 'graph',
      sort: 'total',
      sortDesc: false,
      bottomUp: true,
      maxNodes: 32768,
      sandwich: 'encoding/json.Marshal',
      leftQuery: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="shop", version="1.2"}',
      leftFrom: 'now-25h',
      leftUntil: 'now-24h',
      windowFrom: '1699990000000',
      windowUntil: '1700003600000',
      absolute: true,
      diffSort: 'change',
      diffSortDesc: false,
      utc: true,
      explore: 'region',
    };
    const url = `?${toSearchParams(s)}`;
    expect(pagePath(s.page)).toBe('/diff');
    expect(fromSearchParams(new URLSearchParams(url), pagePath(s.page))).toEqual(s);
    const comparison = { ...s, page: 'comparison' as const };
    expect(fromSearchParams(new URLSearchParams(`?${toSearchParams(comparison)}`), '/comparison')).toEqual(
      comparison,
    );
  });

  it('uses defaults for absent or invalid parameters and keeps default URLs short', () => {
    expect(fromSearchParams(new URLSearchParams('view=nope&maxNodes=-3&diffSort=nope'))).toEqual(
      DEFAULT_STATE,
    );
    expect(toSearchParams(DEFAULT_STATE).toString()).toBe('from=now-1h&until=now');
  });

  it('keeps the key out of the URL: no state field can hold it', () => {
    // The credentials live in web storage (src/auth.ts); the URL state has no field for them.
    const params = toSearchParams({
      ...DEFAULT_STATE,
      page: 'diff',
      leftFrom: 'now-2h',
      leftUntil: 'now-1h',
    });
    for (const name of params.keys()) expect(name).not.toMatch(/key|token|auth|tenant|org/i);
  });

  it('reads the page from the path; the single view drops the comparison fields', () => {
    expect(pageOf('/')).toBe('single');
    expect(pageOf('/single')).toBe('single');
    expect(pageOf('/comparison/')).toBe('comparison');
    expect(pageOf('/diff')).toBe('diff');
    const q = new URLSearchParams('leftFrom=now-2h&leftUntil=now-1h&windowFrom=1&windowUntil=2');
    expect(fromSearchParams(q, '/')).toMatchObject({ page: 'single', leftFrom: '', windowFrom: '' });
    expect(fromSearchParams(q, '/diff')).toMatchObject({
      page: 'diff',
      leftFrom: 'now-2h',
      leftUntil: 'now-1h',
    });
    // The baseline query is left out while it equals the comparison's (both follow the service picker).
    const same = { ...DEFAULT_STATE, page: 'diff' as const, query: 'a:b:c:d:e{}', leftQuery: 'a:b:c:d:e{}' };
    expect(toSearchParams(same).has('leftQuery')).toBe(false);
    expect(leftQueryOf({ ...same, leftQuery: '' })).toBe('a:b:c:d:e{}');
  });

  it("opens links from before the comparison view and Pyroscope's rightQuery/rightFrom/rightUntil", () => {
    expect(fromSearchParams(new URLSearchParams('from=now-1h&until=now&compare=24h'), '/')).toMatchObject({
      page: 'diff',
      leftFrom: 'now-25h',
      leftUntil: 'now-24h',
    });
    expect(
      fromSearchParams(new URLSearchParams('from=now-1h&until=now&compare=1h&split=1'), '/'),
    ).toMatchObject({
      page: 'comparison',
      leftFrom: 'now-2h',
      leftUntil: 'now-1h',
    });
    const pyro = new URLSearchParams(
      'rightQuery=q{}&rightFrom=now-30m&rightUntil=now&leftQuery=q{}&leftFrom=now-1h&leftUntil=now-30m',
    );
    expect(fromSearchParams(pyro, '/comparison')).toMatchObject({
      query: 'q{}',
      from: 'now-30m',
      until: 'now',
      leftQuery: '',
      leftFrom: 'now-1h',
      leftUntil: 'now-30m',
    });
  });

  it('round-trips arbitrary searches and focus paths', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.array(fc.string({ minLength: 1 }).filter((s) => !s.includes('\u241f'))),
        (search, focus) => {
          const s = { ...DEFAULT_STATE, search, focus };
          expect(fromSearchParams(new URLSearchParams(toSearchParams(s).toString()))).toEqual(s);
        },
      ),
    );
  });
});

describe('selectors', () => {
  it('parses and prints all four operators', () => {
    const m = parseSelector('{service_name="shop", region=~"eu-.*",env!="dev" , host!~"a\\"b"}');
    expect(m).toEqual([
      { name: 'service_name', op: '=', value: 'shop' },
      { name: 'region', op: '=~', value: 'eu-.*' },
      { name: 'env', op: '!=', value: 'dev' },
      { name: 'host', op: '!~', value: 'a"b' },
    ]);
    expect(parseSelector(printSelector(m))).toEqual(m);
    expect(parseSelector('{}')).toEqual([]);
  });

  it('explains bad selectors', () => {
    expect(() => parseSelector('service_name="x"')).toThrow(/looks like/);
    expect(() => parseSelector('{a~"x"}')).toThrow(/expected one of/);
    expect(() => parseSelector('{a="x}')).toThrow(/unterminated/);
    expect(() => parseSelector('{a=~"("}')).toThrow(/invalid regular expression/);
  });

  it('splits queries and swaps the service', () => {
    expect(splitQuery('memory:alloc_space:bytes:space:bytes{service_name="a"}')).toEqual({
      profileType: 'memory:alloc_space:bytes:space:bytes',
      selector: '{service_name="a"}',
    });
    const m = withService(parseSelector('{service_name="a", env="x"}'), 'b');
    expect(printSelector(m)).toBe('{service_name="b", env="x"}');
  });
});

describe('search', () => {
  const t = decodeFlamebearer(EXAMPLE);
  const match = (text: string, regex = false) => {
    const m = compileSearch({ text, regex });
    if (!m || 'error' in m) throw new Error('no matcher');
    return matchNames(t.names, m);
  };

  it('matches substrings case-insensitively and regexes', () => {
    expect([...match('BA')]).toEqual([0, 0, 1, 1, 0]);
    expect([...match('^(foo|qux)$', true)]).toEqual([0, 1, 0, 0, 1]);
    expect(compileSearch({ text: '(', regex: true })).toHaveProperty('error');
    expect(compileSearch({ text: '', regex: false })).toBeUndefined();
  });

  it('measures the share under matches, counting nested matches once', () => {
    expect(matchedTicks(t, match('ba'))).toBe(3); // bar 2 + baz 1
    expect(matchedTicks(t, match('foo|bar', true))).toBe(4); // foo covers bar
    expect(matchedTicks(t, match('qux'), 1)).toBe(0); // nothing under foo
    expect(matchedTicks(t, match('bar'), 1)).toBe(2);
  });

  it('builds anchored, escaped exact searches for table clicks', () => {
    const s = exactSearch('net/http.(*conn).serve');
    expect(new RegExp(s.text).test('net/http.(*conn).serve')).toBe(true);
    expect(new RegExp(s.text).test('net/http.(*conn).serve2')).toBe(false);
  });
});

describe('function table', () => {
  it('aggregates self and total per function, recursion counted once', () => {
    const rec = decodeFlamebearer({
      names: ['total', 'a', 'b'],
      levels: [
        [0, 10, 0, 0],
        [0, 10, 2, 1],
        [2, 8, 3, 2],
        [5, 5, 5, 1],
      ],
      numTicks: 10,
      maxSelf: 5,
    });
    const rows = functionTable(rec);
    const by = Object.fromEntries(rows.map((r) => [rec.names[r.name], [r.self, r.total]]));
    expect(by).toEqual({ a: [7, 10], b: [3, 8] });
    expect(sortRows(rows, rec.names, 'self', true).map((r) => rec.names[r.name])).toEqual(['a', 'b']);
    expect(sortRows(rows, rec.names, 'name', false).map((r) => rec.names[r.name])).toEqual(['a', 'b']);
  });

  it('follows the zoom', () => {
    const t = decodeFlamebearer(EXAMPLE);
    const rows = functionTable(t, 1);
    expect(rows.map((r) => t.names[r.name]).sort()).toEqual(['bar', 'baz', 'foo']);
  });
});

describe('colours and time', () => {
  it('extracts packages per language and keeps colours stable', () => {
    expect(packageOf('github.com/acme/shop/cart.(*Cart).Total')).toBe('github.com/acme/shop/cart');
    expect(packageOf('runtime.mallocgc')).toBe('runtime');
    expect(packageOf('com.acme.shop.Cart.total')).toBe('com.acme.shop');
    expect(packageOf('handler (app/views.py)')).toBe('app/views.py');
    expect(packageOf('handle:/srv/app/server.js:10')).toBe('/srv/app/server.js');
    expect(packageOf('tokio::runtime::park')).toBe('tokio');
    expect(colorOfPackage('runtime')).toBe(colorOfPackage(packageOf('runtime.gcBgMarkWorker')));
  });

  it('resolves relative and absolute times and picks steps', () => {
    const now = 1_700_000_000_000;
    expect(resolveTime('now', now)).toBe(now);
    expect(resolveTime('now-15m', now)).toBe(now - 900_000);
    expect(resolveTime('1700000000', now)).toBe(1_700_000_000_000);
    expect(resolveTime('1700000000123', now)).toBe(1_700_000_000_123);
    expect(resolveTime('garbage', now)).toBeNaN();
    expect(stepSeconds(0, 3600e3)).toBe(15);
    expect(stepSeconds(0, 30 * 86400e3)).toBe(10800);
  });

  it('labels time axes by their span', () => {
    const t = Date.UTC(2026, 10, 27, 7, 45, 9); // 2026-11-27 07:45:09 UTC
    expect(axisTimeLabel(t, 3600e3, true)).toBe('07:45');
    expect(axisTimeLabel(t, 5 * 60e3, true)).toBe('07:45:09');
    expect(axisTimeLabel(t, 7 * 86400e3, true)).toBe('11-27 07:45');
    const local = new Date(t);
    expect(axisTimeLabel(t, 3600e3, false)).toBe(
      `${String(local.getHours()).padStart(2, '0')}:${String(local.getMinutes()).padStart(2, '0')}`,
    );
  });
});
