// Small scenarios for load tests: seconds long at most, at rates a shared 2-core machine takes.
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
