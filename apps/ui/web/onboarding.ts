/** The "no data yet" screen: how to point a Go, Node or Python client at this very server. */
import { copyText, h } from './dom.js';

export function snippets(serverUrl: string): Array<{ lang: string; code: string }> {
  return [
    {
      lang: 'Go',
      code: `import "github.com/grafana/pyroscope-go"

pyroscope.Start(pyroscope.Config{
  ApplicationName: "my.service",
  ServerAddress:   "${serverUrl}",
  ProfileTypes: []pyroscope.ProfileType{
    pyroscope.ProfileCPU, pyroscope.ProfileAllocSpace, pyroscope.ProfileInuseSpace,
    pyroscope.ProfileGoroutines, pyroscope.ProfileMutexDuration, pyroscope.ProfileBlockDuration,
  },
})`,
    },
    {
      lang: 'Node.js',
      code: `// npm install @pyroscope/nodejs
const Pyroscope = require('@pyroscope/nodejs');

Pyroscope.init({ serverAddress: '${serverUrl}', appName: 'my.service' });
Pyroscope.start();`,
    },
    {
      lang: 'Python',
      code: `# pip install pyroscope-io
import pyroscope

pyroscope.configure(
    application_name="my.service",
    server_address="${serverUrl}",
)`,
    },
  ];
}

export function onboardingPanel(serverUrl: string): HTMLElement {
  const cards = snippets(serverUrl).map(({ lang, code }) => {
    const button = h('button', { class: 'copy' }, 'Copy');
    button.addEventListener('click', async () => {
      await copyText(code);
      button.textContent = 'Copied';
      setTimeout(() => {
        button.textContent = 'Copy';
      }, 1500);
    });
    return h(
      'div',
      { class: 'snippet' },
      h('div', { class: 'snippet-head' }, h('b', {}, lang), button),
      h('pre', {}, code),
    );
  });
  return h(
    'div',
    { class: 'empty onboarding' },
    h('h2', {}, 'No profiles yet'),
    h(
      'p',
      {},
      'Emberscope is running and waiting for data. Point a Pyroscope client at ',
      h('code', {}, serverUrl),
      ' and profiles show up here within seconds (then press Refresh).',
    ),
    h('div', { class: 'snippets' }, ...cards),
  );
}
