/**
 * The tag explorer panel: pick a label, see one line per value (top 10 and "other") and a table of each value's
 * total, average and deviation; a value opens its flame graph, or a comparison or diff of it against a prior
 * period or another value.
 */
import { BASELINE_PRESETS, type BaselinePreset } from '../src/compare.js';
import { type ExploreResult, OTHER_VALUE } from '../src/explore.js';
import { axisTimeLabel } from '../src/time.js';
import { h, option } from './dom.js';

export const SERIES_COLORS = [
  '#e8843c',
  '#4e79a7',
  '#59a14f',
  '#e15759',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#9c755f',
  '#ff9da7',
  '#5e6bd8',
  '#a0a0a8',
];

/** What a value is set against in a comparison or diff: the same range earlier, or another value of the label. */
export type ExploreBaseline = { preset: BaselinePreset } | { value: string };

export interface ExploreEvents {
  onLabel(label: string): void;
  onOpen(value: string): void;
  /** Opens the comparison or diff view with `value` as the comparison (right) and `baseline` on the left. */
  onCompare(value: string, baseline: ExploreBaseline, view: 'comparison' | 'diff'): void;
  onClose(): void;
}

/** The prior periods offered against a value (the previous period is the range's own length before it). */
const PRESETS = BASELINE_PRESETS.filter((p) => p.id !== 'previous');

export class TagExplorer {
  readonly element: HTMLDivElement;
  private readonly labelSelect = h('select', { id: 'explore-label', 'aria-label': 'Label to explore' });
  private readonly canvas = h('canvas', { class: 'explore-chart' });
  private readonly tableBody = h('tbody', {});
  private result: ExploreResult | undefined;
  private format: (v: number) => string = String;
  /** The baseline picked for each value of `label`, kept when the table is rebuilt (a reload, a new range). */
  private readonly baselines = new Map<string, string>();
  private label = '';
  /** Time labels in UTC rather than local time. */
  utc = false;

  constructor(private readonly events: ExploreEvents) {
    this.labelSelect.addEventListener('change', () => events.onLabel(this.labelSelect.value));
    this.element = h(
      'div',
      { class: 'explore card', id: 'explore', hidden: true },
      h(
        'div',
        { class: 'sandwich-head' },
        h(
          'div',
          { class: 'explore-title' },
          h('b', {}, 'Tag explorer'),
          ' · break the profile down by ',
          this.labelSelect,
        ),
        h('button', { id: 'explore-close', onclick: () => events.onClose() }, '× Close'),
      ),
      this.canvas,
      h(
        'table',
        { class: 'explore-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'Value'),
            h('th', {}, 'Total'),
            h('th', {}, 'Share'),
            h('th', {}, 'Average / step'),
            h('th', {}, 'Std. deviation'),
            h('th', {}, ''),
          ),
        ),
        this.tableBody,
      ),
    );
    new ResizeObserver(() => this.paint()).observe(this.element);
  }

  setLabels(labels: string[], current: string): void {
    if (current !== this.label) this.baselines.clear();
    this.label = current;
    this.labelSelect.replaceChildren(...labels.map((l) => option(l, l, l === current)));
  }

  setResult(result: ExploreResult | undefined, format: (v: number) => string): void {
    this.result = result;
    this.format = format;
    const whole = result ? result.rows.reduce((a, r) => a + r.total, 0) : 0;
    const rows = result?.rows ?? [];
    // The last row of more than ten is every other value summed: it has no query of its own.
    const isRest = (i: number) => rows[i].value === OTHER_VALUE && i === rows.length - 1 && rows.length > 10;
    const values = rows.filter((_, i) => !isRest(i)).map((r) => r.value);
    this.tableBody.replaceChildren(
      ...rows.map((r, i) => {
        const open = h('button', { class: 'link', title: `Flame graph of ${r.value}` }, r.value || '(none)');
        open.addEventListener('click', () => this.events.onOpen(r.value));
        const other = isRest(i);
        return h(
          'tr',
          { 'data-value': r.value },
          h(
            'td',
            {},
            h('span', { class: 'swatch', style: `background:${SERIES_COLORS[i % SERIES_COLORS.length]}` }),
            other ? h('span', {}, 'other (remaining values)') : open,
          ),
          h('td', {}, format(r.total)),
          h('td', {}, `${whole > 0 ? ((100 * r.total) / whole).toFixed(1) : '0'}%`),
          h('td', {}, format(r.average)),
          h('td', {}, format(r.stddev)),
          h('td', { class: 'explore-actions' }, other ? '' : this.actions(r.value, values)),
        );
      }),
    );
    this.paint();
  }

  /** A value's shortcuts: against what (a prior period or another value), then side by side or as a diff. */
  private actions(value: string, values: readonly string[]): HTMLElement {
    const against = h(
      'select',
      { class: 'explore-against', 'aria-label': `Baseline for ${value || '(none)'}` },
      // Another value first (the biggest): setting values against each other is what breaking a profile down is for.
      ...values.filter((v) => v !== value).map((v) => option(`value:${v}`, `vs ${v || '(none)'}`)),
      ...PRESETS.map((p) => option(`preset:${p.id}`, `vs ${p.label}`)),
    );
    const kept = this.baselines.get(value);
    if (kept && [...against.options].some((o) => o.value === kept)) against.value = kept;
    against.addEventListener('change', () => this.baselines.set(value, against.value));
    const baseline = (): ExploreBaseline => {
      const [kind, ...rest] = against.value.split(':');
      const arg = rest.join(':');
      return kind === 'preset' ? { preset: arg as BaselinePreset } : { value: arg };
    };
    const button = (view: 'comparison' | 'diff', label: string, title: string) =>
      h(
        'button',
        { class: `explore-${view}`, title, onclick: () => this.events.onCompare(value, baseline(), view) },
        label,
      );
    return h(
      'span',
      {},
      against,
      button('comparison', 'Compare', 'Both flame graphs side by side'),
      button('diff', 'Diff', 'One diff flame graph: what grew and what shrank'),
    );
  }

  paint(): void {
    const width = Math.max(1, this.element.clientWidth - 24);
    const height = 176;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    const ctx = this.canvas.getContext('2d');
    const r = this.result;
    if (!ctx || !r || r.timestampsMs.length === 0) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const left = 64;
    const plotW = width - left - 8;
    const plotH = height - 40;
    let max = 0;
    for (const row of r.rows) for (const v of row.points) if (v > max) max = v;
    const t0 = r.timestampsMs[0];
    const t1 = r.timestampsMs[r.timestampsMs.length - 1];
    const x = (t: number) => left + (t1 > t0 ? ((t - t0) / (t1 - t0)) * plotW : plotW / 2);
    const y = (v: number) => 8 + plotH - (max > 0 ? (v / max) * plotH : 0);
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = getComputedStyle(this.element).getPropertyValue('--muted') || '#888';
    ctx.textAlign = 'right';
    ctx.fillText(this.format(max), left - 6, 14);
    ctx.fillText('0', left - 6, 8 + plotH);
    // Time labels: start, quarters, end.
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const t = t0 + f * (t1 - t0);
      ctx.textAlign = f === 0 ? 'left' : f === 1 ? 'right' : 'center';
      ctx.fillText(axisTimeLabel(t, t1 - t0, this.utc), x(t), height - 4);
      if (t1 === t0) break;
    }
    ctx.lineWidth = 1.5;
    r.rows.forEach((row, i) => {
      ctx.strokeStyle = SERIES_COLORS[i % SERIES_COLORS.length];
      ctx.beginPath();
      row.points.forEach((v, k) => {
        const px = x(r.timestampsMs[k]);
        const py = y(v);
        if (k === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      });
      ctx.stroke();
    });
  }
}
