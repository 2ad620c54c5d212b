import type { SortKey } from './table-data.js';

/**
 * Everything a view shows lives in the URL, so a reload or a shared link reopens it exactly. Parameter names follow
 * Pyroscope's (`query`, `from`, `until`) so links between the two stay familiar.
 */
export type ViewMode = 'both' | 'graph' | 'table';

export interface ViewState {
  /** `<profile type ID>{selector}`; empty until the user (or the defaults) picked one. */
  query: string;
  from: string;
  until: string;
  search: string;
  regex: boolean;
  /** Zoomed node, as function names from the root. */
  focus: string[];
  view: ViewMode;
  sort: SortKey;
  sortDesc: boolean;
  bottomUp: boolean;
  maxNodes: number;
  /** Function shown in the sandwich view (its callers above, callees below); empty for the flame graph. */
  sandwich: string;
  /** Diff against the same query this long before ('1h', '24h', '7d'); empty for no diff. */
  compare: string;
  /** Diff colours by absolute values instead of each side's share. */
  absolute: boolean;
  /** Show times in UTC instead of the browser's time zone. */
  utc: boolean;
  /** With `compare`: baseline and comparison flame graphs side by side instead of one diff graph. */
  split: boolean;
  /** Tag explorer: the label whose values are broken down; empty when closed. */
  explore: string;
}

export const DEFAULT_STATE: ViewState = {
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
  compare: '',
  absolute: false,
  utc: false,
  split: false,
  explore: '',
};

/** Focus paths are joined with a character that cannot appear in a URL-decoded frame name in practice. */
const PATH_SEP = '\u241f'; // ␟ SYMBOL FOR UNIT SEPARATOR

export function toSearchParams(s: ViewState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.query) p.set('query', s.query);
  p.set('from', s.from);
  p.set('until', s.until);
  if (s.search) p.set('search', s.search);
  if (s.regex) p.set('regex', '1');
  if (s.focus.length > 0) p.set('focus', s.focus.join(PATH_SEP));
  if (s.view !== DEFAULT_STATE.view) p.set('view', s.view);
  if (s.sort !== DEFAULT_STATE.sort || !s.sortDesc) p.set('sort', `${s.sort}${s.sortDesc ? '' : ':asc'}`);
  if (s.bottomUp) p.set('bottomUp', '1');
  if (s.maxNodes !== DEFAULT_STATE.maxNodes) p.set('maxNodes', String(s.maxNodes));
  if (s.sandwich) p.set('sandwich', s.sandwich);
  if (s.compare) p.set('compare', s.compare);
  if (s.absolute) p.set('absolute', '1');
  if (s.utc) p.set('tz', 'utc');
  if (s.split) p.set('split', '1');
  if (s.explore) p.set('explore', s.explore);
  return p;
}

export function fromSearchParams(p: URLSearchParams): ViewState {
  const view = p.get('view');
  const [sortKey, sortDir] = (p.get('sort') ?? '').split(':');
  const maxNodes = Number(p.get('maxNodes'));
  return {
    query: p.get('query') ?? DEFAULT_STATE.query,
    from: p.get('from') || DEFAULT_STATE.from,
    until: p.get('until') || DEFAULT_STATE.until,
    search: p.get('search') ?? '',
    regex: p.get('regex') === '1',
    focus: p.get('focus') ? (p.get('focus') as string).split(PATH_SEP) : [],
    view: view === 'graph' || view === 'table' ? view : 'both',
    sort: sortKey === 'name' || sortKey === 'total' ? sortKey : 'self',
    sortDesc: sortDir !== 'asc',
    bottomUp: p.get('bottomUp') === '1',
    maxNodes: Number.isInteger(maxNodes) && maxNodes > 0 ? maxNodes : DEFAULT_STATE.maxNodes,
    sandwich: p.get('sandwich') ?? '',
    compare: COMPARE_OFFSETS[p.get('compare') ?? ''] !== undefined ? (p.get('compare') as string) : '',
    absolute: p.get('absolute') === '1',
    utc: p.get('tz') === 'utc',
    split: p.get('split') === '1',
    explore: p.get('explore') ?? '',
  };
}

/** "Compare with … prior" presets: the baseline is the same range shifted back by this many milliseconds. */
export const COMPARE_OFFSETS: Record<string, number> = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };
