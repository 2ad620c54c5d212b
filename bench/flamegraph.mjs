// Flame graph benchmarks: merging stack trees into a function tree (buildFunctionTree), laying it out
// with truncation (toFlameGraph), and the per-function table.
// Run after `npx tsc -b`: `node bench/flamegraph.mjs [--quick]`. Writes bench/results/flamegraph-<date>.md.
//
// Input: synthetic StackValues, as storage hands them over after a merge.
// - "call graph": stacks sampled from a random call graph (20k functions, 4 locations per function,
//   10% with an inlined frame) and inserted root first, so a new path gets consecutive ids, as in the
//   storage stack tree. Paths are long and rarely shared: a pessimistic ~0.9 tree node per stack node.
// - "scattered": every node's parent is a random earlier node, so no access has locality (worst case).
// The machine is shared, so the build is also given as a ratio to a baseline measured in the same run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildFunctionTree, functionTable, toFlameGraph } from '@emberscope/model';
import { callGraphStackValues, rng } from './gen.mjs';
import { formatTable, machineInfo, measure } from './lib.mjs';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean' } } });
const ITERATIONS = args.quick ? 3 : 9;
const STACK_NODES = 1_000_000;

function scatteredPartition({ seed, stackNodes, functions = 20_000 }) {
  const rand = rng(seed);
  const parent = new Int32Array(stackNodes);
  const values = new Float64Array(stackNodes);
  for (let i = 0; i < stackNodes; i++) {
    parent[i] = i < 50 ? -1 : Math.floor(i * (1 - rand() ** 4));
    values[i] = rand() < 0.5 ? 1 + Math.floor(rand() * 1000) : 0;
  }
  return {
    parent,
    location: Int32Array.from({ length: stackNodes }, () => Math.floor(rand() * functions)),
    values,
    locFrameStart: Uint32Array.from({ length: functions + 1 }, (_, i) => i),
    locFrameName: Uint32Array.from({ length: functions }, (_, i) => i),
    names: Array.from({ length: functions }, (_, i) => `pkg${i % 97}.Function${i}`),
  };
}

const time = async (fn) => (await measure('', fn, { warmup: 2, iterations: ITERATIONS })).medianMs;
const fmt = (n) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n);
const rows = [];
function record(benchmark, ms, notes = '') {
  rows.push({ benchmark, 'median ms': ms, notes });
  console.log(`${benchmark}: ${ms.toFixed(2)} ms ${notes}`);
}

const machineBefore = machineInfo();

// Baseline: the build is bound by dependent loads from large tables, so compare it with chasing 1 M
// pointers through a random cycle over 2 M slots (Sattolo's shuffle).
const rand = rng(99);
const cycle = Int32Array.from({ length: 2 ** 21 }, (_, i) => i);
for (let i = cycle.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * i);
  [cycle[i], cycle[j]] = [cycle[j], cycle[i]];
}
const baselineMs = await time(() => {
  let at = 0;
  for (let i = 0; i < STACK_NODES; i++) at = cycle[at];
  return at;
});
record('baseline: 1 M dependent random loads (8 MiB table)', baselineMs, '1.00×');

const inputs = [
  ['call graph, 1 partition × 1 M stack nodes', [callGraphStackValues({ seed: 1, stackNodes: STACK_NODES })]],
  [
    'call graph, 4 partitions × 250 k stack nodes',
    [1, 2, 3, 4].map((seed) => callGraphStackValues({ seed, stackNodes: STACK_NODES / 4 })),
  ],
  ['scattered, 1 partition × 1 M stack nodes', [scatteredPartition({ seed: 1, stackNodes: STACK_NODES })]],
];
let bigTree;
for (const [label, parts] of inputs) {
  const ms = await time(() => buildFunctionTree(parts));
  const tree = buildFunctionTree(parts);
  bigTree ??= tree;
  const perNode = `${((ms * 1e6) / STACK_NODES).toFixed(0)} ns per stack node`;
  record(
    `buildFunctionTree, ${label} → ${fmt(tree.size)} nodes`,
    ms,
    `${perNode}, ${(ms / baselineMs).toFixed(1)}×`,
  );
}

for (const maxNodes of [8192, 65_536, 1_048_576]) {
  const shown = toFlameGraph(bigTree, maxNodes).levels.reduce((n, level) => n + level.length / 4, 0);
  const ms = await time(() => toFlameGraph(bigTree, maxNodes));
  record(
    `toFlameGraph(maxNodes ${maxNodes}) of the ${fmt(bigTree.size)}-node tree`,
    ms,
    `${fmt(shown)} nodes shown`,
  );
}
const smallTree = buildFunctionTree([callGraphStackValues({ seed: 5, stackNodes: 8192 })]);
record(
  `toFlameGraph of a ${fmt(smallTree.size)}-node tree (no truncation)`,
  await time(() => toFlameGraph(smallTree)),
);
record(`functionTable of the ${fmt(bigTree.size)}-node tree`, await time(() => functionTable(bigTree)));

const info = Object.entries(machineBefore)
  .map(([key, value]) => `- ${key}: ${value}`)
  .join('\n');
const report = `# Flame graph building

${info}
- load average after the run: ${machineInfo().loadAverage}

Medians of ${ITERATIONS} runs, wall time. The ratio compares the build with the baseline run in the same
process; it holds better than milliseconds on a busy machine.

${formatTable(rows)}
`;
const resultsDir = new URL('./results/', import.meta.url);
mkdirSync(resultsDir, { recursive: true });
const file = new URL(`flamegraph-${machineBefore.date.slice(0, 10)}.md`, resultsDir);
writeFileSync(file, report);
console.log(`\n${report}\nwritten to ${file.pathname}`);
