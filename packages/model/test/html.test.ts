import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { toFlamebearer, toFlameGraph } from '../src/flamegraph.js';
import { escapeHtml, jsonForScript, renderHtml } from '../src/html.js';
import { treeOf } from './tree-helpers.js';

const flamebearer = toFlamebearer(toFlameGraph(treeOf(['foo;bar 2', 'foo;baz 1', 'foo 1', 'qux 3'])));
const hostile = '</script><script src="https://evil.example/x.js">alert(1)</script><!--';

interface Tag {
  name: string;
  attributes: Map<string, string>;
}

/** A small HTML scanner: the tags of the document and the raw text of its script elements. */
function parseHtml(html: string) {
  const tags: Tag[] = [];
  const scripts: { attributes: Map<string, string>; text: string }[] = [];
  const tagPattern = /<([a-zA-Z][\w-]*)((?:\s+[^\s=>]+(?:=(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*\/?>/g;
  for (let match = tagPattern.exec(html); match; match = tagPattern.exec(html)) {
    const attributes = new Map<string, string>();
    for (const [, name, ...values] of match[2].matchAll(
      /([^\s=>]+)(?:=(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g,
    )) {
      attributes.set(name.toLowerCase(), values.find((v) => v !== undefined) ?? '');
    }
    const name = match[1].toLowerCase();
    tags.push({ name, attributes });
    if (name === 'script') {
      // Script content is raw text up to the first "</script" (case-insensitive), as a browser reads it.
      const start = tagPattern.lastIndex;
      const end = html.toLowerCase().indexOf('</script', start);
      scripts.push({ attributes, text: html.slice(start, end) });
      tagPattern.lastIndex = end;
    }
  }
  return { tags, scripts };
}

describe('renderHtml', () => {
  const html = renderHtml(
    { ...flamebearer, names: flamebearer.names.map((n) => (n === 'qux' ? hostile : n)) },
    { title: `CPU <b>"profile"</b> & more`, units: 'samples', sampleRate: 100 },
  );
  const { tags, scripts } = parseHtml(html);

  it('is a complete document that loads nothing from anywhere', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(tags.map((t) => t.name)).toEqual(
      expect.arrayContaining(['html', 'head', 'body', 'canvas', 'style']),
    );
    for (const tag of tags) {
      for (const [name, value] of tag.attributes) {
        if (['src', 'href', 'action', 'srcset', 'poster', 'data'].includes(name)) {
          expect(value, `<${tag.name} ${name}>`).not.toMatch(/^(https?:)?\/\/|:\/\//);
        }
      }
      expect(tag.attributes.has('src') || tag.attributes.has('href')).toBe(false);
    }
    // Outside the embedded data there is no URL at all.
    const withoutData = html.replace(scripts[0].text, '');
    expect(withoutData).not.toMatch(/https?:|\/\/[a-z]/i);
    const csp = tags.find((t) => t.attributes.get('http-equiv') === 'Content-Security-Policy');
    expect(csp?.attributes.get('content')).toMatch(/default-src 'none'/);
  });

  it('embeds the data as escaped JSON that cannot close its script element', () => {
    expect(scripts).toHaveLength(2);
    expect(scripts[0].attributes.get('type')).toBe('application/json');
    expect(scripts[0].text).not.toMatch(/[<>]/);
    const data = JSON.parse(scripts[0].text);
    expect(data.flamebearer.names).toContain(hostile);
    expect(data.flamebearer.levels).toEqual(flamebearer.levels);
    expect(data).toMatchObject({ units: 'samples', sampleRate: 100 });
    expect(data.flamebearer.numTicks).toBe(7);
    // The only closing script tags are the two of the document.
    expect(html.match(/<\/script/gi)).toHaveLength(2);
  });

  it('escapes the title', () => {
    expect(html).toContain('<title>CPU &#60;b&#62;&#34;profile&#34;&#60;/b&#62; &#38; more</title>');
    expect(escapeHtml(`'"<>&`)).toBe('&#39;&#34;&#60;&#62;&#38;');
    expect(jsonForScript({ s: '</script>\u2028&' })).toBe('{"s":"\\u003c/script\\u003e\\u2028\\u0026"}');
  });

  it('draws, zooms, searches and shows tooltips', () => {
    const page = runViewer(html, 700);
    // 7 ticks over 700 px: 100 px per tick. All five frames are drawn.
    expect(page.rects()).toHaveLength(5);
    expect(page.texts()).toEqual(expect.arrayContaining(['total', 'foo', 'bar', 'baz']));
    expect(page.status.textContent).toBe('Total: 70.00 ms');

    // Hover bar: depth 2, x 1..3.
    page.canvas.fire('mousemove', { offsetX: 150, offsetY: 2 * 18 + 5, clientX: 150, clientY: 41 });
    expect(page.tooltip.hidden).toBe(false);
    expect(page.tooltip.children.map((c) => c.textContent)).toEqual([
      'bar',
      'Total: 20.00 ms (28.57%)',
      'Self: 20.00 ms (28.57%)',
    ]);
    page.canvas.fire('mousemove', { offsetX: 50, offsetY: 2 * 18 + 5, clientX: 50, clientY: 41 });
    expect(page.tooltip.hidden).toBe(true);

    // Click qux (depth 1, x 4..7): it fills the width; foo and its children go.
    page.canvas.fire('click', { offsetX: 450, offsetY: 18 + 5 });
    const zoomed = page.rects();
    expect(zoomed).toHaveLength(2);
    expect(zoomed.every((r) => r.x === 0 && r.width >= 698)).toBe(true);
    page.document.fire('keydown', { key: 'Escape' });
    expect(page.rects()).toHaveLength(5);
    page.canvas.fire('click', { offsetX: 50, offsetY: 18 + 5 });
    expect(page.rects()).toHaveLength(4);
    page.reset.fire('click', {});
    expect(page.rects()).toHaveLength(5);

    // Search: bar and baz match, 3 of 7 ticks; the rest is dimmed.
    page.search.value = 'BA';
    page.search.fire('input', {});
    expect(page.status.textContent).toBe('2 matching frames, 30.00 ms (42.86%)');
    expect(page.rects().filter((r) => r.fill === '#e6e6e6')).toHaveLength(3);
    expect(new Set(page.rects().map((r) => r.fill)).size).toBeGreaterThan(1);
  });

  it('gives a function the same colour wherever it is', () => {
    const page = runViewer(renderHtml(flamebearer, { title: 't', units: 'objects' }), 700);
    expect(page.status.textContent).toBe('Total: 7');
    const colourOf = (name: string) => page.ctx.calls.find((c) => c.text === name)?.fill;
    const again = runViewer(
      renderHtml(toFlamebearer(toFlameGraph(treeOf(['x;bar 5', 'foo 1']))), { title: 't', units: 'bytes' }),
      700,
    );
    expect(again.status.textContent).toBe('Total: 6 B');
    const colourAgain = (name: string) => again.ctx.calls.find((c) => c.text === name)?.fill;
    expect(colourOf('bar')).toBeDefined();
    expect(colourAgain('bar')).toBe(colourOf('bar'));
    expect(colourAgain('foo')).toBe(colourOf('foo'));
  });
});

type Listener = (event: Record<string, unknown>) => void;

class FakeElement {
  textContent = '';
  hidden = false;
  value = '';
  style: Record<string, string> = {};
  children: FakeElement[] = [];
  offsetWidth = 100;
  private listeners = new Map<string, Listener[]>();
  constructor(readonly tag = 'div') {}
  addEventListener(type: string, listener: Listener) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  fire(type: string, event: Record<string, unknown>) {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
  replaceChildren(...children: FakeElement[]) {
    this.children = children;
  }
}

interface DrawCall {
  x: number;
  width: number;
  fill: string;
  text?: string;
}

/** Runs the page's viewer script against a fake DOM whose canvas records what it draws. */
function runViewer(html: string, width: number) {
  const { scripts } = parseHtml(html);
  const ctx = {
    calls: [] as DrawCall[],
    fillStyle: '',
    font: '',
    textBaseline: '',
    setTransform() {},
    clearRect() {
      ctx.calls = [];
    },
    measureText: () => ({ width: 7 }),
    fillRect(x: number, _y: number, w: number) {
      ctx.calls.push({ x, width: w, fill: ctx.fillStyle });
    },
    fillText(text: string, x: number) {
      const rect = ctx.calls.at(-1);
      if (rect) rect.text = text;
      else ctx.calls.push({ x, width: 0, fill: '', text });
    },
  };
  const canvas = Object.assign(new FakeElement('canvas'), {
    clientWidth: width,
    width: 0,
    height: 0,
    getContext: () => ctx,
  });
  const elements: Record<string, FakeElement> = {
    'flamegraph-data': Object.assign(new FakeElement('script'), { textContent: scripts[0].text }),
    canvas,
    tooltip: new FakeElement(),
    search: new FakeElement('input'),
    status: new FakeElement('span'),
    reset: new FakeElement('button'),
  };
  const document = Object.assign(new FakeElement('document'), {
    getElementById: (id: string) => elements[id],
    createElement: (tag: string) => new FakeElement(tag),
  });
  const window = Object.assign(new FakeElement('window'), { devicePixelRatio: 2, innerWidth: 1200 });
  vm.runInNewContext(scripts[1].text, { document, window });
  return {
    ctx,
    canvas,
    document,
    tooltip: elements.tooltip,
    search: elements.search,
    status: elements.status,
    reset: elements.reset,
    rects: () => ctx.calls.filter((c) => c.width > 0),
    texts: () => ctx.calls.map((c) => c.text).filter(Boolean),
  };
}
