// Binlog directories beanlab makes for the servers it starts (a case's {binlog}, the embedded
// server's binlog). Each is removed when its server stops; the ones still there when the process
// exits (Ctrl-C in the middle of a run, which ends it without closing the sessions) are removed
// then, so no run leaves directories behind in the temporary directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<string>();
let exitHookInstalled = false;

/** A fresh, empty directory in the temporary directory, removed at exit if not before. */
export function makeBinlogDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'beanlab-binlog-'));
  live.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => live.forEach(removeNow));
  }
  return dir;
}

export function removeBinlogDir(dir: string): void {
  live.delete(dir);
  removeNow(dir);
}

function removeNow(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
