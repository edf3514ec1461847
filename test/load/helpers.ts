// Small scenarios for load tests: seconds long at most, at rates a shared 2-core machine takes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';

export function scenario(yaml: string): Scenario {
  return parseScenario(yaml, 'test scenario');
}

export const beanstalkdCommand = (binary: string) => `${binary} -l 127.0.0.1 -p {port}`;

/** Open loop at `rate` puts/s for `seconds`, two workers deleting at once. */
export function steady(rate: number, seconds: number, extra = ''): Scenario {
  return scenario(`
name: steady
durationSeconds: ${seconds}
tubes: [work]
producers:
  - tube: work
    arrival: { process: constant, ratePerSecond: ${rate} }
    bodyBytes: 64
workers:
  - count: 2
    watch: [work]
    service: { distribution: constant, seconds: 0 }
load:
  drainSeconds: 5
${extra}`);
}

/**
 * A scenario file in `dir`: 60 s of 100 puts/s and no workers, so every job put stays on the
 * server, and a server that an interrupt reached (and stopped) loses them all.
 */
export function writeNoWorkersScenario(dir: string): string {
  const file = join(dir, 'steady.yaml');
  writeFileSync(
    file,
    `name: steady
durationSeconds: 60
producers: [{ tube: t, arrival: { process: constant, ratePerSecond: 100 } }]
workers: [{ count: 0, watch: [t], service: { distribution: constant, seconds: 0 } }]
`,
  );
  return file;
}
