// Ctrl-C during `beanlab conform` loses nothing: the checks finished so far are printed and
// written (JSON), and the process exits 1 instead of dying silently.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { BEANLAB_BIN as BIN } from '../helpers/beanlab-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'beanlab-conform-int-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('writes the partial result when interrupted', async () => {
  const json = join(dir, 'partial.json');
  // cwd: any replay files go to the temporary folder.
  const child = spawn(process.execPath, [BIN, 'conform', '--json', json], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  // Interrupt once the run has certainly started (its first line is printed before any check).
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, 2000));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  expect(code).toBe(1);
  expect(stdout).toContain('interrupted: the checks finished so far');
  expect(existsSync(json)).toBe(true);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  expect(result.kind).toBe('conformance');
  expect(result.checks.length).toBeGreaterThan(0);
  expect(result.passed + result.failed + result.skipped).toBe(result.checks.length);
}, 60_000);
