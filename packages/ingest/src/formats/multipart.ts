import { unprocessable } from '../errors.js';

/** Bounds for a hostile body: the body itself is already bounded by the server. */
const MAX_PARTS = 64;
const MAX_PART_HEADER_BYTES = 16 * 1024;

/**
 * Reads a buffered `multipart/form-data` body and returns the content of the first *file* part (one
 * with a `filename`) of each form name, without copying. Plain fields are skipped, as Go's
 * `multipart.Form.File` (which Pyroscope reads) does. Accepts CRLF and bare LF line endings and a
 * preamble before the first boundary. Every malformation is a 422 `bad_format`.
 */
export function parseMultipartFiles(contentType: string, body: Uint8Array): Map<string, Uint8Array> {
  const boundary = headerParams(contentType).get('boundary');
  if (!boundary) {
    throw unprocessable(
      'bad_format',
      `multipart Content-Type ${JSON.stringify(contentType)} has no boundary parameter`,
    );
  }
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  // The line break before a delimiter belongs to the delimiter, not to the content before it.
  const delimiterLine = Buffer.from(`\n--${boundary}`, 'latin1');
  const files = new Map<string, Uint8Array>();

  let pos = buf.indexOf(delimiter);
  while (pos > 0 && buf[pos - 1] !== 0x0a) pos = buf.indexOf(delimiter, pos + 1); // must start a line
  if (pos < 0) {
    throw unprocessable(
      'bad_format',
      `multipart body does not contain the boundary ${JSON.stringify(boundary)}`,
    );
  }
  for (let part = 0; ; part++) {
    pos += delimiter.length;
    if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) return files; // "--": the closing delimiter
    if (part === MAX_PARTS)
      throw unprocessable('bad_format', `multipart body has more than ${MAX_PARTS} parts`);
    pos = skipLineEnd(buf, pos, boundary);

    const headerStart = pos;
    const headers = new Map<string, string>();
    for (;;) {
      const newline = buf.indexOf(0x0a, pos);
      if (newline < 0) throw truncated();
      if (newline - headerStart > MAX_PART_HEADER_BYTES) {
        throw unprocessable(
          'bad_format',
          `multipart part ${part} has more than ${MAX_PART_HEADER_BYTES} bytes of headers`,
        );
      }
      const line = buf.toString('utf8', pos, newline).replace(/\r$/, '');
      pos = newline + 1;
      if (line === '') break;
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }

    const next = buf.indexOf(delimiterLine, pos);
    if (next < 0) throw truncated();
    const contentEnd = next > pos && buf[next - 1] === 0x0d ? next - 1 : next;
    const disposition = headerParams(headers.get('content-disposition') ?? '');
    const name = disposition.get('name');
    const isFile = disposition.has('filename') || disposition.has('filename*');
    if (name !== undefined && isFile && !files.has(name)) files.set(name, body.subarray(pos, contentEnd));
    pos = next + 1;
  }
}

function skipLineEnd(buf: Buffer, start: number, boundary: string): number {
  let pos = start;
  while (buf[pos] === 0x20 || buf[pos] === 0x09) pos++; // transport padding
  if (buf[pos] === 0x0d) pos++;
  if (buf[pos] === 0x0a) return pos + 1;
  if (pos >= buf.length) throw truncated();
  throw unprocessable(
    'bad_format',
    `multipart boundary ${JSON.stringify(boundary)} is not followed by a line break`,
  );
}

function truncated() {
  return unprocessable('bad_format', 'multipart body is truncated: it ends before the closing boundary');
}

/**
 * Parameters of a header value such as `form-data; name="profile"; filename="profile.pprof"` or
 * `multipart/form-data; boundary=xyz`, with lower-cased names and unquoted values.
 */
export function headerParams(value: string): Map<string, string> {
  const params = new Map<string, string>();
  const param = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (const match of value.matchAll(param)) {
    const quoted = match[2];
    params.set(
      match[1].toLowerCase(),
      quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (match[3] ?? '').trim(),
    );
  }
  return params;
}
