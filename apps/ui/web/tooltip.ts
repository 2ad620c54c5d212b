/**
 * The hover tooltip shared by every flame graph: a frame's full name, package, total and self (in the profile's
 * unit and as shares), or for a diff graph its baseline, comparison and change.
 */
import { packageOf } from '../src/colors.js';
import { type DiffTree, relativeChange } from '../src/diff.js';
import { type FlameTree, isOtherNode } from '../src/flamebearer.js';
import { formatPercent, formatValue, humanProfileType } from '../src/format.js';
import { h } from './dom.js';

export interface FrameTooltipOptions {
  /** The zoomed node (shares "of zoom" are added when not the root). */
  zoom: number;
  sampleUnit: string;
  profileType: string;
  maxNodes: number;
  /** A line naming the side of a comparison, if any. */
  side?: string;
}

export class Tooltip {
  readonly element = h('div', { class: 'tooltip', id: 'tooltip', hidden: true, role: 'tooltip' });

  hide(): void {
    this.element.hidden = true;
  }

  frame(tree: FlameTree | undefined, node: number, x: number, y: number, o: FrameTooltipOptions): void {
    if (!tree || node < 0) {
      this.hide();
      return;
    }
    const name = tree.names[tree.name[node]];
    const fmt = (v: number) => formatValue(v, o.sampleUnit);
    const row = (label: string, v: number) =>
      h(
        'tr',
        {},
        h('th', {}, label),
        h('td', {}, fmt(v)),
        h('td', { class: 'pct' }, formatPercent(v, tree.numTicks)),
        o.zoom !== 0
          ? h('td', { class: 'pct' }, `${formatPercent(v, tree.total[o.zoom])} of zoom`)
          : undefined,
      );
    const other = isOtherNode(tree, node);
    this.element.replaceChildren(
      o.side ? h('div', { class: 'tt-side' }, o.side) : '',
      h('div', { class: 'tt-title' }, node === 0 ? 'total' : other ? 'other' : name),
      other
        ? h(
            'div',
            { class: 'tt-note' },
            `The callees of this frame that were too small to keep under maxNodes=${o.maxNodes}, merged by the server. Raise the node limit to see them.`,
          )
        : h('div', { class: 'tt-pkg' }, node !== 0 ? packageOf(name) : humanProfileType(o.profileType)),
      h('table', {}, row('Total', tree.total[node]), row('Self', tree.self[node])),
      h('div', { class: 'tt-hint' }, 'Click to zoom · right-click for more'),
    );
    this.place(x, y);
  }

  diff(
    d: DiffTree | undefined,
    node: number,
    x: number,
    y: number,
    sampleUnit: string,
    absolute: boolean,
  ): void {
    if (!d || node < 0) {
      this.hide();
      return;
    }
    const name = node === 0 ? 'total' : d.tree.names[d.tree.name[node]];
    const fmt = (v: number) => formatValue(v, sampleUnit);
    const change = relativeChange(d, node, absolute);
    const changeText = !Number.isFinite(change)
      ? 'new'
      : `${change > 0 ? '+' : ''}${(change * 100).toFixed(1)}%`;
    const side = (label: string, v: number, ticks: number) =>
      h(
        'tr',
        {},
        h('th', {}, label),
        h('td', {}, fmt(v)),
        h('td', { class: 'pct' }, formatPercent(v, ticks)),
      );
    this.element.replaceChildren(
      h('div', { class: 'tt-title' }, name),
      h(
        'table',
        {},
        side('Baseline', d.left[node], d.leftTicks),
        side('Comparison', d.right[node], d.rightTicks),
        h(
          'tr',
          {},
          h('th', {}, 'Change'),
          h('td', { class: change > 0.02 ? 'grew' : change < -0.02 ? 'shrank' : '' }, changeText),
          h('td', { class: 'pct' }, absolute ? 'absolute' : 'of share'),
        ),
      ),
    );
    this.place(x, y);
  }

  private place(x: number, y: number): void {
    this.element.hidden = false;
    const r = this.element.getBoundingClientRect();
    const left = x + 16 + r.width > window.innerWidth ? x - r.width - 12 : x + 16;
    const top = y + 16 + r.height > window.innerHeight ? y - r.height - 12 : y + 16;
    this.element.style.transform = `translate(${Math.max(4, left)}px, ${Math.max(4, top)}px)`;
  }
}
