// The soak's payloads: the five Go profile types a Pyroscope Go SDK pushes every 15 s, derived from
// bench/gen.mjs's synthetic Go-like services (same call graphs, same Zipf-like stack sampling), and the
// two wire shapes they are sent in: multipart /ingest (as the Go SDK sends) and Connect Push.
//
// Payloads are generated once, before the load starts, for a pool of service "shapes" × variants, so
// the driver spends its CPU on sending. Each payload's value total per sample type is known, which is
// what the ledger and the final verification compare.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Profile, ValueType } from 'pprof-format';
import { goCpuProfile, goHeapProfile, makeService } from '../../../bench/gen.mjs';

const gzipAsync = promisify(gzip);

/**
 * The profile kinds, in the order `--types N` takes them. Each is one upload per service and interval;
 * `typeIds` are the profile type IDs the server derives from it (one per sample type, in sample type
 * order), which the verification queries one by one.
 */
export const KINDS = [
  {
    name: 'cpu',
    metric: 'process_cpu',
    samples: 1000,
    typeIds: ['process_cpu:samples:count:cpu:nanoseconds', 'process_cpu:cpu:nanoseconds:cpu:nanoseconds'],
  },
  {
    name: 'alloc',
    metric: 'memory',
    samples: 400,
    typeIds: ['memory:alloc_objects:count:space:bytes', 'memory:alloc_space:bytes:space:bytes'],
  },
  {
    name: 'inuse',
    metric: 'memory',
    samples: 400,
    typeIds: ['memory:inuse_objects:count:space:bytes', 'memory:inuse_space:bytes:space:bytes'],
  },
  {
    name: 'goroutine',
    metric: 'goroutines',
    samples: 150,
    typeIds: ['goroutines:goroutine:count:goroutine:count'],
  },
  {
    name: 'mutex',
    metric: 'mutex',
    samples: 60,
    typeIds: ['mutex:contentions:count:contentions:count', 'mutex:delay:nanoseconds:contentions:count'],
  },
];

const num = (v) => Number(v);

/** Replaces the sample types, values and period type of a decoded profile. */
function retype(profile, sampleTypes, valuesOf, periodType, period) {
  const st = profile.stringTable;
  profile.sampleType = sampleTypes.map(
    ([type, unit]) => new ValueType({ type: st.dedup(type), unit: st.dedup(unit) }),
  );
  for (const sample of profile.sample) sample.value = valuesOf(sample.value.map(num));
  profile.periodType = new ValueType({ type: st.dedup(periodType[0]), unit: st.dedup(periodType[1]) });
  profile.period = period;
  return profile;
}

/** One profile of `kind` for `service` (a bench/gen.mjs service), with time_nanos 0 and the given duration. */
function buildProfile(kind, service, durationNanos) {
  let profile;
  switch (kind.name) {
    case 'cpu':
      profile = Profile.decode(goCpuProfile(service, { samples: kind.samples, timeNanos: 0n }).raw);
      break;
    case 'alloc':
    case 'inuse': {
      // bench/gen.mjs's heap profile carries all four Go heap sample types; keep one pair.
      const first = kind.name === 'alloc' ? 0 : 2;
      profile = Profile.decode(goHeapProfile(service, { samples: kind.samples, timeNanos: 0n }).raw);
      const types = profile.sampleType
        .slice(first, first + 2)
        .map((vt) => [profile.stringTable.strings[num(vt.type)], profile.stringTable.strings[num(vt.unit)]]);
      retype(profile, types, (v) => v.slice(first, first + 2), ['space', 'bytes'], 524_288);
      break;
    }
    case 'goroutine':
      // Stacks from the same call graph; one goroutine count per stack.
      profile = retype(
        Profile.decode(goCpuProfile(service, { samples: kind.samples, timeNanos: 0n }).raw),
        [['goroutine', 'count']],
        (v) => [v[0]],
        ['goroutine', 'count'],
        1,
      );
      break;
    case 'mutex':
      profile = retype(
        Profile.decode(goCpuProfile(service, { samples: kind.samples, timeNanos: 0n }).raw),
        [
          ['contentions', 'count'],
          ['delay', 'nanoseconds'],
        ],
        (v) => [v[0], v[0] * 137_500],
        ['contentions', 'count'],
        1,
      );
      break;
    default:
      throw new Error(`unknown kind ${kind.name}`);
  }
  profile.timeNanos = 0;
  profile.durationNanos = durationNanos;
  const totals = profile.sampleType.map(() => 0);
  for (const sample of profile.sample) {
    for (let i = 0; i < totals.length; i++) totals[i] += num(sample.value[i]);
  }
  return { profile, totals, samples: profile.sample.length };
}

const BOUNDARY = 'soak0123456789abcdef';

/** The Go SDK's multipart body: a `profile` file part holding the gzipped pprof. */
function multipartBody(gz) {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="profile"; filename="profile.pprof"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    gz,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}
export const MULTIPART_CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

/**
 * Builds the payload pool: `shapes` services (bench/gen.mjs seeds) × kinds × `variants` consecutive
 * profiles. Returns pool[shape][kind][variant] = { raw, gz, multipart, totals, samples }.
 */
export async function buildPool({ shapes, variants, kinds, intervalS, seed = 1, onProgress }) {
  const pool = [];
  const durationNanos = intervalS * 1e9;
  for (let s = 0; s < shapes; s++) {
    const service = makeService({ seed: seed * 100_003 + s + 1 });
    const byKind = [];
    for (const kind of kinds) {
      const list = [];
      for (let v = 0; v < variants; v++) {
        const { profile, totals, samples } = buildProfile(kind, service, durationNanos);
        const raw = Buffer.from(profile.encode());
        const gz = await gzipAsync(raw);
        list.push({ raw, gz, multipart: multipartBody(gz), totals, samples });
      }
      byKind.push(list);
    }
    pool.push(byKind);
    onProgress?.(s + 1, shapes);
  }
  return pool;
}

// ---------------------------------------------------------------------------------------------------
// Protobuf by hand (Connect Push is `application/proto`).

function varint(out, value) {
  let v = BigInt(value);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
}

function lengthDelimited(field, bytes) {
  const head = [];
  varint(head, (field << 3) | 2);
  varint(head, bytes.length);
  return Buffer.concat([Buffer.from(head), bytes]);
}

/** pprof `time_nanos` (field 9, varint): appended to an encoded profile, it overrides any earlier value. */
export function timeNanosField(nanos) {
  const out = [];
  varint(out, 9 << 3);
  varint(out, nanos);
  return Buffer.from(out);
}

/**
 * A `push.v1.PushRequest` with one series (labels) and one sample whose raw_profile is `raw` with its
 * time set to `timeNanos`, gzipped as the SDKs send it.
 */
export async function pushBody(labels, raw, timeNanos) {
  const profile = await gzipAsync(Buffer.concat([raw, timeNanosField(timeNanos)]), { level: 1 });
  const labelPairs = labels.map(([name, value]) =>
    lengthDelimited(
      1,
      Buffer.concat([lengthDelimited(1, Buffer.from(name)), lengthDelimited(2, Buffer.from(value))]),
    ),
  );
  const sample = lengthDelimited(2, lengthDelimited(1, profile));
  return lengthDelimited(1, Buffer.concat([...labelPairs, sample]));
}
