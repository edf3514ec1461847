// The servers the client tests run against: a real beanstalkd spawned on a free loopback port,
// and the embedded server in this process. With CI=true a missing beanstalkd fails the run.
import { spawnBeanstalkd } from '../../src/target/spawn.js';
import { beanstalkdPath } from '../helpers/beanstalkd.js';
import { startServer } from '../../src/server/tcp.js';

export interface TestTarget {
  name: string;
  /** False only outside CI when beanstalkd is not installed: the suite is then skipped. */
  available: boolean;
  start(): Promise<{ port: number; stop(): Promise<void> }>;
}

export const beanstalkdAvailable = beanstalkdPath !== undefined || process.env.CI === 'true';

export const TARGETS: TestTarget[] = [
  {
    name: 'beanstalkd',
    available: beanstalkdAvailable,
    async start() {
      const proc = await spawnBeanstalkd();
      return { port: proc.port, stop: () => proc.stop() };
    },
  },
  {
    name: 'embedded',
    available: true,
    async start() {
      const server = await startServer({ port: 0 });
      return { port: server.port, stop: () => server.close() };
    },
  },
];
