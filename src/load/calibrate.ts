// Calibration for `beanlab validate`: the round trip a command takes between the load generator
// and a server, WITHOUT the server's own work per command. Were the server's work included, a
// server made slower per command would be calibrated into agreement with the prediction (the
// simulator would be told the slowness is the network), and validate exists to catch exactly it.
// So the path is measured, not the server:
//   - the network: TCP handshakes to the target (connect() returns once the kernel has exchanged
//     SYN and SYN-ACK; no server application code runs), and the same to an echo server;
//   - the load generator's own request/reply path (encode, write, the kernel, parse, callback):
//     a command's round trip through the load runner's driver against beanlab's echo server, a
//     child process on loopback that answers every command line at once with NOT_FOUND, less
//     that echo server's handshake (the network part, counted once from the target's);
//   roundTripUs = target handshake + (echo command round trip − echo handshake).
// The same cheap command against the target (a delete of a job that does not exist) takes the
// round trip plus the server's own cost; the difference is reported as what the server's cost per
// command appears to be: a diagnostic, never fed into the prediction (the scenario's
// commandCostUs stays what the scenario says). Medians of interleaved samples, so that a busy
// moment of a shared machine weighs on the echo server and the target alike.
// The echo server's own reply (a Node process: tens of microseconds) counts as path: it is what a
// trivial server costs, not part of any real server's work.
//
// During the real run a probe keeps asking the echo server (a command every PROBE_EVERY_MS, one at
// a time, from the load generator's own event loop): its round trips are what the path added to a
// reply while the run went, a busy machine's scheduling and the load generator's lagging loop
// included, and still no server's work (validate widens latency bands by them).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram, type HistogramSummary } from '../metrics/histogram.js';
import type { Calibration } from '../metrics/calibration.js';
import type { Address } from '../target/address.js';
import { beanlabDriver, type QueueConnection } from './driver.js';

export type { Calibration } from '../metrics/calibration.js';

export interface CalibrateOptions {
  /** Samples of each kind (default 200; the first few of each are thrown away as warm-up). */
  samples?: number;
  /** The whole calibration's bound (default 30 s): a server that stops answering fails it. */
  timeoutMs?: number;
}

const DEFAULT_SAMPLES = 200;
const WARM_UP = 10;
const DEFAULT_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 3000;
/** The probe's pace during a real run, and how long it waits for an answer (the echo server is ours). */
const PROBE_EVERY_MS = 10;
const PROBE_TIMEOUT_MS = 10_000;
/** A job id no server has handed out: `delete` of it is answered NOT_FOUND at once. */
const ABSENT_ID = 4_294_967_295;

/**
 * The echo server: a plain Node process answering every line with NOT_FOUND, which is what the
 * calibration's command gets from a real server too. It prints its port, then serves until killed.
 */
const ECHO_SERVER_SOURCE = `
const net = require('node:net');
const reply = Buffer.from('NOT_FOUND\\r\\n');
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) socket.write(reply);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('disconnect', () => process.exit(0));
`;

export class CalibrationError extends Error {
  override name = 'CalibrationError';
}

/**
 * A calibration session against one target: its echo server lives until close(), so that probes
 * can run alongside the real runs. measure() is the calibration proper.
 */
export class PathCalibration {
  private readonly conns: QueueConnection[] = [];

  private constructor(
    private readonly target: Address,
    private readonly echo: { address: Address; stop(): Promise<void> },
  ) {}

  /** Where the echo server listens (until close()). */
  get echoAddress(): Address {
    return this.echo.address;
  }

  static async start(target: Address, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<PathCalibration> {
    const echo = await startEchoServer(Date.now() + timeoutMs);
    return new PathCalibration(target, { address: { host: '127.0.0.1', port: echo.port }, stop: echo.stop });
  }

  async measure(options: CalibrateOptions = {}): Promise<Calibration> {
    const samples = options.samples ?? DEFAULT_SAMPLES;
    const deadlineMs = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const echoAddress = this.echo.address;
    const handshakes = { target: [] as number[], echo: [] as number[] };
    for (let i = 0; i < samples + WARM_UP; i++) {
      const e = await handshakeUs(echoAddress, deadlineMs);
      const t = await handshakeUs(this.target, deadlineMs);
      if (i >= WARM_UP) handshakes.echo.push(e), handshakes.target.push(t);
    }
    const requestTimeoutMs = Math.max(1, deadlineMs - Date.now());
    const echoConn = await this.connect(echoAddress, requestTimeoutMs);
    const targetConn = await this.connect(this.target, requestTimeoutMs);
    const commands = { target: [] as number[], echo: [] as number[] };
    for (let i = 0; i < samples + WARM_UP; i++) {
      const e = await commandUs(echoConn, deadlineMs);
      const t = await commandUs(targetConn, deadlineMs);
      if (i >= WARM_UP) commands.echo.push(e), commands.target.push(t);
    }
    await targetConn.close();
    // Whole microseconds first, so that the figures add up as printed.
    const handshake = round(medianOf(handshakes.target));
    const echoHandshake = round(medianOf(handshakes.echo));
    const echoCommand = round(medianOf(commands.echo));
    const targetCommand = round(medianOf(commands.target));
    const roundTrip = Math.max(0, handshake + echoCommand - echoHandshake);
    return {
      handshakeUs: handshake,
      echoHandshakeUs: echoHandshake,
      echoCommandUs: echoCommand,
      roundTripUs: roundTrip,
      targetCommandUs: targetCommand,
      serverCostUs: targetCommand - roundTrip,
      samples,
    };
  }

  /**
   * Starts probing the echo server: a command every PROBE_EVERY_MS, the next only once the last
   * is answered. stop() gives the round trips' distribution; a probe that fails stops quietly
   * (the run it accompanies is what matters) and says how far it got.
   */
  async probe(): Promise<PathProbe> {
    const conn = await this.connect(this.echo.address, PROBE_TIMEOUT_MS);
    const histogram = new LatencyHistogram();
    let waiting = false;
    let failed = false;
    const timer = setInterval(() => {
      if (waiting || failed) return;
      waiting = true;
      const startMs = performance.now();
      conn.delete(ABSENT_ID, (error) => {
        waiting = false;
        if (error) failed = true;
        else histogram.record(Math.round((performance.now() - startMs) * 1000));
      });
    }, PROBE_EVERY_MS);
    return {
      stop: () => {
        clearInterval(timer);
        void conn.close();
        return histogram.summary();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.conns.map((c) => c.close()));
    await this.echo.stop();
  }

  private async connect(address: Address, timeoutMs: number): Promise<QueueConnection> {
    const conn = await beanlabDriver.connect(address, timeoutMs);
    this.conns.push(conn);
    return conn;
  }
}

export interface PathProbe {
  /** Stops probing: the round trips to the echo server while it ran. */
  stop(): HistogramSummary;
}

/** The calibration in one go: a session measured and closed. */
export async function calibrate(target: Address, options: CalibrateOptions = {}): Promise<Calibration> {
  const session = await PathCalibration.start(target, options.timeoutMs);
  try {
    return await session.measure(options);
  } finally {
    await session.close();
  }
}

/** One TCP (or UNIX-socket) connect, from the call to the 'connect' event; the socket is then dropped. */
function handshakeUs(address: Address, deadlineMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const startMs = performance.now();
    const socket = address.path !== undefined ? net.connect({ path: address.path }) : net.connect({ host: address.host, port: address.port });
    const timer = setTimeout(() => fail(new CalibrationError('a TCP handshake took over 3 s')), Math.min(CONNECT_TIMEOUT_MS, Math.max(1, deadlineMs - Date.now())));
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error instanceof CalibrationError ? error : new CalibrationError(`connecting to measure the round trip: ${error.message}`));
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      const us = (performance.now() - startMs) * 1000;
      clearTimeout(timer);
      socket.destroy();
      resolve(us);
    });
  });
}

/** One `delete` of a job that does not exist, sent and answered (NOT_FOUND) through the load runner's driver. */
function commandUs(conn: QueueConnection, deadlineMs: number): Promise<number> {
  if (Date.now() > deadlineMs) return Promise.reject(new CalibrationError('the calibration ran out of time'));
  return new Promise((resolve, reject) => {
    const startMs = performance.now();
    conn.delete(ABSENT_ID, (error) => {
      if (error) reject(new CalibrationError(`measuring a command's round trip: ${error.message}`));
      else resolve((performance.now() - startMs) * 1000);
    });
  });
}

async function startEchoServer(deadlineMs: number): Promise<{ port: number; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['-e', ECHO_SERVER_SOURCE], { stdio: ['ignore', 'pipe', 'ignore', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  /** Kills it by its PID and waits (up to 5 s) until it is gone, its port with it. */
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new CalibrationError('the echo server did not start within 10 s')), Math.min(10_000, Math.max(1, deadlineMs - Date.now())));
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const m = /^(\d+)\n/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new CalibrationError(`starting the echo server: ${error.message}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new CalibrationError(`the echo server exited (${code}) before it listened`));
      });
    });
    return { port, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function round(us: number): number {
  return Math.round(us);
}
