/**
 * The Targets page (`/targets`): pull-mode scrape targets from `GET /api/v1/targets`, grouped by job, with each
 * target's health, labels, last error and per-profile-type scrape times. Refreshes every 5 s (paused while the
 * tab is hidden); relative times tick every second. Formatting and grouping live in src/targets.ts.
 */
import {
  displayLabels,
  filterTargets,
  formatDurationMs,
  formatRelative,
  groupByJob,
  type Health,
  type ProfileHealth,
  SCRAPE_CONFIG_EXAMPLE,
  summaryLine,
  type TargetHealth,
} from '../src/targets.js';
import * as api from './api.js';
import { authBadge, forbiddenPanel, initAuth } from './auth-ui.js';
import { copyText, h, option } from './dom.js';
import { initialTheme, THEME_KEY, type Theme } from './theme.js';

const REFRESH_MS = 5000;
type Filter = 'all' | 'unhealthy';

const HEALTH_TEXT: Record<Health, string> = { up: 'up', down: 'down', unknown: 'unknown' };

function badge(health: Health): HTMLElement {
  return h(
    'span',
    { class: `health ${health}`, 'data-health': health, title: `Health: ${health}` },
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    HEALTH_TEXT[health],
  );
}

/** A time shown relative to now, kept current by the page's one-second ticker. */
function relTime(at: string | null, prefix = ''): HTMLElement {
  if (at === null) return h('span', { class: 'muted' }, prefix ? `${prefix}never` : 'never');
  const el = h('time', {
    datetime: at,
    'data-rel': at,
    'data-prefix': prefix,
    title: new Date(at).toLocaleString(),
  });
  el.textContent = `${prefix}${formatRelative(at, Date.now())}`;
  return el;
}

function errorBox(text: string, cls = 'target-error'): HTMLElement {
  return h('div', { class: cls, role: 'note' }, text);
}

function profileRow(p: ProfileHealth): HTMLElement {
  return h(
    'tr',
    { 'data-profile': p.name, 'data-health': p.health },
    h(
      'td',
      { class: 'profile-name' },
      h('b', {}, p.name),
      p.metric && p.metric !== p.name ? h('span', { class: 'muted' }, ` → ${p.metric}`) : undefined,
      h('div', { class: 'profile-url' }, p.url),
    ),
    h('td', {}, badge(p.health)),
    h('td', {}, relTime(p.lastScrape)),
    h('td', { class: 'num' }, formatDurationMs(p.lastScrapeDurationMs)),
    h('td', {}, relTime(p.nextScrape)),
    h('td', { class: 'num' }, p.scrapes.toLocaleString()),
    h('td', { class: `num${p.failures > 0 ? ' bad' : ''}` }, p.failures.toLocaleString()),
    h(
      'td',
      {
        class: `num${p.skippedTicks > 0 ? ' warn' : ''}`,
        title: 'Ticks skipped because the previous scrape was still running',
      },
      p.skippedTicks.toLocaleString(),
    ),
    h('td', { class: 'profile-error' }, p.lastError ? errorBox(p.lastError, 'error-cell') : ''),
  );
}

function targetCard(t: TargetHealth): HTMLElement {
  const labels = displayLabels(t);
  return h(
    'article',
    { class: `target ${t.health}`, 'data-health': t.health, 'data-instance': t.instance },
    h(
      'div',
      { class: 'target-head' },
      badge(t.health),
      h('span', { class: 'instance' }, t.instance),
      h('span', { class: 'target-url' }, t.url),
      ...labels.map(([k, v]) => h('span', { class: 'chip label' }, `${k}="${v}"`)),
      h('span', { class: 'spacer' }),
      h('span', { class: 'muted' }, 'Last scrape ', relTime(t.lastScrape)),
    ),
    t.lastError ? errorBox(t.lastError) : undefined,
    t.profiles.length > 0
      ? h(
          'table',
          { class: 'profiles' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...[
                'Profile',
                'Health',
                'Last scrape',
                'Duration',
                'Next scrape',
                'Scrapes',
                'Failures',
                'Skipped',
                'Last error',
              ].map((c) => h('th', {}, c)),
            ),
          ),
          h('tbody', {}, ...t.profiles.map(profileRow)),
        )
      : h('p', { class: 'muted' }, 'No profile types enabled for this job.'),
  );
}

function emptyState(): HTMLElement {
  const copy = h('button', { class: 'copy' }, 'Copy');
  copy.addEventListener('click', async () => {
    await copyText(SCRAPE_CONFIG_EXAMPLE);
    copy.textContent = 'Copied';
    setTimeout(() => {
      copy.textContent = 'Copy';
    }, 1500);
  });
  return h(
    'div',
    {},
    h('h2', {}, 'No scrape targets'),
    h(
      'p',
      {},
      'This server has no ',
      h('code', {}, 'scrape_configs'),
      ' (or its jobs have found no targets yet). To collect profiles from services that expose Go’s ',
      h('code', {}, 'net/http/pprof'),
      ', add a job to the YAML file given to ',
      h('code', {}, 'emberscope server --config FILE'),
      '. Each target is a ',
      h('code', {}, 'host:port'),
      '; by default CPU, allocs, goroutine, mutex and block are scraped every ',
      h('code', {}, 'scrape_interval'),
      '.',
    ),
    h(
      'div',
      { class: 'snippet' },
      h('div', { class: 'snippet-head' }, h('b', {}, 'emberscope.yaml'), copy),
      h('pre', { id: 'scrape-config-example' }, SCRAPE_CONFIG_EXAMPLE),
    ),
    h(
      'p',
      { class: 'muted' },
      'The config file is re-read when it changes: targets appear here within seconds, without a restart. ',
      'Profile selection (',
      h('code', {}, 'profiling_config'),
      '), authentication, TLS and ',
      h('code', {}, 'file_sd_configs'),
      ' are described in ',
      h('code', {}, 'docs/pull-mode.md'),
      '.',
    ),
  );
}

export function mountTargetsPage(): void {
  document.title = 'Targets · Emberscope';
  let theme: Theme = initialTheme();
  let filter: Filter =
    new URLSearchParams(location.search).get('health') === 'unhealthy' ? 'unhealthy' : 'all';
  let data: TargetHealth[] | undefined;
  let dataJson = '';
  let fetchedAt = 0;
  let error: string | undefined;
  /** The last error was a 403: the key can't read the targets (refreshing won't help). */
  let forbidden = false;
  let inflight: AbortController | undefined;
  let timer = 0;

  const themeButton = h('button', { id: 'theme', title: 'Toggle dark/light theme' });
  const filterSelect = h('select', { id: 'targets-filter', 'aria-label': 'Show' });
  filterSelect.append(
    option('all', 'All targets', filter === 'all'),
    option('unhealthy', 'Unhealthy only', filter === 'unhealthy'),
  );
  const autoToggle = h('input', { type: 'checkbox', id: 'auto-refresh', checked: true });
  const refreshButton = h('button', { id: 'refresh', title: 'Refresh now (r)' }, '↻ Refresh');
  const summary = h('span', { class: 'targets-summary', id: 'targets-summary' });
  const updated = h('span', { class: 'muted', id: 'targets-updated' });
  const banner = h('div', { class: 'refresh-error', id: 'refresh-error', role: 'alert', hidden: true });
  const message = h('div', { class: 'message', id: 'message', hidden: true });
  const list = h('div', { class: 'targets', id: 'targets' });
  const loadingBar = h('div', { class: 'loading-bar', hidden: true });

  const app = h(
    'div',
    { class: 'app targets-page' },
    h(
      'header',
      { class: 'topbar' },
      h('a', { class: 'brand', href: '/' }, h('span', { class: 'logo' }, '▲'), 'Emberscope'),
      h(
        'nav',
        { class: 'nav', 'aria-label': 'Pages' },
        h('a', { href: '/', id: 'nav-profiles' }, 'Profiles'),
        h('a', { href: '/targets', id: 'nav-targets', class: 'active', 'aria-current': 'page' }, 'Targets'),
      ),
      h('div', { class: 'spacer' }),
      h('label', { class: 'field' }, h('span', {}, 'Show'), filterSelect),
      h(
        'label',
        { class: 'toggle', title: `Refresh every ${REFRESH_MS / 1000} s` },
        autoToggle,
        `Auto-refresh (${REFRESH_MS / 1000} s)`,
      ),
      refreshButton,
      themeButton,
      authBadge(),
    ),
    loadingBar,
    h(
      'div',
      { class: 'targets-head' },
      h('h1', {}, 'Targets'),
      summary,
      h('span', { class: 'spacer' }),
      updated,
    ),
    banner,
    message,
    list,
  );
  document.body.append(app);

  const applyTheme = () => {
    document.documentElement.dataset.theme = theme;
    themeButton.textContent = theme === 'dark' ? '☀' : '☾';
    themeButton.title = theme === 'dark' ? 'Switch to the light theme' : 'Switch to the dark theme';
    themeButton.setAttribute('aria-label', themeButton.title);
  };

  const tick = () => {
    const now = Date.now();
    for (const el of list.querySelectorAll<HTMLElement>('[data-rel]'))
      el.textContent = `${el.dataset.prefix ?? ''}${formatRelative(el.dataset.rel ?? null, now)}`;
    if (fetchedAt > 0)
      updated.textContent = `Updated ${formatRelative(fetchedAt, now)}${autoToggle.checked ? ` · every ${REFRESH_MS / 1000} s` : ''}`;
  };

  const showMessage = (kind: 'error' | 'empty' | 'none', content?: Node) => {
    message.hidden = kind === 'none';
    message.className = `message ${kind}`;
    message.replaceChildren(content ?? '');
  };

  const render = () => {
    if (!data) {
      list.replaceChildren();
      summary.textContent = '';
      if (error !== undefined && forbidden) {
        showMessage('error', forbiddenPanel('This key cannot read the targets', error));
      } else if (error !== undefined) {
        const retry = h('button', { id: 'retry' }, 'Retry');
        retry.addEventListener('click', () => void load());
        showMessage(
          'error',
          h(
            'div',
            {},
            h('h2', {}, 'Could not load the targets'),
            h('p', { class: 'error-text', id: 'targets-error' }, error),
            h(
              'p',
              {},
              h('code', {}, 'GET /api/v1/targets'),
              ' failed. Check that the server is running and reachable, and its log; the page retries on its own',
              autoToggle.checked ? ` every ${REFRESH_MS / 1000} s.` : ' when auto-refresh is on.',
            ),
            h('div', { class: 'actions' }, retry),
          ),
        );
      }
      return;
    }
    banner.hidden = error === undefined;
    if (error !== undefined)
      banner.replaceChildren(
        h('b', {}, 'Could not refresh: '),
        error,
        ` (showing the targets as of ${formatRelative(fetchedAt, Date.now())}).`,
      );
    summary.textContent = data.length > 0 ? summaryLine(data) : '';
    if (data.length === 0) {
      list.replaceChildren();
      showMessage('empty', emptyState());
      return;
    }
    const shown = filterTargets(data, filter);
    if (shown.length === 0) {
      list.replaceChildren();
      showMessage(
        'empty',
        h(
          'div',
          {},
          h('h2', {}, 'Every target is up'),
          h('p', {}, `All ${data.length} targets answered their last scrape. `),
          h('button', { onclick: () => setFilter('all') }, 'Show all targets'),
        ),
      );
      return;
    }
    showMessage('none');
    const multiTenant = new Set(data.map((t) => t.tenant)).size > 1;
    list.replaceChildren(
      ...groupByJob(shown).map((g) =>
        h(
          'section',
          { class: 'card job', 'data-job': g.job },
          h(
            'div',
            { class: 'job-head' },
            h('h2', { class: 'job-name' }, g.job),
            h('span', { class: 'muted' }, `${g.targets.length} target${g.targets.length === 1 ? '' : 's'}`),
            g.counts.up > 0 ? h('span', { class: 'count up' }, `${g.counts.up} up`) : undefined,
            g.counts.down > 0 ? h('span', { class: 'count down' }, `${g.counts.down} down`) : undefined,
            g.counts.unknown > 0
              ? h('span', { class: 'count unknown' }, `${g.counts.unknown} unknown`)
              : undefined,
            multiTenant ? h('span', { class: 'muted' }, `tenant ${g.tenants.join(', ')}`) : undefined,
          ),
          ...g.targets.map(targetCard),
        ),
      ),
    );
  };

  const schedule = () => {
    clearTimeout(timer);
    if (autoToggle.checked && document.visibilityState !== 'hidden')
      timer = window.setTimeout(() => void load(), REFRESH_MS);
  };

  async function load(): Promise<void> {
    inflight?.abort();
    const ctl = new AbortController();
    inflight = ctl;
    clearTimeout(timer);
    loadingBar.hidden = false;
    try {
      const next = await api.targets(ctl.signal);
      if (ctl.signal.aborted) return;
      const json = JSON.stringify(next);
      const changed = json !== dataJson || error !== undefined || !data;
      data = next;
      dataJson = json;
      error = undefined;
      forbidden = false;
      fetchedAt = Date.now();
      // Unchanged answers leave the DOM alone (a text selection in an error message survives refreshes).
      if (changed) render();
    } catch (err) {
      if (ctl.signal.aborted) return;
      error = (err as Error).message || String(err);
      forbidden = err instanceof api.ApiError && err.status === 403;
      render();
    } finally {
      if (inflight === ctl) {
        loadingBar.hidden = true;
        inflight = undefined;
        schedule();
        tick();
      }
    }
  }

  function setFilter(next: Filter): void {
    filter = next;
    filterSelect.value = next;
    const q = new URLSearchParams(location.search);
    if (next === 'all') q.delete('health');
    else q.set('health', next);
    const s = q.toString();
    history.replaceState(null, '', `${location.pathname}${s ? `?${s}` : ''}`);
    render();
    tick();
  }

  filterSelect.addEventListener('change', () => setFilter(filterSelect.value as Filter));
  refreshButton.addEventListener('click', () => void load());
  autoToggle.addEventListener('change', () => {
    if (autoToggle.checked) void load();
    else clearTimeout(timer);
    tick();
  });
  themeButton.addEventListener('click', () => {
    theme = theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem(THEME_KEY, theme);
    applyTheme();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') clearTimeout(timer);
    else if (autoToggle.checked) void load();
  });
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    if (e.key === 'r' && !e.ctrlKey && !e.metaKey) void load();
  });
  window.setInterval(tick, 1000);

  applyTheme();
  void initAuth().then(() => load());
}
