/**
 * The comparison (`/comparison`) and diff (`/diff`) views. Two sides, each its own label selector and time range:
 * the baseline (left; `leftQuery`, `leftFrom`, `leftUntil`) and the comparison (right; the page's `query`,
 * `from`, `until`). One shared timeline draws both series and both selections (drag inside one to move it, its
 * edges to resize it, elsewhere to brush a new range for the active side); the "compare with … prior" presets
 * place the baseline before the comparison. The comparison view shows both flame graphs side by side with a
 * linked search and zoom; the diff view one diff flame graph (red grew, green shrank) and the diff table.
 * All of it is in the URL state (src/url-state.ts); main.ts owns the state and calls in here.
 */
import { colorsOfNames } from '../src/colors.js';
import {
  BASELINE_PRESETS,
  type BaselinePreset,
  baselineFor,
  type MsRange,
  nodeOfLongestPrefix,
  presetOf,
  resolveRange,
  timelineWindow,
} from '../src/compare.js';
import { type DiffTree, decodeDiffFlamebearer, diffPalette, nodeDiffColors } from '../src/diff.js';
import { type DiffTableData, filterDiffRows, parseDiffTable, sortDiffRows } from '../src/diff-table.js';
import { exportFileBase, toDiffCsv } from '../src/exports.js';
import {
  decodeFlamebearer,
  type Flamebearer,
  type FlameTree,
  isOtherNode,
  OTHER_NAME,
  pathOf,
} from '../src/flamebearer.js';
import { formatValue, parseProfileTypeId, timelineTitle } from '../src/format.js';
import { invertFlamebearer } from '../src/invert.js';
import { compileSearch, exactSearch, matchedTicks, matchNames } from '../src/search.js';
import { parseSelector, printSelector, SelectorError, splitQuery } from '../src/selector.js';
import { formatTimestamp, presetLabel, RANGE_PRESETS, stepSeconds } from '../src/time.js';
import { leftQueryOf, type ViewState } from '../src/url-state.js';
import * as api from './api.js';
import { DiffTableView } from './diff-table.js';
import { canvasPng, type ExportItem, h, option } from './dom.js';
import { FlameGraphView, type FlameStyle } from './flamegraph.js';
import { Timeline } from './timeline.js';
import type { Tooltip } from './tooltip.js';

export const BASELINE_COLOR = '#8b5cf6';
export const COMPARISON_COLOR = '#2f81f7';

/** Rows asked of the diff table; the table is virtualised, so this only bounds the JSON. */
const DIFF_TABLE_LIMIT = 50_000;

export interface CompareHost {
  state(): ViewState;
  update(patch: Partial<ViewState>, push: boolean): void;
  tooltip: Tooltip;
  openMenu(tree: FlameTree, node: number, x: number, y: number): void;
  style(): FlameStyle;
  searchInfo(text: string): void;
  status(text: string): void;
  /** A 403: the key can't read one of the sides. */
  forbidden(message: string): void;
  /** The panes' zoom changed (the Back and Reset buttons follow it). */
  zoomChanged(): void;
}

type SideId = 'left' | 'right';

/** A side's label selector and time range. */
class SideHeader {
  readonly element: HTMLElement;
  readonly total = h('span', { class: 'side-total' });
  private readonly selector: HTMLInputElement;
  private readonly error = h('span', { class: 'error-text side-error' });
  private readonly from = h('input', { type: 'datetime-local', step: '1' });
  private readonly until = h('input', { type: 'datetime-local', step: '1' });
  private readonly preset: HTMLSelectElement | undefined;

  constructor(
    readonly side: SideId,
    label: string,
    color: string,
    events: {
      onSelector(selector: string): void;
      onRange(from: string, until: string): void;
      onPreset?(from: string): void;
    },
  ) {
    const id = side === 'left' ? 'baseline' : 'comparison';
    this.selector = h('input', {
      id: `${id}-selector`,
      class: 'selector-input',
      spellcheck: 'false',
      'aria-label': `${label} label selector`,
      title: 'Label selector: press Enter to apply',
    });
    this.from.id = `${id}-from`;
    this.until.id = `${id}-until`;
    this.from.setAttribute('aria-label', `${label} from`);
    this.until.setAttribute('aria-label', `${label} until`);
    this.selector.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      try {
        const matchers = parseSelector(this.selector.value);
        this.error.textContent = '';
        events.onSelector(printSelector(matchers));
      } catch (err) {
        this.error.textContent = err instanceof SelectorError ? err.message : String(err);
      }
    });
    for (const input of [this.from, this.until])
      input.addEventListener('change', () => {
        const f = new Date(this.from.value).getTime();
        const u = new Date(this.until.value).getTime();
        if (Number.isFinite(f) && Number.isFinite(u) && u > f) events.onRange(String(f), String(u));
      });
    if (events.onPreset) {
      const onPreset = events.onPreset;
      const select = h('select', { id: `${id}-range`, 'aria-label': `${label} range` });
      for (const p of RANGE_PRESETS) select.append(option(p.from, p.label));
      select.append(option('custom', 'Custom range'));
      select.addEventListener('change', () => {
        if (select.value !== 'custom') onPreset(select.value);
      });
      this.preset = select;
    }
    this.element = h(
      'div',
      { class: `side-head side-${side}`, id: `${id}-side` },
      h(
        'div',
        { class: 'side-title' },
        h('span', { class: 'side-swatch', style: `background:${color}` }),
        h('b', {}, label),
        this.total,
      ),
      h('div', { class: 'side-row' }, this.selector),
      h(
        'div',
        { class: 'side-row side-range' },
        this.preset,
        this.from,
        h('span', { class: 'muted' }, '→'),
        this.until,
      ),
      this.error,
    );
  }

  render(query: string, range: { from: string; until: string }, resolved: MsRange): void {
    if (document.activeElement !== this.selector) this.selector.value = splitQuery(query).selector;
    if (document.activeElement !== this.from) this.from.value = toLocalInput(resolved.fromMs);
    if (document.activeElement !== this.until) this.until.value = toLocalInput(resolved.untilMs);
    if (this.preset) this.preset.value = presetLabel(range.from, range.until) ? range.from : 'custom';
  }
}

function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60e3);
  return d.toISOString().slice(0, 19);
}

/** A flame graph pane of the comparison view, its raw answer kept to redo bottom-up without fetching. */
interface Pane {
  side: SideId;
  view: FlameGraphView;
  raw: Flamebearer | undefined;
  tree: FlameTree | undefined;
  empty: HTMLElement;
}

export class ComparisonView {
  /** The shared timeline, with the presets; goes where the single view's timeline is. */
  readonly timelineCard: HTMLElement;
  /** The two sides' selectors and ranges; goes under the timeline. */
  readonly sides: HTMLElement;
  /** The flame graphs (comparison) or the diff graph and table (diff); goes under the toolbar. */
  readonly element: HTMLElement;
  private readonly timeline: Timeline;
  private readonly headers: Record<SideId, SideHeader>;
  private readonly panes: Record<SideId, Pane>;
  private readonly presetButtons = new Map<BaselinePreset, HTMLButtonElement>();
  private readonly brushButtons = new Map<SideId, HTMLButtonElement>();
  private readonly message = h('div', {
    class: 'message compare-message',
    id: 'compare-message',
    hidden: true,
  });
  private readonly diffView: FlameGraphView;
  private readonly diffTable: DiffTableView;
  private readonly diffLegend = h('div', { class: 'diff-legend' });
  private readonly absoluteToggle = h('input', { type: 'checkbox', id: 'absolute' });
  private readonly colorBlindToggle = h('input', { type: 'checkbox', id: 'color-blind' });
  private readonly diffContent: HTMLElement;
  private readonly splitContent: HTMLElement;
  private diff: DiffTree | undefined;
  private diffNames = new Map<string, number>();
  private table: DiffTableData | undefined;
  private tableError = '';
  private selectedRow = '';
  private zoomStack: Array<Array<[FlameGraphView, number]>> = [];
  private active: SideId = 'left';
  private sampleUnit = '';
  private profileType = '';
  private resolved: Record<SideId, MsRange> = {
    left: { fromMs: 0, untilMs: 1 },
    right: { fromMs: 0, untilMs: 1 },
  };
  private window: MsRange = { fromMs: 0, untilMs: 1 };
  private tableCtl: AbortController | undefined;

  constructor(private readonly host: CompareHost) {
    this.timeline = new Timeline({
      onSelect: (fromMs, untilMs) => this.setSideRange(this.active, fromMs, untilMs),
      onSelectionChange: (id, fromMs, untilMs) => {
        this.setActive(id as SideId);
        this.setSideRange(id as SideId, fromMs, untilMs);
      },
    });
    this.timeline.activeSelection = this.active;
    const brush = h('div', { class: 'segmented brush-target', role: 'group', 'aria-label': 'Dragging sets' });
    for (const [side, label, color] of [
      ['left', 'Baseline', BASELINE_COLOR],
      ['right', 'Comparison', COMPARISON_COLOR],
    ] as const) {
      const b = h(
        'button',
        { id: `brush-${side}`, title: `Dragging on the timeline sets the ${label.toLowerCase()} range` },
        h('span', { class: 'side-swatch', style: `background:${color}` }),
        label,
      );
      b.addEventListener('click', () => this.setActive(side));
      this.brushButtons.set(side, b);
      brush.append(b);
    }
    const presets = h('div', {
      class: 'segmented compare-presets',
      role: 'group',
      'aria-label': 'Baseline preset',
    });
    for (const p of BASELINE_PRESETS) {
      const b = h('button', { id: `preset-${p.id}`, title: p.title, 'aria-pressed': 'false' }, p.label);
      b.addEventListener('click', () => this.applyPreset(p.id));
      this.presetButtons.set(p.id, b);
      presets.append(b);
    }
    this.timelineCard = h(
      'section',
      { class: 'card timeline-card compare-timeline', id: 'compare-timeline' },
      h(
        'div',
        { class: 'compare-timeline-head' },
        h('span', { class: 'muted' }, 'Drag sets'),
        brush,
        h(
          'span',
          { class: 'muted compare-hint' },
          'drag a band’s top bar to move it, its edges to resize it',
        ),
        h('span', { class: 'spacer' }),
        h('span', { class: 'muted' }, 'Compare with'),
        presets,
      ),
      this.timeline.element,
    );

    const header = (side: SideId, label: string, color: string) =>
      new SideHeader(side, label, color, {
        onSelector: (selector) => this.setSelector(side, selector),
        onRange: (from, until) => this.setSideRange(side, Number(from), Number(until)),
        onPreset: side === 'right' ? (from) => this.setComparisonRange(from, 'now') : undefined,
      });
    this.headers = {
      left: header('left', 'Baseline', BASELINE_COLOR),
      right: header('right', 'Comparison', COMPARISON_COLOR),
    };
    this.panes = { left: this.pane('left'), right: this.pane('right') };

    this.diffView = new FlameGraphView(
      {
        onHover: (node, x, y) =>
          this.host.tooltip.diff(this.diff, node, x, y, this.sampleUnit, this.host.state().absolute),
        onClick: (node) => this.zoom([[this.diffView, node === this.diffView.zoomed ? 0 : node]]),
        onContextMenu: (node, x, y) => {
          if (this.diffView.data) this.host.openMenu(this.diffView.data, node, x, y);
        },
      },
      host.style(),
    );
    this.diffTable = new DiffTableView({
      onHover: (name) =>
        this.diffView.setHighlightName(name === undefined ? -1 : (this.diffNames.get(name) ?? -1)),
      onSelect: (name) => this.selectFunction(name),
      onSort: (key) => {
        const s = this.host.state();
        this.host.update(
          s.diffSort === key
            ? { diffSortDesc: !s.diffSortDesc }
            : { diffSort: key, diffSortDesc: key !== 'name' },
          false,
        );
      },
    });
    this.absoluteToggle.addEventListener('change', () =>
      this.host.update({ absolute: this.absoluteToggle.checked }, true),
    );
    this.colorBlindToggle.checked = localStorage.getItem('emberscope.colorBlind') === '1';
    this.colorBlindToggle.addEventListener('change', () => {
      localStorage.setItem('emberscope.colorBlind', this.colorBlindToggle.checked ? '1' : '');
      this.paintDiff();
    });

    const column = (side: SideId) =>
      h(
        'div',
        { class: `flame-wrap split-${side === 'left' ? 'baseline' : 'comparison'}` },
        this.panes[side].empty,
        this.panes[side].view.element,
      );
    this.sides = h(
      'div',
      { class: 'compare-sides', id: 'compare-sides' },
      this.headers.left.element,
      this.headers.right.element,
    );
    this.splitContent = h(
      'div',
      { class: 'split-panes', id: 'split-panes' },
      column('left'),
      column('right'),
    );
    this.diffContent = h(
      'div',
      { class: 'diff', id: 'diff' },
      h(
        'div',
        { class: 'diff-head' },
        this.diffLegend,
        h('span', { class: 'spacer' }),
        h(
          'label',
          { class: 'toggle', title: "Compare raw values instead of each side's share" },
          this.absoluteToggle,
          'Absolute',
        ),
        h('label', { class: 'toggle' }, this.colorBlindToggle, 'Colour-blind palette'),
      ),
      h('div', { class: 'flame-wrap diff-flame' }, this.diffView.element),
      this.diffTable.element,
    );
    this.element = h(
      'div',
      { class: 'compare', id: 'compare' },
      this.message,
      this.splitContent,
      this.diffContent,
    );
  }

  private pane(side: SideId): Pane {
    const label = side === 'left' ? 'Baseline' : 'Comparison';
    const pane: Pane = {
      side,
      raw: undefined,
      tree: undefined,
      empty: h(
        'div',
        { class: 'pane-empty', hidden: true },
        `No profiles match the ${label.toLowerCase()} query in its range.`,
      ),
      view: new FlameGraphView(
        {
          onHover: (node, x, y) =>
            this.host.tooltip.frame(pane.tree, node, x, y, {
              zoom: pane.view.zoomed,
              sampleUnit: this.sampleUnit,
              profileType: this.profileType,
              maxNodes: this.host.state().maxNodes,
              side: `${label} · ${this.rangeText(side)}`,
            }),
          onClick: (node) => this.linkedZoom(pane, node),
          onContextMenu: (node, x, y) => {
            if (pane.tree) this.host.openMenu(pane.tree, node, x, y);
          },
        },
        this.host.style(),
      ),
    };
    return pane;
  }

  private rangeText(side: SideId): string {
    const r = this.resolved[side];
    const utc = this.host.state().utc;
    const a = formatTimestamp(r.fromMs, utc);
    const b = formatTimestamp(r.untilMs, utc);
    return `${a} → ${a.slice(0, 10) === b.slice(0, 10) ? b.slice(11) : b}`;
  }

  // -------------------------------------------------------------------------------------------------------------
  // State changes

  private setActive(side: SideId): void {
    this.active = side;
    this.timeline.activeSelection = side;
    this.renderBrushButtons();
    this.timeline.paint();
  }

  private renderBrushButtons(): void {
    for (const [side, b] of this.brushButtons) {
      b.classList.toggle('active', side === this.active);
      b.setAttribute('aria-pressed', String(side === this.active));
    }
  }

  /** A side's range from the timeline or its inputs; the timeline keeps its window so nothing jumps. */
  private setSideRange(side: SideId, fromMs: number, untilMs: number): void {
    const keep = {
      windowFrom: String(Math.round(this.window.fromMs)),
      windowUntil: String(Math.round(this.window.untilMs)),
    };
    const range = { from: String(Math.round(fromMs)), until: String(Math.round(untilMs)) };
    if (side === 'left') this.host.update({ leftFrom: range.from, leftUntil: range.until, ...keep }, true);
    else this.setComparisonRange(range.from, range.until, keep);
  }

  /** The comparison's range; a baseline that was a preset of the old range follows it. */
  private setComparisonRange(from: string, until: string, extra: Partial<ViewState> = {}): void {
    const s = this.host.state();
    const now = Date.now();
    const preset = presetOf({ from: s.leftFrom, until: s.leftUntil }, { from: s.from, until: s.until }, now);
    const patch: Partial<ViewState> = { from, until, windowFrom: '', windowUntil: '', ...extra };
    if (preset) {
      const b = baselineFor({ from, until }, preset, now);
      patch.leftFrom = b.from;
      patch.leftUntil = b.until;
    }
    this.host.update(patch, true);
  }

  private applyPreset(preset: BaselinePreset): void {
    const s = this.host.state();
    const b = baselineFor({ from: s.from, until: s.until }, preset, Date.now());
    this.host.update({ leftFrom: b.from, leftUntil: b.until, windowFrom: '', windowUntil: '' }, true);
  }

  private setSelector(side: SideId, selector: string): void {
    const s = this.host.state();
    const type = splitQuery(s.query).profileType;
    if (side === 'right') {
      // The baseline keeps its own selector: pin it before the comparison's changes.
      this.host.update({ query: `${type}${selector}`, leftQuery: leftQueryOf(s) }, true);
    } else this.host.update({ leftQuery: `${type}${selector}` }, true);
  }

  private selectFunction(name: string): void {
    const s = this.host.state();
    const exact = exactSearch(name);
    if (this.selectedRow === name && s.search === exact.text) {
      this.selectedRow = '';
      this.host.update({ search: '', regex: false }, true);
    } else {
      this.selectedRow = name;
      this.host.update({ search: exact.text, regex: true }, true);
    }
  }

  /** What a state change needs here: a reload (returns true) or only a repaint. */
  stateChanged(prev: ViewState, next: ViewState): boolean {
    const refetch =
      prev.query !== next.query ||
      prev.from !== next.from ||
      prev.until !== next.until ||
      leftQueryOf(prev) !== leftQueryOf(next) ||
      prev.leftFrom !== next.leftFrom ||
      prev.leftUntil !== next.leftUntil ||
      prev.windowFrom !== next.windowFrom ||
      prev.windowUntil !== next.windowUntil ||
      prev.maxNodes !== next.maxNodes;
    if (refetch) return true;
    if (prev.bottomUp !== next.bottomUp) this.decodePanes();
    if (prev.absolute !== next.absolute) {
      this.paintDiff();
      void this.loadTable();
    }
    if (prev.search !== next.search || prev.regex !== next.regex) this.applySearch();
    else if (prev.diffSort !== next.diffSort || prev.diffSortDesc !== next.diffSortDesc) this.renderTable();
    if (prev.utc !== next.utc) {
      this.timeline.utc = next.utc;
      this.timeline.paint();
    }
    this.renderControls();
    return false;
  }

  renderControls(): void {
    const s = this.host.state();
    const now = Date.now();
    const leftRange = { from: s.leftFrom, until: s.leftUntil };
    const rightRange = { from: s.from, until: s.until };
    this.headers.left.render(leftQueryOf(s), leftRange, resolveRange(leftRange, now));
    this.headers.right.render(s.query, rightRange, resolveRange(rightRange, now));
    const preset = presetOf(leftRange, rightRange, now);
    for (const [id, b] of this.presetButtons) {
      b.classList.toggle('active', id === preset);
      b.setAttribute('aria-pressed', String(id === preset));
    }
    this.renderBrushButtons();
    this.absoluteToggle.checked = s.absolute;
    this.splitContent.hidden = s.page !== 'comparison';
    this.diffContent.hidden = s.page !== 'diff';
    this.diffContent.dataset.view = s.view;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Loading

  /** Fetches both sides' series and flame graphs (comparison) or the diff graph and table (diff). */
  async load(signal: AbortSignal): Promise<void> {
    const s = this.host.state();
    const now = Date.now();
    const left = resolveRange({ from: s.leftFrom, until: s.leftUntil }, now);
    const right = resolveRange({ from: s.from, until: s.until }, now);
    this.resolved = { left, right };
    const kept =
      s.windowFrom && s.windowUntil
        ? { fromMs: Number(s.windowFrom), untilMs: Number(s.windowUntil) }
        : undefined;
    this.window = timelineWindow(left, right, kept && Number.isFinite(kept.fromMs) ? kept : undefined, now);
    const { profileType, selector: rightSelector } = splitQuery(s.query);
    const leftQuery = leftQueryOf(s);
    const leftSelector = splitQuery(leftQuery).selector;
    this.profileType = profileType;
    this.sampleUnit = parseProfileTypeId(profileType).sampleUnit;
    const fmt = (v: number) => formatValue(v, this.sampleUnit);
    const step = stepSeconds(this.window.fromMs, this.window.untilMs);
    this.renderControls();
    this.message.hidden = true;
    this.zoomStack = [];
    this.host.status('Loading both sides…');
    const sides = {
      left: { query: leftQuery, ...left },
      right: { query: s.query, ...right },
    };
    const series = Promise.all([
      api.selectSeries(profileType, leftSelector, this.window.fromMs, this.window.untilMs, step, signal),
      api.selectSeries(profileType, rightSelector, this.window.fromMs, this.window.untilMs, step, signal),
    ]);
    try {
      if (s.page === 'comparison') {
        const [[ls, rs], lr, rr] = await Promise.all([
          series,
          api.render({ ...sides.left, maxNodes: s.maxNodes }, signal),
          api.render({ ...sides.right, maxNodes: s.maxNodes }, signal),
        ]);
        if (signal.aborted) return;
        this.setTimeline(ls, rs, step, fmt);
        this.panes.left.raw = lr.flamebearer;
        this.panes.right.raw = rr.flamebearer;
        this.decodePanes();
        this.headers.left.total.textContent = `total ${fmt(lr.flamebearer.numTicks)}`;
        this.headers.right.total.textContent = `total ${fmt(rr.flamebearer.numTicks)}`;
        this.host.status(
          `Baseline ${nodes(this.panes.left.tree?.count ?? 0)} · comparison ${nodes(this.panes.right.tree?.count ?? 0)}`,
        );
      } else {
        this.tableCtl?.abort();
        const [[ls, rs], d, t] = await Promise.all([
          series,
          api.renderDiff(sides.left, sides.right, s.maxNodes, signal),
          this.fetchTable(signal),
        ]);
        if (signal.aborted) return;
        this.setTimeline(ls, rs, step, fmt);
        this.diff = decodeDiffFlamebearer(d.flamebearer, d.leftTicks, d.rightTicks);
        this.diffNames = new Map(this.diff.tree.names.map((n, i) => [n, i]));
        this.headers.left.total.textContent = `total ${fmt(d.leftTicks)}`;
        this.headers.right.total.textContent = `total ${fmt(d.rightTicks)}`;
        this.table = t;
        this.diffView.setData(this.diff.tree, []);
        this.paintDiff();
        this.host.status(
          `${this.diff.tree.count.toLocaleString()} nodes in the diff flame graph${t ? ` · ${t.count.toLocaleString()} functions in the diff table` : ''}`,
        );
      }
      this.applySearch();
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      this.showError(err as Error);
    }
  }

  private showError(err: Error): void {
    if (err instanceof api.ApiError && err.status === 403) {
      this.host.forbidden(err.message);
      return;
    }
    this.message.hidden = false;
    this.message.className = 'message error compare-message';
    this.message.replaceChildren(
      h(
        'div',
        {},
        h('h2', {}, 'Could not load the comparison'),
        h('p', { class: 'error-text' }, err.message),
        h('p', {}, 'Check both sides’ selectors and ranges, then refresh.'),
      ),
    );
  }

  private async fetchTable(signal: AbortSignal): Promise<DiffTableData | undefined> {
    const s = this.host.state();
    try {
      const json = await api.diffTable(
        { query: leftQueryOf(s), ...this.resolved.left },
        { query: s.query, ...this.resolved.right },
        s.absolute,
        DIFF_TABLE_LIMIT,
        signal,
      );
      this.tableError = '';
      return parseDiffTable(json);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      // The graph can still show: the table says what went wrong.
      this.tableError = `Diff table failed: ${(err as Error).message}`;
      return undefined;
    }
  }

  /** The table alone again (absolute ↔ share), without refetching the graph. */
  private async loadTable(): Promise<void> {
    if (this.host.state().page !== 'diff') return;
    this.tableCtl?.abort();
    const ctl = new AbortController();
    this.tableCtl = ctl;
    try {
      const t = await this.fetchTable(ctl.signal);
      if (ctl.signal.aborted) return;
      this.table = t;
      this.renderTable();
    } catch {
      // aborted by a newer request
    }
  }

  private setTimeline(
    ls: api.SeriesPoints,
    rs: api.SeriesPoints,
    step: number,
    format: (v: number) => string,
  ): void {
    const s = this.host.state();
    this.timeline.utc = s.utc;
    this.timeline.setData({
      series: [
        { ...ls, color: BASELINE_COLOR, label: 'Baseline', selection: 'left' },
        { ...rs, color: COMPARISON_COLOR, label: 'Comparison', selection: 'right' },
      ],
      style: 'lines',
      stepMs: step * 1000,
      fromMs: this.window.fromMs,
      untilMs: this.window.untilMs,
      format,
      title: `${timelineTitle(this.profileType)} · baseline and comparison`,
      selections: [
        { id: 'left', ...this.resolved.left, color: BASELINE_COLOR, label: 'Baseline' },
        { id: 'right', ...this.resolved.right, color: COMPARISON_COLOR, label: 'Comparison' },
      ],
    });
  }

  /** The panes' trees from their raw answers (inverted for bottom-up). */
  private decodePanes(): void {
    const bottomUp = this.host.state().bottomUp;
    for (const pane of Object.values(this.panes)) {
      if (!pane.raw) continue;
      const tree = decodeFlamebearer(bottomUp ? invertFlamebearer(pane.raw) : pane.raw);
      const colors = colorsOfNames(tree.names);
      const otherIdx = tree.names.indexOf(OTHER_NAME);
      if (otherIdx >= 0) colors[otherIdx] = this.host.style().otherFill;
      pane.tree = tree;
      pane.view.setData(tree, colors);
      pane.view.setZoom(0);
      pane.empty.hidden = tree.numTicks > 0;
    }
    this.zoomStack = [];
    this.host.zoomChanged();
    this.applySearch();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Painting

  private paintDiff(): void {
    const d = this.diff;
    if (!d) return;
    const palette = diffPalette(this.colorBlindToggle.checked);
    const zoom = this.diffView.zoomed;
    this.diffView.setData(d.tree, [], { index: nodeDiffColors(d, this.host.state().absolute), palette });
    this.diffView.setZoom(zoom);
    const stops = [0, 3, 6, 10, 14, 17, 20].map((k) =>
      h('span', { class: 'legend-swatch', style: `background:${palette[k]}` }),
    );
    this.diffLegend.replaceChildren(
      h('span', {}, 'shrank'),
      ...stops,
      h(
        'span',
        {},
        `grew (${this.host.state().absolute ? 'absolute values' : "share of each side's total"}, saturated at ±100%)`,
      ),
    );
    if (d.leftTicks === 0)
      this.diffLegend.append(
        h('span', { class: 'error-text' }, ' · the baseline has no data: everything shows as new.'),
      );
  }

  /** The linked search: the same matches in both panes, or in the diff graph and table. */
  applySearch(): void {
    const s = this.host.state();
    const m = compileSearch({ text: s.search, regex: s.regex });
    const ok = m !== undefined && !('error' in m);
    if (m && 'error' in m) this.host.searchInfo(`Invalid regex: ${m.error}`);
    else if (!ok) this.host.searchInfo('');
    if (s.page === 'comparison') {
      const parts: string[] = [];
      for (const pane of Object.values(this.panes)) {
        const t = pane.tree;
        if (!t) continue;
        const matches = ok ? matchNames(t.names, m) : undefined;
        pane.view.setSearch(matches);
        if (matches) {
          const share = t.numTicks > 0 ? matchedTicks(t, matches, 0) / t.numTicks : 0;
          parts.push(`${(share * 100).toFixed(1)}% of ${pane.side === 'left' ? 'baseline' : 'comparison'}`);
        }
      }
      if (ok) this.host.searchInfo(`${parts.join(' · ')} matched`);
    } else if (this.diff) {
      const matches = ok ? matchNames(this.diff.tree.names, m) : undefined;
      this.diffView.setSearch(matches);
      if (ok) {
        const leftM = matches ? sumMatched(this.diff, matches, 'left') : 0;
        const rightM = matches ? sumMatched(this.diff, matches, 'right') : 0;
        const pct = (v: number, t: number) => `${t > 0 ? ((v / t) * 100).toFixed(1) : '0.0'}%`;
        this.host.searchInfo(
          `${pct(leftM, this.diff.leftTicks)} of baseline · ${pct(rightM, this.diff.rightTicks)} of comparison matched`,
        );
      }
    }
    this.renderTable();
  }

  private renderTable(): void {
    const s = this.host.state();
    if (s.page !== 'diff') return;
    const t = this.table;
    if (!t) {
      this.diffTable.setModel({
        rows: [],
        normalized: !s.absolute,
        leftTicks: 0,
        rightTicks: 0,
        format: (v) => formatValue(v, this.sampleUnit),
        sort: s.diffSort,
        desc: s.diffSortDesc,
        caption: this.tableError || 'Loading the diff table…',
        selected: '',
      });
      return;
    }
    const m = compileSearch({ text: s.search, regex: s.regex });
    const rows = m && !('error' in m) ? filterDiffRows(t.rows, m) : t.rows;
    const limited =
      t.count > t.rows.length
        ? ` (the ${t.rows.length.toLocaleString()} biggest changes of ${t.count.toLocaleString()})`
        : '';
    this.diffTable.setModel({
      rows: sortDiffRows(rows, s.diffSort, s.diffSortDesc),
      normalized: t.normalized,
      leftTicks: t.leftTicks,
      rightTicks: t.rightTicks,
      format: (v) => formatValue(v, this.sampleUnit),
      sort: s.diffSort,
      desc: s.diffSortDesc,
      caption: `${rows.length.toLocaleString()} function${rows.length === 1 ? '' : 's'}${rows.length !== t.rows.length ? ' matching the search' : ''}${limited} · ${t.normalized ? "shares of each side's total" : 'absolute values'}`,
      selected: s.search === exactSearch(this.selectedRow).text ? this.selectedRow : '',
    });
  }

  setStyle(style: FlameStyle, timelineColors: { axis: string; grid: string }): void {
    for (const pane of Object.values(this.panes)) pane.view.setStyle(style);
    this.diffView.setStyle(style);
    this.timeline.setColors(timelineColors);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Zoom: linked between the panes, with a back stack for Esc

  private linkedZoom(pane: Pane, node: number): void {
    const tree = pane.tree;
    if (!tree || isOtherNode(tree, node)) return;
    if (node === pane.view.zoomed && node !== 0) {
      this.zoomBack();
      return;
    }
    const path = node === 0 ? [] : pathOf(tree, node);
    const targets: Array<[FlameGraphView, number]> = [];
    for (const p of Object.values(this.panes))
      if (p.tree) targets.push([p.view, p === pane ? node : nodeOfLongestPrefix(p.tree, path)]);
    this.zoom(targets);
  }

  private zoom(targets: Array<[FlameGraphView, number]>): void {
    this.zoomStack.push(targets.map(([view]) => [view, view.zoomed]));
    for (const [view, node] of targets) view.setZoom(node);
    this.host.zoomChanged();
  }

  /** Esc: the previous zoom; false when there was none. */
  zoomBack(): boolean {
    const prev = this.zoomStack.pop();
    if (!prev) return false;
    for (const [view, node] of prev) view.setZoom(node);
    this.host.zoomChanged();
    return true;
  }

  resetZoom(): void {
    this.zoomStack = [];
    for (const pane of Object.values(this.panes)) pane.view.setZoom(0);
    this.diffView.setZoom(0);
    this.host.zoomChanged();
  }

  get zoomed(): boolean {
    return this.zoomStack.length > 0;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Exports

  /**
   * The Export menu here: each side's merged pprof (untruncated), and the graphs as shown: both panes in the
   * comparison view, the diff graph and the whole diff table (CSV) in the diff view.
   */
  exports(): ExportItem[] {
    const s = this.host.state();
    const sides = { left: leftQueryOf(s), right: s.query };
    const items: ExportItem[] = [];
    const png = (id: string, label: string, view: FlameGraphView, base: string): ExportItem => ({
      id,
      label: `${label} PNG image`,
      title: `The ${label.toLowerCase()} flame graph as shown`,
      file: async () => ({ blob: await canvasPng(view.canvas), name: `${base}.png` }),
    });
    const { fromMs, untilMs } = this.resolved.right;
    const diffBase = exportFileBase(s.query, fromMs, untilMs, 'diff');
    if (s.page === 'diff') {
      const table = this.table;
      items.push(png('export-diff-png', 'Diff', this.diffView, diffBase));
      if (table)
        items.push({
          id: 'export-diff-csv',
          label: 'Diff table (CSV)',
          title: 'Every function of the diff table with both sides’ values',
          file: async () => ({
            blob: new Blob([toDiffCsv(table)], { type: 'text/csv' }),
            name: `${diffBase}.csv`,
          }),
        });
    }
    for (const side of ['left', 'right'] as const) {
      const label = side === 'left' ? 'Baseline' : 'Comparison';
      const id = label.toLowerCase();
      const query = sides[side];
      const range = this.resolved[side];
      const base = exportFileBase(query, range.fromMs, range.untilMs, id);
      if (s.page === 'comparison') items.push(png(`export-${id}-png`, label, this.panes[side].view, base));
      items.push({
        id: `export-${id}-pprof`,
        label: `${label} pprof (.pb.gz)`,
        title: `The ${id}’s merged profile over its range, untruncated (SelectMergeProfile)`,
        file: async () => {
          const blob = await api.mergedPprof(query, range.fromMs, range.untilMs);
          return { blob, name: `${base}.pb.gz` };
        },
      });
    }
    return items;
  }

  /** For the browser tests. */
  debug(): { window: MsRange; resolved: Record<SideId, MsRange>; rows: number } {
    return { window: this.window, resolved: this.resolved, rows: this.table?.rows.length ?? 0 };
  }
}

function nodes(n: number): string {
  return `${n.toLocaleString()} node${n === 1 ? '' : 's'}`;
}

/** Ticks of the diff graph's nodes whose function matches, counted once per stack (outermost match). */
function sumMatched(d: DiffTree, matches: Uint8Array, side: 'left' | 'right'): number {
  const values = side === 'left' ? d.left : d.right;
  const t = d.tree;
  let sum = 0;
  for (let i = 1; i < t.count; i++) {
    if (matches[t.name[i]] !== 1) continue;
    let inner = false;
    for (let p = t.parent[i]; p > 0; p = t.parent[p])
      if (matches[t.name[p]] === 1) {
        inner = true;
        break;
      }
    if (!inner) sum += values[i];
  }
  return sum;
}
