// A lying server for load tests: a TCP proxy in front of a real beanstalkd that parses the
// protocol both ways and lets a fault answer a command itself, change it on the way in, or
// change its reply on the way out. Replies reach the client in command order, faked or not, as
// beanstalkd's pipelining requires. Loopback only; closed by the test that starts it.
import net from 'node:net';

export interface ProxyCommand {
  /** The command line without CR LF, e.g. `put 0 0 60 12` or `delete 7`. */
  line: string;
  /** A put's body, without its CR LF. */
  body?: Buffer;
}

export interface ProxyReply {
  line: string;
  body?: Buffer;
}

/** What the proxy has seen so far, for faults that depend on it. */
export interface ProxyState {
  /** put commands seen, across connections. */
  puts: number;
  /** The highest id the server answered INSERTED with. */
  lastInsertedId: number;
  /** Commands a fault answered or changed. */
  faulted: number;
}

export type CommandAction =
  /** Forward the command (changed, if `line` is given) and pass its reply through `reply`. */
  | { forward: true; line?: string; reply?: (reply: ProxyReply) => ProxyReply }
  /** Do not forward: answer this (a full reply, CR LF included) in its turn. */
  | { answer: string };

export interface Fault {
  /** undefined: not this fault's business. */
  onCommand(command: ProxyCommand, state: ProxyState): CommandAction | undefined;
}

export interface FaultProxy {
  port: number;
  state: ProxyState;
  close(): Promise<void>;
}

export async function startFaultProxy(upstreamPort: number, faults: readonly Fault[]): Promise<FaultProxy> {
  const state: ProxyState = { puts: 0, lastInsertedId: 0, faulted: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: upstreamPort });
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    new Session(client, upstream, faults, state);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    state,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type Turn = { kind: 'server'; rewrite?: (reply: ProxyReply) => ProxyReply; isPut: boolean } | { kind: 'fake'; bytes: Buffer };

class Session {
  private fromClient = Buffer.alloc(0);
  private fromServer = Buffer.alloc(0);
  private readonly turns: Turn[] = [];

  constructor(
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
    private readonly faults: readonly Fault[],
    private readonly state: ProxyState,
  ) {
    client.on('data', (chunk: Buffer) => {
      this.fromClient = Buffer.concat([this.fromClient, chunk]);
      this.readCommands();
    });
    upstream.on('data', (chunk: Buffer) => {
      this.fromServer = Buffer.concat([this.fromServer, chunk]);
      this.readReplies();
    });
  }

  private readCommands(): void {
    for (;;) {
      const parsed = readMessage(this.fromClient, (line) => (line.startsWith('put ') ? Number(line.split(' ')[4]) : undefined));
      if (!parsed) return;
      this.fromClient = this.fromClient.subarray(parsed.size);
      const command: ProxyCommand = { line: parsed.line, body: parsed.body };
      const isPut = command.line.startsWith('put ');
      if (isPut) this.state.puts += 1;
      let action: CommandAction | undefined;
      for (const fault of this.faults) {
        action = fault.onCommand(command, this.state);
        if (action) break;
      }
      if (action) this.state.faulted += 1;
      if (action && 'answer' in action) {
        this.turns.push({ kind: 'fake', bytes: Buffer.from(action.answer, 'latin1') });
        this.flushFakes();
        continue;
      }
      const line = action?.line ?? command.line;
      this.turns.push({ kind: 'server', rewrite: action?.reply, isPut });
      this.upstream.write(command.body ? Buffer.concat([Buffer.from(`${line}\r\n`, 'latin1'), command.body, CRLF]) : `${line}\r\n`);
    }
  }

  private readReplies(): void {
    for (;;) {
      const parsed = readMessage(this.fromServer, (line) => {
        const words = line.split(' ');
        if (words[0] === 'RESERVED' || words[0] === 'FOUND') return Number(words[2]);
        if (words[0] === 'OK') return Number(words[1]);
        return undefined;
      });
      if (!parsed) return;
      this.fromServer = this.fromServer.subarray(parsed.size);
      const turn = this.turns.shift();
      if (!turn || turn.kind !== 'server') throw new Error(`fault proxy: reply ${parsed.line} out of turn`);
      let reply: ProxyReply = { line: parsed.line, body: parsed.body };
      if (turn.isPut && reply.line.startsWith('INSERTED ')) this.state.lastInsertedId = Math.max(this.state.lastInsertedId, Number(reply.line.split(' ')[1]));
      if (turn.rewrite) reply = turn.rewrite(reply);
      this.client.write(reply.body ? Buffer.concat([Buffer.from(`${reply.line}\r\n`, 'latin1'), reply.body, CRLF]) : `${reply.line}\r\n`);
      this.flushFakes();
    }
  }

  /** Fake answers at the head of the line go out now; one behind a server reply waits for it. */
  private flushFakes(): void {
    while (this.turns.length > 0 && this.turns[0].kind === 'fake') {
      this.client.write((this.turns.shift() as { bytes: Buffer }).bytes);
    }
  }
}

const CRLF = Buffer.from('\r\n');

/** One line and, when bodyBytes says so, its body: undefined until all of it has arrived. */
function readMessage(buffer: Buffer, bodyBytes: (line: string) => number | undefined): { line: string; body?: Buffer; size: number } | undefined {
  const end = buffer.indexOf(CRLF);
  if (end < 0) return undefined;
  const line = buffer.subarray(0, end).toString('latin1');
  const bytes = bodyBytes(line);
  if (bytes === undefined || !Number.isFinite(bytes)) return { line, size: end + 2 };
  const bodyStart = end + 2;
  if (buffer.length < bodyStart + bytes + 2) return undefined;
  return { line, body: Buffer.from(buffer.subarray(bodyStart, bodyStart + bytes)), size: bodyStart + bytes + 2 };
}

// ---- faults ----------------------------------------------------------------------------------

/** `stats` says total-jobs is `by` higher than it is: the run expects ids the server never gives. */
export function inflateTotalJobs(by: number): Fault {
  return {
    onCommand: (command) =>
      command.line === 'stats'
        ? {
            forward: true,
            reply: (reply) => {
              if (!reply.body) return reply;
              const text = reply.body.toString('latin1').replace(/^total-jobs: (\d+)$/m, (_, n: string) => `total-jobs: ${Number(n) + by}`);
              const body = Buffer.from(text, 'latin1');
              return { line: `OK ${body.length}`, body };
            },
          }
        : undefined,
  };
}

/**
 * Drops `count` puts after the first `after`, answering each `INSERTED <fakeId(k, state)>` as if
 * it had been stored.
 */
export function swallowPuts(options: { after: number; count: number; fakeId(k: number, state: ProxyState): number }): Fault {
  let swallowed = 0;
  return {
    onCommand: (command, state) => {
      if (!command.line.startsWith('put ') || state.puts <= options.after || swallowed >= options.count) return undefined;
      const id = options.fakeId(swallowed, state);
      swallowed += 1;
      return { answer: `INSERTED ${id}\r\n` };
    },
  };
}

const ID_COMMANDS = /^(delete|release|bury|touch|stats-job|peek|kick-job|reserve-job) (\d+)(.*)$/;
const ID_REPLIES = /^(INSERTED|RESERVED|FOUND) (\d+)(.*)$/;

/** Every job id is `by` higher on the client's side than on the server's. */
export function shiftIds(by: number): Fault {
  const shiftReply = (reply: ProxyReply): ProxyReply => {
    const m = ID_REPLIES.exec(reply.line);
    return m ? { ...reply, line: `${m[1]} ${Number(m[2]) + by}${m[3]}` } : reply;
  };
  return {
    onCommand: (command) => {
      const m = ID_COMMANDS.exec(command.line);
      if (m) return { forward: true, line: `${m[1]} ${Number(m[2]) - by}${m[3]}`, reply: shiftReply };
      if (command.line.startsWith('put ') || command.line.startsWith('reserve')) return { forward: true, reply: shiftReply };
      return undefined;
    },
  };
}

/** `delete ID` answers DELETED but releases the job with a delay instead: it stays on the server. */
export function deleteKeepsJob(delaySeconds: number): Fault {
  return {
    onCommand: (command) => {
      const m = /^delete (\d+)$/.exec(command.line);
      if (!m) return undefined;
      return { forward: true, line: `release ${m[1]} 0 ${delaySeconds}`, reply: (reply) => (reply.line === 'RELEASED' ? { line: 'DELETED' } : reply) };
    },
  };
}
