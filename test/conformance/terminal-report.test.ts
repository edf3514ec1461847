// What `beanlab conform` prints for a passing whole-suite run (what `npm start` shows first):
// short, within 100 columns, the spec notes counted in one line (they are in the reports and
// under --verbose), and everything in full with --verbose.
import { describe, expect, it } from 'vitest';
import { runConform } from '../../src/cli/conform.js';

const SEED = Number(process.env.BEANLAB_SEED ?? Math.floor(Math.random() * 2 ** 31));

async function conform(verbose: boolean): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await runConform({ profile: '1.12', concurrency: 8, quick: true, seed: SEED, verbose, replayDir: 'reports/test-replays' }, (t) => (text += t));
  return { code, text };
}

describe(`a passing conform --quick on the embedded server (seed ${SEED})`, () => {
  it('prints at most 25 lines of at most 100 columns, and no SPEC: note lines', { timeout: 120_000 }, async () => {
    const { code, text } = await conform(false);
    expect(code, text).toBe(0);
    const lines = text.trimEnd().split('\n');
    expect(lines.length, text).toBeLessThanOrEqual(25);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(text).not.toContain('SPEC:');
    expect(text).toMatch(/^notes: \d+ checks where beanstalkd differs from protocol\.txt/m);
    expect(text).toMatch(/^\d+ checks: \d+ passed, 0 failed, 1 skipped$/m);
  });

  it('with --verbose prints every section, the notes and every skip', { timeout: 120_000 }, async () => {
    const { code, text } = await conform(true);
    expect(code, text).toBe(0);
    expect(text).toMatch(/^worker\/reserve-with-timeout\s+\d+\s+0\s+1$/m);
    expect(text).toMatch(/^ {2}framing\/line\/basic-overlong-swallows-next-line: SPEC: /m);
    expect(text).toMatch(/^ {2}worker\/reserve-with-timeout\/basic-negative-rejected: only for profile 1\.13$/m);
  });
});
