// A lean HTTP/1.1 keep-alive client for load generators: each request is pre-serialized into one Buffer
// (request line, headers and body) and written to a persistent socket; the answer is read by its
// Content-Length. fetch (undici) took ~0.5 core at 400 requests/s here, CPU the server under test then
// lacked on a 2-core machine; this takes ~0.07 core at 500 requests/s (a tenth as much per request). It speaks only what such a benchmark
// needs: one request in flight per connection, answers with Content-Length (what emberscope sends).
import { connect } from 'node:net';

/** `POST path` with `body`, serialized once so that sending it again costs one socket write. */
export function serializePost(host, path, body, contentType) {
  const head =
    `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${contentType}\r\n` +
    `Content-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection; `send` resolves with the answer's status once its body has been read. */
export class KeepAliveConnection {
  #socket;
  #buffered = Buffer.alloc(0);
  #pending;

  static open(port, host = '127.0.0.1') {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new KeepAliveConnection(socket)));
      socket.once('error', reject);
    });
  }

  constructor(socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      this.#buffered = this.#buffered.length ? Buffer.concat([this.#buffered, chunk]) : chunk;
      this.#answer();
    });
    const fail = (err) => this.#pending?.reject(err ?? new Error('connection closed before the answer'));
    socket.on('error', fail);
    socket.on('close', () => fail());
  }

  /** Writes one serialized request and resolves with the status code of its answer. */
  send(request) {
    if (this.#pending) throw new Error('one request at a time per connection');
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#socket.write(request);
    });
  }

  close() {
    this.#socket.destroy();
  }

  #answer() {
    const end = this.#buffered.indexOf(HEADER_END);
    if (end < 0 || !this.#pending) return;
    const head = this.#buffered.toString('latin1', 0, end);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) {
      this.#pending.reject(new Error(`answer without Content-Length: ${head.split('\r\n')[0]}`));
      return;
    }
    const total = end + HEADER_END.length + Number(length[1]);
    if (this.#buffered.length < total) return;
    this.#buffered = this.#buffered.subarray(total);
    const { resolve } = this.#pending;
    this.#pending = undefined;
    resolve(Number(head.slice(9, 12)));
  }
}
