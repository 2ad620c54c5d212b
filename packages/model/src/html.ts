import type { Flamebearer } from './flamegraph.js';

export interface HtmlOptions {
  /** Shown as the page title and heading. */
  title: string;
  /**
   * Units of the values: "samples" (converted to time with sampleRate), "nanoseconds", "bytes",
   * "objects", or anything else, shown as is after the number.
   */
  units: string;
  /** Samples per second; with units "samples", values are shown as time (samples ÷ rate). */
  sampleRate?: number;
}

/**
 * A self-contained HTML page showing the flame graph, for `/render?format=html` and exports: it works
 * offline and loads nothing (no URL at all, and a Content-Security-Policy that forbids fetching), with
 * the data in a JSON script element and a small inline viewer: canvas drawing, click to zoom, Reset and
 * Esc to zoom back, a tooltip with name, total and self with their shares, a search box that dims what
 * does not match and tells the share matched, and colours that are stable per package.
 */
export function renderHtml(flamebearer: Flamebearer, options: HtmlOptions): string {
  const { title, units, sampleRate } = options;
  const payload = {
    units,
    sampleRate: sampleRate ?? 0,
    flamebearer: {
      names: flamebearer.names,
      levels: flamebearer.levels,
      numTicks: flamebearer.numTicks,
      maxSelf: flamebearer.maxSelf,
    },
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<div class="toolbar">
<input id="search" type="search" placeholder="Search functions" aria-label="Search functions" autocomplete="off">
<button id="reset" type="button">Reset view</button>
<span id="status"></span>
</div>
</header>
<main id="chart">
<canvas id="canvas"></canvas>
<div id="tooltip" hidden></div>
</main>
<script type="application/json" id="flamegraph-data">${jsonForScript(payload)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** Text for HTML content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON that is safe inside a script element: `<`, `>` and `&` as \u escapes (so no `</script>` or `<!--`
 * can end or confuse it), and the line separators U+2028/U+2029 too.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:14px system-ui,sans-serif;color:#222;background:#fff}
header{padding:8px 12px;border-bottom:1px solid #ddd}
h1{margin:0 0 6px;font-size:16px;font-weight:600;word-break:break-all}
.toolbar{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
#search{width:280px;padding:4px 6px}
#status{color:#555}
#chart{position:relative;padding:8px 12px}
#canvas{display:block;width:100%;cursor:pointer}
#tooltip{position:fixed;z-index:1;max-width:600px;padding:6px 8px;background:#fff;border:1px solid #bbb;
border-radius:4px;box-shadow:0 2px 6px rgba(0,0,0,.2);pointer-events:none;font-size:12px}
#tooltip b{display:block;word-break:break-all;margin-bottom:4px}
`;

// The viewer. Plain modern JavaScript; names are untrusted, so they only ever reach textContent and the
// canvas.
const SCRIPT = `
(() => {
  'use strict';
  const data = JSON.parse(document.getElementById('flamegraph-data').textContent);
  const { names, levels, numTicks } = data.flamebearer;
  const ROW_HEIGHT = 18;
  const canvas = document.getElementById('canvas');
  const tooltip = document.getElementById('tooltip');
  const search = document.getElementById('search');
  const status = document.getElementById('status');

  // Levels with absolute x: every node as x, total, self, name index.
  const rows = levels.map((level) => {
    const row = [];
    let end = 0;
    for (let i = 0; i < level.length; i += 4) {
      const x = end + level[i];
      row.push(x, level[i + 1], level[i + 2], level[i + 3]);
      end = x + level[i + 1];
    }
    return row;
  });

  // The node shown full width, and the ones before it (Esc goes back).
  const root = { depth: 0, x: 0, total: numTicks };
  let zoom = root;
  const history = [];
  let query = '';
  let scale = 1;

  function formatValue(value) {
    const units = data.units;
    if (units === 'samples' && data.sampleRate > 0) return formatSeconds(value / data.sampleRate);
    if (units === 'nanoseconds') return formatSeconds(value / 1e9);
    if (units === 'bytes') return formatScaled(value, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB']);
    const count = formatScaled(value, 1000, ['', 'k', 'M', 'G', 'T']);
    return units && units !== 'objects' ? count + ' ' + units : count;
  }

  function formatScaled(value, base, suffixes) {
    let i = 0;
    while (Math.abs(value) >= base && i < suffixes.length - 1) {
      value /= base;
      i++;
    }
    return (i === 0 ? String(Math.round(value * 100) / 100) : value.toFixed(2)) + (suffixes[i] ? ' ' + suffixes[i] : '');
  }

  function formatSeconds(s) {
    const a = Math.abs(s);
    if (a === 0) return '0 s';
    if (a < 1e-6) return (s * 1e9).toFixed(0) + ' ns';
    if (a < 1e-3) return (s * 1e6).toFixed(2) + ' µs';
    if (a < 1) return (s * 1e3).toFixed(2) + ' ms';
    if (a < 60) return s.toFixed(2) + ' s';
    if (a < 3600) return (s / 60).toFixed(2) + ' min';
    return (s / 3600).toFixed(2) + ' h';
  }

  function percent(value) {
    return numTicks > 0 ? ((100 * value) / numTicks).toFixed(2) + '%' : '0%';
  }

  // Colour by package, from a hash of its name, so a function keeps its colour across graphs.
  const colours = new Map();
  function packageOf(name) {
    const slash = name.lastIndexOf('/');
    if (slash >= 0) {
      // Go: the import path, up to the first dot after its last slash.
      const dot = name.indexOf('.', slash);
      return dot >= 0 ? name.slice(0, dot) : name.slice(0, slash);
    }
    const separator = Math.max(name.lastIndexOf('.'), name.lastIndexOf(':'));
    return separator > 0 ? name.slice(0, separator) : name;
  }
  function colourOf(name) {
    const pkg = packageOf(name);
    let colour = colours.get(pkg);
    if (colour === undefined) {
      let hash = 0x811c9dc5;
      for (let i = 0; i < pkg.length; i++) hash = Math.imul(hash ^ pkg.charCodeAt(i), 0x01000193);
      hash >>>= 0;
      colour = 'hsl(' + (hash % 360) + ',' + (45 + (hash >>> 9) % 25) + '%,' + (68 + (hash >>> 17) % 12) + '%)';
      colours.set(pkg, colour);
    }
    return colour;
  }

  function matches(name) {
    return query !== '' && name.toLowerCase().includes(query);
  }

  function render() {
    const width = canvas.clientWidth || 800;
    const height = rows.length * ROW_HEIGHT;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.height = height + 'px';
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '12px ui-monospace, Menlo, Consolas, monospace';
    ctx.textBaseline = 'middle';
    const charWidth = ctx.measureText('m').width || 7;
    scale = zoom.total > 0 ? width / zoom.total : 0;
    rows.forEach((row, depth) => {
      for (let i = 0; i < row.length; i += 4) {
        const left = Math.max(0, (row[i] - zoom.x) * scale);
        const right = Math.min(width, (row[i] + row[i + 1] - zoom.x) * scale);
        if (right - left < 0.5) continue;
        const name = names[row[i + 3]];
        const dimmed = query !== '' && !matches(name);
        ctx.fillStyle = dimmed ? '#e6e6e6' : colourOf(name);
        ctx.fillRect(left, depth * ROW_HEIGHT, Math.max(right - left - 1, 0.5), ROW_HEIGHT - 1);
        const room = Math.floor((right - left - 6) / charWidth);
        if (room >= 3) {
          ctx.fillStyle = dimmed ? '#999' : '#222';
          const label = name.length <= room ? name : name.slice(0, room - 1) + '…';
          ctx.fillText(label, left + 3, depth * ROW_HEIGHT + ROW_HEIGHT / 2);
        }
      }
    });
    updateStatus();
  }

  function updateStatus() {
    if (query === '') {
      status.textContent = 'Total: ' + formatValue(numTicks);
      return;
    }
    // Matching nodes nest, so the union of their ranges is the share they cover.
    const ranges = [];
    rows.forEach((row) => {
      for (let i = 0; i < row.length; i += 4) if (matches(names[row[i + 3]])) ranges.push([row[i], row[i] + row[i + 1]]);
    });
    ranges.sort((a, b) => a[0] - b[0]);
    let covered = 0;
    let end = -Infinity;
    for (const [from, to] of ranges) {
      if (to <= end) continue;
      covered += to - Math.max(from, end);
      end = to;
    }
    status.textContent = ranges.length + ' matching frames, ' + formatValue(covered) + ' (' + percent(covered) + ')';
  }

  // The node under a point of the canvas, as { depth, i } into rows, or null.
  function nodeAt(offsetX, offsetY) {
    const depth = Math.floor(offsetY / ROW_HEIGHT);
    if (depth < 0 || depth >= rows.length || scale === 0) return null;
    const value = zoom.x + offsetX / scale;
    const row = rows[depth];
    let lo = 0;
    let hi = row.length / 4 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const x = row[4 * mid];
      if (value < x) hi = mid - 1;
      else if (value >= x + row[4 * mid + 1]) lo = mid + 1;
      else return { depth, i: 4 * mid };
    }
    return null;
  }

  function showTooltip(node, clientX, clientY) {
    const row = rows[node.depth];
    const lines = [
      ['b', names[row[node.i + 3]]],
      ['div', 'Total: ' + formatValue(row[node.i + 1]) + ' (' + percent(row[node.i + 1]) + ')'],
      ['div', 'Self: ' + formatValue(row[node.i + 2]) + ' (' + percent(row[node.i + 2]) + ')'],
    ];
    tooltip.replaceChildren(...lines.map(([tag, text]) => {
      const element = document.createElement(tag);
      element.textContent = text;
      return element;
    }));
    tooltip.hidden = false;
    const x = Math.min(clientX + 12, window.innerWidth - tooltip.offsetWidth - 4);
    tooltip.style.left = Math.max(0, x) + 'px';
    tooltip.style.top = clientY + 16 + 'px';
  }

  canvas.addEventListener('mousemove', (event) => {
    const node = nodeAt(event.offsetX, event.offsetY);
    if (node) showTooltip(node, event.clientX, event.clientY);
    else tooltip.hidden = true;
  });
  canvas.addEventListener('mouseleave', () => {
    tooltip.hidden = true;
  });
  canvas.addEventListener('click', (event) => {
    const node = nodeAt(event.offsetX, event.offsetY);
    if (!node) return;
    const row = rows[node.depth];
    const next = { depth: node.depth, x: row[node.i], total: row[node.i + 1] };
    if (next.total === 0 || (next.x === zoom.x && next.total === zoom.total)) return;
    history.push(zoom);
    zoom = next;
    render();
  });
  document.getElementById('reset').addEventListener('click', () => {
    history.length = 0;
    zoom = root;
    render();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && history.length > 0) {
      zoom = history.pop();
      render();
    }
  });
  search.addEventListener('input', () => {
    query = search.value.trim().toLowerCase();
    render();
  });
  window.addEventListener('resize', render);
  render();
})();
`;
