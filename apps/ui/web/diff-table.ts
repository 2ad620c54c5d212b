/**
 * The diff table next to the diff flame graph: function, baseline, comparison, Δ and relative change; sortable by
 * every column; virtualised like the top table (virtual-rows.ts). Hovering a row
 * outlines the function in the diff flame graph, clicking it searches for it.
 */
import {
  type DiffRow,
  type DiffSortKey,
  formatDelta,
  formatRelativeChange,
  formatShare,
} from '../src/diff-table.js';
import { h } from './dom.js';
import { VirtualRows } from './virtual-rows.js';

export const DIFF_ROW_HEIGHT = 24;

export interface DiffTableEvents {
  onHover(name: string | undefined): void;
  onSelect(name: string): void;
  onSort(key: DiffSortKey): void;
}

export interface DiffTableModel {
  rows: DiffRow[];
  normalized: boolean;
  leftTicks: number;
  rightTicks: number;
  format(value: number): string;
  sort: DiffSortKey;
  desc: boolean;
  /** A line under the header: how many functions, filtered or limited. */
  caption: string;
  selected: string;
}

const COLUMNS: ReadonlyArray<[DiffSortKey, string, string]> = [
  ['name', 'Function', 'Function name'],
  ['baseline', 'Baseline', "Total in the baseline, and its share of the baseline's total"],
  ['comparison', 'Comparison', "Total in the comparison, and its share of the comparison's total"],
  ['delta', 'Δ', "Comparison − baseline: in points of each side's share, or in the unit when absolute"],
  ['change', 'Change', 'Relative to the baseline'],
];

export class DiffTableView {
  readonly element: HTMLDivElement;
  private readonly header = h('div', { class: 'dt-row dt-header', role: 'row' });
  private readonly caption = h('div', { class: 'dt-caption', id: 'diff-table-caption' });
  private readonly body = h('div', { class: 'dt-body', tabindex: '0' });
  private readonly rows: VirtualRows;
  private model: DiffTableModel | undefined;
  private hovered: string | undefined;

  constructor(private readonly events: DiffTableEvents) {
    this.element = h(
      'div',
      { class: 'diff-table', id: 'diff-table', role: 'table', 'aria-label': 'Diff table' },
      this.caption,
      this.header,
      this.body,
    );
    this.rows = new VirtualRows(
      this.body,
      DIFF_ROW_HEIGHT,
      () => this.createRow(),
      (row, index) => this.fillRow(row, index),
    );
    this.body.addEventListener('pointerleave', () => this.hover(undefined));
  }

  setModel(model: DiffTableModel | undefined): void {
    this.model = model;
    this.caption.textContent = model?.caption ?? '';
    this.renderHeader();
    this.rows.setCount(model?.rows.length ?? 0);
  }

  private hover(name: string | undefined): void {
    if (name === this.hovered) return;
    this.hovered = name;
    for (const r of this.rows.rows)
      r.classList.toggle('hovered', name !== undefined && r.dataset.name === name);
    this.events.onHover(name);
  }

  private renderHeader(): void {
    const m = this.model;
    this.header.replaceChildren(
      ...COLUMNS.map(([key, label, title]) => {
        const active = m?.sort === key;
        const b = h(
          'button',
          {
            class: `dt-cell dt-${key}`,
            'data-sort': key,
            title,
            role: 'columnheader',
            'aria-sort': active ? (m?.desc ? 'descending' : 'ascending') : 'none',
          },
          `${label}${active ? (m?.desc ? ' ▾' : ' ▴') : ''}`,
        );
        b.addEventListener('click', () => this.events.onSort(key));
        return b;
      }),
    );
  }

  private createRow(): HTMLDivElement {
    const row = h(
      'div',
      { class: 'dt-row', role: 'row' },
      h('div', { class: 'dt-cell dt-name', role: 'cell' }),
      h(
        'div',
        { class: 'dt-cell dt-baseline', role: 'cell' },
        h('span', { class: 'v' }),
        h('span', { class: 'pct' }),
      ),
      h(
        'div',
        { class: 'dt-cell dt-comparison', role: 'cell' },
        h('span', { class: 'v' }),
        h('span', { class: 'pct' }),
      ),
      h('div', { class: 'dt-cell dt-delta', role: 'cell' }),
      h('div', { class: 'dt-cell dt-change', role: 'cell' }),
    );
    row.addEventListener('pointerenter', () => this.hover(row.dataset.name));
    row.addEventListener('click', () => {
      if (row.dataset.name !== undefined) this.events.onSelect(row.dataset.name);
    });
    return row;
  }

  private fillRow(row: HTMLDivElement, index: number): void {
    const m = this.model!;
    const r = m.rows[index];
    row.dataset.name = r.name;
    row.title = r.name;
    row.classList.toggle('hovered', r.name === this.hovered);
    row.classList.toggle('selected', r.name === m.selected);
    const [name, base, comp, delta, change] = row.children as unknown as HTMLElement[];
    name.textContent = r.name;
    this.valueCell(base, r.baselineTotal, m.leftTicks, m);
    this.valueCell(comp, r.comparisonTotal, m.rightTicks, m);
    delta.textContent = formatDelta(r, m.normalized, m.format);
    const c = formatRelativeChange(r);
    change.textContent = c.text;
    change.className = `dt-cell dt-change ${c.cls}`;
  }

  private valueCell(cell: HTMLElement, total: number, ticks: number, m: DiffTableModel): void {
    const [v, pct] = cell.children as unknown as HTMLElement[];
    v.textContent = m.format(total);
    pct.textContent = ticks > 0 ? formatShare(total / ticks) : '–';
  }
}
