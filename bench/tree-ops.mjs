// Benchmarks of the tree operations, diff and encodings of @emberscope/model on a large function tree.
// Run after `npx tsc -b`: `node bench/tree-ops.mjs [--quick]`.
// Writes bench/results/model-<date>.md.
//
// Input: the "call graph" tree of bench/flamegraph.mjs (1 M stack nodes sampled from a random call
// graph of 20 k functions → ~0.9 M tree nodes), and a second one for the diff and merge: the same call
// graph sampled with another seed. Its long random paths are rarely shared, so the two trees align to
// ~1.75 M nodes, a pessimistic case (two time ranges of one service share most of their paths).
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  buildFunctionTree,
  decodeTree,
  diffTable,
  encodeTree,
  filterCallSite,
  focusSubtree,
  functionTable,
  invert,
  mergeTrees,
  renderHtml,
  sandwich,
  toCollapsed,
  toDiffFlameGraph,
  toDot,
  toFlamebearer,
  toFlameGraph,
} from '@emberscope/model';
import { callGraphStackValues } from './gen.mjs';
import { formatTable, machineInfo, measure } from './lib.mjs';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean' } } });
const ITERATIONS = args.quick ? 3 : 7;
const STACK_NODES = 1_000_000;

const time = async (fn) => (await measure('', fn, { warmup: 1, iterations: ITERATIONS })).medianMs;
const fmt = (n) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n);
const rows = [];
function record(benchmark, ms, notes = '') {
  rows.push({ benchmark, 'median ms': ms, notes });
  console.log(`${benchmark}: ${ms.toFixed(2)} ms ${notes}`);
}

const machineBefore = machineInfo();
const leftPart = callGraphStackValues({ seed: 1, stackNodes: STACK_NODES });
const rightPart = callGraphStackValues({ seed: 1, sampleSeed: 2, stackNodes: STACK_NODES });
const left = buildFunctionTree([leftPart]);
const right = buildFunctionTree([rightPart]);
const n = `${fmt(left.size)}-node`;

// The hottest function with callers and callees, and a path two levels down the heaviest branch.
const hottest = functionTable(left)[0].name;
const path = [];
for (let node = 0, depth = 0; depth < 2; depth++) {
  let best = -1;
  for (let c = node + 1; c < left.size; c++)
    if (left.parent[c] === node && (best < 0 || left.total[c] > left.total[best])) best = c;
  path.push(left.names[left.name[best]]);
  node = best;
}

record(`toFlameGraph(8192), ${n} tree`, await time(() => toFlameGraph(left, 8192)));
record(`toFlameGraph(untruncated), ${n} tree`, await time(() => toFlameGraph(left, 1 << 20)));
const diff = toDiffFlameGraph(left, right, 8192);
record(
  `toDiffFlameGraph(8192), ${n} vs ${fmt(right.size)}-node trees`,
  await time(() => toDiffFlameGraph(left, right, 8192)),
  `${fmt(diff.levels.reduce((s, l) => s + l.length / 7, 0))} nodes shown`,
);
record(`diffTable, same trees`, await time(() => diffTable(left, right)));
record(
  `mergeTrees, same trees`,
  await time(() => mergeTrees(left, right)),
  `${fmt(mergeTrees(left, right).size)} nodes`,
);
const sw = sandwich(left, hottest);
record(
  `sandwich of the hottest function, ${n} tree`,
  await time(() => sandwich(left, hottest)),
  `${fmt(sw.callers.size)} caller / ${fmt(sw.callees.size)} callee nodes`,
);
record(
  `focusSubtree 2 levels down, ${n} tree`,
  await time(() => focusSubtree(left, path)),
  `${fmt(focusSubtree(left, path).size)} nodes`,
);
record(`invert, ${n} tree`, await time(() => invert(left)), `${fmt(invert(left).size)} nodes`);
const callSite = [left.names[left.name[1]]];
record(
  `filterCallSite (1 frame) + buildFunctionTree, 1 M stack nodes`,
  await time(() => buildFunctionTree(filterCallSite([leftPart], callSite))),
);
record(`  buildFunctionTree alone, for comparison`, await time(() => buildFunctionTree([leftPart])));
const bytes = encodeTree(left, 1 << 20);
record(
  `encodeTree(untruncated), ${n} tree`,
  await time(() => encodeTree(left, 1 << 20)),
  `${fmt(bytes.length)} bytes`,
);
record(`encodeTree(8192), ${n} tree`, await time(() => encodeTree(left, 8192)));
record(`decodeTree of the untruncated encoding`, await time(() => decodeTree(bytes)));
record(
  `toCollapsed, ${n} tree`,
  await time(() => toCollapsed(left)),
  `${fmt(toCollapsed(left).length)} chars`,
);
record(`toDot(100), ${n} tree`, await time(() => toDot(left, 100)));
const graph = toFlamebearer(toFlameGraph(left, 8192));
record(
  `renderHtml of the 8192-node flame graph`,
  await time(() => renderHtml(graph, { title: 'cpu', units: 'samples' })),
  `${fmt(renderHtml(graph, { title: 'cpu', units: 'samples' }).length)} chars`,
);

const info = Object.entries(machineBefore)
  .map(([key, value]) => `- ${key}: ${value}`)
  .join('\n');
const report = `# Model: tree operations, diff and encodings

${info}
- load average after the run: ${machineInfo().loadAverage}

\`node packages/model/bench/tree-ops.mjs\`. Medians of ${ITERATIONS} runs, wall time, on the ~0.9 M-node
"call graph" tree of bench/flamegraph.mjs. The second tree samples the same call graph with another seed;
they share few paths and align to ~1.75 M nodes, a pessimistic case for the diff and merge.

${formatTable(rows)}
`;
const resultsDir = new URL('../../../bench/results/', import.meta.url);
mkdirSync(resultsDir, { recursive: true });
const file = new URL(`model-${machineBefore.date.slice(0, 10)}.md`, resultsDir);
writeFileSync(file, report);
console.log(`\n${report}\nwritten to ${file.pathname}`);
