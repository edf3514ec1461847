// Binlog directories beanlab makes: removed when asked, and the rest when the process exits
// (a Ctrl-C in the middle of a conform run ends it without closing its sessions).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeBinlogDir, removeBinlogDir } from '../../src/target/temp-dir.js';

const MODULE = fileURLToPath(new URL('../../src/target/temp-dir.ts', import.meta.url));

describe('binlog temp directories', () => {
  it('are fresh and removed on request', () => {
    const a = makeBinlogDir();
    const b = makeBinlogDir();
    expect(a).not.toBe(b);
    expect(existsSync(a)).toBe(true);
    removeBinlogDir(a);
    removeBinlogDir(b);
    expect(existsSync(a) || existsSync(b)).toBe(false);
  });

  it('left open are removed when the process exits', () => {
    const script = `import { makeBinlogDir } from ${JSON.stringify(MODULE)}; console.log(makeBinlogDir()); process.exit(130);`;
    let output = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    } catch (error) {
      output = (error as { stdout: string }).stdout;
    }
    const dir = output.trim();
    expect(dir).toMatch(/beanlab-binlog-/);
    expect(existsSync(dir)).toBe(false);
  });
});
