// Flame graph UI benchmark (issue 4): time to first paint, and frame times while hovering and zooming, for
// profiles of 10k, 100k and 1M nodes, in headless Chromium (Debian's /usr/bin/chromium via playwright-core).
// Run after `npm run build`: `node bench/ui.mjs [--quick] [--dist dir] [--label text]`. Writes bench/results/ui-<date>.md;
// with --label, appends a section so named to it instead (before/after runs of one session side by side); --dist
// measures another build of the UI (e.g. the previous commit's, built with `vite build --outDir`).
//
// The built UI (apps/ui/dist) is served to the page by a stand-in server on a loopback port, with the server APIs
// answered from memory: a synthetic flamebearer of N nodes (random tree, 1–4 children per node, so it is deep like real
// profiles; 5,000 distinct function names in 60 packages). What is measured is the UI alone:
// - first paint: navigation to the flame graph and table being painted (fetch + JSON.parse + decode + geometry +
//   paint + table), as seen by the page;
// - hover: one pointer position → hit-test + overlay repaint (what runs per animation frame while hovering);
// - zoom: click-zoom into a random frame → geometry + repaint of the graph, and the whole app update (breadcrumb;
//   after that frame, the table re-aggregated for the zoomed subtree and the URL), with the main thread's CPU per
//   animation frame from a trace;
// - paint: the base repaint alone (geometry + bars + labels) at the root view.
// Target (issue 4): a 100k-node profile paints in < 150 ms; hover/zoom frames < 16 ms.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { rng } from './gen.mjs';
import { machineInfo } from './lib.mjs';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean' }, dist: { type: 'string' }, label: { type: 'string' } },
});
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = args.dist ? path.resolve(args.dist) : path.join(ROOT, 'apps', 'ui', 'dist');
const CHROMIUM = process.env.EMBERSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const SIZES = args.quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
const HOVERS = 300;
const ZOOMS = args.quick ? 10 : 30;
const TYPE = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

if (!existsSync(path.join(DIST, 'index.html'))) throw new Error('build the UI first: npm run build');

/**
 * A call tree of exactly `n` nodes built like a real profile: random stacks (8–60 frames) walked through a call
 * graph of 5,000 functions, where each caller mostly calls the same few callees, merged into a trie. Encoded as
 * flamebearer levels (breadth-first, children sorted by name, so every level is sorted by x).
 */
function flamebearer(n, seed = 1) {
  const rand = rng(seed);
  const FUNCS = 5000;
  const names = ['total'];
  for (let i = 0; i < FUNCS; i++) names.push(`github.com/acme/pkg${i % 60}.Function${i}`);
  const kids = [new Map()];
  const name = [0];
  const self = [0];
  while (name.length < n) {
    const depth = 8 + Math.floor(rand() ** 2 * 52);
    let node = 0;
    let fn = 1 + Math.floor(rand() ** 4 * 40);
    for (let d = 0; d < depth && name.length < n; d++) {
      let child = kids[node].get(fn);
      if (child === undefined) {
        child = name.length;
        name.push(fn);
        self.push(0);
        kids.push(new Map());
        kids[node].set(fn, child);
      }
      node = child;
      fn = 1 + ((fn * 7919 + Math.floor(rand() ** 3 * 12) * 104729) % FUNCS);
    }
    self[node] += 1 + Math.floor(rand() * 100);
  }
  const total = new Float64Array(n);
  const order = [0];
  for (let k = 0; k < order.length; k++) for (const c of kids[order[k]].values()) order.push(c);
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k];
    total[i] += self[i];
    for (const c of kids[i].values()) total[i] += total[c];
  }
  const levels = [];
  let frontier = [{ i: 0, x: 0 }];
  let maxSelf = 0;
  while (frontier.length > 0) {
    const row = [];
    const next = [];
    let prevEnd = 0;
    for (const { i, x } of frontier) {
      row.push(x - prevEnd, total[i], self[i], name[i]);
      prevEnd = x + total[i];
      if (self[i] > maxSelf) maxSelf = self[i];
      let cx = x + self[i];
      const sorted = [...kids[i].values()].sort((a, b) => (names[name[a]] < names[name[b]] ? -1 : 1));
      for (const c of sorted) {
        next.push({ i: c, x: cx });
        cx += total[c];
      }
    }
    levels.push(row);
    frontier = next;
  }
  return { names, levels, numTicks: total[0], maxSelf };
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p95: at(0.95), max: s[s.length - 1] };
};

/**
 * Main-thread CPU of the zoom loop, from the trace: per zoom step (in or back), the script (the zoom handlers, with
 * any layout they force; animation frame callbacks; GC) and the rendering (style, layout, paint, layerize); and per
 * animation frame (from the first task after the previous frame's rendering, where Chromium starts its
 * `AnimationFrame` span, to the next one) that did work (> 1 ms), the CPU of everything the main thread ran in it:
 * what must fit in 16 ms.
 * Nested events (FunctionCall in FireAnimationFrame, a layer's Paint in the document's) count once.
 */
function zoomCpu(events, steps) {
  const main = events.find(
    (e) =>
      e.ph === 'M' &&
      e.args?.name === 'CrRendererMain' &&
      events.some((x) => x.tid === e.tid && x.name === 'FireAnimationFrame'),
  )?.tid;
  const spans = events
    .filter((e) => e.tid === main && e.ph === 'X')
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const top = [];
  let end = Number.NEGATIVE_INFINITY;
  for (const e of spans)
    if (e.ts >= end) {
      top.push(e);
      end = e.ts + e.dur;
    }
  const RENDER = new Set(['UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Layerize']);
  let script = 0;
  let render = 0;
  for (const e of top)
    if (RENDER.has(e.name)) render += e.tdur ?? 0;
    else script += e.tdur ?? 0;
  // A span ends before paint; the frame's paint and layerize run before the next frame's first task.
  const starts = events
    .filter((e) => e.tid === main && e.name === 'AnimationFrame' && e.ph === 'b')
    .map((e) => e.ts)
    .sort((a, b) => a - b);
  const frames = [];
  let k = 0;
  for (let i = 0; i + 1 < starts.length; i++) {
    let cpu = 0;
    while (k < top.length && top[k].ts < starts[i]) k++;
    for (; k < top.length && top[k].ts < starts[i + 1]; k++) cpu += top[k].tdur ?? 0;
    // Frames that did work; the others are the waits between zoom steps.
    if (cpu > 1000) frames.push(cpu / 1000);
  }
  return { script: script / 1000 / steps, render: render / 1000 / steps, frames };
}

/**
 * The built UI and the server APIs it calls, answered from memory, on a loopback port: the page fetches the profile
 * over real HTTP, as from an emberscope server on the same machine. `body` is the flamebearer JSON to serve.
 */
async function standInServer() {
  const state = { body: '', url: '', server: undefined };
  const json = (res, status, value) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  state.server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/querier.v1.QuerierService/')) {
      const method = url.pathname.split('/').pop();
      req.resume();
      if (method === 'Series')
        return json(res, 200, {
          labelsSet: [
            {
              labels: [
                { name: '__profile_type__', value: TYPE },
                { name: 'service_name', value: 'bench' },
              ],
            },
          ],
        });
      if (method === 'SelectSeries')
        return json(res, 200, {
          series: [{ points: [{ value: 1e9, timestamp: String(Date.now() - 60_000) }] }],
        });
      return json(res, 200, {});
    }
    if (url.pathname === '/pyroscope/render')
      return res.writeHead(200, { 'content-type': 'application/json' }).end(state.body);
    // Any other API route is one this stand-in server does not have (auth is off, as whoami 404 says).
    if (url.pathname.startsWith('/api/'))
      return json(res, 404, { code: 'not_found', message: 'not served by the bench' });
    const file = path.join(DIST, url.pathname === '/' ? 'index.html' : url.pathname.slice(1));
    if (!file.startsWith(DIST) || !existsSync(file)) return json(res, 404, { message: 'no such file' });
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'text/html';
    res.writeHead(200, { 'content-type': type }).end(readFileSync(file));
  });
  await new Promise((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${state.server.address().port}`;
  return state;
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
});
const bench = await standInServer();
const rows = [];
try {
  for (const n of SIZES) {
    const body = JSON.stringify({
      version: 1,
      flamebearer: flamebearer(n),
      metadata: { format: 'single', spyName: '', sampleRate: 1e9, units: 'samples', name: 'cpu' },
      timeline: null,
      groups: null,
      heatmap: null,
    });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    bench.body = body;
    const start = Date.now();
    await page.goto(`${bench.url}/?query=${encodeURIComponent(`${TYPE}{service_name="bench"}`)}`);
    await page.waitForFunction("/nodes/.test(document.querySelector('#status')?.textContent ?? '')", null, {
      timeout: 120_000,
    });
    const navToPaint = await page.evaluate('performance.now()');
    const wall = Date.now() - start;
    // Main-thread CPU time (trace events' thread time) of the zoom frames: unlike wall time, it does not grow when
    // other processes share the machine's cores.
    const cdp = await page.context().newCDPSession(page);
    const events = [];
    cdp.on('Tracing.dataCollected', (d) => events.push(...d.value));
    const measured = await page.evaluate(
      ({ HOVERS }) => {
        const es = window.emberscope;
        const flame = es.flame;
        const canvas = document.querySelector('.flame-base');
        const width = canvas.clientWidth;
        const height = canvas.clientHeight;
        const hover = [];
        for (let k = 0; k < HOVERS; k++) {
          const x = (((k * 7919) % 1000) / 1000) * width;
          const y = (((k * 104729) % 997) / 997) * Math.min(height, 40 * 20);
          const t = performance.now();
          flame.hoverAt(x, y);
          hover.push(performance.now() - t);
        }
        const paint = [];
        for (let k = 0; k < 10; k++) {
          const t = performance.now();
          flame.paint();
          paint.push(performance.now() - t);
        }
        return { hover, paint };
      },
      { HOVERS },
    );
    // The trace covers the zoom loop alone.
    const traced = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
    await cdp.send('Tracing.start', { categories: 'devtools.timeline', transferMode: 'ReportEvents' });
    const zoom = await page.evaluate(
      async ({ ZOOMS }) => {
        const frame = () => new Promise((r) => requestAnimationFrame(() => r(undefined)));
        const es = window.emberscope;
        const flame = es.flame;
        const tree = es.tree();
        // Zoom into frames that are big enough to click (≥ 0.2% of the total), at various depths.
        const candidates = [];
        for (let i = 1; i < tree.count && candidates.length < 5000; i++)
          if (tree.total[i] >= tree.numTicks * 0.002) candidates.push(i);
        const zoomPaint = [];
        const zoomApp = [];
        const zoomSync = [];
        const zoomNext = [];
        const zoomLayout = [];
        const visible = [];
        // A click arrives as a task of its own between frames (not inside a frame's callbacks).
        const task = () => new Promise((r) => setTimeout(r, 0));
        // Until the work a step defers (the table's refill, spread over frames) is painted, as between real clicks.
        const panes = document.getElementById('panes');
        const settled = async () => {
          while (panes.hasAttribute('aria-busy')) await frame();
          await frame();
        };
        for (let k = 0; k < ZOOMS; k++) {
          const node = candidates[(k * 7919) % candidates.length];
          await task();
          // The whole click-zoom: state, URL, graph and breadcrumb now, shown by the next frame.
          const t = performance.now();
          es.zoomTo(node);
          zoomSync.push(performance.now() - t);
          await frame();
          const t1 = performance.now();
          zoomApp.push(t1 - t);
          // Work deferred to the following frame (the table) must fit in it too.
          await frame();
          zoomNext.push(performance.now() - t1);
          zoomPaint.push(flame.lastPaintMs);
          zoomLayout.push(flame.lastLayoutMs);
          visible.push(flame.layout.count);
          await settled();
          await task();
          es.zoomBack();
          await settled();
        }
        return {
          zoomPaint,
          zoomLayout,
          visible,
          zoomApp,
          zoomSync,
          zoomNext,
          firstPaint: es.timings.firstPaintMs,
          requestToPaint: es.timings.requestToPaintMs,
          count: tree.count,
          depth: tree.depth,
          lastPaint: flame.lastPaintMs,
        };
      },
      { ZOOMS },
    );
    await cdp.send('Tracing.end');
    await traced;
    const result = { ...measured, ...zoom };
    rows.push({ n, navToPaint, wall, ...result, cpu: zoomCpu(events, 2 * ZOOMS) });
    console.log(
      `${n} nodes (zoom CPU ${rows.at(-1).cpu.script.toFixed(1)} + ${rows.at(-1).cpu.render.toFixed(1)} ms, frames p95 ${stats(rows.at(-1).cpu.frames).p95.toFixed(1)} max ${stats(rows.at(-1).cpu.frames).max.toFixed(1)}) (depth ${result.depth}): first paint ${navToPaint.toFixed(0)} ms from navigation, ${result.firstPaint.toFixed(0)} ms from the response; hover p95 ${stats(result.hover).p95.toFixed(2)} ms; paint p50 ${stats(result.paint).p50.toFixed(1)} ms; zoom paint p95 ${stats(result.zoomPaint).p95.toFixed(1)} ms (layout p95 ${stats(result.zoomLayout).p95.toFixed(1)}, visible p95 ${stats(result.visible).p95}); zoom app p95 ${stats(result.zoomApp).p95.toFixed(1)} ms`,
    );
    await page.close();
  }
} finally {
  await browser.close();
  bench.server.close();
}

const date = new Date().toISOString().slice(0, 10);
const f = (x) => x.toFixed(x < 10 ? 2 : 1);
const header = [
  `# UI flame graph benchmark (${date})`,
  '',
  'Headless Chromium (Debian, `--disable-gpu`, 1440×900, DPR 1), `node bench/ui.mjs`. Synthetic random trees;',
  'times in ms. "first paint": from the flame graph request to the graph and table painted (response transfer, JSON',
  'parse, decode, table, geometry, paint); in brackets from the parsed response; and from page navigation (cold start).',
  '"hover" = hit-test + overlay repaint per pointer position; "zoom paint" = geometry + repaint of the graph;',
  '"zoom sync" = a click-zoom\'s handler, run as a task of its own like a click (state, URL, graph repainted,',
  'breadcrumb); "zoom frame" = from the click to the next animation frame (so it includes waiting for that frame);',
  '"next frame" = the frame after it, where the table is refilled (~16.7 ms when it fits).',
  'Target: 100k nodes paint < 150 ms; hover/zoom frames < 16 ms.',
  '',
];
const lines = [
  ...(args.label ? [`## ${args.label}`, ''] : []),
  `Machine: ${JSON.stringify(machineInfo())}`,
  '',
  '"zoom CPU" = main-thread CPU time per zoom step (in or back), from the trace: script (zoom handlers with the layouts',
  'they force, animation frame callbacks, GC) + rendering (style, layout, paint, layerize); unlike wall times it does',
  'not grow when other processes share the cores. "zoom frames" = main-thread CPU per animation frame of the zoom',
  "loop (from the first task after the previous frame to this frame's paint), over the frames that did work",
  '(> 1 ms), and how many of them took more than 16 ms: the target.',
  '',
  '| nodes | depth | first paint: request (parsed) / navigation | base repaint p50 | hover p50 / p95 / max | zoom paint p50 / p95 | zoom sync p50 / p95 | zoom frame p50 / p95 | next frame p50 / p95 | zoom CPU: script + render | zoom frames: CPU p50 / p95 / max, > 16 ms |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => {
    const h = stats(r.hover);
    const p = stats(r.paint);
    const zp = stats(r.zoomPaint);
    const za = stats(r.zoomApp);
    const zs = stats(r.zoomSync);
    const zn = stats(r.zoomNext);
    const zf = stats(r.cpu.frames);
    const over = r.cpu.frames.filter((ms) => ms > 16).length;
    return `| ${r.n.toLocaleString('en')} | ${r.depth} | ${r.requestToPaint.toFixed(0)} (${r.firstPaint.toFixed(0)}) / ${r.navToPaint.toFixed(0)} | ${f(p.p50)} | ${f(h.p50)} / ${f(h.p95)} / ${f(h.max)} | ${f(zp.p50)} / ${f(zp.p95)} | ${f(zs.p50)} / ${f(zs.p95)} | ${f(za.p50)} / ${f(za.p95)} | ${f(zn.p50)} / ${f(zn.p95)} | ${f(r.cpu.script)} + ${f(r.cpu.render)} | ${f(zf.p50)} / ${f(zf.p95)} / ${f(zf.max)}, ${over} of ${r.cpu.frames.length} |`;
  }),
  '',
];
mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
const out = path.join(ROOT, 'bench', 'results', `ui-${date}.md`);
if (args.label && existsSync(out))
  writeFileSync(out, `${readFileSync(out, 'utf8').trimEnd()}\n\n${lines.join('\n')}`);
else writeFileSync(out, [...header, ...lines].join('\n'));
console.log(`wrote ${out}`);
