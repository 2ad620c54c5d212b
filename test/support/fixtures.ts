/**
 * Replay of the captured @pyroscope/nodejs uploads kept in testdata/clients/node/fixtures/ (see its
 * PROVENANCE.md): the 0.6.4 raw `format=pprof` wall and heap uploads and the 0.4.13 multipart heap upload.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CLIENTS_DIR } from './clients.js';
import { boundaryOf } from './payloads.js';

export const NODE_FIXTURES_DIR = path.join(CLIENTS_DIR, 'node', 'fixtures');

export interface ReplayRequest {
  method: string;
  /** path + query */
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  savedAs: string;
}

interface CapturedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  contentType: string;
  savedAs: string;
}

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos++] as number;
    v |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [v, pos];
    shift += 7n;
  }
}

function writeVarint(v: bigint): Buffer {
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

/**
 * Returns the pprof with its top-level `time_nanos` (field 9) replaced; everything else is kept byte for
 * byte. Accepts and returns gzip'd bytes when the input is gzip'd.
 */
export function retimePprof(input: Buffer, timeNanos: bigint): Buffer {
  const gz = input[0] === 0x1f && input[1] === 0x8b;
  const buf = gz ? gunzipSync(input) : input;
  const pieces: Buffer[] = [];
  let pos = 0;
  let last = 0;
  let found = false;
  while (pos < buf.length) {
    const fieldStart = pos;
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const no = Number(key >> 3n);
    const wt = Number(key & 7n);
    if (wt === 0) {
      const [, p2] = readVarint(buf, pos);
      if (no === 9) {
        pieces.push(buf.subarray(last, fieldStart), Buffer.from([0x48]), writeVarint(timeNanos));
        last = p2;
        found = true;
      }
      pos = p2;
    } else if (wt === 2) {
      const [len, p2] = readVarint(buf, pos);
      pos = p2 + Number(len);
    } else if (wt === 1) pos += 8;
    else if (wt === 5) pos += 4;
    else throw new Error(`pprof: unexpected wire type ${wt}`);
  }
  pieces.push(buf.subarray(last));
  if (!found) pieces.push(Buffer.from([0x48]), writeVarint(timeNanos));
  const out = Buffer.concat(pieces);
  return gz ? gzipSync(out) : out;
}

function withTimes(url: string, fromSec: number, untilSec: number): string {
  const u = new URL(url, 'http://x');
  u.searchParams.set('from', String(fromSec));
  u.searchParams.set('until', String(untilSec));
  return u.pathname + u.search;
}

/**
 * The three captured uploads, made current: `from`/`until` become [now-10 s, now] (seconds, as the client
 * sends them) and the pprof `time_nanos` becomes `until` (wall: the window end, like the client; heap: the
 * snapshot time). Headers are the captured ones minus host/connection/content-length/auth/tenant.
 */
export function nodeFixtureReplay(nowMs = Date.now()): ReplayRequest[] {
  const captured = readFileSync(path.join(NODE_FIXTURES_DIR, 'requests.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as CapturedRequest);
  const until = Math.floor(nowMs / 1000);
  const from = until - 10;
  const timeNanos = BigInt(until) * 1_000_000_000n;
  return captured.map((c) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.headers)) {
      if (['host', 'connection', 'content-length', 'authorization', 'x-scope-orgid'].includes(k)) continue;
      headers[k] = v;
    }
    const raw = readFileSync(path.join(NODE_FIXTURES_DIR, c.savedAs));
    let body: Buffer;
    if (c.contentType.startsWith('multipart/form-data')) {
      // Replace the content of the single `profile` part, keeping the boundary and part headers.
      const boundary = boundaryOf(c.contentType);
      const headerEnd = raw.indexOf('\r\n\r\n') + 4;
      const close = raw.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd);
      const part = raw.subarray(headerEnd, close);
      body = Buffer.concat([raw.subarray(0, headerEnd), retimePprof(part, timeNanos), raw.subarray(close)]);
    } else {
      body = retimePprof(raw, timeNanos);
    }
    return { method: c.method, url: withTimes(c.url, from, until), headers, body, savedAs: c.savedAs };
  });
}
