// The calibration validate runs before its real run (src/load/calibrate.ts): the round trip of the
// path (network and the load generator's own request/reply handling), never the server's own
// work per command. A server that answers 5 ms late (serve --fault slow=5) must show as a server
// cost of about 5 ms and leave the round trip as small as beanstalkd's; so must the probe that
// measures the path during a run.
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { PathCalibration } from '../../src/load/calibrate.js';
import { openTarget, type OpenTarget } from '../../src/target/open.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { beanstalkdCommand } from './helpers.js';

const opened: OpenTarget[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.stop()));
});

async function open(spec: Parameters<typeof openTarget>[0]): Promise<OpenTarget> {
  const target = await openTarget(spec);
  opened.push(target);
  return target;
}

/** Loopback on a busy shared machine: medians stay well under this. */
const LOOPBACK_ROUND_TRIP_BOUND_US = 3000;

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

describeWithBeanstalkd('calibrating the path to a server', (binary) => {
  it('against beanstalkd: a loopback round trip, and a server cost near nothing', async () => {
    const target = await open({ kind: 'spawn', command: beanstalkdCommand(binary) });
    const session = await PathCalibration.start(target.address);
    const echoPort = session.echoAddress.port!;
    try {
      const c = await session.measure({ samples: 100 });
      expect(c.samples).toBe(100);
      expect(c.roundTripUs).toBeGreaterThan(0);
      expect(c.roundTripUs).toBeLessThan(LOOPBACK_ROUND_TRIP_BOUND_US);
      expect(c.roundTripUs).toBe(Math.max(0, c.handshakeUs + c.echoCommandUs - c.echoHandshakeUs));
      expect(c.serverCostUs).toBe(c.targetCommandUs - c.roundTripUs);
      expect(c.serverCostUs).toBeLessThan(1000);
    } finally {
      await session.close();
    }
    // The echo server is gone with the session.
    expect(await refused(echoPort)).toBe(true);
  }, 60_000);

  it('against a server answering 5 ms late: the 5 ms show as its cost, not as round trip, in the calibration and in the probe', async () => {
    const target = await open({ kind: 'embedded', args: ['--fault', 'slow=5'] });
    const session = await PathCalibration.start(target.address);
    try {
      const c = await session.measure({ samples: 100 });
      expect(c.targetCommandUs).toBeGreaterThan(5000);
      expect(c.serverCostUs).toBeGreaterThan(4000);
      expect(c.roundTripUs).toBeLessThan(LOOPBACK_ROUND_TRIP_BOUND_US);
      const probe = await session.probe();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const path = probe.stop();
      expect(path.count).toBeGreaterThan(10);
      expect(path.p50).toBeLessThan(LOOPBACK_ROUND_TRIP_BOUND_US);
    } finally {
      await session.close();
    }
  }, 60_000);
});
