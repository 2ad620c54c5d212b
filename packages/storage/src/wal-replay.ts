import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeProfile } from '@emberscope/pprof';
import type { StorageLogger } from './embedded.js';
import type { HeadProfile } from './head.js';
import { decodeRecordBody, listSegments, scanSegment, segmentFileName } from './wal.js';

export interface ReplayResult {
  /** Highest segment number found, or 0. */
  lastSegment: number;
  /** Sizes of the segments kept (they hold data not yet in blocks). */
  keptSegmentBytes: Map<number, number>;
  /** Bytes of the replayed records of each kept segment, by tenant. */
  keptTenantBytes: Map<number, Map<string, number>>;
  replayedRecords: number;
}

/**
 * Re-inserts every WAL record that no block holds yet, in log order, exactly as a live append would.
 * A tenant's records in segments up to `coveredThrough(tenant)` are already in its blocks (a crash
 * between writing the block and deleting the WAL) and are skipped. Torn tails are truncated, corrupt
 * records skipped, segments left without pending data deleted; all of it is logged, none of it fatal.
 */
export async function replayWal(
  dir: string,
  coveredThrough: (tenant: string) => number,
  insert: (profile: HeadProfile) => void,
  logger: StorageLogger,
): Promise<ReplayResult> {
  const result: ReplayResult = {
    lastSegment: 0,
    keptSegmentBytes: new Map(),
    keptTenantBytes: new Map(),
    replayedRecords: 0,
  };
  for (const segment of await listSegments(dir)) {
    result.lastSegment = segment;
    const path = join(dir, segmentFileName(segment));
    const buf = await readFile(path);
    const scan = scanSegment(buf);
    for (const { offset, length } of scan.corrupt) {
      logger.error({ segment, offset, length }, 'WAL: skipping corrupt record');
    }
    if (scan.validEnd < buf.length) {
      logger.warn(
        { segment, offset: scan.validEnd, bytes: buf.length - scan.validEnd },
        'WAL: truncating torn tail (interrupted write)',
      );
      await truncateFile(path, scan.validEnd);
    }
    let pending = 0;
    const tenantBytes = new Map<string, number>();
    for (const body of scan.bodies) {
      try {
        const record = decodeRecordBody(body);
        if (segment <= coveredThrough(record.tenant)) continue;
        const { payload, ...head } = record;
        insert({ ...head, profile: decodeProfile(payload) });
        pending++;
        tenantBytes.set(record.tenant, (tenantBytes.get(record.tenant) ?? 0) + body.length + 8);
      } catch (err) {
        logger.error({ segment, err }, 'WAL: skipping record that does not decode');
      }
    }
    result.replayedRecords += pending;
    if (pending === 0) {
      await unlink(path);
      logger.info({ segment }, 'WAL: deleted segment whose data is all in blocks');
    } else {
      result.keptSegmentBytes.set(segment, scan.validEnd);
      result.keptTenantBytes.set(segment, tenantBytes);
    }
  }
  return result;
}

async function truncateFile(path: string, length: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    await file.truncate(length);
    await file.sync();
  } finally {
    await file.close();
  }
}
