// A user's test file: the beanstalkd conformance suite against *your* server, in your own CI,
// as one vitest test per target. Copy it into your project (npm install --save-dev beanlab
// vitest), set SERVER_COMMAND to the command that starts your server on the port beanlab picks
// ({port}), and run `npx vitest run conformance.test.ts`.
//
// beanlab starts a fresh server per corpus case (and stops it by its PID), runs the transcript
// corpus and the model-based properties, and resolves with one result per target. A failing
// check carries the expected and the actual reply and a transcript that `npx beanlab replay`
// runs again against any server. (docs/library.md explains every option.)
import { describe, expect, it } from 'vitest';
import { conformanceResultSchema, runConformance, type ConformanceResult, type TargetSpec } from 'beanlab';

/** How to start your server: `{port}` is replaced by a free loopback port (or use `{socket}`). */
const command = process.env.SERVER_COMMAND ?? 'beanstalkd -l 127.0.0.1 -p {port}';
/** The same seed generates the same property sequences: a failure reproduces with it. */
const seed = Number(process.env.CONFORMANCE_SEED ?? 1);

/** One line per failing check: the test's diff then shows what differs, and how to replay it. */
function failures(result: ConformanceResult): string[] {
  return result.checks
    .filter((check) => check.status === 'fail')
    .map((check) => `${check.id} (${check.section}): expected ${check.expected}, got ${check.actual}\n${check.replay ?? ''}`);
}

describe('my server speaks beanstalkd 1.12', () => {
  it('passes the conformance suite', async () => {
    const target: TargetSpec = { kind: 'spawn', command };
    const [result] = await runConformance([target], {
      profile: '1.12',
      seed,
      // The short budget of the generated layer: about 20 s against beanstalkd.
      quick: true,
      onResult: (check) => {
        if (check.status === 'fail') console.log(`FAIL ${check.id}`);
      },
    });
    // The result is plain data with a versioned schema: keep it as a CI artifact if you like.
    expect(conformanceResultSchema.parse(result)).toEqual(result);
    expect(failures(result)).toEqual([]);
    expect(result.passed).toBeGreaterThan(0);
  }, 180_000);
});
