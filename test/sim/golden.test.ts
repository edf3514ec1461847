// Determinism pinned across processes, machines and commits: every shipped scenario at a fixed
// seed gives a result whose JSON has this exact SHA-256. (The old check compared two runs in one
// process, which a change of the random streams, of event order or of Node's Math would pass.)
// A change to the simulator that changes results changes these on purpose: say why in the commit,
// and take the new values from the failure message, which prints them.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { simulate } from '../../src/sim/run.js';

const SEED = 1;

interface Golden {
  file: string;
  /** Long scenarios are cut short so the test stays under a second each. */
  shorten?: Partial<Scenario>;
  /** Also with a round trip and a command cost, which take another path through the simulator. */
  server?: Scenario['server'];
  sha256: string;
}

const GOLDEN: Golden[] = [
  { file: 'burst-drain', sha256: '' },
  { file: 'delayed-reports', sha256: '' },
  { file: 'emails', sha256: '' },
  { file: 'flaky-webhooks', sha256: '' },
  { file: 'http-enqueue', sha256: '' },
  { file: 'mmc', shorten: { jobs: 50_000, warmupSeconds: 100 }, sha256: '' },
  { file: 'put-max', shorten: { durationSeconds: 0.5 }, sha256: '' },
  { file: 'shared-pool', sha256: '' },
  { file: 'smoke', sha256: '' },
  { file: 'smoke', server: { roundTripUs: 300, commandCostUs: 20 }, sha256: '' },
  { file: 'shared-pool', server: { roundTripUs: 5000, commandCostUs: 100 }, sha256: '' },
  { file: 'flaky-webhooks', shorten: { durationSeconds: 900 }, server: { roundTripUs: 1000, commandCostUs: 400 }, sha256: '' },
];

function load(golden: Golden): Scenario {
  const path = `scenarios/${golden.file}.yaml`;
  const scenario = { ...parseScenario(readFileSync(path, 'utf8'), path), ...golden.shorten };
  return golden.server ? { ...scenario, server: golden.server } : scenario;
}

function label(golden: Golden): string {
  const parts = [
    ...Object.entries(golden.shorten ?? {}).map(([k, v]) => `${k} ${v}`),
    ...(golden.server ? [`roundTripUs ${golden.server.roundTripUs}`, `commandCostUs ${golden.server.commandCostUs}`] : []),
  ];
  return `${golden.file}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}, seed ${SEED}`;
}

export function resultHash(scenario: Scenario, seed: number, paranoidEvery = 0): string {
  return createHash('sha256').update(JSON.stringify(simulate(scenario, seed, undefined, paranoidEvery))).digest('hex');
}

describe('golden results of the shipped scenarios', () => {
  it('cover every shipped scenario', () => {
    const shipped = readdirSync('scenarios').filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    expect([...new Set(GOLDEN.map((g) => g.file))].sort()).toEqual(shipped.sort());
  });
  for (const golden of GOLDEN) {
    it(label(golden), () => {
      const actual = resultHash(load(golden), SEED);
      expect(actual, `new sha256 for ${label(golden)}: '${actual}'`).toBe(golden.sha256);
    });
  }
});
