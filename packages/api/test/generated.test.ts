import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const apiDir = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../../../node_modules/.bin', import.meta.url));

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

test('generated protobuf code is up to date with the .proto files (npm run generate -w @emberscope/api)', () => {
  const work = mkdtempSync(join(tmpdir(), 'emberscope-gen-'));
  try {
    for (const name of ['proto', 'buf.yaml', 'buf.gen.yaml'])
      cpSync(join(apiDir, name), join(work, name), { recursive: true });
    execFileSync(join(bin, 'buf'), ['generate'], {
      cwd: work,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    const fresh = listFiles(join(work, 'src/gen'))
      .map((f) => relative(work, f))
      .sort();
    const committed = listFiles(join(apiDir, 'src/gen'))
      .map((f) => relative(apiDir, f))
      .sort();
    expect(fresh).toEqual(committed);
    for (const file of fresh)
      expect(readFileSync(join(work, file), 'utf8'), file).toBe(readFileSync(join(apiDir, file), 'utf8'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
