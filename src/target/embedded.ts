// The embedded server (the model behind TCP, src/server/tcp.ts) on a free loopback port.
import type { ReferenceModel } from '../model/api.js';
import type { Profile } from '../protocol/types.js';
import { startServer } from '../server/tcp.js';
import { LOOPBACK } from './address.js';
import { TcpSession, type TargetFactory } from './sessions.js';

export interface EmbeddedServer {
  host: string;
  port: number;
  /** What SIGUSR1 does to beanstalkd: every later put answers DRAINING. */
  enterDrainMode(): void;
  stop(): Promise<void>;
}

export async function startEmbedded(opts: { profile?: Profile; maxJobSize?: number } = {}): Promise<EmbeddedServer> {
  let model: ReferenceModel | undefined;
  const server = await startServer({
    host: LOOPBACK,
    port: 0,
    profile: opts.profile,
    maxJobSize: opts.maxJobSize,
    // The interception seam is how we reach the model to enter drain mode in-process.
    intercept: { model: (m) => (model = m) },
  });
  return {
    host: server.host,
    port: server.port,
    enterDrainMode: () => model!.enterDrainMode(),
    stop: () => server.close(),
  };
}

/** The embedded TCP server, a new one per session. */
export function embeddedTarget(): TargetFactory {
  return {
    label: 'embedded server',
    freshPerCase: true,
    canSignal: true,
    canConfigure: true,
    open: async (settings) => {
      const server = await startEmbedded(settings);
      return new TcpSession(server, {
        stop: () => server.stop(),
        drain: async () => server.enterDrainMode(),
      });
    },
  };
}
