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
  { file: 'burst-drain', sha256: '6532bc461c4dde8c84796c7bb14df9f2a6c5b66e79200ee0ce09ce51a7d2df50' },
  { file: 'delayed-reports', sha256: '4e3bccf3e295f1865cc4f89ef6b34532d07ce2bf89357a699503ac29582354bf' },
  { file: 'emails', sha256: '4f6879238a1fd2b91a1cc1296c76aaee7c2f7357c7cfd30c37e456f51f1fc357' },
  { file: 'flaky-webhooks', sha256: '1074b14c46425f8fca5a4a5e58dad312c0ea24fddb55990044975c8bc54c0bdf' },
  { file: 'http-enqueue', sha256: 'ef0080b1f76adcbedb2518e9386f3b00fc6e17fe1d3c6e449c13e34c225f9fac' },
  { file: 'mmc', shorten: { jobs: 50_000, warmupSeconds: 100 }, sha256: 'df67ad00b2d0cdccd8450df2db1c0da89233a8fd8ba655f4c029a5a881a2fe39' },
  { file: 'mmc-validate', sha256: '654311ec5212af1fb2e76932e821d3ebbd73e3d4636608e7e992d256165d3b3f' },
  { file: 'put-max', shorten: { durationSeconds: 0.5 }, sha256: 'dd8f38a05ddb754ad492906fea3aa5dfb0c1344e72367c0ed0e9538e728fa877' },
  { file: 'shared-pool', sha256: 'd607a889f1201bbe354f0b6820f45a2dd804454fbdfd2d14325f5d22e6258133' },
  { file: 'smoke', sha256: 'aa54931273f44ea63a3f5b8a30909d761e0f8d92e90fd6e17d2de22e55fe0648' },
  { file: 'smoke', server: { roundTripUs: 300, commandCostUs: 20 }, sha256: '527c337e997bf93d8b7e064e2e5bd2e92477b4f6da29e9e8908603e0ae2e8606' },
  { file: 'shared-pool', server: { roundTripUs: 5000, commandCostUs: 100 }, sha256: 'a1084b42207e4b1c65dbf4c408950f44c134bad684c2a3f057eadbd087978bad' },
  { file: 'flaky-webhooks', shorten: { durationSeconds: 900 }, server: { roundTripUs: 1000, commandCostUs: 400 }, sha256: 'e6d8b339b16fd17065c4f39a7c9164951303364a840564e17d5cb35fadd222cf' },
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
