import type { LoggerOptions } from 'pino';
import { stdSerializers } from 'pino';

/**
 * Keeps credentials out of the logs: API keys and passwords arrive in `Authorization` headers, in query
 * strings (`?api_key=…`) and in scrape job configs (basic_auth, authorization). Requests are logged
 * without headers and without their query string; known secret-bearing fields are censored wherever
 * they appear in a log object; error messages have secret-looking query parameters blanked.
 */

export const REDACTED = '[redacted]';

const SECRET_FIELDS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'password',
  'credentials',
  'api_key',
  'apiKey',
  'token',
  'secret',
];

const field = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `["${name}"]`);
/** The fields at the top level, one and two levels down (e.g. `job.basic_auth.password`) and under `headers`. */
export const REDACT_PATHS = SECRET_FIELDS.flatMap((name) => {
  const f = field(name);
  return [
    f.startsWith('.') ? f.slice(1) : f,
    `*${f}`,
    `*.*${f}`,
    `headers${f}`,
    `*.headers${f}`,
    `*.*.headers${f}`,
  ];
});

/** Query parameters whose names suggest a secret: key, token, secret, password, auth, signature, credential. */
const SECRET_PARAM =
  /([?&;](?:[^=&;#\s]*?)(?:key|token|secret|passw(?:or)?d|auth|signature|credential)[^=&;#\s]*=)[^&;#\s]*/gi;

/** Blanks the values of secret-looking query parameters in any text (error messages, URLs). */
export function scrubSecrets(text: string): string {
  return text.replace(SECRET_PARAM, `$1${REDACTED}`);
}

/** A URL without its query string (query strings may carry keys and hold user-provided label values). */
export function pathOnly(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const q = url.search(/[?#]/);
  return q === -1 ? url : url.slice(0, q);
}

interface RequestLike {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remotePort?: number };
  routeOptions?: { url?: string };
}

/** What a log line says about a request: no headers, no query string. */
function requestSerializer(req: RequestLike) {
  return {
    method: req.method,
    url: pathOnly(req.url),
    route: req.routeOptions?.url,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

function errorSerializer(err: Error) {
  const out = stdSerializers.err(err) as unknown as Record<string, unknown>;
  if (typeof out.message === 'string') out.message = scrubSecrets(out.message);
  if (typeof out.stack === 'string') out.stack = scrubSecrets(out.stack);
  return out;
}

/** The pino options of the server's logger: level, redaction and the request/error serializers. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: { service: 'emberscope' },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: { req: requestSerializer, err: errorSerializer },
  };
}
