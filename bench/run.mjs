// Runs every benchmark in turn; each writes its own bench/results/<name>-<date>.md.
//   npx tsc -b && npm run bench            (all)
//   npm run bench -- decode storage        (some)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const all = ['decode', 'storage', 'flush', 'flamegraph', 'tree-ops', 'query', 'ingest'];
const chosen = process.argv.length > 2 ? process.argv.slice(2) : all;
for (const name of chosen) {
  const script = new URL(`./${name}.mjs`, import.meta.url);
  if (!existsSync(script)) {
    console.error(`unknown benchmark "${name}" (have: ${all.join(', ')})`);
    process.exit(2);
  }
  console.log(`\n=== ${name} ===`);
  const { status } = spawnSync(process.execPath, [script.pathname], { stdio: 'inherit' });
  if (status !== 0) process.exit(status ?? 1);
}
