import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Background work (block writing, compaction) runs on the event loop in slices: `await slice()` between
 * steps gives ingest and queries a turn once the current slice has run for `sliceMs`. Yielding after
 * every step instead would make the work crawl under load: each turn waits for every ready request.
 */
export function timeSlicer(sliceMs = 10): () => Promise<void> {
  let sliceStart = performance.now();
  return async () => {
    if (performance.now() - sliceStart < sliceMs) return;
    await nextTurn();
    sliceStart = performance.now();
  };
}
