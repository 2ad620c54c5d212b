import { fromBinary } from '@bufbuild/protobuf';
import { SelectMergeProfileRequestSchema } from '@emberscope/api';
import { describe, expect, it } from 'vitest';
import { encodeSelectMergeProfileRequest, exportFileBase, toCollapsed, toDiffCsv } from '../src/exports.js';
import { decodeFlamebearer } from '../src/flamebearer.js';
import { EXAMPLE } from './fixtures.js';

describe('exports', () => {
  it('writes collapsed stacks root first, one line per self value', () => {
    expect(toCollapsed(decodeFlamebearer(EXAMPLE))).toBe('foo 1\nfoo;bar 2\nfoo;baz 1\nqux 3\n');
  });

  it('encodes SelectMergeProfileRequest as the generated protobuf code decodes it', () => {
    const bytes = encodeSelectMergeProfileRequest(
      'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
      '{service_name="shöp"}',
      1_700_000_000_123,
      1_700_003_600_456,
    );
    const req = fromBinary(SelectMergeProfileRequestSchema, bytes);
    expect(req.profileTypeID).toBe('process_cpu:cpu:nanoseconds:cpu:nanoseconds');
    expect(req.labelSelector).toBe('{service_name="shöp"}');
    expect(req.start).toBe(1_700_000_000_123n);
    expect(req.end).toBe(1_700_003_600_456n);
  });
});

describe('export files', () => {
  const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

  it('names a file after the service, the profile type, the part and the range in seconds', () => {
    expect(
      exportFileBase(`${CPU}{service_name="checkout", region="eu"}`, 1_700_000_000_999, 1_700_003_600_000),
    ).toBe('checkout-cpu-1700000000-1700003600');
    expect(
      exportFileBase(
        'memory:alloc_space:bytes:space:bytes{}',
        1_700_000_000_000,
        1_700_000_060_000,
        'baseline',
      ),
    ).toBe('profile-allocated_space-baseline-1700000000-1700000060');
    // Label values never become path separators or quotes.
    expect(exportFileBase(`${CPU}{service_name="../a b\\"c"}`, 0, 1000, 'diff')).toBe(
      '.._a_b_c-cpu-diff-0-1',
    );
    expect(exportFileBase(`${CPU}{service_name=~`, 0, 1000)).toBe('profile-cpu-0-1');
  });

  it('writes the diff table as RFC 4180 CSV, quoting names that need it', () => {
    const rows = [
      {
        name: 'main.run',
        baselineSelf: 0,
        baselineTotal: 100,
        comparisonSelf: 0,
        comparisonTotal: 300,
        baseline: 0.5,
        comparison: 0.75,
        change: 0.25,
        relativeChange: 0.5,
      },
      {
        name: 'f(a, "b")',
        baselineSelf: 0,
        baselineTotal: 0,
        comparisonSelf: 7,
        comparisonTotal: 7,
        baseline: 0,
        comparison: 7,
        change: 7,
        relativeChange: null,
      },
    ];
    const table = { rows, count: 2, leftTicks: 200, rightTicks: 400 };
    expect(toDiffCsv({ ...table, normalized: true }).split('\r\n')).toEqual([
      'function,baseline_self,baseline_total,comparison_self,comparison_total,baseline_share,comparison_share,change_share,relative_change',
      'main.run,0,100,0,300,0.5,0.75,0.25,0.5',
      '"f(a, ""b"")",0,0,7,7,0,7,7,',
      '',
    ]);
    expect(toDiffCsv({ ...table, normalized: false }).split('\r\n')[0]).toMatch(
      /,baseline_value,comparison_value,change_value,relative_change$/,
    );
  });
});
