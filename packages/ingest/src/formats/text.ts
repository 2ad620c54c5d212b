/** Receives one stack, root frame first, with its value. */
export type StackSink = (stack: string[], value: number) => void;

// Not fatal: a stray invalid byte in a frame name becomes U+FFFD instead of failing the whole upload.
const utf8 = new TextDecoder();

export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Calls `fn` for each line of a text body, numbered from 1, without its `\n` or `\r\n`. */
export function forEachLine(body: Uint8Array, fn: (line: string, lineNumber: number) => void): void {
  const lines = decodeUtf8(body).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    fn(line.endsWith('\r') ? line.slice(0, -1) : line, i + 1);
  }
}
