// Determinism pinned across processes, machines and commits: every shipped scenario at a fixed
// seed gives a result whose JSON has this exact SHA-256. (The old check compared two runs in one
// process, which a change of the random streams, of event order or of Node's Math would pass.)
// A change to the simulator that changes results changes these on purpose: say why in the commit,
// and take the new values from the failure message, which prints them.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { resultHash } from './helpers.js';

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
  { file: 'burst-drain', sha256: '8edb40bb0624dead6e539e81c5c0b306b7df906634e8f22dfb16616a37380114' },
  { file: 'delayed-reports', sha256: '68bee53790b2e408dd10e83fdedcaf51e016c185ed4210bd0761c15d33c7d7e1' },
  { file: 'emails', sha256: 'd70a39a85beb6bb760ee162b805ca1dc30b4a8bcfb0aa3d7a5b24990b6541c30' },
  { file: 'flaky-webhooks', sha256: '80c4aae22dad0f1aa75b1763288dc2e3821f66aa14b1b8cb3fb79df2160eb7f3' },
  { file: 'http-enqueue', sha256: '2bbff6a2533dc035962b9235777a12a599f9df628dec3a89a703365a3a7bd116' },
  { file: 'mmc', shorten: { jobs: 50_000, warmupSeconds: 100 }, sha256: 'd8bd9e5fa7fe55b7e027f7503d9988ac32d22632238a798f5aad518566195a9d' },
  { file: 'put-max', shorten: { durationSeconds: 0.5 }, sha256: '8916165000f4fddab6ede089d736a616424c8d0de8d579e4c177b6bdf65b5502' },
  { file: 'shared-pool', sha256: 'e8912893eff60e8f302587eb8e109b24a4fb73766cd3645fd3c7f788a0d7111c' },
  { file: 'smoke', sha256: '17521f670b33f331314ad31d6bb7c82c3b05d8e361adb1e11bf075f4ab02380f' },
  { file: 'smoke', server: { roundTripUs: 300, commandCostUs: 20 }, sha256: '92c322b9806eac4396cb10d0e90dd5b637d9d0afd44559235409411e07be477e' },
  { file: 'shared-pool', server: { roundTripUs: 5000, commandCostUs: 100 }, sha256: 'c1e793e4c8c5a12b4817b9d4187386736f4b133ef0fe55fa98ccd127621afa75' },
  { file: 'flaky-webhooks', shorten: { durationSeconds: 900 }, server: { roundTripUs: 1000, commandCostUs: 400 }, sha256: '271c7c051332ba525692adc012b5bded41074ede06a1ad80c1258eca21c535d6' },
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
