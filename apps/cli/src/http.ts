import { type Args, parseDuration } from './args.js';
import { CliError, ExitCode, UsageError } from './errors.js';

/** A server answered with an HTTP error; `code`/`message` come from its `{code,message}` body when present. */
export class ServerError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly serverMessage: string,
    readonly what: string,
  ) {
    super(
      status === 404 && code === 'route_not_found'
        ? `${what}: not supported by this server (HTTP 404)`
        : `${what}: server answered HTTP ${status}${code ? ` ${code}` : ''}: ${serverMessage}`,
      ExitCode.ServerError,
    );
  }

  /** The route does not exist on this server (an older Emberscope or Grafana Pyroscope). */
  get routeMissing(): boolean {
    return this.code === 'route_not_found';
  }
}

export interface RequestOptions {
  method?: string;
  query?: Record<string, string | number | undefined>;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

/** The HTTP client of every subcommand: base URL, authentication, tenant, timeout, error mapping. */
export class Client {
  readonly baseUrl: string;
  private readonly headers: Record<string, string> = {};
  private readonly timeoutMs: number;

  constructor(args: Args, env: NodeJS.ProcessEnv = process.env) {
    const given = args.parsed.values.get('url')?.at(-1);
    const url = given ?? (env.EMBERSCOPE_URL || undefined) ?? args.string('url') ?? 'http://localhost:4040';
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`invalid --url ${JSON.stringify(url)}: expected e.g. http://localhost:4040`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new UsageError(`invalid --url ${JSON.stringify(url)}: only http and https are supported`);
    this.baseUrl = url.replace(/\/+$/, '');
    const basic = args.string('basic-auth');
    const token = args.string('bearer-token');
    const apiKey = args.string('api-key');
    if ([basic, token, apiKey].filter((v) => v !== undefined).length > 1)
      throw new UsageError('use only one of --basic-auth, --bearer-token and --api-key');
    // An explicit credential (flag or user:password in the URL) wins over EMBERSCOPE_API_KEY.
    const bearer =
      token ?? apiKey ?? (basic === undefined && !parsed.username ? env.EMBERSCOPE_API_KEY : undefined);
    if (basic !== undefined) {
      if (!basic.includes(':')) throw new UsageError('--basic-auth must be USER:PASSWORD');
      this.headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
    } else if (parsed.username) {
      const auth = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
      this.headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
      parsed.username = '';
      parsed.password = '';
      this.baseUrl = parsed.toString().replace(/\/+$/, '');
    }
    if (bearer !== undefined) this.headers.authorization = `Bearer ${bearer}`;
    const tenant = args.string('tenant');
    if (tenant !== undefined) this.headers['x-scope-orgid'] = tenant;
    this.timeoutMs = parseDuration(args.string('timeout') ?? '5m', '--timeout');
  }

  /** Sends a request; throws ServerError for non-2xx answers and CliError (exit 1) for network errors. */
  async request(path: string, opts: RequestOptions = {}): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const method = opts.method ?? (opts.body === undefined ? 'GET' : 'POST');
    const what = `${method} ${url.pathname}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { ...this.headers, ...opts.headers },
        // fetch sends Uint8Array bodies as they are; the DOM typings of some setups only list BufferSource.
        body: opts.body as string | undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new CliError(`cannot reach ${this.baseUrl}: ${networkReason(err)}`, ExitCode.ServerError);
    }
    if (res.status >= 200 && res.status < 300) return res;
    const text = await res.text().catch(() => '');
    let code = '';
    let message = text.trim().split('\n')[0]?.slice(0, 500) ?? '';
    try {
      const body = JSON.parse(text) as { code?: unknown; message?: unknown; error?: unknown };
      if (typeof body.code === 'string') code = body.code;
      if (typeof body.message === 'string') message = body.message;
      else if (typeof body.error === 'string') message = body.error;
    } catch {
      // not JSON: the first line of the body is the message
    }
    if (res.status === 404 && isMissingRoute(code, message, text)) code = 'route_not_found';
    if (!message) message = res.statusText || 'no message';
    throw new ServerError(res.status, code, message, what);
  }

  async getJson<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    const res = await this.request(path, { query });
    return parseJson<T>(await res.text(), path);
  }

  /** A Connect unary call with the JSON codec (`POST /<service>/<Method>`). */
  async connect<T>(service: string, method: string, request: unknown): Promise<T> {
    const path = `/${service}/${method}`;
    const res = await this.request(path, {
      body: JSON.stringify(request),
      headers: { 'content-type': 'application/json' },
    });
    return parseJson<T>(await res.text(), path);
  }

  /** A Connect unary call with the binary protobuf codec; returns the response message bytes. */
  async connectProto(service: string, method: string, message: Uint8Array): Promise<Uint8Array> {
    const res = await this.request(`/${service}/${method}`, {
      body: message,
      headers: { 'content-type': 'application/proto' },
    });
    return new Uint8Array(await res.arrayBuffer());
  }

  querier<T>(method: string, request: unknown): Promise<T> {
    return this.connect<T>('querier.v1.QuerierService', method, request);
  }
}

function parseJson<T>(text: string, path: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError(
      `${path}: the server's answer is not JSON: ${text.slice(0, 200)}`,
      ExitCode.ServerError,
    );
  }
}

/**
 * A 404 for a route the server does not have, as opposed to a 404 for missing data. Emberscope says
 * `no route for …`; Fastify, Go's mux and Grafana Pyroscope say `404 page not found` / `Not Found`.
 */
function isMissingRoute(code: string, message: string, text: string): boolean {
  if (/no route for|page not found|route .* not found/i.test(message)) return true;
  if (code === 'not_found' && /no route/i.test(message)) return true;
  return code === '' && /^(404 )?not found$/i.test(text.trim());
}

function networkReason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'request timed out (see --timeout)';
  const cause = e?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return cause?.message ?? e?.message ?? String(err);
}

/** Writes a progress line on stderr (never stdout, which carries the result). */
export function progress(command: string, text: string): void {
  process.stderr.write(`emberscope ${command}: ${text}\n`);
}
