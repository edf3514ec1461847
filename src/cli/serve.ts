// `beanlab serve`: the embedded server (the reference model behind TCP) as a process of its own.
import type { Command } from 'commander';
import v8 from 'node:v8';
import vm from 'node:vm';
import { PROFILES, type Profile } from '../protocol/types.js';
import { BinlogError } from '../server/binlog-file.js';
import { FAULTS, faultIntercept, parseFault, type FaultSpec } from '../server/faults.js';
import { startServer } from '../server/tcp.js';
import { UsageError } from './errors.js';

/**
 * V8 doubles its young generation (up to 2 x 16 MiB) whenever many objects survive a scavenge,
 * which every held job does: a server that took 200,000 puts keeps 25 MiB of young generation
 * it never needs again. Growth factor 1 keeps it at its starting size (2 x 1 MiB); the scavenges
 * come more often but each costs only what survives it. Set at run time because only the
 * server process wants it (as a node option it would apply to every beanlab command).
 */
const YOUNG_GENERATION_FLAG = '--semi-space-growth-factor=1';

/**
 * After this long without an event the server collects its garbage (once per busy spell): V8
 * runs no collection in an idle process, so a burst's garbage (replies, requests, closed
 * clients' buffers) would otherwise stay until the next burst. A full collection of a heap
 * holding 200,000 jobs takes tens of milliseconds, and only happens when nothing waits for it.
 */
const IDLE_COLLECT_AFTER_MS = 1000;

/** beanstalkd's own ceiling for `-z` (JOB_DATA_SIZE_LIMIT_MAX). */
const MAX_JOB_SIZE_LIMIT = 1073741824;

interface ServeOptions {
  host: string;
  port: number;
  unix?: string;
  maxJobSize: number;
  profile: Profile;
  fault: FaultSpec[];
  binlog?: string;
  binlogSkipCorrupt?: boolean;
  binlogSegmentBytes?: number;
}

function collectFault(value: string, previous: FaultSpec[]): FaultSpec[] {
  try {
    return [...previous, parseFault(value)];
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function integerIn(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new UsageError(`${name} must be an integer from ${min} to ${max}, got '${value}'`);
    }
    return Number(value);
  };
}

function profile(value: string): Profile {
  if (!(PROFILES as readonly string[]).includes(value)) {
    throw new UsageError(`--profile must be one of ${PROFILES.join(', ')}, got '${value}'`);
  }
  return value as Profile;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Run the embedded server: the reference model of beanstalkd behind a TCP (or UNIX-domain) socket.')
    .addHelpText(
      'after',
      '\nOnce it accepts connections it prints exactly one line:\n' +
        '  beanlab serve: listening on HOST:PORT (profile P)     (or unix:PATH with --unix)\n' +
        'It stops cleanly on SIGINT or SIGTERM. Like beanstalkd, SIGUSR1 enters drain mode:\n' +
        'every later put answers DRAINING.\n' +
        '\n' +
        'With --binlog DIR, jobs survive a restart as with beanstalkd -b DIR: ready, delayed and\n' +
        'buried jobs come back with their ids, a reserved job comes back ready; counters, pauses\n' +
        'and empty tubes do not. DIR is created if missing and holds one server at a time (a\n' +
        'second one exits with status 2). Each record is written before the reply goes out.\n' +
        'DIR holds segment files of at most 8 MiB (--binlog-segment-bytes), compacted while the\n' +
        'server runs to about twice the live jobs plus two segments. Every record has a\n' +
        'checksum: a damaged record stops the start, naming it, unless --binlog-skip-corrupt is\n' +
        'given (its job is lost; the number of records skipped is printed). A binlog.jsonl of an\n' +
        'earlier beanlab is read and converted.',

    )
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port; 0 picks a free one', integerIn('--port', 0, 65535), 11300)
    .option('--unix <path>', 'listen on this UNIX-domain socket instead of TCP (like beanstalkd -l unix:PATH); a stale socket file there is replaced')
    .option(
      '--max-job-size <bytes>',
      'largest job body accepted, like beanstalkd -z',
      integerIn('--max-job-size', 0, MAX_JOB_SIZE_LIMIT),
      65535,
    )
    .option('--profile <version>', `beanstalkd version to follow (${PROFILES.join(' or ')})`, profile, '1.12')
    .option('--binlog <dir>', 'keep jobs in DIR across restarts (like beanstalkd -b DIR); see below')
    .option('--binlog-skip-corrupt', 'start past damaged binlog records instead of refusing to (they are counted and named)')
    .option('--binlog-segment-bytes <bytes>', 'largest binlog segment file, like beanstalkd -s (default 8 MiB)', integerIn('--binlog-segment-bytes', 4096, MAX_JOB_SIZE_LIMIT))
    .option(
      '--fault <name[=value]>',
      `inject a fault, to check that a conformance run catches it (repeatable): ${FAULTS.map((f) => f.name + (f.takesValue ? '=N' : '')).join(', ')}`,
      collectFault,
      [],
    )
    .action(async (options: ServeOptions) => {
      v8.setFlagsFromString(YOUNG_GENERATION_FLAG);
      v8.setFlagsFromString('--expose-gc');
      const collectGarbage = vm.runInNewContext('gc') as () => void;
      for (const [given, name] of [[options.binlogSkipCorrupt, '--binlog-skip-corrupt'], [options.binlogSegmentBytes, '--binlog-segment-bytes']] as const) {
        if (given !== undefined && options.binlog === undefined) throw new UsageError(`${name} needs --binlog DIR`);
      }
      const where = options.unix !== undefined ? `unix:${options.unix}` : `${options.host}:${options.port}`;
      const server = await startServer({
        ...(options.unix !== undefined ? { path: options.unix } : { host: options.host, port: options.port }),
        maxJobSize: options.maxJobSize,
        profile: options.profile,
        whenIdle: { afterMs: IDLE_COLLECT_AFTER_MS, run: collectGarbage },
        ...(options.fault.length > 0 ? { intercept: faultIntercept(options.fault) } : {}),
        ...(options.binlog !== undefined
          ? {
              binlog: {
                dir: options.binlog,
                skipCorrupt: options.binlogSkipCorrupt ?? false,
                ...(options.binlogSegmentBytes !== undefined ? { segmentBytes: options.binlogSegmentBytes } : {}),
                onWarning: (message: string) => process.stderr.write(`beanlab serve: warning: ${message}\n`),
              },
            }
          : {}),
      }).catch((error: NodeJS.ErrnoException) => {
        if (error instanceof BinlogError) throw new UsageError(error.message);
        // The stale-socket check explains itself; a bind error is best told by its code.
        const reason = options.unix !== undefined && (error.code === 'EEXIST' || error.code === 'EADDRINUSE') ? error.message : (error.code ?? error.message);
        throw new UsageError(`cannot listen on ${where}: ${reason}`);
      });
      const drain = (): void => server.enterDrainMode();
      process.on('SIGUSR1', drain);
      // Handlers go in before the listening line: whoever reads that line may signal at once.
      const stopped = new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      process.stdout.write(
        `beanlab serve: listening on ${server.path !== undefined ? `unix:${server.path}` : `${server.host}:${server.port}`} (profile ${options.profile})\n` +
          (options.fault.length > 0 ? `beanlab serve: faults injected: ${options.fault.map((f) => f.name + (f.value === undefined ? '' : `=${f.value}`)).join(', ')}\n` : ''),
      );
      await stopped;
      process.off('SIGUSR1', drain);
      await server.close();
    });
}
