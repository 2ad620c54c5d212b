import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { ConfigError, type ServerConfig } from './config.js';
import { formatBytes } from './format-bytes.js';
import type { TlsPair } from './tls.js';

/**
 * The Node HTTP(S) server under Fastify, with the connection limits that protect it from slow or
 * oversized clients: a deadline for the headers (slow loris) and for the whole request, the idle
 * keep-alive time and the largest request head.
 */

type HttpLimits = Pick<
  ServerConfig,
  'http_request_timeout' | 'http_headers_timeout' | 'http_keep_alive_timeout' | 'max_header_size'
>;

/** Throws a ConfigError for limits Node would refuse or that make no sense together. */
export function checkHttpLimits(config: HttpLimits): void {
  if (config.http_headers_timeout <= 0)
    throw new ConfigError('--http-headers-timeout must be more than 0 (it is what stops slow-loris clients)');
  if (config.http_request_timeout > 0 && config.http_headers_timeout > config.http_request_timeout)
    throw new ConfigError(
      `--http-headers-timeout (${config.http_headers_timeout} ms) must not exceed --http-request-timeout (${config.http_request_timeout} ms)`,
    );
  if (config.max_header_size < 1024)
    throw new ConfigError(
      '--max-header-size must be at least 1KiB (clients send a few hundred bytes of headers)',
    );
}

/** Creates the server Fastify listens on: HTTPS with `tls`, else plain HTTP. */
export function createNodeServer(
  config: HttpLimits,
  tls: TlsPair | undefined,
  handler: http.RequestListener,
): http.Server {
  checkHttpLimits(config);
  const options: http.ServerOptions = {
    maxHeaderSize: config.max_header_size,
    requestTimeout: config.http_request_timeout,
    headersTimeout: config.http_headers_timeout,
    keepAliveTimeout: config.http_keep_alive_timeout,
    // How often Node looks for requests past their deadlines (default 30 s, far coarser than the timeouts).
    connectionsCheckingInterval: Math.min(
      30_000,
      Math.max(250, Math.floor(config.http_headers_timeout / 10)),
    ),
  };
  const server = tls
    ? // A client that never finishes the TLS handshake is cut like one that never finishes its headers.
      https.createServer(
        { ...options, cert: tls.cert, key: tls.key, handshakeTimeout: config.http_headers_timeout },
        handler,
      )
    : http.createServer(options, handler);
  server.keepAliveTimeout = config.http_keep_alive_timeout;
  // No idle-socket timeout of its own: the deadlines above and keepAliveTimeout cover every state.
  server.setTimeout(0);
  return server;
}

/** The route label of refusals made before a request reached a route (in `emberscope_request_errors_total`). */
export const CONNECTION_ROUTE = '(connection)';

/**
 * Malformed HTTP, oversized heads and requests past their deadline, answered before any route runs in the
 * same JSON shape as other errors; `onRefused` counts them.
 */
export function clientErrorHandler(
  config: HttpLimits,
  onRefused: (status: number, reason: string) => void = () => {},
): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    if (!socket.writable) return void socket.destroy();
    let status: string;
    let reason: string;
    let body: { code: string; message: string };
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      status = '431 Request Header Fields Too Large';
      reason = 'headers_too_large';
      body = {
        code: 'resource_exhausted',
        message: `request URL and headers exceed the ${formatBytes(config.max_header_size)} limit`,
      };
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = '408 Request Timeout';
      reason = 'request_timeout';
      body = {
        code: 'deadline_exceeded',
        message: `request not received in time: headers within ${config.http_headers_timeout / 1000}s, the whole request within ${config.http_request_timeout / 1000}s`,
      };
    } else {
      status = '400 Bad Request';
      reason = 'bad_http';
      body = { code: 'invalid_argument', message: `malformed HTTP request: ${err.message}` };
    }
    onRefused(Number.parseInt(status, 10), reason);
    const text = JSON.stringify(body);
    socket.end(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  };
}
