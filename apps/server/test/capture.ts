/** Test helpers for the hardening tests: a server whose log lines are captured, and raw HTTP exchanges. */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, loadConfig, type ServerConfig, startServer } from '../src/index.js';

/** Starts an in-process server on a free loopback port, logging at `level` into `lines`. */
export async function startCapturingServer(overrides: Partial<ServerConfig> = {}, level = 'debug') {
  const lines: string[] = [];
  const log = createLogger(level, { write: (line: string) => void lines.push(line) });
  const dir = mkdtempSync(join(tmpdir(), 'emberscope-test-'));
  const config = { ...loadConfig([], {}), listen: '127.0.0.1:0', data_dir: dir, ...overrides };
  const server = await startServer(config, log).catch((err) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    server,
    url: server.url,
    dataDir: dir,
    lines,
    logText: () => lines.join(''),
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses the first complete HTTP/1.1 response in `data` (Content-Length bodies only), or undefined. */
export function parseResponse(data: string): RawResponse | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...headerLines] = data.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = data.slice(end + 4);
  if (Buffer.byteLength(body) < length) return undefined;
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

/** A raw TCP connection to the server, for requests fetch cannot make (partial bodies, trickled headers). */
export class RawConnection {
  readonly socket: Socket;
  private data = '';
  readonly closed: Promise<void>;
  private readonly ready: Promise<void>;

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = connect(Number(port), hostname);
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => {
      this.data += chunk;
    });
    // A reset after the answer is fine: the tests look at what arrived.
    this.socket.on('error', () => {});
    this.ready = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  async write(chunk: string | Buffer): Promise<void> {
    await this.ready;
    await new Promise<void>((resolve, reject) =>
      this.socket.write(chunk, (err) => (err ? reject(err) : resolve())),
    );
  }

  /** Everything received so far. */
  get received(): string {
    return this.data;
  }

  /** Resolves with the first response (rejects if the connection closes without one). */
  response(): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const res = parseResponse(this.data);
        if (res) {
          this.socket.off('data', check);
          resolve(res);
        }
      };
      this.socket.on('data', check);
      void this.closed.then(() => {
        const res = parseResponse(this.data);
        if (res) resolve(res);
        else reject(new Error(`connection closed without a response; got ${JSON.stringify(this.data)}`));
      });
      check();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Polls `/metrics` until `pattern` matches (failing after 30 s); returns the match. */
export async function waitForMetric(url: string, pattern: RegExp): Promise<RegExpMatchArray> {
  const deadline = Date.now() + 30_000;
  let text = '';
  while (Date.now() < deadline) {
    text = await (await fetch(`${url}/metrics`)).text();
    const m = pattern.exec(text);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no metric matching ${pattern} in:\n${text}`);
}
