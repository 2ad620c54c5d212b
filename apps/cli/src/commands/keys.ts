import { type KeyRecord, KeyStore, KeyStoreError, keyFilePath, ROLES, type Role } from '@emberscope/server';
import type { Args } from '../args.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { type Client, ServerError } from '../http.js';

/**
 * Where keys are managed: offline in a data directory (the server need not run; a running server on
 * that directory sees the change on its next request), or through a running server's admin API.
 */
interface KeyBackend {
  create(role: Role, tenant: string | null, description: string): Promise<{ key: string; record: KeyRecord }>;
  list(): Promise<KeyRecord[]>;
  revoke(id: string): Promise<void>;
}

function offline(dataDir: string): KeyBackend {
  const store = new KeyStore(keyFilePath(dataDir));
  return {
    async create(role, tenant, description) {
      return store.create({ role, tenant, description });
    },
    async list() {
      return store.list();
    },
    async revoke(id) {
      if (!store.revoke(id))
        throw new CliError(`no API key with id ${JSON.stringify(id)}`, ExitCode.NotFound);
    },
  };
}

function online(client: Client): KeyBackend {
  return {
    async create(role, tenant, description) {
      const res = await client.request('/api/v1/admin/keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ role, tenant, description }),
      });
      const { key, ...record } = (await res.json()) as KeyRecord & { key: string };
      return { key, record };
    },
    async list() {
      return (await client.getJson<{ keys: KeyRecord[] }>('/api/v1/admin/keys')).keys;
    },
    async revoke(id) {
      try {
        await client.request(`/api/v1/admin/keys/${encodeURIComponent(id)}`, { method: 'DELETE' });
      } catch (err) {
        if (err instanceof ServerError && err.code === 'not_found')
          throw new CliError(`no API key with id ${JSON.stringify(id)}`, ExitCode.NotFound);
        throw err;
      }
    },
  };
}

function formatTable(keys: KeyRecord[]): string {
  const rows = [['ID', 'ROLE', 'TENANT', 'CREATED', 'DESCRIPTION']];
  for (const k of keys) rows.push([k.id, k.role, k.tenant ?? '*', k.createdAt, k.description]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `emberscope admin keys create|list|revoke`. */
export async function keysCommand(
  rest: string[],
  args: Args,
  client: Client,
  json: boolean,
): Promise<number> {
  const [op, ...operands] = rest;
  const dataDir = args.string('data-dir');
  const backend = dataDir !== undefined ? offline(dataDir) : online(client);
  try {
    switch (op) {
      case 'create': {
        if (operands.length) throw new UsageError(`unexpected argument ${JSON.stringify(operands[0])}`);
        const role = args.string('role');
        if (role === undefined) throw new UsageError(`keys create needs --role (${ROLES.join(', ')})`);
        if (!ROLES.includes(role as Role))
          throw new UsageError(`unknown role ${JSON.stringify(role)}: use ${ROLES.join(', ')}`);
        const { key, record } = await backend.create(
          role as Role,
          args.string('tenant') ?? null,
          args.string('description') ?? '',
        );
        // stdout carries the key alone, so `KEY=$(emberscope admin keys create …)` works.
        console.log(json ? JSON.stringify({ key, ...record }) : key);
        console.error(
          `created API key ${record.id} (role ${record.role}, ${record.tenant ? `tenant ${record.tenant}` : 'any tenant'}); it is shown only this once`,
        );
        return ExitCode.Ok;
      }
      case 'list': {
        if (operands.length) throw new UsageError(`unexpected argument ${JSON.stringify(operands[0])}`);
        const keys = await backend.list();
        console.log(json ? JSON.stringify({ keys }) : formatTable(keys));
        return ExitCode.Ok;
      }
      case 'revoke': {
        if (operands.length !== 1)
          throw new UsageError('keys revoke needs exactly one key ID (see keys list)');
        await backend.revoke(operands[0]);
        console.log(json ? JSON.stringify({ revoked: operands[0] }) : `revoked API key ${operands[0]}`);
        return ExitCode.Ok;
      }
      case undefined:
        throw new UsageError('say which keys operation: create, list or revoke ID');
      default:
        throw new UsageError(`unknown keys operation ${JSON.stringify(op)}: use create, list or revoke ID`);
    }
  } catch (err) {
    if (err instanceof KeyStoreError) throw new CliError(err.message, ExitCode.ServerError);
    throw err;
  }
}
