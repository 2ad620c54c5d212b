import type { StackSink } from './text.js';
import { forEachLine } from './text.js';

/** "lines": one `root;caller;leaf` stack per line and no count; identical lines add up, empty ones are skipped. */
export function parseLines(body: Uint8Array, sink: StackSink): void {
  const counts = new Map<string, number>();
  forEachLine(body, (line) => {
    if (line !== '') counts.set(line, (counts.get(line) ?? 0) + 1);
  });
  for (const [line, count] of counts) sink(line.split(';'), count);
}
