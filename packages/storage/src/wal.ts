import { type FileHandle, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ByteReader, ByteWriter } from './bytes.js';
import type { SeriesPlan } from './engine.js';
import { fsyncDir } from './fsync.js';
import type { HeadProfile } from './head.js';

/**
 * Write-ahead log: numbered segment files in `<dataDir>/wal/`, each a sequence of records
 *
 *   [u32 body length][u32 crc32 of body][body]        (little-endian)
 *
 * where the body is a compact header (see `encodeRecordBody`) followed by the pprof payload exactly
 * as received. A flush rotates to a new segment, so every segment belongs to exactly one head.
 */

const RECORD_VERSION = 1;
const FRAME_BYTES = 8;
/** Larger lengths are treated as corruption rather than attempted. */
const MAX_RECORD_BYTES = 1 << 30;
const SEGMENT_NAME = /^(\d{10})\.wal$/;

export const segmentFileName = (segment: number) => `${String(segment).padStart(10, '0')}.wal`;

/** A replayed record: the head-relevant fields plus the payload to decode. */
export interface WalRecord {
  tenant: string;
  partition: string;
  timeNanos: bigint;
  durationNanos: bigint;
  series: SeriesPlan[];
  payload: Uint8Array;
}

/** Frames one request as a WAL record. */
export function encodeRecord(req: Omit<HeadProfile, 'profile'> & { payload: Uint8Array }): Uint8Array {
  const w = new ByteWriter(256 + req.payload.length);
  w.u32(0); // length and crc, filled below
  w.u32(0);
  w.u8(RECORD_VERSION);
  w.string(req.tenant);
  w.string(req.partition);
  w.i64(req.timeNanos);
  w.i64(req.durationNanos);
  w.varint(req.series.length);
  for (const plan of req.series) {
    w.varint(plan.labels.length);
    for (const l of plan.labels) {
      w.string(l.name);
      w.string(l.value);
    }
    w.varint(plan.sampleType);
    // 0 = all samples, else 1 + subset length.
    w.varint(plan.samples ? plan.samples.length + 1 : 0);
    if (plan.samples) for (const s of plan.samples) w.varint(s);
  }
  w.bytes(req.payload);
  const record = w.finish();
  const body = record.subarray(FRAME_BYTES);
  const frame = new DataView(record.buffer, record.byteOffset, FRAME_BYTES);
  frame.setUint32(0, body.length, true);
  frame.setUint32(4, crc32(body), true);
  return record;
}

export function decodeRecordBody(body: Uint8Array): WalRecord {
  const r = new ByteReader(body);
  const version = r.u8();
  if (version !== RECORD_VERSION) throw new Error(`unknown WAL record version ${version}`);
  const tenant = r.string();
  const partition = r.string();
  const timeNanos = r.i64();
  const durationNanos = r.i64();
  const series: SeriesPlan[] = [];
  for (let n = r.varint(); n > 0; n--) {
    const labels = [];
    for (let k = r.varint(); k > 0; k--) labels.push({ name: r.string(), value: r.string() });
    const sampleType = r.varint();
    const subsetTag = r.varint();
    const plan: SeriesPlan = { labels, sampleType };
    if (subsetTag > 0) {
      const samples = new Uint32Array(subsetTag - 1);
      for (let i = 0; i < samples.length; i++) samples[i] = r.varint();
      plan.samples = samples;
    }
    series.push(plan);
  }
  return { tenant, partition, timeNanos, durationNanos, series, payload: r.bytes(r.remaining) };
}

/** The result of scanning a segment: intact record bodies, skipped corrupt ranges, and where the valid data ends. */
export interface SegmentScan {
  bodies: Uint8Array[];
  corrupt: { offset: number; length: number }[];
  /** Bytes after this offset are a torn or corrupt tail (a crash mid-write) and should be truncated. */
  validEnd: number;
}

/**
 * Splits a segment into records. A record that fails its checks is skipped up to the next offset
 * where an intact record starts (a corrupt record in the middle); when none follows, everything from
 * it on is the torn tail.
 */
export function scanSegment(buf: Uint8Array): SegmentScan {
  const scan: SegmentScan = { bodies: [], corrupt: [], validEnd: buf.length };
  let offset = 0;
  while (offset < buf.length) {
    const length = intactRecordLength(buf, offset);
    if (length >= 0) {
      scan.bodies.push(buf.subarray(offset + FRAME_BYTES, offset + FRAME_BYTES + length));
      offset += FRAME_BYTES + length;
      continue;
    }
    let next = offset + 1;
    while (next < buf.length && intactRecordLength(buf, next) < 0) next++;
    if (next >= buf.length) {
      scan.validEnd = offset;
      break;
    }
    scan.corrupt.push({ offset, length: next - offset });
    offset = next;
  }
  return scan;
}

/** Body length of the record at `offset` if it is complete and its checksum matches, else -1. */
function intactRecordLength(buf: Uint8Array, offset: number): number {
  if (offset + FRAME_BYTES > buf.length) return -1;
  const frame = new DataView(buf.buffer, buf.byteOffset + offset, FRAME_BYTES);
  const length = frame.getUint32(0, true);
  if (length === 0 || length > MAX_RECORD_BYTES || offset + FRAME_BYTES + length > buf.length) return -1;
  const body = buf.subarray(offset + FRAME_BYTES, offset + FRAME_BYTES + length);
  return crc32(body) === frame.getUint32(4, true) && body[0] === RECORD_VERSION ? length : -1;
}

/** Segment numbers present in the WAL directory, ascending. */
export async function listSegments(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const segments: number[] = [];
  for (const name of names) {
    const m = SEGMENT_NAME.exec(name);
    if (m) segments.push(Number(m[1]));
  }
  return segments.sort((a, b) => a - b);
}

interface Deferred {
  resolve(): void;
  reject(err: unknown): void;
}

type WalRequest = { kind: 'records'; records: Uint8Array[] } | { kind: 'rotate' } | { kind: 'close' };
type WalOp = WalRequest & Deferred;
type RecordsOp = Extract<WalOp, { kind: 'records' }>;

/**
 * Appends records to the current segment with group commit: appends that arrive while a write and
 * fdatasync are in flight are queued and share the next write and sync. Operations are applied in
 * call order, so records appended after `rotate()` always land in the next segment.
 */
export class WalWriter {
  private readonly queue: WalOp[] = [];
  private draining = false;
  private closed = false;
  /** Segment that appends made now go to (ahead of `fileSegment` while a rotation is queued). */
  private appendSegment: number;
  private fileSegment: number;
  private fileBytes = 0;
  private readonly segmentBytes = new Map<number, number>();
  /** Appends accepted but not yet written (and synced), and their bytes: what a slow disk piles up. */
  private pendingAppends = 0;
  private pendingBytes = 0;

  private constructor(
    private readonly dir: string,
    private file: FileHandle,
    segment: number,
    private readonly sync: boolean,
    existing: Map<number, number>,
  ) {
    this.appendSegment = this.fileSegment = segment;
    for (const [s, bytes] of existing) this.segmentBytes.set(s, bytes);
    this.segmentBytes.set(segment, 0);
  }

  /** Starts a new segment numbered `segment`; `existing` maps older live segments to their sizes. */
  static async create(
    dir: string,
    segment: number,
    sync: boolean,
    existing: Map<number, number>,
  ): Promise<WalWriter> {
    const file = await createSegment(dir, segment, sync);
    return new WalWriter(dir, file, segment, sync, existing);
  }

  get currentSegment(): number {
    return this.appendSegment;
  }

  get totalBytes(): number {
    let total = 0;
    for (const bytes of this.segmentBytes.values()) total += bytes;
    return total;
  }

  /** Appends queued or being written that are not durable yet, and their bytes. */
  get backlog(): { appends: number; bytes: number } {
    return { appends: this.pendingAppends, bytes: this.pendingBytes };
  }

  /** Resolves once the records are written (and synced, unless sync is off). */
  append(records: Uint8Array[]): Promise<void> {
    let bytes = 0;
    for (const r of records) bytes += r.length;
    const done = this.enqueue({ kind: 'records', records });
    this.pendingAppends++;
    this.pendingBytes += bytes;
    const settled = () => {
      this.pendingAppends--;
      this.pendingBytes -= bytes;
    };
    done.then(settled, settled);
    return done;
  }

  /** Seals the current segment: appends made after this call go to the next one. Resolves once sealed. */
  rotate(): Promise<void> {
    this.appendSegment++;
    return this.enqueue({ kind: 'rotate' });
  }

  close(): Promise<void> {
    return this.enqueue({ kind: 'close' });
  }

  /** Deletes sealed segments numbered `segment` or lower. */
  async deleteThrough(segment: number): Promise<void> {
    for (const s of [...this.segmentBytes.keys()]) {
      if (s > segment || s >= this.fileSegment) continue;
      await unlink(join(this.dir, segmentFileName(s))).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      this.segmentBytes.delete(s);
    }
  }

  private enqueue(op: WalRequest): Promise<void> {
    if (this.closed) return Promise.reject(new Error('WAL is closed'));
    if (op.kind === 'close') this.closed = true;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ...op, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const op = this.queue[0];
        if (op.kind === 'records') {
          let n = 0;
          while (n < this.queue.length && this.queue[n].kind === 'records') n++;
          const batch = this.queue.splice(0, n) as RecordsOp[];
          await settle(batch, () => this.write(batch.flatMap((b) => b.records)));
        } else {
          this.queue.shift();
          await settle([op], () => (op.kind === 'rotate' ? this.startNextSegment() : this.file.close()));
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async write(records: Uint8Array[]): Promise<void> {
    const bytes = Buffer.concat(records);
    const start = this.fileBytes;
    try {
      for (let written = 0; written < bytes.length; ) {
        const { bytesWritten } = await this.file.write(
          bytes,
          written,
          bytes.length - written,
          start + written,
        );
        written += bytesWritten;
      }
      if (this.sync) await this.file.datasync();
    } catch (err) {
      // Cut the partial batch off, so that later records do not follow garbage.
      await this.file.truncate(start).catch(() => {});
      throw err;
    }
    this.fileBytes += bytes.length;
    this.segmentBytes.set(this.fileSegment, this.fileBytes);
  }

  private async startNextSegment(): Promise<void> {
    await this.file.close();
    this.fileSegment++;
    this.file = await createSegment(this.dir, this.fileSegment, this.sync);
    this.fileBytes = 0;
    this.segmentBytes.set(this.fileSegment, 0);
  }
}

async function settle(ops: Deferred[], work: () => Promise<void>): Promise<void> {
  try {
    await work();
    for (const op of ops) op.resolve();
  } catch (err) {
    for (const op of ops) op.reject(err);
  }
}

async function createSegment(dir: string, segment: number, sync: boolean): Promise<FileHandle> {
  const file = await open(join(dir, segmentFileName(segment)), 'wx');
  if (sync) await fsyncDir(dir);
  return file;
}
