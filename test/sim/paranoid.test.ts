// `sim --paranoid[=N]`: the model's and the simulator's invariants checked every N events. It
// must catch a model that breaks its contract (a plain run does not notice), and must not change
// the result of a sound run by a single byte.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/model/index.js';
import type { ConnId, ReferenceModel } from '../../src/model/api.js';
import type { Request } from '../../src/protocol/types.js';
import { parseScenario } from '../../src/scenario/load.js';
import { createSimulation } from '../../src/sim/run.js';
import { runBeanlab } from '../helpers/beanlab-cli.js';
import { resultHash } from './helpers.js';

const smoke = parseScenario(readFileSync('scenarios/smoke.yaml', 'utf8'), 'scenarios/smoke.yaml');

/** A model that answers every 50th delete DELETED but keeps the job: a contract broken quietly. */
function forgetfulModel({ pickWaiter }: { pickWaiter: (c: readonly ConnId[], tube: string) => number }): ReferenceModel {
  const inner = createModel({ pickWaiter });
  let deletes = 0;
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'apply') {
        return (conn: ConnId, request: Request, nowUs: number) => {
          if (request.kind === 'delete' && ++deletes % 50 === 0 && target.job(request.id) !== undefined) {
            // The job is released instead of deleted: the server's reply lies.
            target.apply(conn, { kind: 'release', id: request.id, pri: 0, delaySeconds: 100000 }, nowUs);
            return [{ conn, reply: { kind: 'DELETED' } }];
          }
          return target.apply(conn, request, nowUs);
        };
      }
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function run(paranoidEvery: number) {
  const sim = createSimulation({ ...smoke, maxDurationSeconds: 60 }, 1, forgetfulModel, { paranoidEvery });
  while (!sim.step(10_000));
  return sim.result();
}

describe('sim --paranoid', () => {
  it('catches a model that says DELETED and keeps the job, which a plain run does not notice', () => {
    expect(() => run(0)).not.toThrow();
    expect(() => run(100)).toThrow(/invariant broken at \d+ µs: job \d+ is done but still in the model/);
  });

  it('changes nothing in a sound run: the same bytes as without it, with and without a round trip', () => {
    const file = 'scenarios/shared-pool.yaml';
    const shared = { ...parseScenario(readFileSync(file, 'utf8'), file), durationSeconds: 300 };
    expect(resultHash(shared, 4, 97)).toBe(resultHash(shared, 4));
    const wired = { ...smoke, server: { roundTripUs: 700, commandCostUs: 30 } };
    expect(resultHash(wired, 4, 1)).toBe(resultHash(wired, 4));
  });

  it('on the command line: --paranoid=N reports its checks; a bad N is bad input (exit 2)', async () => {
    const ok = await runBeanlab(['sim', 'scenarios/smoke.yaml', '--seed', '3', '--paranoid=200'], { timeoutMs: 60_000 });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^paranoid: invariants checked (\d+) times \(every 200 events and at the end\): all held$/m);
    const checks = Number(/checked (\d+) times/.exec(ok.stdout)![1]);
    expect(checks).toBeGreaterThan(3);
    const plain = await runBeanlab(['sim', 'scenarios/smoke.yaml', '--seed', '3', '--paranoid'], { timeoutMs: 60_000 });
    expect(plain.stdout).toMatch(/every 1000 events/);
    const bad = await runBeanlab(['sim', 'scenarios/smoke.yaml', '--paranoid=0'], { timeoutMs: 60_000 });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("beanlab: --paranoid takes a whole number of events, 1 or more (--paranoid=N), got '0'\n");
  });
});
