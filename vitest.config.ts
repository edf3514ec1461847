import { defineConfig } from 'vitest/config';

// Tests that measure the speed of a real server (the regression gate's "no false alarm in 10
// tries", validate's agreement with the simulator) run last and alone: while the other files
// spawn servers and run the conformance suite on both cores, a p90 measured beside them is a
// measure of that contention, not of the server (validate disagreed on queue wait p90, 2.58 ms
// against a band up to 2.06 ms, while full conformance runs spawned servers beside it).
const MEASURING = ['test/load/regression.test.ts', 'test/validate/cli.test.ts'];

const shared = {
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    // Real-server tests spawn beanstalkd processes; two cores do not gain from more workers.
    maxWorkers: 2,
    projects: [
      { test: { ...shared, name: 'main', include: ['test/**/*.test.ts'], exclude: MEASURING, sequence: { groupOrder: 0 } } },
      { test: { ...shared, name: 'measuring', include: MEASURING, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
