import { COMPARE_OFFSETS, shiftTime } from './compare.js';
import type { DiffSortKey } from './diff-table.js';
import type { SortKey } from './table-data.js';

/**
 * Everything a view shows lives in the URL, so a reload or a shared link reopens it exactly. Parameter names follow
 * Pyroscope's (`query`, `from`, `until`, `leftQuery`, `leftFrom`, `leftUntil`) so links between the two stay
 * familiar. The page is the path: `/` single view, `/comparison` baseline and comparison side by side, `/diff`
 * their diff flame graph and table.
 */
export type ViewMode = 'both' | 'graph' | 'table';

export type Page = 'single' | 'comparison' | 'diff';

export interface ViewState {
  page: Page;
  /**
   * `<profile type ID>{selector}`; empty until the user (or the defaults) picked one. In the comparison and diff
   * views, the comparison (right) side.
   */
  query: string;
  /** The time range; in the comparison and diff views, the comparison side's. */
  from: string;
  until: string;
  search: string;
  regex: boolean;
  /** Zoomed node, as function names from the root. */
  focus: string[];
  /** Single view: table, flame graph or both; diff view: diff table, diff flame graph or both. */
  view: ViewMode;
  sort: SortKey;
  sortDesc: boolean;
  bottomUp: boolean;
  maxNodes: number;
  /** Function shown in the sandwich view (its callers above, callees below); empty for the flame graph. */
  sandwich: string;
  /** Comparison and diff: the baseline (left) side's query; empty for the same query as the comparison side. */
  leftQuery: string;
  /** The baseline side's time range. */
  leftFrom: string;
  leftUntil: string;
  /** The shared timeline's window when the user brushed inside it (kept while it shows both sides); else empty. */
  windowFrom: string;
  windowUntil: string;
  /** Diff colours and diff table by absolute values instead of each side's share. */
  absolute: boolean;
  diffSort: DiffSortKey;
  diffSortDesc: boolean;
  /** Show times in UTC instead of the browser's time zone. */
  utc: boolean;
  /** Tag explorer: the label whose values are broken down; empty when closed. */
  explore: string;
}

export const DEFAULT_STATE: ViewState = {
  page: 'single',
  query: '',
  from: 'now-1h',
  until: 'now',
  search: '',
  regex: false,
  focus: [],
  view: 'both',
  sort: 'self',
  sortDesc: true,
  bottomUp: false,
  maxNodes: 8192,
  sandwich: '',
  leftQuery: '',
  leftFrom: '',
  leftUntil: '',
  windowFrom: '',
  windowUntil: '',
  absolute: false,
  diffSort: 'delta',
  diffSortDesc: true,
  utc: false,
  explore: '',
};

const PAGE_PATHS: Record<Page, string> = { single: '/', comparison: '/comparison', diff: '/diff' };

export function pagePath(page: Page): string {
  return PAGE_PATHS[page];
}

/** `/comparison` and `/diff` (any trailing slash); every other path is the single view. */
export function pageOf(pathname: string): Page {
  const p = pathname.replace(/\/+$/, '');
  if (p === '/comparison') return 'comparison';
  if (p === '/diff' || p === '/comparison-diff') return 'diff';
  return 'single';
}

/** Focus paths are joined with a character that cannot appear in a URL-decoded frame name in practice. */
const PATH_SEP = '\u241f'; // ␟ SYMBOL FOR UNIT SEPARATOR

const DIFF_SORTS: readonly DiffSortKey[] = ['name', 'baseline', 'comparison', 'delta', 'change'];

export function toSearchParams(s: ViewState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.query) p.set('query', s.query);
  p.set('from', s.from);
  p.set('until', s.until);
  if (s.page !== 'single') {
    if (s.leftQuery && s.leftQuery !== s.query) p.set('leftQuery', s.leftQuery);
    if (s.leftFrom) p.set('leftFrom', s.leftFrom);
    if (s.leftUntil) p.set('leftUntil', s.leftUntil);
    if (s.windowFrom && s.windowUntil) {
      p.set('windowFrom', s.windowFrom);
      p.set('windowUntil', s.windowUntil);
    }
  }
  if (s.search) p.set('search', s.search);
  if (s.regex) p.set('regex', '1');
  if (s.focus.length > 0) p.set('focus', s.focus.join(PATH_SEP));
  if (s.view !== DEFAULT_STATE.view) p.set('view', s.view);
  if (s.sort !== DEFAULT_STATE.sort || !s.sortDesc) p.set('sort', `${s.sort}${s.sortDesc ? '' : ':asc'}`);
  if (s.bottomUp) p.set('bottomUp', '1');
  if (s.maxNodes !== DEFAULT_STATE.maxNodes) p.set('maxNodes', String(s.maxNodes));
  if (s.sandwich) p.set('sandwich', s.sandwich);
  if (s.absolute) p.set('absolute', '1');
  if (s.diffSort !== DEFAULT_STATE.diffSort || !s.diffSortDesc)
    p.set('diffSort', `${s.diffSort}${s.diffSortDesc ? '' : ':asc'}`);
  if (s.utc) p.set('tz', 'utc');
  if (s.explore) p.set('explore', s.explore);
  return p;
}

/** The state of a URL: its query string and its path (the page). */
export function fromSearchParams(p: URLSearchParams, pathname = '/'): ViewState {
  const view = p.get('view');
  const [sortKey, sortDir] = (p.get('sort') ?? '').split(':');
  const [diffSortKey, diffSortDir] = (p.get('diffSort') ?? '').split(':');
  const maxNodes = Number(p.get('maxNodes'));
  // Pyroscope's comparison links name the comparison side rightQuery/rightFrom/rightUntil.
  const query = p.get('query') ?? p.get('rightQuery') ?? DEFAULT_STATE.query;
  const from = p.get('from') || p.get('rightFrom') || DEFAULT_STATE.from;
  const until = p.get('until') || p.get('rightUntil') || DEFAULT_STATE.until;
  let page = pageOf(pathname);
  let leftFrom = p.get('leftFrom') ?? '';
  let leftUntil = p.get('leftUntil') ?? '';
  // Links from before the comparison view: `compare=1h` diffed against the range an hour before,
  // `split=1` showed both sides instead.
  const offset = COMPARE_OFFSETS[p.get('compare') ?? ''];
  if (page === 'single' && offset !== undefined) {
    page = p.get('split') === '1' ? 'comparison' : 'diff';
    leftFrom = shiftTime(from, offset);
    leftUntil = shiftTime(until, offset);
  }
  const leftQuery = p.get('leftQuery') ?? '';
  return {
    page,
    query,
    from,
    until,
    search: p.get('search') ?? '',
    regex: p.get('regex') === '1',
    focus: p.get('focus') ? (p.get('focus') as string).split(PATH_SEP) : [],
    view: view === 'graph' || view === 'table' ? view : 'both',
    sort: sortKey === 'name' || sortKey === 'total' ? sortKey : 'self',
    sortDesc: sortDir !== 'asc',
    bottomUp: p.get('bottomUp') === '1',
    maxNodes: Number.isInteger(maxNodes) && maxNodes > 0 ? maxNodes : DEFAULT_STATE.maxNodes,
    sandwich: p.get('sandwich') ?? '',
    leftQuery: leftQuery === query ? '' : leftQuery,
    leftFrom: page === 'single' ? '' : leftFrom,
    leftUntil: page === 'single' ? '' : leftUntil,
    windowFrom: page === 'single' ? '' : (p.get('windowFrom') ?? ''),
    windowUntil: page === 'single' ? '' : (p.get('windowUntil') ?? ''),
    absolute: p.get('absolute') === '1',
    diffSort: DIFF_SORTS.includes(diffSortKey as DiffSortKey)
      ? (diffSortKey as DiffSortKey)
      : DEFAULT_STATE.diffSort,
    diffSortDesc: diffSortDir !== 'asc',
    utc: p.get('tz') === 'utc',
    explore: p.get('explore') ?? '',
  };
}

/** The baseline side's query: its own, or the comparison side's when it has none. */
export function leftQueryOf(s: ViewState): string {
  return s.leftQuery || s.query;
}
