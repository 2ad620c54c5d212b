import { buildFunctionTree, toFlameGraph } from '@emberscope/model';
import { rng } from '../../../bench/gen.mjs';

const rand = rng(3);
const N = 1_000_000,
  F = 20000;
const parent = new Int32Array(N),
  location = new Int32Array(N),
  values = new Float64Array(N);
for (let i = 0; i < N; i++) {
  parent[i] = i < 50 ? -1 : Math.floor(i * (1 - rand() ** 4));
  location[i] = Math.floor(rand() * F);
  values[i] = rand() < 0.5 ? 1 + Math.floor(rand() * 1000) : 0;
}
const part = {
  parent,
  location,
  values,
  locFrameStart: Uint32Array.from({ length: F + 1 }, (_, i) => i),
  locFrameName: Uint32Array.from({ length: F }, (_, i) => i),
  names: Array.from({ length: F }, (_, i) => `pkg${i % 97}.F${i}`),
};
const tree = buildFunctionTree([part]);
const mode = process.argv[2];
const s = performance.now();
for (let i = 0; i < 40; i++) toFlameGraph(tree, mode === 'full' ? 1 << 21 : 8192);
console.log((performance.now() - s) / 40);
