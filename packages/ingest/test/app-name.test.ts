import { describe, expect, test } from 'vitest';
import { parseAppName } from '../src/index.js';
import { expectIngestError } from './helpers.js';

describe('parseAppName', () => {
  test.each([
    ['myapp', 'myapp', []],
    ['  myapp.cpu  ', 'myapp.cpu', []],
    ['my.app.alloc_space', 'my.app.alloc_space', []],
    ['svc-1/api_v2', 'svc-1/api_v2', []],
    ['myapp{}', 'myapp', []],
    ['myapp{env=prod}', 'myapp', [['env', 'prod']]],
    [
      ' myapp { env = prod , region= eu-north } ',
      'myapp',
      [
        ['env', 'prod'],
        ['region', 'eu-north'],
      ],
    ],
    // values are literal: quotes are kept, '=' and '/' are ordinary characters
    [
      'app{a="x",b=c=d,c=com.grafana.pyroscope/go}',
      'app',
      [
        ['a', '"x"'],
        ['b', 'c=d'],
        ['c', 'com.grafana.pyroscope/go'],
      ],
    ],
    ['app{a=1}trailing{b=2}', 'app', [['a', '1']]],
    ['app{a=1,a=2}', 'app', [['a', '2']]],
    ['app{a=}', 'app', [['a', '']]],
    ['app{a=b,}', 'app', [['a', 'b']]],
    ['app{a=b', 'app', [['a', 'b']]],
    ['app{__name__=other,x=1}', 'app', [['x', '1']]],
    [
      'myapp{__session_id__=8c2f0b4e1d3a5f67,env=prod,otel.scope.name=com.grafana.pyroscope/go,otel.scope.version=v1.2.0,process.runtime.name=go,process.runtime.version=go1.22.1}',
      'myapp',
      [
        ['__session_id__', '8c2f0b4e1d3a5f67'],
        ['env', 'prod'],
        ['otel.scope.name', 'com.grafana.pyroscope/go'],
        ['otel.scope.version', 'v1.2.0'],
        ['process.runtime.name', 'go'],
        ['process.runtime.version', 'go1.22.1'],
      ],
    ],
  ])('%j', (input, appName, labels) => {
    const parsed = parseAppName(input);
    expect(parsed.appName).toBe(appName);
    expect(parsed.labels.map((l) => [l.name, l.value])).toEqual(labels);
  });

  test.each([
    ['', /service name is required/],
    ['   ', /service name is required/],
    ['{env=prod}', /service name is required/],
    ['my app', /application name "my app" contains " "/],
    ['app!{a=b}', /contains "!"/],
    ['app{my-key=v}', /label key "my-key" contains "-"/],
    ['app{k/x=v}', /label key "k\/x" contains "\/"/],
    ['app{=v}', /empty key/],
    ['app{a}', /label "a" has no "=value"/],
    ['app{a=1,b}', /label "b" has no "=value"/],
    ['appé', /contains "é"/],
  ])('%j is a 400 bad_name', (input, message) => {
    expectIngestError(() => parseAppName(input), {
      status: 400,
      code: 'invalid_argument',
      reason: 'bad_name',
      message,
    });
  });
});
