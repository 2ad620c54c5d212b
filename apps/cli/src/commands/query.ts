import { outputOption, timeRangeOf, timeRangeOptions } from '../args.js';
import type { Command } from '../command.js';
import { ExitCode, NoDataError, UsageError } from '../errors.js';
import { profileTypesOf } from '../profile.js';

const what = ['profile-types', 'label-names', 'label-values', 'series'] as const;

interface Label {
  name: string;
  value: string;
}

const formatLabels = (labels: Label[]) =>
  `{${labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(', ')}}`;

export const queryCommand: Command = {
  name: 'query',
  summary: 'list profile types, label names, label values or series',
  usage: 'emberscope query profile-types|label-names|label-values NAME|series [options]',
  description: `Asks the server's querier.v1.QuerierService (the Pyroscope query API) what it holds in a time range:
  profile-types        profile type IDs, e.g. process_cpu:cpu:nanoseconds:cpu:nanoseconds (of --selector)
  label-names          label names of the series that match --selector
  label-values NAME    values of label NAME
  series               the label sets of the series that match --selector
Exits 3 when the answer is empty.

Examples:
  emberscope query profile-types --from now-24h
  emberscope query label-values service_name
  emberscope query series --selector '{service_name="checkout"}' --label service_name --label hostname`,
  options: [
    {
      name: 'selector',
      kind: 'string',
      value: '{…}',
      multiple: true,
      help: 'label selector, e.g. {service_name="api"}; repeat for a union',
    },
    {
      name: 'label',
      kind: 'string',
      value: 'NAME',
      multiple: true,
      help: 'series: only these labels of each series (repeatable)',
    },
    ...timeRangeOptions(),
    outputOption,
  ],
  async run(args, client) {
    const [kind, ...rest] = args.positionals;
    if (!kind) throw new UsageError(`say what to query: ${what.join(', ')}`);
    if (!(what as readonly string[]).includes(kind))
      throw new UsageError(`unknown query ${JSON.stringify(kind)}: use ${what.join(', ')}`);
    const wanted = kind === 'label-values' ? 1 : 0;
    if (rest.length < wanted) throw new UsageError('label-values needs a label NAME');
    if (rest.length > wanted) throw new UsageError(`unexpected argument ${JSON.stringify(rest[wanted])}`);
    const output = args.choice('output', ['text', 'json'] as const);
    const range = timeRangeOf(args);
    const matchers = args.all('selector');
    for (const m of matchers)
      if (!m.trim().startsWith('{') || !m.trim().endsWith('}'))
        throw new UsageError(`--selector ${JSON.stringify(m)} must be written {name="value", …}`);

    let items: string[];
    let json: unknown;
    switch (kind) {
      case 'profile-types': {
        const ids = new Set<string>();
        for (const selector of matchers.length ? matchers : ['{}'])
          for (const id of await profileTypesOf(client, selector, range)) ids.add(id);
        items = [...ids].sort();
        json = items;
        break;
      }
      case 'label-names':
      case 'label-values': {
        const method = kind === 'label-names' ? 'LabelNames' : 'LabelValues';
        const res = await client.querier<{ names?: string[] }>(method, {
          ...(kind === 'label-values' ? { name: rest[0] } : {}),
          matchers,
          ...range,
        });
        items = res.names ?? [];
        json = items;
        break;
      }
      default: {
        const res = await client.querier<{ labelsSet?: { labels?: Label[] }[] }>('Series', {
          matchers,
          labelNames: args.all('label'),
          ...range,
        });
        const sets = (res.labelsSet ?? []).map((s) => s.labels ?? []);
        json = sets.map((labels) => Object.fromEntries(labels.map((l) => [l.name, l.value])));
        items = sets.map(formatLabels);
      }
    }
    if (items.length === 0) {
      if (output === 'json') console.log('[]');
      throw new NoDataError(
        `no ${kind.replace('-', ' ')}${kind === 'label-values' ? ` for ${rest[0]}` : ''} in this range${matchers.length ? ` for ${matchers.join(' or ')}` : ''}`,
      );
    }
    console.log(output === 'json' ? JSON.stringify(json) : items.join('\n'));
    return ExitCode.Ok;
  },
};
