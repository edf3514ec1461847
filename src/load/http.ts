// `load.http`: producers reach beanstalkd through a small HTTP endpoint, the way a web
// application enqueues work. autocannon drives POST /enqueue/N at each producer's constant rate;
// the handler puts one job per request and answers 201 with the job id; workers drain the tube
// as usual. The report then shows the HTTP latency next to the jobs' completion latency.
// autocannon's own coordinated-omission correction uses the wrong unit when a rate is set, so it
// is turned off and the correction is made here (src/metrics/load-correction.ts).
// autocannon's connections wait for each answer before sending the next request, so a server
// stall holds requests back, and it drops the quota of a second it could not use: the jobs of
// those requests would be timed from when they finally arrived, or not at all. So every job is
// timed from its intended start: the k-th request of an endpoint was due k/rate seconds after
// the endpoint started (the constant rate asked for), and a job starts at the earlier of that
// and its arrival (autocannon sends each second's quota in a burst at its start, ahead of the
// schedule). Requests the schedule called for that never arrived are counted (neverSent) and
// recorded in the HTTP latency at their age at the end.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon, { type Instance } from 'autocannon';
import { Client } from '../client/client.js';
import type { Address } from '../target/address.js';
import { LatencyHistogram } from '../metrics/histogram.js';
import { recordCorrected } from '../metrics/load-correction.js';
import type { LoadDetails } from '../metrics/load-result.js';
import { delaySecondsAt, producerStream, type ProducerStream } from '../workload/index.js';
import { noAnswer } from './outstanding.js';
import { PlanError, type ProducerPlan } from './plan.js';
import type { ProducerContext, ProducerSide } from './producers.js';

interface Endpoint {
  plan: ProducerPlan;
  clients: Client[];
  next: number;
  /** The producer's decisions, untimed: autocannon paces the requests, each takes the next put's attributes. */
  stream: ProducerStream;
  ratePerSecond: number;
  /** When autocannon was started on it (run clock); the schedule's time zero. */
  startUs: number;
  /** Requests that arrived so far: the next one is request number `arrived` of the schedule. */
  arrived: number;
  /** The most requests it may send (scenario jobs), if bounded by a count. */
  amount: number | undefined;
  /** When its schedule ends (run clock), if bounded by time. */
  stopUs: number;
}

export class HttpProducers implements ProducerSide {
  private readonly latencyUs = new LatencyHistogram();
  private readonly instances: Instance[] = [];
  private requests = 0;
  private non2xx = 0;
  private errors = 0;
  private outstanding = 0;
  private settledWaiter: (() => void) | undefined;
  private stopped = false;
  finishedUs: number | undefined;

  private constructor(
    private readonly ctx: ProducerContext,
    private readonly endpoints: Endpoint[],
    private readonly server: http.Server,
    private readonly url: string,
  ) {}

  static async start(ctx: ProducerContext, address: Address): Promise<HttpProducers> {
    const endpoints: Endpoint[] = [];
    for (const p of ctx.plan.producers) {
      if (p.spec.arrival.process !== 'constant') throw new PlanError('load.http needs producers with a constant arrival rate');
      const clients = await Promise.all(Array.from({ length: ctx.plan.connections }, () => Client.connect({ ...address, timeoutMs: ctx.requestTimeoutMs })));
      if (p.tubeName !== 'default') await Promise.all(clients.map((c) => c.use(p.tubeName)));
      endpoints.push({
        plan: p,
        clients,
        next: 0,
        stream: producerStream(ctx.plan.workload, p.index, ctx.seed, { untimed: true, slice: p.slice, observer: ctx.observer }),
        ratePerSecond: p.spec.arrival.ratePerSecond,
        startUs: 0,
        arrived: 0,
        amount: undefined,
        stopUs: Infinity,
      });
    }
    let self: HttpProducers | undefined;
    const server = http.createServer((req, res) => self!.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const listening = server.address() as AddressInfo;
    self = new HttpProducers(ctx, endpoints, server, `http://127.0.0.1:${listening.port}`);
    return self;
  }

  get connectionCount(): number {
    return this.endpoints.reduce((sum, e) => sum + e.clients.length, 0);
  }

  start(): Promise<void> {
    const { plan } = this.ctx;
    const httpConnections = plan.scenario.load.http!.connections;
    const runs = this.endpoints.map(
      (endpoint, index) =>
        new Promise<void>((resolve) => {
          const spec = endpoint.plan.spec;
          const stopUs = Math.min(plan.durationUs, spec.stopSeconds === undefined ? Infinity : spec.stopSeconds * 1e6);
          const amount = spec.jobs ?? (this.endpoints.length === 1 && Number.isFinite(plan.jobsLimit) ? plan.jobsLimit : undefined);
          const connections = Math.max(1, Math.min(httpConnections, Math.floor(endpoint.ratePerSecond)));
          const rate = Math.max(1, Math.round(endpoint.ratePerSecond));
          endpoint.ratePerSecond = rate;
          endpoint.amount = amount;
          endpoint.stopUs = amount !== undefined ? Infinity : stopUs;
          endpoint.startUs = this.ctx.clock.nowUs();
          // autocannon paces each connection at rate/connections requests per second.
          const expectedIntervalUs = (1e6 * connections) / rate;
          const instance = autocannon(
            {
              url: `${this.url}/enqueue/${index}`,
              method: 'POST',
              connections,
              overallRate: rate,
              ...(amount !== undefined ? { amount } : { duration: stopUs / 1e6 }),
              ignoreCoordinatedOmission: true,
              timeout: this.ctx.requestTimeoutMs / 1000,
            },
            (error, result) => {
              if (error) this.ctx.fail(error);
              else {
                this.requests += result.requests.total;
                this.errors += result.errors + result.timeouts;
                this.non2xx += result.non2xx;
              }
              resolve();
            },
          );
          instance.on('response', (_client, _status, _bytes, responseTimeMs) => {
            recordCorrected(this.latencyUs, Math.round(responseTimeMs * 1000), expectedIntervalUs);
          });
          this.instances.push(instance);
        }),
    );
    return Promise.all(runs).then(() => {
      this.finishedUs ??= this.ctx.clock.nowUs();
    });
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.finishedUs ??= this.ctx.clock.nowUs();
      for (const instance of this.instances) instance.stop();
    }
    if (this.outstanding > 0) await new Promise<void>((resolve) => (this.settledWaiter = resolve));
  }

  async close(): Promise<void> {
    await this.stop();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all(this.endpoints.flatMap((e) => e.clients.map((c) => c.close())));
  }

  /**
   * The HTTP figures at the end of the run (endUs): requests the schedule called for up to then
   * that never arrived are counted and recorded at their age.
   */
  summary(endUs: number): NonNullable<LoadDetails['http']> {
    const rate = this.endpoints.reduce((sum, e) => sum + e.ratePerSecond, 0);
    let scheduled = 0;
    let neverSent = 0;
    for (const e of this.endpoints) {
      const intervalUs = 1e6 / e.ratePerSecond;
      const untilUs = Math.min(endUs, e.stopUs, this.finishedUs ?? endUs);
      // Requests k = 0, 1, ... due before untilUs.
      let due = Math.max(0, Math.ceil((untilUs - e.startUs) / intervalUs));
      if (e.amount !== undefined) due = Math.min(due, e.amount);
      scheduled += due;
      for (let k = e.arrived; k < due; k++) {
        neverSent += 1;
        this.latencyUs.record(Math.max(0, Math.round(endUs - (e.startUs + k * intervalUs))));
      }
    }
    return {
      requests: this.requests,
      non2xx: this.non2xx,
      errors: this.errors,
      targetRatePerSecond: rate,
      scheduled,
      neverSent,
      latencyUs: this.latencyUs.summary(),
    };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const { clock, tracker, plan } = this.ctx;
    const arrivedUs = clock.nowUs();
    const match = /^\/enqueue\/(\d+)$/.exec(req.url ?? '');
    const endpoint = match ? this.endpoints[Number(match[1])] : undefined;
    req.resume();
    if (req.method !== 'POST' || endpoint === undefined) {
      res.writeHead(404).end();
      return;
    }
    if (this.stopped) {
      res.writeHead(503).end();
      return;
    }
    const p = endpoint.plan;
    const decision = endpoint.stream.next();
    if (decision === undefined) {
      // The producer's own job count is reached (autocannon was told it; a request past it is refused).
      res.writeHead(503).end();
      return;
    }
    // Its intended start: when the constant rate called for it, unless it came earlier.
    const intendedUs = endpoint.startUs + (endpoint.arrived * 1e6) / endpoint.ratePerSecond;
    endpoint.arrived += 1;
    const startUs = Math.min(arrivedUs, intendedUs);
    const delaySeconds = delaySecondsAt(plan.workload.producers[p.index], decision.baseDelaySeconds, startUs);
    const group = decision.group;
    const dueUs = startUs + delaySeconds * 1e6;
    const body = this.ctx.bodies.encode(dueUs, group, decision.pri, decision.ttrSeconds, decision.bodyBytes);
    const client = endpoint.clients[endpoint.next++ % endpoint.clients.length];
    this.outstanding += 1;
    const pending = this.ctx.pendingPuts;
    const seq = pending.begin(startUs, group);
    client.put(body, { pri: decision.pri, delaySeconds, ttrSeconds: decision.ttrSeconds }).then(
      (id) => {
        pending.end(seq);
        tracker.putAcked(id, group, dueUs, decision.ttrSeconds, startUs, clock.nowUs());
        res.writeHead(201, { 'content-type': 'text/plain' }).end(`${id}\n`);
        this.settle();
      },
      (error: unknown) => {
        if (!(error instanceof Error && noAnswer(error))) pending.end(seq);
        res.writeHead(503).end();
        this.settle();
        if (!this.stopped) this.ctx.fail(error);
      },
    );
  }

  private settle(): void {
    this.outstanding -= 1;
    if (this.outstanding === 0 && this.settledWaiter) {
      this.settledWaiter();
      this.settledWaiter = undefined;
    }
  }
}
