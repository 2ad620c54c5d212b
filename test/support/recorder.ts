import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a client sent through the recording proxy, with the answer it got. */
export interface RecordedRequest {
  seq: number;
  receivedAt: number; // ms since epoch, when the request was complete
  method: string;
  url: string; // path + query, as sent
  headers: Record<string, string>; // lower-cased names; repeated headers joined with ", "
  body: Buffer;
  status: number; // status of the answer relayed to the client (502 when the backend was unreachable)
  responseHeaders: Record<string, string>;
  responseBody: Buffer;
}

export interface RecordingProxy {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Resolves when no request is in flight (waiting at most `timeoutMs`). */
  idle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface RecordingProxyOptions {
  /** Base URL of the server to forward to (e.g. `http://127.0.0.1:1234`). */
  target: string;
  port?: number;
}

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
]);

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function forward(
  target: URL,
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k)) outHeaders[k] = v;
    outHeaders['content-length'] = String(body.length);
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        method,
        path: url,
        headers: { ...outHeaders, host: target.host },
        agent: false,
      },
      (res) => {
        readAll(res).then(
          (b) => resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res.headers), body: b }),
          reject,
        );
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error('backend timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A tiny HTTP proxy on 127.0.0.1 that records method, URL, headers and the exact body bytes of every
 * request, forwards it unchanged (apart from hop-by-hop headers) to `target`, and relays the answer.
 * The recorded bodies are what the tests decode to compute expected values independently of the server.
 */
export async function startRecordingProxy(opts: RecordingProxyOptions): Promise<RecordingProxy> {
  const target = new URL(opts.target);
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let seq = 0;
  const idleWaiters: Array<() => void> = [];
  const settle = () => {
    if (inFlight === 0) for (const w of idleWaiters.splice(0)) w();
  };

  const server = http.createServer((req, res) => {
    inFlight++;
    const mySeq = ++seq;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const headers = flatHeaders(req.headers);
    readAll(req)
      .then(async (body) => {
        const receivedAt = Date.now();
        let answer: { status: number; headers: Record<string, string>; body: Buffer };
        try {
          answer = await forward(target, method, url, headers, body);
        } catch (err) {
          answer = {
            status: 502,
            headers: { 'content-type': 'text/plain' },
            body: Buffer.from(`recording proxy: backend error: ${(err as Error).message}`),
          };
        }
        requests.push({
          seq: mySeq,
          receivedAt,
          method,
          url,
          headers,
          body,
          status: answer.status,
          responseHeaders: answer.headers,
          responseBody: answer.body,
        });
        const relay: Record<string, string> = {};
        for (const [k, v] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(k)) relay[k] = v;
        relay['content-length'] = String(answer.body.length);
        res.writeHead(answer.status, relay);
        res.end(answer.body);
      })
      .catch((err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`recording proxy: ${err.message}`);
      })
      .finally(() => {
        inFlight--;
        settle();
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  if (port === 4045) {
    await new Promise<void>((r) => server.close(() => r()));
    return startRecordingProxy(opts);
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    idle(timeoutMs = 30_000) {
      if (inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`recording proxy: ${inFlight} request(s) still in flight`)),
          timeoutMs,
        );
        idleWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
