import { outputOption } from '../args.js';
import type { Command } from '../command.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { type Client, ServerError } from '../http.js';
import { keysCommand } from './keys.js';

interface TenantReport {
  tenant: string;
  blocks: unknown[];
  blockBytes: number;
  headProfiles: number;
  headBytes: number;
  walBytes: number;
  diskBytes: number;
  oldestProfileMs: number;
  newestProfileMs: number;
}

interface StorageReport {
  retentionMs?: number;
  maxDiskBytes?: number;
  compactions?: number;
  retentionDeletedBlocks?: number;
  retentionDeletedBytes?: number;
  totals?: Omit<TenantReport, 'tenant' | 'blocks'> & { blocks: number };
  tenants?: TenantReport[];
}

const bytes = (n = 0) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} GB`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} kB`
        : `${n} B`;
const time = (ms?: number) => (ms && ms > 0 ? new Date(ms).toISOString() : '-');
const days = (ms?: number) =>
  !ms ? 'off' : ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${Math.round(ms / 3_600_000)}h`;

async function storage(client: Client, json: boolean): Promise<number> {
  let report: StorageReport;
  try {
    report = await client.getJson<StorageReport>('/api/v1/status/storage');
  } catch (err) {
    if (err instanceof ServerError && err.routeMissing)
      throw new CliError(
        'storage: not supported by this server (no GET /api/v1/status/storage)',
        ExitCode.ServerError,
      );
    throw err;
  }
  if (json) {
    console.log(JSON.stringify(report));
    return ExitCode.Ok;
  }
  const lines = [
    `retention: ${days(report.retentionMs)}, disk limit: ${report.maxDiskBytes ? bytes(report.maxDiskBytes) : 'off'}`,
    `compactions: ${report.compactions ?? 0}, deleted by retention: ${report.retentionDeletedBlocks ?? 0} blocks (${bytes(report.retentionDeletedBytes)})`,
  ];
  if (report.totals) {
    const t = report.totals;
    lines.push(
      `total: ${bytes(t.diskBytes)} on disk (${t.blocks} blocks ${bytes(t.blockBytes)}, WAL ${bytes(t.walBytes)}), head ${t.headProfiles} profiles ${bytes(t.headBytes)}, oldest ${time(t.oldestProfileMs)}, newest ${time(t.newestProfileMs)}`,
    );
  }
  lines.push(
    '',
    'tenant'.padEnd(20) +
      'disk'.padStart(12) +
      'blocks'.padStart(8) +
      'head profiles'.padStart(15) +
      '  oldest                    newest',
  );
  for (const t of report.tenants ?? [])
    lines.push(
      t.tenant.padEnd(20) +
        bytes(t.diskBytes).padStart(12) +
        String(t.blocks.length).padStart(8) +
        String(t.headProfiles).padStart(15) +
        `  ${time(t.oldestProfileMs).padEnd(26)}${time(t.newestProfileMs)}`,
    );
  console.log(lines.join('\n'));
  return ExitCode.Ok;
}

/**
 * Operations the server must offer an endpoint for. When it answers 404 for the route, the command says the
 * server does not support it (exit 1) instead of doing something else.
 */
async function adminCall(
  client: Client,
  what: string,
  method: string,
  path: string,
  json: boolean,
): Promise<number> {
  let res: Response;
  try {
    res = await client.request(path, { method, headers: { 'content-type': 'application/json' }, body: '{}' });
  } catch (err) {
    if (err instanceof ServerError && (err.routeMissing || err.status === 404 || err.status === 405))
      throw new CliError(
        `${what}: not supported by this server (${method} ${path} answered HTTP ${err.status})`,
        ExitCode.ServerError,
      );
    throw err;
  }
  const text = await res.text();
  console.log(json ? text || '{}' : `${what}: done${text && text !== '{}' ? `: ${text}` : ''}`);
  return ExitCode.Ok;
}

export const adminCommand: Command = {
  name: 'admin',
  summary: 'storage report, run retention now, delete a service, manage API keys',
  usage: 'emberscope admin storage|retention|delete-service NAME|keys create|list|revoke ID [options]',
  description: `Administration of an Emberscope server:
  storage               data on disk, blocks, WAL, oldest and newest profile, retention (GET /api/v1/status/storage)
  retention             apply the retention policy now (POST /api/v1/admin/retention)
  delete-service NAME   delete every profile of a service (DELETE /api/v1/admin/services/NAME)
  keys create --role ingest|read|admin [--tenant T] [--description TEXT]
                        create an API key and print it alone on stdout (shown only once); --tenant binds
                        it to one tenant
  keys list             list keys (id, role, tenant, created, description; never the secrets)
  keys revoke ID        revoke a key; a running server refuses it from its next request
  The keys operations work offline on a data directory with --data-dir DIR (no server needed, e.g. to
  create the first admin key), or against a running server with --url and an admin key (--api-key).
A server without the endpoint (Grafana Pyroscope, or an Emberscope that does not offer it yet) is
reported as "not supported by this server" with exit code 1.`,
  options: [
    { name: 'yes', kind: 'boolean', help: 'delete-service: confirm the deletion' },
    { name: 'role', kind: 'string', value: 'ROLE', help: 'keys create: ingest, read or admin' },
    { name: 'description', kind: 'string', value: 'TEXT', help: 'keys create: what the key is for' },
    {
      name: 'data-dir',
      kind: 'string',
      value: 'DIR',
      help: 'keys: manage the keys of this data directory directly instead of through --url',
    },
    outputOption,
  ],
  async run(args, client) {
    const [op, ...rest] = args.positionals;
    const json = args.choice('output', ['text', 'json'] as const) === 'json';
    switch (op) {
      case 'storage':
        if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
        return storage(client, json);
      case 'retention':
        if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
        return adminCall(client, 'retention', 'POST', '/api/v1/admin/retention', json);
      case 'delete-service': {
        if (rest.length !== 1) throw new UsageError('delete-service needs exactly one service NAME');
        if (!args.bool('yes')) throw new UsageError(`deleting every profile of ${rest[0]} needs --yes`);
        return adminCall(
          client,
          'delete-service',
          'DELETE',
          `/api/v1/admin/services/${encodeURIComponent(rest[0])}`,
          json,
        );
      }
      case 'keys':
        return keysCommand(rest, args, client, json);
      case undefined:
        throw new UsageError('say which operation: storage, retention, delete-service NAME or keys');
      default:
        throw new UsageError(
          `unknown admin operation ${JSON.stringify(op)}: use storage, retention, delete-service NAME or keys`,
        );
    }
  },
};
