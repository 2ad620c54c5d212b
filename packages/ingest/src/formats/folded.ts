import { unprocessable } from '../errors.js';
import { forEachLine, type StackSink } from './text.js';

/**
 * Folded ("groups", collapsed) text: one `root;caller;leaf <count>` per line. The count follows the
 * *last* space because frames may contain spaces. Lines without a space, with an empty stack or with a
 * zero count are skipped; a count that is not a non-negative integer fails with 422.
 */
export function parseFolded(body: Uint8Array, sink: StackSink): void {
  forEachLine(body, (rawLine, lineNumber) => {
    const line = rawLine.trimEnd();
    const space = line.lastIndexOf(' ');
    if (space < 0) return;
    const count = line.slice(space + 1);
    const value = /^\d+$/.test(count) ? Number(count) : Number.NaN;
    if (!Number.isSafeInteger(value)) {
      throw unprocessable(
        'bad_format',
        `folded line ${lineNumber}: count ${JSON.stringify(count)} is not a non-negative integer ` +
          `below 2^53; expected "frame1;frame2;leaf <count>"`,
      );
    }
    const stack = line.slice(0, space);
    if (stack !== '' && value > 0) sink(stack.split(';'), value);
  });
}
