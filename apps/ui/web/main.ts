/**
 * The profile views: the single view (query bar, timeline, flame graph and top table, sandwich, tag explorer,
 * ad-hoc files, exports) and, through compare-view.ts, the comparison and diff views. State lives in the URL
 * (src/url-state.ts); everything here wires DOM events to state changes and state changes to fetches and paints.
 */
import './style.css';
import {
  AdhocError,
  type AdhocProfile,
  adhocDiffTable,
  commonUnit,
  diffProfiles,
  stacksToFlamebearer,
} from '../src/adhoc.js';
import { readAdhocFile } from '../src/adhoc-files.js';
import { colorsOfNames } from '../src/colors.js';
import { baselineFor } from '../src/compare.js';
import { type DiffTree, decodeDiffFlamebearer, diffPalette, nodeDiffColors } from '../src/diff.js';
import { type DiffTableData, filterDiffRows, sortDiffRows } from '../src/diff-table.js';
import { exploreStats } from '../src/explore.js';
import { exportFileBase, toCollapsed } from '../src/exports.js';
import {
  decodeFlamebearer,
  type Flamebearer,
  type FlameTree,
  isOtherNode,
  nodeOfPath,
  OTHER_NAME,
  otherTotal,
  pathOf,
} from '../src/flamebearer.js';
import {
  formatPercent,
  formatValue,
  humanProfileType,
  parseProfileTypeId,
  timelineTitle,
} from '../src/format.js';
import { invertFlamebearer } from '../src/invert.js';
import { compileSearch, exactSearch, matchedTicks, matchNames } from '../src/search.js';
import {
  MATCH_OPS,
  type Matcher,
  type MatchOp,
  parseSelector,
  printSelector,
  SelectorError,
  serviceOf,
  splitQuery,
  withService,
} from '../src/selector.js';
import { isTyping, shortcutOf, toggledTableView } from '../src/shortcuts.js';
import { type FunctionRow, functionTable, type SortKey, sortRows } from '../src/table-data.js';
import { presetLabel, RANGE_PRESETS, resolveTime, stepSeconds } from '../src/time.js';
import {
  DEFAULT_STATE,
  fromSearchParams,
  type Page,
  pagePath,
  toSearchParams,
  type ViewState,
} from '../src/url-state.js';
import { deepestOnPath, focusParam, hasTruncatedBelow, spliceDetail } from '../src/zoom-detail.js';
import * as api from './api.js';
import { authBadge, forbiddenPanel, initAuth } from './auth-ui.js';
import { BASELINE_COLOR, COMPARISON_COLOR, ComparisonView } from './compare-view.js';
import { DiffTableView } from './diff-table.js';
import { afterNextPaint, canvasPng, copyText, download, type ExportItem, h, option } from './dom.js';
import { type ExploreBaseline, TagExplorer } from './explore.js';
import { FlameGraphView, type FlameStyle } from './flamegraph.js';
import { onboardingPanel } from './onboarding.js';
import { toggleShortcuts } from './shortcuts.js';
import { TopTable } from './table.js';
import { initialTheme, THEME_KEY, type Theme } from './theme.js';
import { Timeline } from './timeline.js';
import { Tooltip } from './tooltip.js';

// ---------------------------------------------------------------------------------------------------------------
// Theme

function flameStyle(theme: Theme): FlameStyle {
  return theme === 'dark'
    ? {
        text: '#1d1b19',
        dimFill: '#3a3b40',
        dimText: '#8a8a90',
        otherFill: '#8d8f96',
        rootFill: '#a9aab2',
        background: '#17181c',
        hoverStroke: '#ffffff',
        highlightStroke: '#4da3ff',
      }
    : {
        text: '#1d1b19',
        dimFill: '#e4e4e7',
        dimText: '#9a9aa0',
        otherFill: '#b9bbc2',
        rootFill: '#cfd0d6',
        background: '#ffffff',
        hoverStroke: '#1d1b19',
        highlightStroke: '#1f6feb',
      };
}

// ---------------------------------------------------------------------------------------------------------------
// State

let state: ViewState = fromSearchParams(new URLSearchParams(location.search), location.pathname);
let theme: Theme = initialTheme();
/** Zoom back stack: earlier focus paths, most recent last (Esc pops). */
const zoomStack: string[][] = [];

interface Loaded {
  raw: Flamebearer;
  tree: FlameTree;
  colors: string[];
  sampleUnit: string;
  profileType: string;
  /**
   * A server profile (not an ad-hoc file): the exact request it came from, so that zoom refetches cover the same
   * range, and the focus paths already refetched, keyed by `pathKey`.
   */
  source?: { params: api.RenderParams; fetched: Set<string> };
}
let loaded: Loaded | undefined;
let services = new Map<string, string[]>();
let selectedName = -1;
let inflight: AbortController | undefined;
/** The zoom-detail refetch in flight, or failed, for which focus path (`pathKey`) of which loaded profile. */
let detail: { ctl: AbortController; key: string; of: Loaded } | undefined;
/** For the benchmark: when the last flame graph response arrived, and how long until it was painted. */
const timings = { requestedAt: 0, fetchedAt: 0, firstPaintMs: 0, requestToPaintMs: 0 };

/** A history write waiting for the next frame to be painted, and whether it makes a new entry (see writeUrl). */
let urlDue: { push: boolean } | undefined;

/**
 * Puts the state in the address bar after the next frame is painted: history.pushState costs ~0.5 ms and, in
 * bursts, much more (Chromium throttles history updates), none of which the user sees, so a zoom's frame does not
 * wait for it. Writes meanwhile make one, a new history entry if any of them asked for one.
 */
function writeUrl(push: boolean): void {
  renderNav();
  if (urlDue) {
    urlDue.push ||= push;
    return;
  }
  const due = { push };
  urlDue = due;
  afterNextPaint(() => {
    if (urlDue !== due) return;
    urlDue = undefined;
    const url = `${pagePath(state.page)}?${toSearchParams(state)}`;
    if (url === `${location.pathname}${location.search}`) return;
    if (due.push) history.pushState(null, '', url);
    else history.replaceState(null, '', url);
  });
}

/** The state of another page: entering a comparison from the single view puts the previous period as baseline. */
function stateFor(page: Page): ViewState {
  const next = { ...state, page };
  if (page !== 'single' && (!next.leftFrom || !next.leftUntil)) {
    const b = baselineFor({ from: state.from, until: state.until }, 'previous', Date.now());
    next.leftFrom = b.from;
    next.leftUntil = b.until;
  }
  return next;
}

function goTo(page: Page): void {
  if (page === state.page || adhoc !== undefined) return;
  const next = stateFor(page);
  update({ page, leftFrom: next.leftFrom, leftUntil: next.leftUntil }, true);
}

function range(): { fromMs: number; untilMs: number } {
  const now = Date.now();
  let fromMs = resolveTime(state.from, now);
  let untilMs = resolveTime(state.until, now);
  if (!Number.isFinite(fromMs)) fromMs = now - 3600e3;
  if (!Number.isFinite(untilMs)) untilMs = now;
  if (untilMs <= fromMs) untilMs = fromMs + 1000;
  return { fromMs, untilMs };
}

function matchersOf(): Matcher[] {
  try {
    return parseSelector(splitQuery(state.query).selector);
  } catch {
    return [];
  }
}

function profileTypeOf(): string {
  return splitQuery(state.query).profileType;
}

// ---------------------------------------------------------------------------------------------------------------
// DOM skeleton

const serviceSelect = h('select', { id: 'service', 'aria-label': 'Service' });
const typeSelect = h('select', { id: 'profile-type', 'aria-label': 'Profile type' });
const rangeSelect = h('select', { id: 'range', 'aria-label': 'Time range' });
const fromInput = h('input', { type: 'datetime-local', id: 'from', 'aria-label': 'From', step: '1' });
const untilInput = h('input', { type: 'datetime-local', id: 'until', 'aria-label': 'Until', step: '1' });
const customRange = h('span', { class: 'custom-range' }, fromInput, '→', untilInput);
const refreshButton = h('button', { id: 'refresh', title: 'Fetch the profiles again' }, '↻ Refresh');
const themeButton = h('button', { id: 'theme', title: 'Toggle dark/light theme' });
const utcToggle = h('input', { type: 'checkbox', id: 'utc' });
const fileInput = h('input', {
  type: 'file',
  id: 'file-input',
  hidden: true,
  accept: '.pb,.gz,.pprof,.txt,.folded,.collapsed,.json',
});
/** The second file of an ad-hoc diff: the comparison against the opened file. */
const compareInput = h('input', {
  type: 'file',
  id: 'compare-file-input',
  hidden: true,
  accept: '.pb,.gz,.pprof,.txt,.folded,.collapsed,.json',
});
const openFileButton = h(
  'button',
  {
    id: 'open-file',
    title: 'View a pprof, collapsed or speedscope file locally (nothing is uploaded)',
  },
  'Open file…',
);
const adhocBanner = h('div', { class: 'adhoc-banner', id: 'adhoc-banner', hidden: true });
const dropOverlay = h('div', { class: 'drop-overlay', hidden: true });
const dropHint = h(
  'div',
  {},
  'Drop a pprof (.pb.gz), collapsed text or speedscope JSON file to view it here. Nothing is uploaded.',
);
const dropOpen = h('div', { class: 'drop-zone' }, 'Drop here to open the file');
const dropCompare = h('div', { class: 'drop-zone', id: 'drop-compare' });
interface AdhocFile {
  name: string;
  profile: AdhocProfile;
}
/** Ad-hoc mode: the opened file and, for a diff, the file compared with it. */
let adhoc: { baseline: AdhocFile; comparison?: AdhocFile } | undefined;
/** The ad-hoc diff on screen: the diff tree, each side's own tree (search shares) and the diff table. */
let adhocDiff: { diff: DiffTree; left: FlameTree; right: FlameTree; table: DiffTableData } | undefined;
let adhocSelected = '';
const chips = h('div', { class: 'chips' });
const labelSelect = h('select', { id: 'filter-label', 'aria-label': 'Label' });
const opSelect = h('select', { id: 'filter-op', 'aria-label': 'Operator' });
const valueInput = h('input', {
  id: 'filter-value',
  list: 'filter-values',
  placeholder: 'value',
  'aria-label': 'Value',
});
const valueList = h('datalist', { id: 'filter-values' });
const addFilterButton = h('button', { id: 'filter-add' }, 'Add filter');
const selectorInput = h('input', {
  id: 'selector',
  class: 'selector-input',
  spellcheck: 'false',
  'aria-label': 'Label selector',
  placeholder: '{service_name="my.service", region=~"eu-.*"}',
});
const selectorError = h('span', { class: 'error-text', id: 'selector-error' });
const searchInput = h('input', {
  id: 'search',
  type: 'search',
  placeholder: 'Search functions…  (/)',
  spellcheck: 'false',
  'aria-label': 'Search',
});
const regexToggle = h('input', { type: 'checkbox', id: 'regex' });
const searchInfo = h('span', { class: 'search-info', id: 'search-info' });
const viewButtons = h('div', {
  class: 'segmented view-mode',
  role: 'group',
  'aria-label': 'View',
  title: 'Show the table, the flame graph or both (t toggles the table)',
});
const bottomUpToggle = h('input', { type: 'checkbox', id: 'bottom-up' });
const resetButton = h('button', { id: 'reset', title: 'Reset zoom (r)' }, 'Reset');
const backButton = h('button', { id: 'back', title: 'Back (Esc)' }, '← Back');
const exportMenu = h('div', { class: 'export-items' });
const exportDetails = h(
  'details',
  { class: 'export' },
  h('summary', { class: 'button', id: 'export' }, 'Export ▾'),
  exportMenu,
);
exportDetails.addEventListener('toggle', () => {
  if (exportDetails.open) renderExports();
});
const breadcrumb = h('div', { class: 'breadcrumb', id: 'breadcrumb' });
const truncationNote = h('div', { class: 'truncation', id: 'truncation', hidden: true });
const detailNote = h('div', { class: 'zoom-detail', id: 'zoom-detail', hidden: true, role: 'status' });
const statusLine = h('span', { class: 'status', id: 'status' });
const tooltip = new Tooltip();
const menu = h('div', { class: 'context-menu', id: 'context-menu', hidden: true, role: 'menu' });
const messagePanel = h('div', { class: 'message', id: 'message', hidden: true });
const loadingBar = h('div', { class: 'loading-bar', hidden: true });

const flame = new FlameGraphView(
  {
    onHover: (node, x, y) =>
      adhocDiff && loaded
        ? tooltip.diff(adhocDiff.diff, node, x, y, loaded.sampleUnit, false)
        : showTooltip(loaded?.tree, node, x, y),
    onClick: (node) => zoomTo(node),
    onContextMenu: (node, x, y) => openMenu(loaded?.tree, node, x, y, 'main'),
    onPaint: (ms) => {
      if (!loaded) return;
      if (timings.fetchedAt > 0 && timings.firstPaintMs === 0) {
        timings.firstPaintMs = performance.now() - timings.fetchedAt;
        timings.requestToPaintMs = performance.now() - timings.requestedAt;
      }
      statusLine.textContent = `${loaded.tree.count.toLocaleString()} nodes · ${loaded.tree.names.length.toLocaleString()} functions · painted in ${ms.toFixed(1)} ms`;
    },
  },
  flameStyle(theme),
);
function sandwichView(orientation: 'up' | 'down'): FlameGraphView {
  const view: FlameGraphView = new FlameGraphView(
    {
      onHover: (node, x, y) => showTooltip(view.data, node, x, y, view.zoomed),
      onClick: (node) => view.setZoom(node === view.zoomed ? 0 : node),
      onContextMenu: (node, x, y) => openMenu(view.data, node, x, y),
    },
    flameStyle(theme),
    orientation,
  );
  return view;
}
const callersView = sandwichView('up');
const calleesView = sandwichView('down');
const sandwichTitle = h('div', { class: 'sandwich-title' });
const sandwichPanel = h(
  'div',
  { class: 'sandwich', id: 'sandwich', hidden: true },
  h(
    'div',
    { class: 'sandwich-head' },
    sandwichTitle,
    h('button', { id: 'sandwich-close', onclick: () => update({ sandwich: '' }, true) }, '× Close'),
  ),
  h('div', { class: 'sandwich-label' }, '▲ Callers'),
  h('div', { class: 'flame-wrap sandwich-callers' }, callersView.element),
  h('div', { class: 'sandwich-label' }, '▼ Callees'),
  h('div', { class: 'flame-wrap sandwich-callees' }, calleesView.element),
);
let sandwichTrees: { callers: FlameTree; callees: FlameTree } | undefined;

const table = new TopTable({
  onHover: (name) => flame.setHighlightName(name),
  onSelect: (name) => selectFunction(name),
  onSort: (key) => {
    if (state.sort === key) state = { ...state, sortDesc: !state.sortDesc };
    else state = { ...state, sort: key, sortDesc: key !== 'name' };
    writeUrl(false);
    renderTable();
  },
});
const adhocTable = new DiffTableView({
  onHover: (name) =>
    flame.setHighlightName(name === undefined ? -1 : (loaded?.tree.names.indexOf(name) ?? -1)),
  onSelect: (name) => {
    adhocSelected = adhocSelected === name ? '' : name;
    const s = adhocSelected ? exactSearch(name) : { text: '', regex: false };
    update({ search: s.text, regex: s.regex }, true);
  },
  onSort: (key) =>
    update(
      state.diffSort === key
        ? { diffSortDesc: !state.diffSortDesc }
        : { diffSort: key, diffSortDesc: key !== 'name' },
      false,
    ),
});
// The server-backed diff view has its own table with these ids.
adhocTable.element.id = 'adhoc-diff-table';
adhocTable.element.classList.add('adhoc-diff-table');
adhocTable.element.querySelector('#diff-table-caption')?.setAttribute('id', 'adhoc-diff-table-caption');
const timeline = new Timeline({
  onSelect: (fromMs, untilMs) => {
    update({ from: String(fromMs), until: String(untilMs), focus: [] }, true);
  },
});

const explorer = new TagExplorer({
  onLabel: (label) => update({ explore: label }, true),
  onOpen: (value) => openLabelValue(value),
  onCompare: (value, baseline, view) => openLabelValue(value, { baseline, view }),
  onClose: () => update({ explore: '' }, true),
});
const exploreButton = h(
  'button',
  { id: 'explore-open', title: 'Break the profile down by a label' },
  'Tag explorer',
);

/**
 * The profile of one value of the explored label: in the single view, or as the comparison side of a comparison or
 * diff whose baseline is the same range earlier or another value over the same range.
 */
function openLabelValue(
  value: string,
  compare?: { baseline: ExploreBaseline; view: 'comparison' | 'diff' },
): void {
  const label = state.explore;
  const matchers = matchersOf().filter((m) => m.name !== label);
  const queryOf = (v: string) =>
    `${profileTypeOf()}${printSelector([...matchers, { name: label, op: '=', value: v }])}`;
  update(
    {
      query: queryOf(value),
      explore: '',
      focus: [],
      ...(compare
        ? {
            page: compare.view,
            ...('preset' in compare.baseline
              ? {
                  leftQuery: '',
                  ...leftOf(
                    baselineFor(
                      { from: state.from, until: state.until },
                      compare.baseline.preset,
                      Date.now(),
                    ),
                  ),
                }
              : {
                  leftQuery: queryOf(compare.baseline.value),
                  ...leftOf({ from: state.from, until: state.until }),
                }),
          }
        : {}),
    },
    true,
  );
}

function leftOf(r: { from: string; until: string }): Pick<ViewState, 'leftFrom' | 'leftUntil'> {
  return { leftFrom: r.from, leftUntil: r.until };
}

/** Counts the tag explorer's loads: only the latest one shows its result and ends the panel's aria-busy. */
let exploreLoads = 0;

async function loadExplore(): Promise<void> {
  const label = state.explore;
  const load = ++exploreLoads;
  explorer.element.hidden = label === '';
  panes.hidden = label !== '' || !messagePanel.hidden;
  explorer.element.removeAttribute('aria-busy');
  if (!label || !state.query || !loaded) return;
  explorer.element.setAttribute('aria-busy', 'true');
  const { fromMs, untilMs } = range();
  const selector = splitQuery(state.query).selector;
  const sampleUnit = loaded.sampleUnit;
  try {
    const [labels, series] = await Promise.all([
      api.labelNames(selector, fromMs, untilMs),
      api.selectSeriesByLabel(
        profileTypeOf(),
        selector,
        fromMs,
        untilMs,
        stepSeconds(fromMs, untilMs, 120),
        label,
      ),
    ]);
    if (load !== exploreLoads) return;
    explorer.setLabels(
      labels.filter((l) => l !== 'service_name'),
      label,
    );
    explorer.setResult(exploreStats(series), (v) => formatValue(v, sampleUnit));
  } catch (err) {
    if (load !== exploreLoads) return;
    explorer.setResult(undefined, String);
    statusLine.textContent = `Tag explorer failed: ${(err as Error).message}`;
  } finally {
    if (load === exploreLoads) explorer.element.removeAttribute('aria-busy');
  }
}

const mainFlameWrap = h('div', { class: 'flame-wrap main-flame' }, flame.element);
const panes = h(
  'div',
  { class: 'panes', id: 'panes' },
  table.element,
  h('div', { class: 'graph-pane' }, mainFlameWrap, sandwichPanel),
  adhocTable.element,
);

const compare = new ComparisonView({
  state: () => state,
  update: (patch, push) => update(patch, push),
  tooltip,
  openMenu: (tree, node, x, y) => openMenu(tree, node, x, y, 'compare'),
  style: () => flameStyle(theme),
  searchInfo: (text) => {
    searchInfo.textContent = text;
  },
  status: (text) => {
    statusLine.textContent = text;
  },
  forbidden: (message) =>
    showMessage('forbidden', forbiddenPanel('This key cannot read these profiles', message)),
  zoomChanged: () => syncZoomButtons(),
});

/** Back and Reset: the single view's zoom (focus and its back stack), or the comparison panes'. */
function syncZoomButtons(): void {
  if (state.page === 'single') {
    backButton.disabled = zoomStack.length === 0 && state.focus.length === 0;
    resetButton.disabled = state.focus.length === 0;
  } else backButton.disabled = resetButton.disabled = !compare.zoomed;
}

/** The page links: real links (open in a new tab), followed in place on a plain click. */
const navLinks: Record<Page, HTMLAnchorElement> = {
  single: h('a', { id: 'nav-single', title: 'One query over one time range' }, 'Single'),
  comparison: h(
    'a',
    { id: 'nav-comparison', title: 'Baseline and comparison flame graphs side by side' },
    'Comparison',
  ),
  diff: h('a', { id: 'nav-diff', title: 'What grew and what shrank between two queries or ranges' }, 'Diff'),
};
for (const [page, link] of Object.entries(navLinks) as Array<[Page, HTMLAnchorElement]>)
  link.addEventListener('click', (e) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    goTo(page);
  });

function renderNav(): void {
  for (const [page, link] of Object.entries(navLinks) as Array<[Page, HTMLAnchorElement]>) {
    link.href = `${pagePath(page)}?${toSearchParams(stateFor(page))}`;
    link.classList.toggle('active', page === state.page);
    if (page === state.page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

const app = h(
  'div',
  { class: 'app' },
  h(
    'header',
    { class: 'topbar' },
    h('div', { class: 'brand' }, h('span', { class: 'logo' }, '▲'), 'Emberscope'),
    h(
      'nav',
      { class: 'nav', 'aria-label': 'Pages' },
      navLinks.single,
      navLinks.comparison,
      navLinks.diff,
      h(
        'a',
        { href: '/targets', id: 'nav-targets', title: 'Pull-mode scrape targets and their health' },
        'Targets',
      ),
    ),
    h('label', { class: 'field' }, h('span', {}, 'Service'), serviceSelect),
    h('label', { class: 'field' }, h('span', {}, 'Profile'), typeSelect),
    h('div', { class: 'spacer' }),
    h('label', { class: 'field range-field' }, rangeSelect),
    customRange,
    refreshButton,
    openFileButton,
    fileInput,
    compareInput,
    h('label', { class: 'toggle', title: 'Show times in UTC' }, utcToggle, 'UTC'),
    themeButton,
    authBadge(),
  ),
  h(
    'div',
    { class: 'querybar' },
    chips,
    h('div', { class: 'add-filter' }, labelSelect, opSelect, valueInput, valueList, addFilterButton),
    h('div', { class: 'raw-selector' }, selectorInput, selectorError),
  ),
  loadingBar,
  adhocBanner,
  h('section', { class: 'card timeline-card single-timeline' }, timeline.element),
  compare.timelineCard,
  compare.sides,
  h(
    'div',
    { class: 'toolbar' },
    h(
      'div',
      { class: 'search' },
      searchInput,
      h('label', { class: 'toggle' }, regexToggle, '.* regex'),
      searchInfo,
    ),
    h('div', { class: 'spacer' }),
    backButton,
    resetButton,
    h(
      'label',
      { class: 'toggle bottom-up-toggle', title: 'Leaves at the root: who calls the hot functions (b)' },
      bottomUpToggle,
      'Bottom-up',
    ),
    exploreButton,
    viewButtons,
    exportDetails,
  ),
  breadcrumb,
  truncationNote,
  detailNote,
  messagePanel,
  explorer.element,
  panes,
  compare.element,
  h(
    'footer',
    { class: 'footer' },
    statusLine,
    h(
      'button',
      { class: 'link', id: 'shortcuts-open', onclick: () => toggleShortcuts() },
      'Keyboard shortcuts (?)',
    ),
  ),
  tooltip.element,
  menu,
  dropOverlay,
);
document.body.append(app);

for (const op of MATCH_OPS) opSelect.append(option(op, op));
labelSelect.append(option('', 'label…'));
for (const p of RANGE_PRESETS) rangeSelect.append(option(p.from, p.label));
rangeSelect.append(option('custom', 'Custom range…'));
for (const [mode, label] of [
  ['table', 'Table'],
  ['both', 'Both'],
  ['graph', 'Flame graph'],
] as const) {
  const b = h('button', { 'data-view': mode }, label);
  b.addEventListener('click', () => update({ view: mode }, true));
  viewButtons.append(b);
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering of state

function applyTheme(): void {
  document.documentElement.dataset.theme = theme;
  themeButton.textContent = theme === 'dark' ? '☀' : '☾';
  themeButton.title = theme === 'dark' ? 'Switch to the light theme' : 'Switch to the dark theme';
  themeButton.setAttribute('aria-label', themeButton.title);
  flame.setStyle(flameStyle(theme));
  callersView.setStyle(flameStyle(theme));
  calleesView.setStyle(flameStyle(theme));
  const axes =
    theme === 'dark'
      ? { axis: '#9a9aa3', grid: 'rgba(255,255,255,0.07)' }
      : { axis: '#6b6b73', grid: 'rgba(0,0,0,0.07)' };
  timeline.setColors(axes);
  compare.setStyle(flameStyle(theme), axes);
}

function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60e3);
  return d.toISOString().slice(0, 19);
}

function renderControls(): void {
  const preset = presetLabel(state.from, state.until);
  rangeSelect.value = preset ? state.from : 'custom';
  customRange.hidden = preset !== undefined;
  const { fromMs, untilMs } = range();
  fromInput.value = toLocalInput(fromMs);
  untilInput.value = toLocalInput(untilMs);
  searchInput.value = state.search;
  regexToggle.checked = state.regex;
  bottomUpToggle.checked = state.bottomUp;
  utcToggle.checked = state.utc;
  timeline.utc = state.utc;
  explorer.utc = state.utc;
  for (const b of viewButtons.children)
    (b as HTMLElement).classList.toggle('active', (b as HTMLElement).dataset.view === state.view);
  panes.dataset.view = state.view;
  const matchers = matchersOf();
  selectorInput.value = printSelector(matchers);
  chips.replaceChildren(
    ...matchers
      .filter((m) => !(m.name === 'service_name' && m.op === '='))
      .map((m) => {
        const remove = h(
          'button',
          { class: 'chip-x', title: 'Remove filter', 'aria-label': `Remove ${m.name}` },
          '×',
        );
        remove.addEventListener('click', () =>
          setMatchers(matchersOf().filter((x) => x !== m && !sameMatcher(x, m))),
        );
        return h('span', { class: 'chip' }, `${m.name}${m.op}"${m.value}"`, remove);
      }),
  );
  const service = serviceOf(matchers);
  serviceSelect.replaceChildren(
    ...[...services.keys()].sort().map((s) => option(s, s || '(no service_name)', s === service)),
  );
  const types = services.get(service ?? '') ?? [];
  const current = profileTypeOf();
  typeSelect.replaceChildren(
    ...types
      .slice()
      .sort((a, b) => humanProfileType(a).localeCompare(humanProfileType(b)))
      .map((t) => {
        const o = option(t, humanProfileType(t), t === current);
        o.title = t;
        return o;
      }),
  );
  syncZoomButtons();
  if (document.activeElement !== searchInput) searchInput.value = state.search;
  regexToggle.checked = state.regex;
}

function sameMatcher(a: Matcher, b: Matcher): boolean {
  return a.name === b.name && a.op === b.op && a.value === b.value;
}

function setMatchers(matchers: Matcher[]): void {
  update({ query: `${profileTypeOf()}${printSelector(matchers)}`, focus: [] }, true);
}

/** A message instead of the views; 'forbidden' (a 403) also hides the controls, which cannot help. */
function showMessage(
  kind: 'error' | 'forbidden' | 'empty' | 'onboarding' | 'none',
  content?: Node | string,
): void {
  app.classList.toggle('onboarding-mode', kind === 'onboarding');
  app.classList.toggle('forbidden-mode', kind === 'forbidden');
  if (kind === 'none') {
    messagePanel.hidden = true;
    panes.hidden = false;
    return;
  }
  messagePanel.hidden = false;
  messagePanel.className = `message ${kind === 'forbidden' ? 'error' : kind}`;
  messagePanel.replaceChildren(content ?? '');
  panes.hidden = true;
}

/** Which page's parts show: the single view's or the comparison's (CSS keys off the class). */
function applyPage(): void {
  for (const page of ['single', 'comparison', 'diff'] as const)
    app.classList.toggle(`page-${page}`, state.page === page);
  document.title =
    state.page === 'single' ? 'Emberscope' : `${state.page === 'diff' ? 'Diff' : 'Comparison'} · Emberscope`;
  renderNav();
  compare.renderControls();
}

function setLoading(on: boolean): void {
  loadingBar.hidden = !on;
  document.body.classList.toggle('loading', on);
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

async function loadServices(): Promise<void> {
  const { fromMs, untilMs } = range();
  services = await api.servicesAndTypes(fromMs, untilMs);
  if (services.size === 0) {
    // Nothing in this range: is there anything at all (last 30 days)?
    const any = await api.servicesAndTypes(Date.now() - 30 * 86400e3, Date.now());
    if (any.size === 0) {
      showMessage('onboarding', onboardingPanel(location.origin));
      return;
    }
    services = any;
  }
  if (!state.query || !profileTypeOf()) {
    const names = [...services.keys()].sort();
    const service = names[0];
    const types = services.get(service) ?? [];
    const type =
      types.find((t) => t.startsWith('process_cpu:cpu:')) ??
      types.find((t) => t.includes(':cpu:')) ??
      types[0];
    state = { ...state, query: `${type}${printSelector(withService([], service || undefined))}` };
    writeUrl(false);
  }
}

function flameColors(names: readonly string[]): string[] {
  const colors = colorsOfNames(names);
  const otherIdx = names.indexOf(OTHER_NAME);
  if (otherIdx >= 0) colors[otherIdx] = flameStyle(theme).otherFill;
  return colors;
}

async function load(): Promise<void> {
  if (adhoc !== undefined) return;
  inflight?.abort();
  detail?.ctl.abort();
  detail = undefined;
  showDetailNote(undefined);
  const ctl = new AbortController();
  inflight = ctl;
  setLoading(true);
  try {
    if (services.size === 0 || !state.query) await loadServices();
    renderControls();
    if (!state.query) return;
    applyPage();
    if (state.page !== 'single') {
      // A comparison link without a baseline range: the previous period.
      if (!state.leftFrom || !state.leftUntil) {
        state = stateFor(state.page);
        writeUrl(false);
      }
      showMessage('none');
      await compare.load(ctl.signal);
      return;
    }
    const profileType = profileTypeOf();
    const selector = splitQuery(state.query).selector;
    const { fromMs, untilMs } = range();
    const step = stepSeconds(fromMs, untilMs);
    const sampleUnit = parseProfileTypeId(profileType).sampleUnit;
    const fmt = (v: number) => formatValue(v, sampleUnit);
    timings.requestedAt = performance.now();
    const params = { query: state.query, fromMs, untilMs, maxNodes: state.maxNodes };
    const [series, rendered] = await Promise.all([
      api.selectSeries(profileType, selector, fromMs, untilMs, step, ctl.signal),
      api.render(params, ctl.signal),
    ]);
    if (ctl.signal.aborted) return;
    timings.fetchedAt = performance.now();
    timings.firstPaintMs = 0;
    timeline.setData({
      series: [{ ...series, color: '#e8843c', label: timelineTitle(profileType) }],
      style: 'bars',
      stepMs: step * 1000,
      fromMs,
      untilMs,
      format: fmt,
      title: `${timelineTitle(profileType)} · ${printSelector(matchersOf())}`,
    });
    const raw = rendered.flamebearer;
    loaded = {
      raw,
      tree: decodeFlamebearer(raw),
      colors: flameColors(raw.names),
      sampleUnit,
      profileType,
      source: { params, fetched: new Set() },
    };
    if (state.bottomUp) rebuildTree();
    if (loaded.tree.count === 0 || loaded.tree.numTicks === 0) {
      showMessage(
        'empty',
        h(
          'div',
          {},
          h('h2', {}, 'No profiles match this query in the selected range'),
          h('p', {}, 'Widen the time range, remove a label filter, or pick another service or profile type.'),
          h(
            'button',
            { onclick: () => update({ from: 'now-7d', until: 'now' }, true) },
            'Show the last 7 days',
          ),
        ),
      );
      return;
    }
    showMessage('none');
    flame.setData(loaded.tree, loaded.colors);
    applyTreeState();
    // A new profile shows its graph and table in the same frame.
    renderTable();
    void loadSandwich();
    void loadExplore();
  } catch (err) {
    if ((err as Error).name === 'AbortError') return;
    if (err instanceof api.ApiError && err.status === 403) {
      showMessage('forbidden', forbiddenPanel('This key cannot read these profiles', err.message));
      return;
    }
    const retry = h('button', { onclick: () => load() }, 'Retry');
    showMessage(
      'error',
      h(
        'div',
        {},
        h('h2', {}, 'Could not load the profile'),
        h('p', { class: 'error-text' }, (err as Error).message),
        h('p', {}, 'Check the query and the server logs, then retry, or start over from the default view.'),
        h('div', { class: 'actions' }, retry, h('a', { class: 'button', href: '/' }, 'Start over')),
      ),
    );
  } finally {
    if (inflight === ctl) setLoading(false);
  }
}

async function loadSandwich(): Promise<void> {
  const fn = state.sandwich;
  mainFlameWrap.hidden = fn !== '';
  sandwichPanel.hidden = fn === '';
  sandwichTrees = undefined;
  if (!fn || !state.query) return;
  sandwichTitle.replaceChildren('Sandwich view of ', h('code', {}, fn));
  const { fromMs, untilMs } = range();
  try {
    const r = await api.sandwich({ query: state.query, fromMs, untilMs, maxNodes: state.maxNodes }, fn);
    if (state.sandwich !== fn) return;
    const callers = decodeFlamebearer(r.callers.flamebearer);
    const callees = decodeFlamebearer(r.callees.flamebearer);
    sandwichTrees = { callers, callees };
    callersView.setData(callers, colorsOfNames(callers.names));
    calleesView.setData(callees, colorsOfNames(callees.names));
    callersView.setZoom(0);
    calleesView.setZoom(0);
    applySandwichSearch();
  } catch (err) {
    sandwichTitle.replaceChildren(
      h('span', { class: 'error-text' }, `Sandwich view failed: ${(err as Error).message}`),
    );
  }
}

function applySandwichSearch(): void {
  if (!sandwichTrees) return;
  const m = compileSearch({ text: state.search, regex: state.regex });
  const ok = m !== undefined && !('error' in m);
  callersView.setSearch(ok ? matchNames(sandwichTrees.callers.names, m) : undefined);
  calleesView.setSearch(ok ? matchNames(sandwichTrees.callees.names, m) : undefined);
}

/** Ad-hoc mode: a dropped or opened file, decoded in the browser only (gzip undone here, by the browser). */
async function readFile(file: File): Promise<AdhocProfile> {
  let bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes[0] === 0x1f && bytes[1] === 0x8b)
    bytes = new Uint8Array(
      await new Response(
        new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip')),
      ).arrayBuffer(),
    );
  return readAdhocFile(bytes);
}

/** Opens a file on its own, or as the comparison against the open one (the diff of the two is shown). */
async function openFile(file: File, as: 'baseline' | 'comparison' = 'baseline'): Promise<void> {
  try {
    const opened = { name: file.name, profile: await readFile(file) };
    if (as === 'comparison' && adhoc) {
      commonUnit(adhoc.baseline.profile, opened.profile); // refuses files in other units before anything changes
      adhoc = { baseline: adhoc.baseline, comparison: opened };
    } else adhoc = { baseline: opened };
    showAdhoc();
  } catch (err) {
    const back = adhoc
      ? h('button', { id: 'adhoc-back', onclick: () => showAdhoc() }, `Back to ${adhocTitle()}`)
      : '';
    showMessage(
      'error',
      h(
        'div',
        {},
        h('h2', {}, `Could not ${as === 'comparison' && adhoc ? 'compare with' : 'read'} ${file.name}`),
        h('p', { class: 'error-text' }, err instanceof AdhocError ? err.message : String(err)),
        h(
          'p',
          {},
          'Supported: pprof (.pb or .pb.gz), collapsed text (one "frame;frame;frame count" per line) and speedscope JSON; both files of a diff in the same unit.',
        ),
        back,
      ),
    );
  }
}

function adhocTitle(): string {
  if (!adhoc) return '';
  return adhoc.comparison ? `${adhoc.baseline.name} → ${adhoc.comparison.name}` : adhoc.baseline.name;
}

/** The ad-hoc file's flame graph and top table, or the two files' diff flame graph and diff table. */
function showAdhoc(): void {
  if (!adhoc) return;
  const { baseline, comparison } = adhoc;
  inflight?.abort();
  adhocDiff = undefined;
  adhocSelected = '';
  if (comparison) {
    const [left, right] = commonUnit(baseline.profile, comparison.profile);
    const d = diffProfiles(left, right);
    const diff = decodeDiffFlamebearer(d.flamebearer, d.leftTicks, d.rightTicks);
    const l = decodeFlamebearer(stacksToFlamebearer(left.stacks));
    const r = decodeFlamebearer(stacksToFlamebearer(right.stacks));
    adhocDiff = { diff, left: l, right: r, table: adhocDiffTable(l, r, false) };
    loaded = {
      raw: d.flamebearer,
      tree: diff.tree,
      colors: [],
      sampleUnit: d.unit,
      profileType: `adhoc:diff:${d.unit}::`,
    };
  } else {
    const { type, unit, stacks } = baseline.profile;
    const raw = stacksToFlamebearer(stacks);
    loaded = {
      raw,
      tree: decodeFlamebearer(raw),
      colors: colorsOfNames(raw.names),
      sampleUnit: unit,
      profileType: `adhoc:${type}:${unit}::`,
    };
  }
  app.classList.add('adhoc-mode');
  app.classList.toggle('adhoc-diff', adhocDiff !== undefined);
  renderAdhocBanner();
  zoomStack.length = 0;
  // Bottom-up would invert the combined widths of a diff: diffs are shown top-down, as on the diff page.
  state = { ...state, focus: [], sandwich: '', page: 'single', bottomUp: state.bottomUp && !adhocDiff };
  writeUrl(false);
  applyPage();
  renderControls();
  mainFlameWrap.hidden = false;
  sandwichPanel.hidden = true;
  showMessage('none');
  if (state.bottomUp) rebuildTree();
  else paintFlame();
  applyTreeState();
  renderTable();
}

function colorBlind(): boolean {
  return localStorage.getItem('emberscope.colorBlind') === '1';
}

function paintFlame(): void {
  if (!loaded) return;
  if (adhocDiff)
    flame.setData(loaded.tree, [], {
      index: nodeDiffColors(adhocDiff.diff),
      palette: diffPalette(colorBlind()),
    });
  else flame.setData(loaded.tree, loaded.colors);
}

function renderAdhocBanner(): void {
  if (!adhoc || !loaded) return;
  const { baseline, comparison } = adhoc;
  const local = ' · viewed locally: nothing was uploaded or stored. ';
  const close = h(
    'button',
    { id: 'adhoc-close', onclick: () => location.reload() },
    comparison ? '× Close files' : '× Close file',
  );
  adhocBanner.hidden = false;
  if (!comparison) {
    const { type, unit } = baseline.profile;
    adhocBanner.replaceChildren(
      h('b', {}, baseline.name),
      ` · sample type ${type} (${unit})${local}`,
      h(
        'button',
        {
          id: 'adhoc-compare',
          title: 'Pick a second file: the diff shows what grew and shrank from this one to it',
          onclick: () => compareInput.click(),
        },
        'Compare with…',
      ),
      close,
    );
    return;
  }
  const palette = diffPalette(colorBlind());
  adhocBanner.replaceChildren(
    h('span', { class: 'side-swatch', style: `background:${BASELINE_COLOR}` }),
    h('b', { id: 'adhoc-baseline' }, baseline.name),
    h('span', { class: 'muted' }, 'baseline'),
    ' → ',
    h('span', { class: 'side-swatch', style: `background:${COMPARISON_COLOR}` }),
    h('b', { id: 'adhoc-comparison' }, comparison.name),
    h('span', { class: 'muted' }, 'comparison'),
    ` · ${loaded.sampleUnit}${local}`,
    h(
      'button',
      {
        id: 'adhoc-uncompare',
        onclick: () => {
          adhoc = { baseline };
          showAdhoc();
        },
      },
      '× Close comparison',
    ),
    close,
    h(
      'div',
      { class: 'diff-legend adhoc-legend' },
      h('span', {}, 'shrank'),
      ...[0, 3, 6, 10, 14, 17, 20].map((k) =>
        h('span', { class: 'legend-swatch', style: `background:${palette[k]}` }),
      ),
      h('span', {}, "grew (share of each side's total, saturated at ±100%)"),
    ),
  );
}

openFileButton.addEventListener('click', () => fileInput.click());
fileInput.addEventListener('change', () => {
  const f = fileInput.files?.[0];
  if (f) void openFile(f);
  fileInput.value = '';
});
compareInput.addEventListener('change', () => {
  const f = compareInput.files?.[0];
  if (f) void openFile(f, 'comparison');
  compareInput.value = '';
});
/** With a file open, the page is split: drop on the left half to open another file, on the right to compare. */
function dropTarget(e: DragEvent): 'baseline' | 'comparison' {
  return adhoc && e.clientX > window.innerWidth / 2 ? 'comparison' : 'baseline';
}
window.addEventListener('dragover', (e) => {
  if (!e.dataTransfer?.types.includes('Files')) return;
  e.preventDefault();
  dropOverlay.hidden = false;
  dropOverlay.classList.toggle('split', adhoc !== undefined);
  if (!adhoc) {
    dropOverlay.replaceChildren(dropHint);
    return;
  }
  const target = dropTarget(e);
  dropCompare.textContent = `Drop here to compare with ${adhoc.baseline.name}`;
  dropOpen.classList.toggle('active', target === 'baseline');
  dropCompare.classList.toggle('active', target === 'comparison');
  dropOverlay.replaceChildren(dropOpen, dropCompare);
});
window.addEventListener('dragleave', (e) => {
  if (e.relatedTarget === null) dropOverlay.hidden = true;
});
window.addEventListener('drop', (e) => {
  e.preventDefault();
  dropOverlay.hidden = true;
  const f = e.dataTransfer?.files[0];
  if (f) void openFile(f, dropTarget(e));
});

function rebuildTree(): void {
  if (!loaded) return;
  const fb = state.bottomUp ? invertFlamebearer(loaded.raw) : loaded.raw;
  loaded.tree = decodeFlamebearer(fb);
  paintFlame();
}

/** Focus, search and table: everything derived from the loaded tree and the state, without fetching. */
function applyTreeState(): void {
  if (!loaded) return;
  const { tree } = loaded;
  let zoom = state.focus.length > 0 ? nodeOfPath(tree, state.focus) : 0;
  if (zoom < 0) zoom = 0;
  flame.setZoom(zoom);
  applySearch();
  renderBreadcrumb(zoom);
  renderTruncation();
  syncZoomButtons();
  if (detailNote.dataset.key !== pathKey(state.focus)) showDetailNote(undefined);
  void loadDetail();
}

// ---------------------------------------------------------------------------------------------------------------
// Zoom detail: the subtree of the zoomed frame refetched without the server's maxNodes cut (src/zoom-detail.ts)

function pathKey(path: readonly string[]): string {
  return path.join('\u241f');
}

/** The note under the truncation note: loading, failed (with a retry) or changed data, for one focus path. */
function showDetailNote(
  note: { key: string; kind: 'loading' | 'error' | 'changed'; content: Array<Node | string> } | undefined,
): void {
  // Every zoom clears the note: nothing to do when none is shown.
  if (note === undefined && detailNote.hidden) return;
  detailNote.hidden = note === undefined;
  detailNote.dataset.key = note?.key ?? '';
  detailNote.className = `zoom-detail${note ? ` ${note.kind}` : ''}`;
  detailNote.replaceChildren(...(note?.content ?? []));
}

/**
 * When the zoomed frame's subtree holds truncated ("other") frames, fetches the focused flame graph of the
 * frame and splices it in. A focus path whose frame was itself cut (a reloaded link) is reached step by step:
 * the deepest frame of the path that the graph has is refetched first, then the next, each path at most once.
 */
async function loadDetail(): Promise<void> {
  const l = loaded;
  const focusKey = pathKey(state.focus);
  if (detail && detail.of === l && detail.key === focusKey) return;
  detail?.ctl.abort();
  detail = undefined;
  const source = l?.source;
  // Bottom-up trees are inverted here; the server focuses top-down paths only.
  if (!l || !source || state.page !== 'single' || state.bottomUp || state.focus.length === 0) return;
  const tree = l.tree;
  const { node, depth } = deepestOnPath(tree, state.focus);
  const path = state.focus.slice(0, depth);
  const key = pathKey(path);
  const focus = focusParam(path);
  if (node <= 0 || !focus || source.fetched.has(key) || !hasTruncatedBelow(l.tree, node)) return;
  const name = tree.names[tree.name[node]];
  const ctl = new AbortController();
  detail = { ctl, key: focusKey, of: l };
  showDetailNote({
    key: focusKey,
    kind: 'loading',
    content: [
      h('span', { class: 'spinner' }),
      `Loading the frames under ${shortName(name)} that the server cut…`,
    ],
  });
  try {
    const r = await api.renderFocused(source.params, focus, ctl.signal);
    if (ctl.signal.aborted || loaded !== l || l.tree !== tree) return;
    const s = spliceDetail(l.raw, tree, node, r.flamebearer);
    // Paths below this one were refetched into the subtree just replaced: they may be fetched again.
    for (const k of source.fetched) if (k.startsWith(`${key}\u241f`)) source.fetched.delete(k);
    source.fetched.add(key);
    l.raw = s.raw;
    l.tree = decodeFlamebearer(s.raw);
    l.colors = flameColors(s.raw.names);
    detail = undefined;
    showDetailNote(
      s.before === s.after
        ? undefined
        : {
            key: focusKey,
            kind: 'changed',
            content: [
              `The server's data changed since the flame graph was loaded: ${shortName(name)} is now ${formatValue(s.after, l.sampleUnit)} (was ${formatValue(s.before, l.sampleUnit)}). The numbers shown are the new ones.`,
            ],
          },
    );
    paintFlame();
    applyTreeState();
  } catch (err) {
    if (ctl.signal.aborted || loaded !== l || l.tree !== tree) return;
    // `detail` stays set: no new attempt while this focus stays, one when the user zooms here again or retries.
    const retry = h('button', { id: 'zoom-detail-retry' }, 'Retry');
    retry.addEventListener('click', () => {
      detail = undefined;
      void loadDetail();
    });
    showDetailNote({
      key: focusKey,
      kind: 'error',
      content: [
        `Could not load the frames under ${shortName(name)} that the server cut: ${(err as Error).message}. Showing the truncated view. `,
        retry,
      ],
    });
  }
}

function currentZoom(): number {
  if (!loaded) return 0;
  const z = state.focus.length > 0 ? nodeOfPath(loaded.tree, state.focus) : 0;
  return Math.max(z, 0);
}

let nameMatches: Uint8Array | undefined;

function applySearch(): void {
  if (!loaded) return;
  const m = compileSearch({ text: state.search, regex: state.regex });
  searchInput.classList.toggle('invalid', m !== undefined && 'error' in m);
  if (m === undefined || 'error' in m) {
    nameMatches = undefined;
    searchInfo.textContent = m && 'error' in m ? `Invalid regex: ${m.error}` : '';
  } else if (adhocDiff) {
    nameMatches = matchNames(loaded.tree.names, m);
    const share = (t: FlameTree) => formatPercent(matchedTicks(t, matchNames(t.names, m), 0), t.numTicks);
    searchInfo.textContent = `${share(adhocDiff.left)} of baseline · ${share(adhocDiff.right)} of comparison matched`;
  } else {
    nameMatches = matchNames(loaded.tree.names, m);
    const zoom = currentZoom();
    const matched = matchedTicks(loaded.tree, nameMatches, zoom);
    const whole = loaded.tree.total[zoom];
    searchInfo.textContent = `${formatPercent(matched, whole)} of ${zoom === 0 ? 'total' : 'the zoomed frame'} matched · ${formatValue(matched, loaded.sampleUnit)}`;
  }
  flame.setSearch(nameMatches);
  renderTableAfterPaint();
}

/** The whole profile's rows, sorted, for one tree and order: zooming back out to it is the most common step. */
let rootRows: { tree: FlameTree; sort: SortKey; desc: boolean; rows: FunctionRow[] } | undefined;

/** The table of a subtree, sorted: O(subtree), and O(1) for the whole profile seen again. */
function sortedRows(tree: FlameTree, zoom: number): FunctionRow[] {
  const { sort, sortDesc: desc } = state;
  if (zoom === 0 && rootRows?.tree === tree && rootRows.sort === sort && rootRows.desc === desc)
    return rootRows.rows;
  const rows = sortRows(functionTable(tree, zoom), tree.names, sort, desc);
  if (zoom === 0) rootRows = { tree, sort, desc, rows };
  return rows;
}

let tableDue = false;
/** Counts the table's refills, so that the later parts of one are dropped once a newer refill started. */
let tableFills = 0;
/** Over how many frames a zoom's table refill is spread. */
const TABLE_REFILL_FRAMES = 3;

/**
 * A zoom or a search repaints the graph at once and refills the table after the frame that shows it: together they
 * took more than a frame's 16 ms at 100k nodes. The refill itself is spread over frames, the top rows first: each
 * row costs the browser ~0.35 ms to style, lay out and paint, and the ~32 of a full window in one frame still went
 * over. Calls made meanwhile refill it once; a renderTable() before then makes the refill unnecessary. The panes are
 * aria-busy until every row is filled.
 */
function renderTableAfterPaint(): void {
  if (tableDue) return;
  tableDue = true;
  panes.setAttribute('aria-busy', 'true');
  afterNextPaint(() => {
    if (tableDue) renderTable(TABLE_REFILL_FRAMES);
  });
}

function renderTable(frames = 1): void {
  tableDue = false;
  const fill = ++tableFills;
  const next = () =>
    afterNextPaint(() => {
      if (fill !== tableFills) return;
      if (table.fillStep()) next();
      // A refill asked for meanwhile is still to come.
      else if (!tableDue) panes.removeAttribute('aria-busy');
    });
  if (fillTable(frames)) next();
  else panes.removeAttribute('aria-busy');
}

/** Fills the table (or the ad-hoc diff's) for the view, over `frames`; true when rows were left for `table.fillStep`. */
function fillTable(frames: number): boolean {
  if (!loaded) return false;
  if (adhocDiff) {
    renderAdhocDiffTable(adhocDiff.table, loaded.sampleUnit);
    return false;
  }
  const zoom = currentZoom();
  const { tree, colors, sampleUnit } = loaded;
  let rows = sortedRows(tree, zoom);
  if (nameMatches) {
    const nm = nameMatches;
    rows = rows.filter((r) => nm[r.name] === 1);
  }
  return table.setModel(
    {
      rows,
      names: tree.names,
      colors,
      format: (v) => formatValue(v, sampleUnit),
      whole: tree.total[zoom],
      sort: state.sort,
      desc: state.sortDesc,
      selected: selectedName,
    },
    frames,
  );
}

function renderAdhocDiffTable(t: DiffTableData, unit: string): void {
  const m = compileSearch({ text: state.search, regex: state.regex });
  const rows = m && !('error' in m) ? filterDiffRows(t.rows, m) : t.rows;
  adhocTable.setModel({
    rows: sortDiffRows(rows, state.diffSort, state.diffSortDesc),
    normalized: t.normalized,
    leftTicks: t.leftTicks,
    rightTicks: t.rightTicks,
    format: (v) => formatValue(v, unit),
    sort: state.diffSort,
    desc: state.diffSortDesc,
    caption: `${rows.length.toLocaleString()} function${rows.length === 1 ? '' : 's'}${rows.length !== t.rows.length ? ' matching the search' : ''} · shares of each side's total`,
    selected: state.search === exactSearch(adhocSelected).text ? adhocSelected : '',
  });
}

/**
 * The zoom path. Its line stays while a profile is shown, zoomed or not: a zoom must not move the graph (the frame
 * under the pointer would change) nor make the browser lay out the whole page again.
 */
function renderBreadcrumb(zoom: number): void {
  // The sandwich view and the tag explorer replace the graph this is the path of.
  if (!loaded || state.sandwich || state.explore) {
    breadcrumb.replaceChildren();
    return;
  }
  if (zoom === 0) {
    breadcrumb.replaceChildren(
      h('span', { class: 'crumb-label' }, 'Whole profile'),
      h('span', { class: 'crumb-hint' }, '· click a frame to zoom in, Esc to go back'),
    );
    return;
  }
  const path = pathOf(loaded.tree, zoom);
  const parts: Node[] = [h('button', { class: 'crumb', onclick: () => focusPath([]) }, 'total')];
  path.forEach((name, i) => {
    parts.push(h('span', { class: 'sep' }, '›'));
    parts.push(
      h(
        'button',
        { class: 'crumb', title: name, onclick: () => focusPath(path.slice(0, i + 1)) },
        shortName(name),
      ),
    );
  });
  breadcrumb.replaceChildren(
    h('span', { class: 'crumb-label' }, 'Zoomed into'),
    h('span', { class: 'crumb-path' }, h('span', { class: 'crumb-items' }, ...parts)),
  );
}

function shortName(name: string): string {
  return name.length > 40 ? `…${name.slice(-38)}` : name;
}

let rawTree: { raw: Flamebearer; tree: FlameTree } | undefined;
function decodeRawOnce(): FlameTree {
  if (!loaded) throw new Error('no profile');
  if (rawTree?.raw !== loaded.raw)
    rawTree = { raw: loaded.raw, tree: state.bottomUp ? decodeFlamebearer(loaded.raw) : loaded.tree };
  return rawTree.tree;
}

function renderTruncation(): void {
  if (!loaded) return;
  // Counted on the server's (top-down) tree: in bottom-up, "other" frames get callers and are no longer leaves.
  const { nodes, ticks } = otherTotal(loaded.raw === undefined ? loaded.tree : decodeRawOnce());
  if (nodes === 0) {
    truncationNote.hidden = true;
    return;
  }
  truncationNote.hidden = false;
  const text = `The server kept the ${state.maxNodes.toLocaleString()} largest frames; ${nodes.toLocaleString()} grey “other” frames hold the rest (${formatPercent(ticks, loaded.tree.numTicks)} of the total)${state.bottomUp || !loaded.source ? '' : '; zooming into a frame loads what was cut below it'}. `;
  // Called on every zoom: the note is rebuilt only when it changed.
  if (truncationNote.dataset.text === text) return;
  truncationNote.dataset.text = text;
  const more = h('button', {}, `Show up to ${(state.maxNodes * 4).toLocaleString()} nodes`);
  more.addEventListener('click', () => update({ maxNodes: state.maxNodes * 4 }, true));
  truncationNote.replaceChildren(h('b', {}, 'Truncated. '), text, more);
}

/** The Export menu, built as it opens: what it offers depends on the page and on what is loaded. */
function renderExports(): void {
  const items = state.page === 'single' ? singleViewExports() : compare.exports();
  exportMenu.replaceChildren(
    ...items.map((item) =>
      h(
        'button',
        {
          id: item.id,
          title: item.title,
          onclick: async () => {
            exportDetails.open = false;
            try {
              const { blob, name } = await item.file();
              download(blob, name);
            } catch (err) {
              statusLine.textContent = `Export failed: ${(err as Error).message}`;
            }
          },
        },
        item.label,
      ),
    ),
  );
  if (items.length === 0) exportMenu.append(h('span', { class: 'muted' }, 'Nothing loaded to export yet.'));
}

function singleViewExports(): ExportItem[] {
  const { query } = state;
  if (!query) return [];
  const { fromMs, untilMs } = range();
  const base = exportFileBase(query, fromMs, untilMs);
  const shown = loaded;
  const matchers = matchersOf();
  const others = printSelector(matchers.filter((m) => !(m.name === 'service_name' && m.op === '=')));
  const html = api.htmlExportUrl(
    { query, fromMs, untilMs, maxNodes: state.maxNodes },
    serviceOf(matchers) ?? '',
    others,
  );
  const items: ExportItem[] = [
    {
      id: 'export-png',
      label: 'PNG image',
      title: 'The flame graph as shown',
      file: async () => ({ blob: await canvasPng(flame.canvas), name: `${base}.png` }),
    },
    {
      id: 'export-pprof',
      label: 'pprof (.pb.gz)',
      title: 'The merged profile, untruncated (SelectMergeProfile)',
      file: async () => {
        const blob = await api.mergedPprof(query, fromMs, untilMs);
        return { blob, name: `${base}.pb.gz` };
      },
    },
  ];
  if (shown)
    items.push(
      {
        id: 'export-collapsed',
        label: 'Collapsed text',
        title: 'Folded stacks of the flame graph on screen',
        file: async () => ({
          blob: new Blob([toCollapsed(shown.tree)], { type: 'text/plain' }),
          name: `${base}.folded`,
        }),
      },
      {
        id: 'export-json',
        label: 'Flamebearer JSON',
        title: 'The flame graph as the server sent it',
        file: async () => ({
          blob: new Blob([JSON.stringify(shown.raw)], { type: 'application/json' }),
          name: `${base}.json`,
        }),
      },
    );
  if (html)
    items.push({
      id: 'export-html',
      label: 'Standalone HTML',
      title: 'A self-contained HTML page of the flame graph',
      file: async () => ({ blob: await api.htmlExport(html), name: `${base}.html` }),
    });
  return items;
}

// ---------------------------------------------------------------------------------------------------------------
// Interactions

/** Merges a partial state, writes the URL and refreshes what depends on the changed keys. */
function update(patch: Partial<ViewState>, push: boolean): void {
  const prev = state;
  state = { ...state, ...patch };
  if (patch.focus === undefined && (patch.query !== undefined || patch.from !== undefined))
    zoomStack.length = 0;
  writeUrl(push);
  if (prev.page !== state.page) {
    tooltip.hide();
    closeMenu();
    renderControls();
    void load();
    return;
  }
  if (state.page !== 'single') {
    if (compare.stateChanged(prev, state)) void load();
    renderControls();
    return;
  }
  const refetch =
    prev.query !== state.query ||
    prev.from !== state.from ||
    prev.until !== state.until ||
    prev.maxNodes !== state.maxNodes;
  if (refetch) {
    if (patch.focus !== undefined && patch.focus.length === 0) zoomStack.length = 0;
    void load();
    return;
  }
  if (prev.bottomUp !== state.bottomUp) {
    zoomStack.length = 0;
    state = { ...state, focus: [] };
    writeUrl(false);
    rebuildTree();
  }
  if (prev.sandwich !== state.sandwich) void loadSandwich();
  if (prev.explore !== state.explore) void loadExplore();
  else if (prev.search !== state.search || prev.regex !== state.regex) applySandwichSearch();
  if (prev.view !== state.view || prev.bottomUp !== state.bottomUp || prev.regex !== state.regex)
    renderControls();
  applyTreeState();
}

function focusPath(path: string[]): void {
  zoomStack.push(state.focus);
  update({ focus: path }, true);
}

function zoomTo(node: number): void {
  if (!loaded) return;
  if (node === currentZoom() && node !== 0) {
    zoomBack();
    return;
  }
  if (isOtherNode(loaded.tree, node)) return;
  focusPath(node === 0 ? [] : pathOf(loaded.tree, node));
}

function zoomBack(): void {
  const prev = zoomStack.pop();
  update({ focus: prev ?? [] }, true);
}

function selectFunction(name: number): void {
  if (!loaded) return;
  if (state.sandwich) {
    update({ sandwich: loaded.tree.names[name] }, true);
    return;
  }
  if (selectedName === name) {
    selectedName = -1;
    flame.setSelectedName(-1);
    update({ search: '', regex: false }, true);
    return;
  }
  selectedName = name;
  flame.setSelectedName(name);
  const s = exactSearch(loaded.tree.names[name]);
  update({ search: s.text, regex: s.regex }, true);
}

function showTooltip(
  tree: FlameTree | undefined,
  node: number,
  x: number,
  y: number,
  zoom = currentZoom(),
): void {
  if (!loaded) {
    tooltip.hide();
    return;
  }
  tooltip.frame(tree, node, x, y, {
    zoom,
    sampleUnit: loaded.sampleUnit,
    profileType: loaded.profileType,
    maxNodes: state.maxNodes,
  });
}

/** The right-click menu of the main flame graph, a sandwich half, or a comparison pane / the diff graph. */
function openMenu(
  tree: FlameTree | undefined,
  node: number,
  x: number,
  y: number,
  kind: 'main' | 'sandwich' | 'compare' = 'sandwich',
): void {
  if (!tree) return;
  const main = kind === 'main';
  const name = tree.names[tree.name[node]];
  const item = (label: string, fn: () => void) =>
    h(
      'button',
      {
        role: 'menuitem',
        onclick: () => {
          closeMenu();
          fn();
        },
      },
      label,
    );
  const isRoot = tree.level[node] === 0 || isOtherNode(tree, node);
  menu.replaceChildren(
    ...[
      main ? item('Focus on this subtree', () => zoomTo(node)) : undefined,
      // The sandwich view is computed by the server, which does not have an opened file's data.
      isRoot || adhoc !== undefined
        ? undefined
        : item('Sandwich view: callers and callees', () =>
            update({ sandwich: name, page: 'single', focus: [] }, true),
          ),
      isRoot
        ? undefined
        : item('Highlight every call site', () => {
            const s = exactSearch(name);
            const idx = loaded?.tree.names.indexOf(name) ?? -1;
            selectedName = idx;
            flame.setSelectedName(idx);
            update({ search: s.text, regex: true }, true);
          }),
      item('Copy function name', () => void copyText(name)),
      main ? item('Reset view', () => focusPath([])) : undefined,
      kind === 'compare' ? item('Reset zoom', () => compare.resetZoom()) : undefined,
      kind === 'sandwich' ? item('Close sandwich view', () => update({ sandwich: '' }, true)) : undefined,
    ].filter((x) => x !== undefined),
  );
  menu.hidden = false;
  menu.style.transform = `translate(${Math.min(x, window.innerWidth - 240)}px, ${Math.min(y, window.innerHeight - 160)}px)`;
}

function closeMenu(): void {
  menu.hidden = true;
}

serviceSelect.addEventListener('change', () => {
  const service = serviceSelect.value;
  const types = services.get(service) ?? [];
  const current = profileTypeOf();
  const type = types.includes(current)
    ? current
    : (types.find((t) => t.includes(':cpu:')) ?? types[0] ?? current);
  // In the comparison views both sides move to the service (the baseline's own selector is dropped).
  update(
    { query: `${type}${printSelector(withService([], service || undefined))}`, leftQuery: '', focus: [] },
    true,
  );
});
typeSelect.addEventListener('change', () => {
  const type = typeSelect.value;
  // Both sides of a comparison always have the same profile type.
  const leftQuery = state.leftQuery ? `${type}${splitQuery(state.leftQuery).selector}` : '';
  update({ query: `${type}${splitQuery(state.query).selector}`, leftQuery, focus: [] }, true);
});
rangeSelect.addEventListener('change', () => {
  if (rangeSelect.value === 'custom') {
    const { fromMs, untilMs } = range();
    update({ from: String(fromMs), until: String(untilMs) }, true);
  } else update({ from: rangeSelect.value, until: 'now', focus: [] }, true);
});
for (const input of [fromInput, untilInput])
  input.addEventListener('change', () => {
    const f = new Date(fromInput.value).getTime();
    const u = new Date(untilInput.value).getTime();
    if (Number.isFinite(f) && Number.isFinite(u) && u > f)
      update({ from: String(f), until: String(u) }, true);
  });
refreshButton.addEventListener('click', () => {
  services = new Map();
  void load();
});
themeButton.addEventListener('click', () => {
  theme = theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem(THEME_KEY, theme);
  applyTheme();
});
selectorInput.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter') return;
  try {
    const matchers = parseSelector(selectorInput.value);
    selectorError.textContent = '';
    setMatchers(matchers);
  } catch (err) {
    selectorError.textContent = err instanceof SelectorError ? err.message : String(err);
  }
});
labelSelect.addEventListener('focus', async () => {
  const { fromMs, untilMs } = range();
  const service = serviceOf(matchersOf());
  const names = await api
    .labelNames(printSelector(withService([], service)), fromMs, untilMs)
    .catch(() => []);
  const current = labelSelect.value;
  labelSelect.replaceChildren(
    option('', 'label…'),
    ...names.filter((n) => n !== 'service_name').map((n) => option(n, n, n === current)),
  );
});
labelSelect.addEventListener('change', async () => {
  const { fromMs, untilMs } = range();
  const values = labelSelect.value
    ? await api
        .labelValues(
          labelSelect.value,
          printSelector(withService([], serviceOf(matchersOf()))),
          fromMs,
          untilMs,
        )
        .catch(() => [])
    : [];
  valueList.replaceChildren(...values.map((v) => option(v, v)));
  valueInput.value = values[0] ?? '';
  valueInput.focus();
});
const addFilter = () => {
  if (!labelSelect.value) return;
  setMatchers([
    ...matchersOf(),
    { name: labelSelect.value, op: opSelect.value as MatchOp, value: valueInput.value },
  ]);
  valueInput.value = '';
};
addFilterButton.addEventListener('click', addFilter);
valueInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') addFilter();
});
let searchTimer = 0;
searchInput.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => {
    selectedName = -1;
    flame.setSelectedName(-1);
    update({ search: searchInput.value }, false);
  }, 150);
});
regexToggle.addEventListener('change', () => update({ regex: regexToggle.checked }, false));
utcToggle.addEventListener('change', () => {
  update({ utc: utcToggle.checked }, false);
  timeline.utc = state.utc;
  explorer.utc = state.utc;
  timeline.paint();
  explorer.paint();
});
bottomUpToggle.addEventListener('change', () => update({ bottomUp: bottomUpToggle.checked }, true));
resetButton.addEventListener('click', () => resetZoom());
backButton.addEventListener('click', () => {
  if (state.page === 'single') zoomBack();
  else compare.zoomBack();
});
document.addEventListener('click', (e) => {
  if (!menu.hidden && !menu.contains(e.target as Node)) closeMenu();
  if (exportDetails.open && !exportDetails.contains(e.target as Node)) exportDetails.open = false;
});
document.addEventListener('keydown', (e) => {
  // The sign-in dialog (and any other modal) keeps its keys; the shortcuts list closes on Esc by itself.
  if (document.querySelector('dialog[open]')) return;
  const target = e.target as HTMLElement | null;
  const typing = isTyping(target as HTMLInputElement | null);
  const action = shortcutOf(e, typing);
  if (!action) return;
  if (action !== 'escape' && adhoc !== undefined && action === 'toggleBottomUp') return;
  e.preventDefault();
  switch (action) {
    case 'escape':
      return onEscape(target, typing);
    case 'search':
      searchInput.focus();
      searchInput.select();
      return;
    case 'resetZoom':
      return resetZoom();
    case 'toggleTable':
      if (state.page !== 'comparison') update({ view: toggledTableView(state.view) }, true);
      return;
    case 'toggleBottomUp':
      if (state.page !== 'diff') update({ bottomUp: !state.bottomUp }, true);
      return;
    case 'help':
      return toggleShortcuts();
  }
});

/** Esc: close what is open, else go back one zoom step, else clear the search, else close the sandwich view. */
function onEscape(target: HTMLElement | null, typing: boolean): void {
  if (!menu.hidden) {
    closeMenu();
    return;
  }
  if (exportDetails.open) {
    exportDetails.open = false;
    return;
  }
  if (typing) {
    if (target === searchInput && searchInput.value !== '') clearSearch();
    else target?.blur();
    return;
  }
  if (state.page !== 'single') {
    if (!compare.zoomBack() && state.search) clearSearch();
    return;
  }
  if (state.focus.length > 0 || zoomStack.length > 0) zoomBack();
  else if (state.search) clearSearch();
  else if (state.sandwich) update({ sandwich: '' }, true);
}

function clearSearch(): void {
  clearTimeout(searchTimer);
  searchInput.value = '';
  selectedName = -1;
  flame.setSelectedName(-1);
  update({ search: '', regex: false }, true);
}

function resetZoom(): void {
  if (state.page !== 'single') {
    compare.resetZoom();
    return;
  }
  zoomStack.length = 0;
  if (state.focus.length > 0) update({ focus: [] }, true);
  else applyTreeState();
}

window.addEventListener('popstate', () => {
  urlDue = undefined;
  state = fromSearchParams(new URLSearchParams(location.search), location.pathname);
  void load();
});

applyTheme();
applyPage();
renderControls();
void initAuth().then(() => load());
// For the browser tests and the benchmark: the painter's last frame cost.
(window as unknown as { emberscope: unknown }).emberscope = {
  flame,
  zoomTo,
  zoomBack,
  state: () => state,
  tree: () => loaded?.tree,
  compare: () => compare.debug(),
  timings,
  defaults: DEFAULT_STATE,
};

exploreButton.addEventListener('click', async () => {
  if (state.explore) return update({ explore: '' }, true);
  const { fromMs, untilMs } = range();
  const labels = await api.labelNames(splitQuery(state.query).selector, fromMs, untilMs).catch(() => []);
  const label = labels.find((l) => l !== 'service_name');
  if (label) update({ explore: label }, true);
  else statusLine.textContent = 'No labels to explore besides service_name.';
});
