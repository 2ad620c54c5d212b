/**
 * Independent decoding of what real clients sent (recorded by the recording proxy), used to compute the
 * values a compatible server must answer. Nothing here imports Emberscope code: pprof is decoded with
 * `pprof-format`, multipart and the Push protobuf envelope are read by hand.
 */
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import type { RecordedRequest } from './recorder.js';

// ---------------------------------------------------------------------------------------------------------
// multipart/form-data

export interface MultipartPart {
  name: string;
  filename?: string;
  headers: Record<string, string>;
  data: Buffer;
}

export function boundaryOf(contentType: string): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!m) throw new Error(`no boundary in content type ${JSON.stringify(contentType)}`);
  return (m[1] ?? m[2]) as string;
}

/** Parses a multipart/form-data body (RFC 7578), binary-safe. */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] {
  const boundary = boundaryOf(contentType);
  const delim = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delim);
  if (pos < 0) throw new Error('multipart: boundary not found in body');
  for (;;) {
    pos += delim.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break; // closing "--"
    // skip transport padding and the CRLF after the delimiter
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) throw new Error('multipart: unterminated part headers');
    const headers: Record<string, string> = {};
    for (const line of body.subarray(pos, headerEnd).toString('utf8').split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const dataStart = headerEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), dataStart);
    if (next < 0) throw new Error('multipart: missing closing delimiter');
    const disposition = headers['content-disposition'] ?? '';
    const name = /\bname="([^"]*)"/.exec(disposition)?.[1] ?? '';
    const filename = /\bfilename="([^"]*)"/.exec(disposition)?.[1];
    parts.push({ name, filename, headers, data: body.subarray(dataStart, next) });
    pos = next + 2;
  }
  return parts;
}

// ---------------------------------------------------------------------------------------------------------
// Minimal protobuf reading for push.v1.PushRequest

class PbReader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new Error('protobuf: truncated bytes');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  /** Reads the next field: returns [field number, wire type, payload (for wire type 2)]. */
  field(): { no: number; wt: number; data?: Uint8Array } {
    const key = Number(this.varint());
    const no = key >>> 3;
    const wt = key & 7;
    switch (wt) {
      case 0:
        this.varint();
        return { no, wt };
      case 1:
        this.pos += 8;
        return { no, wt };
      case 2:
        return { no, wt, data: this.bytes() };
      case 5:
        this.pos += 4;
        return { no, wt };
      default:
        throw new Error(`protobuf: unsupported wire type ${wt}`);
    }
  }
}

export interface PushSeries {
  labels: Array<{ name: string; value: string }>;
  samples: Array<{ rawProfile: Buffer; id: string }>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes `PushRequest{series=1{labels=1{name=1,value=2}, samples=2{raw_profile=1, ID=2}}}`
 * (gunzipping first when the body starts with the gzip magic).
 */
export function decodePushRequest(body: Uint8Array): PushSeries[] {
  const buf = isGzip(body) ? gunzipSync(body) : body;
  const series: PushSeries[] = [];
  const r = new PbReader(buf);
  while (!r.done) {
    const f = r.field();
    if (f.no !== 1 || !f.data) continue;
    const s: PushSeries = { labels: [], samples: [] };
    const sr = new PbReader(f.data);
    while (!sr.done) {
      const sf = sr.field();
      if (sf.no === 1 && sf.data) {
        const lr = new PbReader(sf.data);
        let name = '';
        let value = '';
        while (!lr.done) {
          const lf = lr.field();
          if (lf.no === 1 && lf.data) name = utf8.decode(lf.data);
          else if (lf.no === 2 && lf.data) value = utf8.decode(lf.data);
        }
        s.labels.push({ name, value });
      } else if (sf.no === 2 && sf.data) {
        const rr = new PbReader(sf.data);
        let rawProfile = Buffer.alloc(0);
        let id = '';
        while (!rr.done) {
          const rf = rr.field();
          if (rf.no === 1 && rf.data) rawProfile = Buffer.from(rf.data);
          else if (rf.no === 2 && rf.data) id = utf8.decode(rf.data);
        }
        s.samples.push({ rawProfile, id });
      }
    }
    series.push(s);
  }
  return series;
}

// ---------------------------------------------------------------------------------------------------------
// pprof

export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

export function decodePprof(b: Uint8Array): Profile {
  return Profile.decode(isGzip(b) ? gunzipSync(b) : b);
}

export function str(p: Profile, idx: number | bigint): string {
  return p.stringTable.strings[Number(idx)] ?? '';
}

export function sampleTypes(p: Profile): Array<{ type: string; unit: string }> {
  return p.sampleType.map((t) => ({ type: str(p, t.type), unit: str(p, t.unit) }));
}

/** Sum of the values of sample type `index` over all samples (as bigint, exact). */
export function sumValues(p: Profile, index: number): bigint {
  let total = 0n;
  for (const s of p.sample) total += BigInt(s.value[index] ?? 0);
  return total;
}

/** String sample labels of the profile: key -> set of values. */
export function sampleLabels(p: Profile): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const s of p.sample) {
    for (const l of s.label) {
      if (Number(l.str) === 0) continue; // numeric label
      const k = str(p, l.key);
      let set = out.get(k);
      if (!set) {
        set = new Set();
        out.set(k, set);
      }
      set.add(str(p, l.str));
    }
  }
  return out;
}

/** Self value per leaf function name (first line of the first location), for sample type `index`. */
export function selfByFunction(p: Profile, index: number): Map<string, bigint> {
  const locs = new Map<string, (typeof p.location)[number]>();
  for (const l of p.location) locs.set(String(l.id), l);
  const fns = new Map<string, string>();
  for (const f of p.function) fns.set(String(f.id), str(p, f.name));
  const out = new Map<string, bigint>();
  for (const s of p.sample) {
    const v = BigInt(s.value[index] ?? 0);
    if (v === 0n || s.locationId.length === 0) continue;
    const leaf = locs.get(String(s.locationId[0]));
    const line = leaf?.line[0];
    const name = line ? (fns.get(String(line.functionId)) ?? '') : '';
    out.set(name, (out.get(name) ?? 0n) + v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// `name` query parameter and profile type IDs

/** Parses `app{k=v,k2=v2}` into the app name and its labels (insertion order kept). */
export function parseNameParam(name: string): { app: string; labels: Array<[string, string]> } {
  const i = name.indexOf('{');
  if (i < 0) return { app: name, labels: [] };
  const app = name.slice(0, i);
  const inner = name.slice(i + 1, name.lastIndexOf('}'));
  const labels: Array<[string, string]> = [];
  for (const kv of inner.split(',')) {
    if (!kv.trim()) continue;
    const eq = kv.indexOf('=');
    labels.push([kv.slice(0, eq).trim(), kv.slice(eq + 1).trim()]);
  }
  return { app, labels };
}

export type SampleTypeConfig = Record<
  string,
  { units?: string; aggregation?: string; 'display-name'?: string; sampled?: boolean; cumulative?: boolean }
>;

/** Display names of the reference server's default sample type mapping (used when an upload has no
 * sample_type_config; only the entries with a display name matter here). */
const DEFAULT_SAMPLE_TYPE_CONFIG: SampleTypeConfig = {
  samples: { 'display-name': 'cpu' },
  goroutine: { 'display-name': 'goroutines' },
  contentions: { 'display-name': 'mutex_count' },
  delay: { 'display-name': 'mutex_duration' },
};

/**
 * The `__name__` a Pyroscope-compatible server gives a pprof uploaded through /ingest (reference:
 * pyroscope-api.md §1.9 and grafana/pyroscope `RawProfile.metricName`): `wall` if any sample type is
 * `wall`; else the first display name (from sample_type_config, else the type name) that contains `cpu`
 * -> process_cpu, `alloc_`/`inuse_` or equals `space`/`objects` -> memory, `mutex_` -> mutex, `block_` ->
 * block, `goroutines` -> goroutines; otherwise the last display name itself. Note that pyroscope-go v1.5.0
 * sends the goroutine profile with display-name `goroutine` (v1.4.x: `goroutines`), which therefore falls
 * through to `goroutine`.
 */
export function ingestMetricName(p: Profile, stc: SampleTypeConfig | undefined): string {
  const types = sampleTypes(p).map((t) => t.type);
  if (types.includes('wall')) return 'wall';
  const config = stc ?? DEFAULT_SAMPLE_TYPE_CONFIG;
  let st = '';
  for (const t of types) {
    st = config[t]?.['display-name'] || t;
    if (st.includes('cpu')) return 'process_cpu';
    if (st.includes('alloc_') || st.includes('inuse_') || st === 'space' || st === 'objects') return 'memory';
    if (st.includes('mutex_')) return 'mutex';
    if (st.includes('block_')) return 'block';
    if (st.includes('goroutines')) return 'goroutines';
  }
  return st;
}

export function profileTypeIds(name: string, p: Profile): string[] {
  const pt = p.periodType ? str(p, p.periodType.type) : '';
  const pu = p.periodType ? str(p, p.periodType.unit) : '';
  return sampleTypes(p).map((t) => `${name}:${t.type}:${t.unit}:${pt}:${pu}`);
}

// ---------------------------------------------------------------------------------------------------------
// Recorded requests -> uploaded profiles

export interface Upload {
  request: RecordedRequest;
  api: 'ingest-multipart' | 'ingest-raw' | 'push';
  /** `__name__` (from the Push labels, or derived from sample types for /ingest). */
  name: string;
  /** Series labels as sent (Push labels, or `service_name` + the `name` param's labels); names not rewritten. */
  labels: Array<[string, string]>;
  serviceName: string;
  query: URLSearchParams;
  /** The pprof bytes as the client sent them (gzip'd or not). */
  rawPprof: Buffer;
  profile: Profile;
  sampleTypeConfig?: SampleTypeConfig;
  /** One profile type ID per sample type, same order as the pprof's sample types. */
  typeIds: string[];
}

/** Decodes every successfully-parsable upload in the recorded requests (ingest and Push). */
export function decodeUploads(requests: RecordedRequest[]): Upload[] {
  const out: Upload[] = [];
  for (const req of requests) {
    const u = new URL(req.url, 'http://x');
    const ct = req.headers['content-type'] ?? '';
    if (req.method === 'POST' && (u.pathname === '/ingest' || u.pathname === '/pyroscope/ingest')) {
      const q = u.searchParams;
      const { app, labels } = parseNameParam(q.get('name') ?? '');
      const seriesLabels: Array<[string, string]> = [['service_name', app], ...labels];
      let rawPprof: Buffer;
      let stc: SampleTypeConfig | undefined;
      let api: Upload['api'];
      if (q.get('format') === 'pprof') {
        api = 'ingest-raw';
        rawPprof = req.body; // gzip'd or not: decodePprof sniffs the magic
      } else if (ct.includes('multipart/form-data')) {
        api = 'ingest-multipart';
        const parts = parseMultipart(req.body, ct);
        const prof = parts.find((p) => p.name === 'profile');
        if (!prof) throw new Error(`multipart upload without a profile part: ${req.url}`);
        rawPprof = Buffer.from(prof.data);
        const cfg = parts.find((p) => p.name === 'sample_type_config');
        if (cfg) stc = JSON.parse(cfg.data.toString('utf8')) as SampleTypeConfig;
      } else {
        throw new Error(`unexpected /ingest upload (content-type ${ct}, format ${q.get('format')})`);
      }
      const profile = decodePprof(rawPprof);
      const name = ingestMetricName(profile, stc);
      out.push({
        request: req,
        api,
        name,
        labels: seriesLabels,
        serviceName: app,
        query: q,
        rawPprof,
        profile,
        sampleTypeConfig: stc,
        typeIds: profileTypeIds(name, profile),
      });
    } else if (req.method === 'POST' && u.pathname === '/push.v1.PusherService/Push') {
      const series = decodePushRequest(req.body);
      for (const s of series) {
        const labels = s.labels.map((l) => [l.name, l.value] as [string, string]);
        const name = labels.find(([k]) => k === '__name__')?.[1] ?? '';
        const serviceName = labels.find(([k]) => k === 'service_name')?.[1] ?? 'unknown_service';
        for (const sample of s.samples) {
          const profile = decodePprof(sample.rawProfile);
          out.push({
            request: req,
            api: 'push',
            name,
            labels,
            serviceName,
            query: u.searchParams,
            rawPprof: sample.rawProfile,
            profile,
            typeIds: profileTypeIds(name, profile),
          });
        }
      }
    }
  }
  return out;
}

/** Profile type ID -> sum of that sample type's values over every upload that carries it. */
export function expectedTotals(uploads: Upload[]): Map<string, bigint> {
  const totals = new Map<string, bigint>();
  for (const up of uploads) {
    up.typeIds.forEach((id, i) => {
      totals.set(id, (totals.get(id) ?? 0n) + sumValues(up.profile, i));
    });
  }
  return totals;
}

/** Label name as a Pyroscope-compatible server stores it (dots become underscores). */
export function sanitizeLabelName(n: string): string {
  return n.replace(/\./g, '_');
}

/**
 * Label values the server should know, from the series labels and the string pprof sample labels:
 * sanitized label name -> values. Private `__*` names are skipped.
 */
export function expectedLabelValues(uploads: Upload[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (k: string, v: string) => {
    if (k.startsWith('__')) return;
    const key = sanitizeLabelName(k);
    let s = out.get(key);
    if (!s) {
      s = new Set();
      out.set(key, s);
    }
    s.add(v);
  };
  for (const up of uploads) {
    for (const [k, v] of up.labels) add(k, v);
    for (const [k, vs] of sampleLabels(up.profile)) for (const v of vs) add(k, v);
  }
  return out;
}
