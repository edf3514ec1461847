// How the shards of one run meet, through the server they load and nothing else (no coordinator
// to run): three marker tubes named after the run's token, `beanlab-<token>-start`,
// `-produced` and `-stopped`. A shard reaching a phase puts one job into that phase's tube and
// deletes it at once; the tube's `total-jobs` counter (semantics b.6) keeps counting it. Every
// shard watches the three tubes from its start to its end, which keeps them, and their counters,
// alive; when the last shard disconnects they vanish, leaving nothing on the server, and a
// shard killed half-way leaves nothing either. So `total-jobs` of a phase tube is the number of
// shards of this run that have reached the phase, and:
//  - the start barrier (--barrier) waits until N shards have started;
//  - a shard drains until every shard that started has finished producing and the scenario's
//    tubes hold nothing ready, delayed or reserved (its own jobs may be finished by siblings, so
//    its own bookkeeping cannot tell when the run is drained);
//  - a coordinated run (barrier or --start-at) audits only once every shard that started has
//    stopped its workers, so each shard's audit sees the run's final state.
// Every wait is bounded by the caller's deadline.
import { Client } from '../client/client.js';
import type { Address } from '../target/address.js';
import type { ShardSpec } from './shard.js';

export type Phase = 'start' | 'produced' | 'stopped';
const PHASES: readonly Phase[] = ['start', 'produced', 'stopped'];

/** How often a wait asks the server again. */
const POLL_MS = 10;

export function phaseTube(token: number, phase: Phase): string {
  return `beanlab-${token}-${phase}`;
}

export class BarrierTimeout extends Error {
  override name = 'BarrierTimeout';
}

export class Rendezvous {
  private constructor(
    private readonly client: Client,
    private readonly token: number,
    private readonly shard: ShardSpec,
  ) {}

  /** Connects and watches the phase tubes (which creates them if this shard is the first). */
  static async open(address: Address, token: number, shard: ShardSpec, requestTimeoutMs: number): Promise<Rendezvous> {
    const client = await Client.connect({ ...address, timeoutMs: requestTimeoutMs });
    try {
      for (const phase of PHASES) await client.watch(phaseTube(token, phase));
    } catch (error) {
      await client.close();
      throw error;
    }
    return new Rendezvous(client, token, shard);
  }

  /** This shard has reached `phase`: counted in the phase tube's total-jobs for as long as the tube lives. */
  async mark(phase: Phase): Promise<void> {
    await this.client.use(phaseTube(this.token, phase));
    const id = await this.client.put(`shard ${this.shard.index}/${this.shard.count} pid ${process.pid}`, { pri: 0, delaySeconds: 0, ttrSeconds: 1 });
    await this.client.delete(id);
  }

  /** How many shards of this run have reached `phase`. */
  async count(phase: Phase): Promise<number> {
    const stats = await this.client.statsTube(phaseTube(this.token, phase));
    return Number(stats?.get('total-jobs') ?? 0);
  }

  /**
   * Waits until `enough(count)` holds for the phase; false when deadlineMs (Date.now()) passes
   * or the signal aborts first.
   */
  async waitFor(phase: Phase, enough: (count: number) => boolean | Promise<boolean>, deadlineMs: number, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (await enough(await this.count(phase))) return true;
      if (signal?.aborted || Date.now() >= deadlineMs) return false;
      await pause(Math.min(POLL_MS, Math.max(0, deadlineMs - Date.now())), signal);
    }
  }

  /** Jobs ready, delayed or reserved in the tubes (buried ones are done with): the run's backlog on the server. */
  async backlog(tubes: readonly string[]): Promise<number> {
    const stats = await Promise.all(tubes.map((tube) => this.client.statsTube(tube)));
    let total = 0;
    for (const s of stats) for (const key of ['ready', 'delayed', 'reserved']) total += Number(s?.get(`current-jobs-${key}`) ?? 0);
    return total;
  }

  /** Every tube's job count (any state), or null where the server would not say. */
  async tubeJobs(tubes: readonly string[]): Promise<Array<number | null>> {
    return Promise.all(
      tubes.map(async (tube) => {
        try {
          const s = await this.client.statsTube(tube);
          let total = 0;
          for (const key of ['ready', 'reserved', 'delayed', 'buried']) total += Number(s?.get(`current-jobs-${key}`) ?? 0);
          return total;
        } catch {
          return null;
        }
      }),
    );
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
