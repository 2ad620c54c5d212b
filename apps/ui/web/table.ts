/**
 * The top table: function, self, total; sortable; virtualised (virtual-rows.ts), so 100k functions cost the
 * same as 30.
 */
import { splitFrameName } from '../src/format.js';
import type { FunctionRow, SortKey } from '../src/table-data.js';
import { VirtualRows } from './virtual-rows.js';

export const TABLE_ROW_HEIGHT = 24;

export interface TopTableEvents {
  onHover(name: number): void;
  onSelect(name: number): void;
  onSort(key: SortKey): void;
}

export interface TableModel {
  rows: FunctionRow[];
  names: readonly string[];
  colors: readonly string[];
  format(value: number): string;
  /** The 100% for the percentages and bars. */
  whole: number;
  sort: SortKey;
  desc: boolean;
  selected: number;
}

/**
 * What fillRow writes in a pooled row. Its text nodes are updated in place: replacing them (textContent) would
 * make the browser build their layout objects again on every zoom.
 */
interface RowParts {
  swatch: HTMLElement;
  prefix: Text;
  tail: Text;
  values: Array<{ cell: HTMLElement; value: Text; pct: Text }>;
}

export class TopTable {
  readonly element: HTMLDivElement;
  private readonly header: HTMLDivElement;
  private readonly body: HTMLDivElement;
  private readonly rows: VirtualRows;
  private model: TableModel | undefined;
  private hoveredName = -1;
  private readonly parts = new WeakMap<HTMLDivElement, RowParts>();

  constructor(private readonly events: TopTableEvents) {
    this.element = document.createElement('div');
    this.element.className = 'top-table';
    this.header = document.createElement('div');
    this.header.className = 'tt-row tt-header';
    this.body = document.createElement('div');
    this.body.className = 'tt-body';
    this.body.tabIndex = 0;
    this.element.append(this.header, this.body);
    this.rows = new VirtualRows(
      this.body,
      TABLE_ROW_HEIGHT,
      () => this.createRow(),
      (row, index) => this.fillRow(row, index),
    );
    this.body.addEventListener('pointerleave', () => this.hover(-1));
  }

  /**
   * With `steps` > 1, refills only the first of that many parts of the rows in view, the others with `fillStep`
   * (see VirtualRows); returns whether rows were left for it.
   */
  setModel(model: TableModel, steps = 1): boolean {
    const prev = this.model;
    this.model = model;
    // Rebuilding the header on every zoom would style and lay it out again for nothing.
    if (!prev || prev.sort !== model.sort || prev.desc !== model.desc) this.renderHeader(model);
    return this.rows.setCount(model.rows.length, steps);
  }

  /** Fills the next part of a refill spread by `setModel`; returns whether more are left. */
  fillStep(): boolean {
    return this.rows.fillStep();
  }

  private hover(name: number): void {
    if (name === this.hoveredName) return;
    this.hoveredName = name;
    for (const r of this.rows.rows)
      r.classList.toggle('hovered', Number(r.dataset.name) === name && name >= 0);
    this.events.onHover(name);
  }

  private renderHeader(m: TableModel): void {
    this.header.replaceChildren();
    const cols: Array<[SortKey, string]> = [
      ['name', 'Function'],
      ['self', 'Self'],
      ['total', 'Total'],
    ];
    for (const [key, label] of cols) {
      const b = document.createElement('button');
      b.className = `tt-cell tt-${key}`;
      b.dataset.sort = key;
      const arrow = m.sort === key ? (m.desc ? ' ▾' : ' ▴') : '';
      b.textContent = `${label}${arrow}`;
      b.setAttribute('aria-sort', m.sort === key ? (m.desc ? 'descending' : 'ascending') : 'none');
      b.addEventListener('click', () => this.events.onSort(key));
      this.header.append(b);
    }
  }

  private createRow(): HTMLDivElement {
    const row = document.createElement('div');
    row.className = 'tt-row';
    row.innerHTML =
      '<div class="tt-cell tt-name"><span class="swatch"></span><span class="fn"><span class="fn-prefix"> </span><span class="fn-tail"> </span></span></div>' +
      '<div class="tt-cell tt-self"><span class="v"> </span><span class="pct"> </span></div>' +
      '<div class="tt-cell tt-total"><span class="v"> </span><span class="pct"> </span></div>';
    const text = (selector: string) => row.querySelector(selector)?.firstChild as Text;
    const value = (cell: string) => ({
      cell: row.querySelector(cell) as HTMLElement,
      value: text(`${cell} .v`),
      pct: text(`${cell} .pct`),
    });
    this.parts.set(row, {
      swatch: row.querySelector('.swatch') as HTMLElement,
      prefix: text('.fn-prefix'),
      tail: text('.fn-tail'),
      values: [value('.tt-self'), value('.tt-total')],
    });
    row.addEventListener('pointerenter', () => this.hover(Number(row.dataset.name)));
    row.addEventListener('click', () => this.events.onSelect(Number(row.dataset.name)));
    return row;
  }

  private fillRow(row: HTMLDivElement, index: number): void {
    const m = this.model!;
    const r = m.rows[index];
    const name = m.names[r.name];
    const p = this.parts.get(row)!;
    row.dataset.name = String(r.name);
    row.classList.toggle('selected', r.name === m.selected);
    row.classList.toggle('hovered', r.name === this.hoveredName);
    row.title = name;
    p.swatch.style.backgroundColor = m.colors[r.name];
    // Long names are elided from the left of their last segment, so the function itself stays readable.
    const [prefix, tail] = splitFrameName(name);
    setText(p.prefix, prefix);
    setText(p.tail, tail);
    for (let k = 0; k < 2; k++) {
      const v = k === 0 ? r.self : r.total;
      const share = m.whole > 0 ? v / m.whole : 0;
      const { cell, value, pct } = p.values[k];
      // The bar is the cell's background (style.css).
      cell.style.backgroundSize = `${Math.min(100, share * 100)}% calc(100% - 6px)`;
      setText(value, m.format(v));
      setText(pct, `${(share * 100).toFixed(share >= 0.1 ? 1 : 2)}%`);
    }
  }
}

/** An unchanged text is not written, so the browser does not lay it out again. */
function setText(node: Text, text: string): void {
  if (node.data !== text) node.data = text;
}
