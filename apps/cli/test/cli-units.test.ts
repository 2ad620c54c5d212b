import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseArgs, parseDuration, parseTime } from '../src/args.js';
import { flamebearerOf, selectMergeProfileRequest } from '../src/commands/export.js';
import { detectFormat } from '../src/commands/ingest.js';
import { UsageError } from '../src/errors.js';
import { collapsedOf, functionTableOf, unitFormatter } from '../src/profile.js';

const now = Date.UTC(2026, 10, 26, 15, 0, 0);

describe('time syntax', () => {
  it('reads now, now-<duration>, unix s/ms/µs/ns and RFC 3339', () => {
    expect(parseTime('now', now)).toBe(now);
    expect(parseTime('now-1h', now)).toBe(now - 3_600_000);
    expect(parseTime('now-1h30m', now)).toBe(now - 5_400_000);
    expect(parseTime('now+10s', now)).toBe(now + 10_000);
    expect(parseTime('1795700000', now)).toBe(1_795_700_000_000);
    expect(parseTime('1795700000123', now)).toBe(1_795_700_000_123);
    expect(parseTime('1795700000123456', now)).toBe(1_795_700_000_123);
    expect(parseTime('1795700000123456789', now)).toBe(1_795_700_000_123);
    expect(parseTime('2026-11-26T14:00:00Z', now)).toBe(now - 3_600_000);
    expect(parseTime('2026-11-26T16:00:00+02:00', now)).toBe(now - 3_600_000);
  });

  it('refuses anything else with a usage error naming the flag', () => {
    expect(() => parseTime('yesterday', now, 'from')).toThrow(/invalid --from "yesterday"/);
    expect(() => parseTime('now-1x', now, 'until')).toThrow(UsageError);
    expect(() => parseDuration('')).toThrow(UsageError);
    expect(parseDuration('1d2h')).toBe(93_600_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
  });
});

describe('flags', () => {
  const specs = [
    { name: 'query', kind: 'string' as const, help: '' },
    { name: 'out', short: 'o', kind: 'string' as const, help: '' },
    { name: 'label', kind: 'string' as const, multiple: true, help: '' },
    { name: 'yes', kind: 'boolean' as const, help: '' },
  ];

  it('takes --flag value, --flag=value, -o value, -oVALUE, repeated flags, booleans and --', () => {
    const p = parseArgs(
      ['a', '--query', 'q', '--label=x', '--label', 'y', '-o', 'f', '--yes', '--', '--not-a-flag'],
      specs,
    );
    expect(p.positionals).toEqual(['a', '--not-a-flag']);
    expect(p.values.get('query')).toEqual(['q']);
    expect(p.values.get('label')).toEqual(['x', 'y']);
    expect(p.values.get('out')).toEqual(['f']);
    expect(p.values.get('yes')).toEqual(['true']);
    expect(parseArgs(['-ofile'], specs).values.get('out')).toEqual(['file']);
    expect(parseArgs(['--help'], specs).help).toBe(true);
  });

  it('refuses unknown flags, missing values and repeated single flags', () => {
    expect(() => parseArgs(['--nope'], specs)).toThrow('unknown flag --nope');
    expect(() => parseArgs(['-x'], specs)).toThrow('unknown flag -x');
    expect(() => parseArgs(['--query'], specs)).toThrow('--query needs a value');
    expect(() => parseArgs(['--query', 'a', '--query', 'b'], specs)).toThrow('given more than once');
    expect(() => parseArgs(['--yes=maybe'], specs)).toThrow('takes no value');
  });
});

describe('flame graph tables', () => {
  const stacks = new Map([
    ['main;a;b', 3],
    ['main;a', 2],
    ['main;c;a', 5],
  ]);

  it('builds a flamebearer whose collapsed form and function table are those of the stacks', () => {
    const fb = flamebearerOf(stacks);
    expect(fb.numTicks).toBe(10);
    expect(fb.maxSelf).toBe(5);
    expect(collapsedOf(fb)).toBe('main;a 2\nmain;a;b 3\nmain;c;a 5\n');
    const table = functionTableOf(fb);
    expect(table.total).toBe(10);
    expect(table.functions.sort((x, y) => (x.name < y.name ? -1 : 1))).toEqual([
      { name: 'a', self: 7, total: 10 },
      { name: 'b', self: 3, total: 3 },
      { name: 'c', self: 0, total: 5 },
      { name: 'main', self: 0, total: 10 },
    ]);
  });

  it('counts recursive calls once in the total, from Connect JSON levels (int64 as strings)', () => {
    const fb = flamebearerOf(new Map([['f;f;f', 4]]));
    const connect = { names: fb.names, levels: fb.levels.map((l) => ({ values: l.map(String) })) };
    expect(functionTableOf(connect).functions).toEqual([{ name: 'f', self: 4, total: 4 }]);
  });
});

describe('formats and units', () => {
  it('tells pprof from folded text, gzip or not', () => {
    const pprof = Buffer.from([0x0a, 0x04, 0x08, 0x01, 0x10, 0x02, 0x12, 0x00]);
    expect(detectFormat(pprof)).toEqual({ format: 'pprof', gzip: false });
    expect(detectFormat(gzipSync(pprof))).toEqual({ format: 'pprof', gzip: true });
    expect(detectFormat(Buffer.from('main;work 1\n'))).toEqual({ format: 'folded', gzip: false });
    expect(detectFormat(gzipSync('main;work 1\n'))).toEqual({ format: 'folded', gzip: true });
  });

  it('shows nanoseconds as time and bytes in kB/MB/GB', () => {
    const cpu = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
    expect(unitFormatter(cpu, 9e9).format(1.5e9)).toBe('1.50s');
    expect(unitFormatter(cpu, 5e8).format(3e8)).toBe('300.0ms');
    expect(unitFormatter('memory:alloc_space:bytes:space:bytes', 5e7).format(25_690_000)).toBe('25.69MB');
    expect(unitFormatter('goroutine:goroutine:count:goroutine:count', 12).format(7)).toBe('7');
  });

  it('encodes SelectMergeProfileRequest as protobuf', () => {
    const bytes = selectMergeProfileRequest(
      { profileTypeId: 'a:b:c:d:e', selector: '{}', text: '' },
      { start: 1, end: 300 },
    );
    expect(Buffer.from(bytes).toString('hex')).toBe(
      `0a09${Buffer.from('a:b:c:d:e').toString('hex')}1202${Buffer.from('{}').toString('hex')}1801${'20ac02'}`,
    );
  });
});
