// The embedded server (the model behind TCP, src/server/tcp.ts) on a free loopback port; with a
// binlog directory when a case asks for one, so the persistence cases run in-process too.
import type { ReferenceModel } from '../model/api.js';
import type { Profile } from '../protocol/types.js';
import { startServer } from '../server/tcp.js';
import { LOOPBACK } from './address.js';
import { binlogSession, TcpSession, type TargetFactory } from './sessions.js';

export interface EmbeddedServer {
  host: string;
  port: number;
  /** What SIGUSR1 does to beanstalkd: every later put answers DRAINING. */
  enterDrainMode(): void;
  stop(): Promise<void>;
}

export async function startEmbedded(opts: { profile?: Profile; maxJobSize?: number; binlogDir?: string } = {}): Promise<EmbeddedServer> {
  let model: ReferenceModel | undefined;
  const server = await startServer({
    host: LOOPBACK,
    port: 0,
    profile: opts.profile,
    maxJobSize: opts.maxJobSize,
    ...(opts.binlogDir !== undefined ? { binlog: { dir: opts.binlogDir } } : {}),
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
    canPersist: true,
    open: async (settings) => {
      const drain = async (server: EmbeddedServer) => server.enterDrainMode();
      if (!settings.binlog) {
        const server = await startEmbedded(settings);
        return new TcpSession(server, { stop: () => server.stop(), drain: () => drain(server) });
      }
      // A restart closes this server and starts a new one on the same directory, as
      // `beanlab serve --binlog DIR` would be restarted.
      return binlogSession((binlogDir) => startEmbedded({ ...settings, binlogDir }), drain);
    },
  };
}
