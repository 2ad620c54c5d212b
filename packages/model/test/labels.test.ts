import { describe, expect, it } from 'vitest';
import { type Labels, matchLabels } from '../src/labels.js';
import { parseSelector } from '../src/selector.js';

const labels: Labels = [
  { name: 'env', value: 'prod' },
  { name: 'service_name', value: 'shop' },
];
const matches = (selector: string) => matchLabels(labels, parseSelector(selector));

describe('matchLabels', () => {
  it('applies every matcher', () => {
    expect(matches('{}')).toBe(true);
    expect(matches('{service_name="shop", env="prod"}')).toBe(true);
    expect(matches('{service_name="shop", env="dev"}')).toBe(false);
    expect(matches('{env!="dev"}')).toBe(true);
    expect(matches('{env!="prod"}')).toBe(false);
  });

  it('treats a missing label as the empty string', () => {
    expect(matches('{region=""}')).toBe(true);
    expect(matches('{region!=""}')).toBe(false);
    expect(matches('{env!=""}')).toBe(true);
    expect(matches('{region=~"eu.*|"}')).toBe(true);
    expect(matches('{region!~".+"}')).toBe(true);
  });

  it('anchors regexes at both ends', () => {
    expect(matches('{env=~"pro"}')).toBe(false);
    expect(matches('{env=~"rod"}')).toBe(false);
    expect(matches('{env=~"pro.*"}')).toBe(true);
    expect(matches('{env=~"dev|prod"}')).toBe(true);
    expect(matches('{env!~"dev|prod"}')).toBe(false);
  });

  it('supports the RE2 case-insensitive flag', () => {
    expect(matches('{env=~"(?i)PROD"}')).toBe(true);
    expect(matches('{env=~"PROD"}')).toBe(false);
  });

  it('compiles regexes of hand-made matchers on the fly', () => {
    expect(matchLabels(labels, [{ name: 'env', op: '=~', value: 'p.*' }])).toBe(true);
  });
});
