// `beanlab serve` (its own process, so its RSS is its own) under clients that never read their
// replies (issue 13, item 1). The bounds are generous: the server's idle RSS plus 64 MiB, where
// an unbounded server reached gigabytes. `npm run bench:server` measures the exact figures
// beside beanstalkd.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnEmbeddedServer, type ServerProcess } from '../helpers/server-process.js';
import {
  eventually,
  neverReadingPipeliners,
  probeLatency,
  putJob,
  reserveReleaseLoop,
  rssKiB,
  type Hostile,
} from '../helpers/hostile-clients.js';

const MIB = 1024;
/** What the hostile clients may add to the server's resident memory, in KiB. */
const GROWTH_LIMIT_KIB = 64 * MIB;
const BODY_BYTES = 60_000;

let server: ServerProcess;
const hostiles: Hostile[] = [];

beforeEach(async () => {
  server = await spawnEmbeddedServer();
});
afterEach(async () => {
  for (const h of hostiles.splice(0)) h.stop();
  await server.stop();
});

/** The largest RSS seen while sampling every 50 ms for `ms`. */
async function peakRssKiB(pid: number, ms: number): Promise<number> {
  let peak = 0;
  for (const stopAt = Date.now() + ms; Date.now() < stopAt; ) {
    peak = Math.max(peak, rssKiB(pid));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return peak;
}

describe('beanlab serve: memory under clients that never read (bounded per connection)', () => {
  it('6 connections each pipelining 5,461 peek-ready of a 60,000-byte job stay within idle + 64 MiB, and others are served', { timeout: 60_000 }, async () => {
    await putJob(server, { bodyBytes: BODY_BYTES });
    const idleKiB = rssKiB(server.pid);
    // Unbounded, this is 6 x 5,461 x 60 KB = 1.9 GB of replies.
    hostiles.push(await neverReadingPipeliners(server, { connections: 6, command: 'peek-ready', count: 5461 }));
    const [peakKiB, probe] = await Promise.all([peakRssKiB(server.pid, 2000), probeLatency(server, { durationMs: 1000, timeoutMs: 20_000 })]);
    expect(peakKiB - idleKiB, `idle ${idleKiB} KiB, peak ${peakKiB} KiB`).toBeLessThan(GROWTH_LIMIT_KIB);
    expect(probe.latenciesMs.length).toBeGreaterThan(0);
  });

  it('a reserve-with-timeout 0 + release loop on one connection stays within idle + 64 MiB', { timeout: 60_000 }, async () => {
    const id = await putJob(server, { bodyBytes: BODY_BYTES });
    const idleKiB = rssKiB(server.pid);
    // 20,000 RESERVED replies of 60 KB: 1.2 GB if nothing stopped it.
    hostiles.push(await reserveReleaseLoop(server, { jobId: id, count: 20_000 }));
    expect(await peakRssKiB(server.pid, 2000)).toBeLessThan(idleKiB + GROWTH_LIMIT_KIB);
  });

  it('memory the hostile clients took comes back once they close', { timeout: 60_000 }, async () => {
    await putJob(server, { bodyBytes: BODY_BYTES });
    const idleKiB = rssKiB(server.pid);
    const hostile = await neverReadingPipeliners(server, { connections: 6, command: 'peek-ready', count: 5461 });
    hostiles.push(hostile);
    await peakRssKiB(server.pid, 1000);
    hostile.stop();
    // Still answering, and back near where it started.
    expect((await probeLatency(server, { durationMs: 200, timeoutMs: 10_000 })).latenciesMs.length).toBeGreaterThan(0);
    const back = await eventually(() => rssKiB(server.pid) < idleKiB + 32 * MIB, 5000);
    expect(back, `idle ${idleKiB} KiB, now ${rssKiB(server.pid)} KiB`).toBe(true);
  });
});
