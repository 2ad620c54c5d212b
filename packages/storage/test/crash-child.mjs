// Appends profiles one at a time to the storage in $DATA_DIR and prints "ack <n>" after each append
// resolves, so that a test can SIGKILL it at a known point. With FLUSH_EVERY=k it also starts a flush
// (not awaited) after every k acknowledged appends, so kills land in the middle of flushes too.

import { decodeProfile, encodeProfile, ProfileBuilder } from '@emberscope/pprof';
import { openEmbeddedStorage } from '@emberscope/storage';

const storage = await openEmbeddedStorage({ dataDir: process.env.DATA_DIR });
const flushEvery = Number(process.env.FLUSH_EVERY ?? 0);
const total = Number(process.env.TOTAL ?? Number.POSITIVE_INFINITY);
const labels = [
  { name: '__name__', value: 'process_cpu' },
  { name: '__profile_type__', value: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds' },
  { name: 'service_name', value: 'crashy' },
];

for (let i = 0; i < total; i++) {
  const timeNanos = BigInt(1000 + i) * 1_000_000n;
  const builder = new ProfileBuilder({ sampleTypes: [['cpu', 'nanoseconds']], timeNanos });
  builder.addSample(['main', 'work'], [1]).addSample(['main', `step${i % 7}`], [2]);
  const payload = encodeProfile(builder.build(), { gzip: true });
  await storage.append([
    {
      tenant: i % 2 ? 'odd' : 'even',
      partition: 'crashy',
      profile: decodeProfile(payload),
      payload,
      timeNanos,
      durationNanos: 1_000_000_000n,
      series: [{ labels, sampleType: 0 }],
    },
  ]);
  process.stdout.write(`ack ${i + 1}\n`);
  if (flushEvery && (i + 1) % flushEvery === 0) void storage.flush();
}
process.stdout.write('done\n');
setInterval(() => {}, 1000);
