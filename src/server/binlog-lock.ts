// One server per binlog directory, as beanstalkd's lock file ensures (semantics b.7). The lock
// is a file holding the owner's PID, so a lock left by a crashed or SIGKILLed owner (its PID
// gone) is taken over instead of blocking every later start.
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BinlogError } from './binlog-file.js';

export const LOCK_FILE = 'lock';

export class BinlogLockedError extends BinlogError {
  override name = 'BinlogLockedError';
  constructor(
    readonly dir: string,
    readonly ownerPid: number,
  ) {
    super(`binlog directory ${dir} is in use by process ${ownerPid}`);
  }
}

/** Locks held by this process: a lock file with our own PID is ours only if it is listed here. */
const heldHere = new Set<string>();

export interface DirectoryLock {
  release(): void;
}

export function lockDirectory(dir: string): DirectoryLock {
  const path = join(dir, LOCK_FILE);
  // Two rounds: the second follows the removal of a stale lock.
  for (let round = 0; round < 2; round++) {
    if (tryCreate(path)) {
      heldHere.add(path);
      return { release: () => release(path) };
    }
    const owner = readOwner(path);
    if (owner !== undefined && isHeld(path, owner)) throw new BinlogLockedError(dir, owner);
    // Stale: its owner is gone. Two servers taking over the same stale lock at the same instant
    // could both succeed; a start racing a crash recovery is not worth a kernel lock here.
    rmSync(path, { force: true });
  }
  throw new BinlogLockedError(dir, readOwner(path) ?? -1);
}

/** Creates the lock with our PID already in it (link is atomic and exclusive), so no reader sees it empty. */
function tryCreate(path: string): boolean {
  const staging = `${path}.${process.pid}.tmp`;
  writeFileSync(staging, `${process.pid}\n`);
  try {
    linkSync(staging, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(staging, { force: true });
  }
}

function readOwner(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // removed meanwhile: the next round creates it
  }
}

function isHeld(path: string, owner: number): boolean {
  if (owner === process.pid) return heldHere.has(path);
  try {
    process.kill(owner, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function release(path: string): void {
  if (!heldHere.delete(path)) return;
  if (readOwner(path) === process.pid) rmSync(path, { force: true });
}
