import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig, parseListen, serverHelp } from '../src/config.js';

describe('loadConfig', () => {
  test('defaults: 0.0.0.0:4040 and ./data', () => {
    const c = loadConfig([], {});
    expect(c.listen).toBe('0.0.0.0:4040');
    expect(c.data_dir).toBe('./data');
    expect(c.multitenancy_enabled).toBe(false);
    expect(c.max_request_body).toBe(64 * 1024 * 1024);
    expect(c.block_duration).toBe(3_600_000);
  });

  test('flags beat environment, which beats the YAML file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'emberscope-config-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      'listen: 127.0.0.1:5000\ndata_dir: /from/file\nlog_level: warn\nblock_duration: 15m\n',
    );
    const env = { EMBERSCOPE_DATA_DIR: '/from/env', EMBERSCOPE_LOG_LEVEL: 'debug' };
    const c = loadConfig(['--config', file, '--log-level=error'], env);
    expect(c.listen).toBe('127.0.0.1:5000');
    expect(c.data_dir).toBe('/from/env');
    expect(c.log_level).toBe('error');
    expect(c.block_duration).toBe(15 * 60_000);
  });

  test('units for sizes and durations, bare boolean flags', () => {
    const c = loadConfig(
      ['--max-request-body', '2MiB', '--multitenancy-enabled', '--shutdown-timeout', '5s'],
      {},
    );
    expect(c.max_request_body).toBe(2 * 1024 * 1024);
    expect(c.multitenancy_enabled).toBe(true);
    expect(c.shutdown_timeout).toBe(5000);
    expect(loadConfig([], { EMBERSCOPE_MULTITENANCY_ENABLED: 'false' }).multitenancy_enabled).toBe(false);
  });

  test('clear errors name the offending option', () => {
    expect(() => loadConfig(['--nope'], {})).toThrow(new ConfigError('unknown option --nope (see --help)'));
    expect(() => loadConfig(['--listen'], {})).toThrow('option --listen needs a value');
    expect(() => loadConfig(['--listen', 'localhost'], {})).toThrow('--listen: expected HOST:PORT');
    expect(() => loadConfig([], { EMBERSCOPE_MAX_REQUEST_BODY: 'lots' })).toThrow(
      /EMBERSCOPE_MAX_REQUEST_BODY: invalid value "lots"/,
    );
    expect(() => loadConfig(['--block-duration', '3 fortnights'], {})).toThrow(
      /expected a unit among ms, s, m, h, d/,
    );
    expect(() => loadConfig(['--config', '/nonexistent.yaml'], {})).toThrow(/cannot read config file/);
    const dir = mkdtempSync(join(tmpdir(), 'emberscope-config-'));
    writeFileSync(join(dir, 'c.yaml'), 'listne: 1\n');
    expect(() => loadConfig(['--config', join(dir, 'c.yaml')], {})).toThrow(/unknown key "listne"/);
  });

  test('parseListen accepts IPv6 and an empty host', () => {
    expect(parseListen('[::1]:4040')).toEqual({ host: '::1', port: 4040 });
    expect(parseListen(':4040')).toEqual({ host: '0.0.0.0', port: 4040 });
  });
});

test('--help documents every option with its default, env variable and config key', () => {
  const help = serverHelp();
  for (const key of Object.keys(loadConfig([], {}))) {
    const flag = `--${key.replaceAll('_', '-')}`;
    expect(help, flag).toContain(flag);
    expect(help, key).toContain(`env EMBERSCOPE_${key.toUpperCase()}; config key ${key}`);
  }
  expect(help).toContain('default 0.0.0.0:4040');
  expect(help).toContain('default ./data');
  expect(help).toContain('default 64MiB');
});
