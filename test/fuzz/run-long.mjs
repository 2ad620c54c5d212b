#!/usr/bin/env node
// The long fuzz run: the same targets as the bounded run in `npm test`, one Vitest process per target,
// with bigger inputs (FUZZ_LONG=1), either for a time budget or for a multiple of the bounded run counts.
// Counterexamples (and inputs that hang) are written to test/fuzz/regressions/<target>/<sha1>.<ext>.
//
//   node test/fuzz/run-long.mjs                  100× the bounded runs of every target
//   node test/fuzz/run-long.mjs --minutes 30     30 minutes of fuzzing, split evenly over the targets
//   node test/fuzz/run-long.mjs --target trie,tree --runs 1000 --seed 42
//
// Exits 1 when any target failed. See test/fuzz/README.md.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('./', import.meta.url));
const regressions = fileURLToPath(new URL('./regressions/', import.meta.url));

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string' },
    runs: { type: 'string', default: '100' },
    target: { type: 'string' },
    seed: { type: 'string' },
    'hang-ms': { type: 'string', default: '30000' },
    bail: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(
    'usage: node test/fuzz/run-long.mjs [--minutes N | --runs FACTOR] [--target a,b] [--seed S] [--hang-ms MS] [--bail]',
  );
  process.exit(0);
}

const vitest = ['vitest', 'run', '--root', root];

/** Targets and their files, from `vitest list`: test names are "<target> > <property>". */
function listTargets() {
  const listed = spawnSync('npx', ['vitest', 'list', 'test/fuzz', '--json', '--root', root], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (listed.status !== 0) {
    process.stderr.write(listed.stderr);
    throw new Error('vitest list failed');
  }
  const targets = new Map();
  for (const { name, file } of JSON.parse(listed.stdout.slice(listed.stdout.indexOf('[')))) {
    if (!file.startsWith(here) || !file.endsWith('.fuzz.test.ts')) continue; // `test/fuzz` is a filter
    const target = name.split(' > ')[0];
    if (!targets.has(target)) targets.set(target, { file, properties: 0 });
    if (!name.endsWith(' > replays regressions')) targets.get(target).properties++;
  }
  return targets;
}

function regressionFiles() {
  if (!existsSync(regressions)) return new Set();
  return new Set(
    readdirSync(regressions, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(`${regressions}${d.name}`).map((f) => `${d.name}/${f}`)),
  );
}

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function runTarget(name, file, env) {
  return new Promise((resolve) => {
    const child = spawn('npx', [...vitest, file, '-t', `^${escapeRegExp(name)} `], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const forward = (stream, out) =>
      stream.on('data', (chunk) => {
        const text = chunk.toString();
        output += text;
        // Progress and failures; Vitest's own summary is repeated below in short.
        for (const line of text.split('\n')) {
          if (/^\[fuzz\]|HANG|counterexample:|saved as|error:|reproduce:|FAIL|Error/.test(line))
            out.write(`  ${line}\n`);
        }
      });
    forward(child.stdout, process.stdout);
    forward(child.stderr, process.stderr);
    child.on('close', (code, signal) => resolve({ code: signal ? 1 : code, output }));
  });
}

const targets = listTargets();
const selected = args.target ? args.target.split(',').map((t) => t.trim()) : [...targets.keys()];
for (const t of selected)
  if (!targets.has(t)) throw new Error(`unknown target ${t}; known: ${[...targets.keys()].join(', ')}`);

const seed = args.seed ?? String((Math.random() * 2 ** 31) | 0);
const minutes = args.minutes === undefined ? undefined : Number(args.minutes);
const targetMs = minutes === undefined ? undefined : Math.max(1000, (minutes * 60_000) / selected.length);
const baseEnv = {
  FUZZ_LONG: '1',
  FUZZ_SAVE: '1',
  FUZZ_SEED: seed,
  FUZZ_HANG_MS: args['hang-ms'],
  ...(targetMs === undefined ? { FUZZ_RUNS: args.runs } : { FUZZ_TARGET_MS: String(Math.round(targetMs)) }),
};
console.log(
  `fuzzing ${selected.length} targets, seed ${seed}, ` +
    (targetMs === undefined
      ? `${args.runs}× the bounded runs`
      : `${Math.round(targetMs / 1000)} s per target`),
);

const before = regressionFiles();
const results = [];
for (const [i, name] of selected.entries()) {
  const { file } = targets.get(name);
  console.log(`[${i + 1}/${selected.length}] ${name} (${file.slice(root.length)})`);
  const started = Date.now();
  const { code, output } = await runTarget(name, file, baseEnv);
  const runs = [...output.matchAll(/\[fuzz\] .*: done: (\d+) runs/g)].reduce((n, m) => n + Number(m[1]), 0);
  const seconds = Math.round((Date.now() - started) / 1000);
  results.push({ name, ok: code === 0, runs, seconds });
  console.log(`  ${code === 0 ? 'ok' : 'FAILED'}: ${runs} runs in ${seconds} s`);
  if (code !== 0 && args.bail) break;
}

const added = [...regressionFiles()].filter((f) => !before.has(f));
console.log('\ntarget                 result      runs  seconds');
for (const r of results) {
  console.log(
    `${r.name.padEnd(22)} ${(r.ok ? 'ok' : 'FAILED').padEnd(8)} ${String(r.runs).padStart(7)} ${String(r.seconds).padStart(8)}`,
  );
}
if (added.length > 0) {
  console.log(
    `\nnew regression fixtures (kept; the bounded run replays them):\n${added.map((f) => `  test/fuzz/regressions/${f}`).join('\n')}`,
  );
}
console.log(
  `\nseed ${seed}; reproduce one target with FUZZ_SEED=${seed} FUZZ_LONG=1 npx vitest run test/fuzz -t "<target>"`,
);
process.exit(results.every((r) => r.ok) ? 0 : 1);
