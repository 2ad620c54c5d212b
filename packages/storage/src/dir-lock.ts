import { open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Data directories this process holds, to tell our own lock from a stale one left under the same pid. */
const heldByThisProcess = new Set<string>();

/**
 * Takes `<dir>/LOCK` so that two engines never write the same WAL and blocks. A lock whose process is
 * gone (crash) is taken over. Returns the release function.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(resolve(dir), 'LOCK');
  for (;;) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(String(process.pid));
      await file.close();
      heldByThisProcess.add(path);
      return async () => {
        heldByThisProcess.delete(path);
        await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    // After a restart in a container the new process often gets the crashed one's pid.
    const ours = pid === process.pid && heldByThisProcess.has(path);
    if (ours || (pid !== process.pid && isAlive(pid))) {
      throw new Error(`data directory ${dir} is in use by process ${pid} (lock file ${path})`);
    }
    await unlink(path).catch(() => {});
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
