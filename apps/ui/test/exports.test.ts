import { fromBinary } from '@bufbuild/protobuf';
import { SelectMergeProfileRequestSchema } from '@emberscope/api';
import { describe, expect, it } from 'vitest';
import { encodeSelectMergeProfileRequest, toCollapsed } from '../src/exports.js';
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
