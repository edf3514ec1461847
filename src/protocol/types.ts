// The beanstalkd wire protocol as data: the 25 commands, what the parser can yield besides a
// command (errors that still have side effects on the server), and every reply.
// See docs/semantics.md section (a) for the byte-level rules.

/** Which server's behaviour to follow where versions differ (docs/semantics.md, section f). */
export type Profile = '1.12' | '1.13';
export const PROFILES: readonly Profile[] = ['1.12', '1.13'];

/** beanstalkd's LINE_BUF_SIZE: the longest command line, CR LF included. */
export const MAX_LINE_BYTES = 224;
export const DEFAULT_MAX_JOB_SIZE = 65535;
export const URGENT_PRIORITY_LIMIT = 1024;
export const UINT32_MAX = 4294967295;

/**
 * Job ids are uint64 on the wire. They are held as JS numbers: every id a server can really
 * hand out is far below 2^53, and an id above that can only be NOT_FOUND, which any number
 * above the largest allocated id also is (the parser maps such ids to Number.MAX_SAFE_INTEGER).
 */
export type JobId = number;

export type Command =
  | { kind: 'put'; pri: number; delaySeconds: number; ttrSeconds: number; body: Uint8Array }
  | { kind: 'use'; tube: string }
  | { kind: 'reserve' }
  /** timeoutSeconds < 0 means "wait forever" (1.12 parses negatives that way; 1.13 rejects them). */
  | { kind: 'reserve-with-timeout'; timeoutSeconds: number }
  | { kind: 'reserve-job'; id: JobId }
  | { kind: 'delete'; id: JobId }
  | { kind: 'release'; id: JobId; pri: number; delaySeconds: number }
  | { kind: 'bury'; id: JobId; pri: number }
  | { kind: 'touch'; id: JobId }
  | { kind: 'watch'; tube: string }
  | { kind: 'ignore'; tube: string }
  | { kind: 'peek'; id: JobId }
  | { kind: 'peek-ready' }
  | { kind: 'peek-delayed' }
  | { kind: 'peek-buried' }
  /** bound is already reduced modulo 2^32, as beanstalkd's lenient parser does (a.11). */
  | { kind: 'kick'; bound: number }
  | { kind: 'kick-job'; id: JobId }
  | { kind: 'stats-job'; id: JobId }
  | { kind: 'stats-tube'; tube: string }
  | { kind: 'stats' }
  | { kind: 'list-tubes' }
  | { kind: 'list-tube-used' }
  | { kind: 'list-tubes-watched' }
  | { kind: 'quit' }
  | { kind: 'pause-tube'; tube: string; delaySeconds: number };

export type CommandKind = Command['kind'];

/** The names of beanstalkd's `cmd-*` counters, without the prefix. */
export type CounterName =
  | 'put' | 'peek' | 'peek-ready' | 'peek-delayed' | 'peek-buried' | 'reserve'
  | 'reserve-with-timeout' | 'delete' | 'release' | 'use' | 'watch' | 'ignore' | 'bury'
  | 'kick' | 'touch' | 'stats' | 'stats-job' | 'stats-tube' | 'list-tubes'
  | 'list-tube-used' | 'list-tubes-watched' | 'pause-tube';

/**
 * What the incremental parser yields for one command's worth of input. Besides well-formed
 * commands, some malformed input still changes server state (a counter, a job id), so those
 * outcomes are requests too and the model applies them.
 */
export type Request =
  | Command
  /** Reply BAD_FORMAT or UNKNOWN_COMMAND; `counts` names a cmd-* counter the server still increments. */
  | { kind: 'error'; reply: 'BAD_FORMAT' | 'UNKNOWN_COMMAND'; counts?: CounterName }
  /** `put` whose size exceeded max-job-size: the body was discarded; counts cmd-put; no id used. */
  | { kind: 'put-too-big' }
  /**
   * `put` whose body was not followed by CR LF: counts cmd-put, marks a producer, uses up a job
   * id. After a put-begin it only discards that in-flight job (its id stays used).
   */
  | { kind: 'put-expected-crlf' }
  /**
   * A put line passed its checks but its body and CR LF have not all arrived. beanstalkd acts on
   * the line at once (a.1 steps 2 and 5): cmd-put += 1, the connection becomes a producer and a
   * job id is allocated; the job is visible to peek and stats-job as `state: invalid` (probe 93).
   * The connection's next request completes it: `put` (INSERTED with that id, or DRAINING) or
   * `put-expected-crlf`. When the whole body is already there, the parser yields only `put`.
   *
   * `body` (the declared size) and `trailer` (the 2 bytes that must be CR LF) are the parser's
   * own buffers, zero-filled and filled in place as bytes arrive, so a reader sees exactly what
   * beanstalkd's in-flight job holds. The completing `put` carries this same `body`.
   */
  | {
      kind: 'put-begin';
      pri: number;
      delaySeconds: number;
      ttrSeconds: number;
      body: Uint8Array;
      trailer: Uint8Array;
    }
  /**
   * A put line over max-job-size whose bytes + 2 discarded bytes have not all arrived: beanstalkd
   * already counted cmd-put (a.1 step 2). The later `put-too-big` then only replies JOB_TOO_BIG.
   */
  | { kind: 'put-too-big-begin' };

export type Reply =
  | { kind: 'INSERTED'; id: JobId }
  /** After put (out of memory: unreachable in practice) it carries an id; after bury it does not. */
  | { kind: 'BURIED'; id?: JobId }
  | { kind: 'USING'; tube: string }
  | { kind: 'RESERVED'; id: JobId; body: Uint8Array }
  /**
   * `trailer`, when present, replaces the CR LF after the body: beanstalkd sends a job's stored
   * body + 2 bytes, and only an in-flight put (probe 93) holds anything but CR LF there.
   */
  | { kind: 'FOUND'; id: JobId; body: Uint8Array; trailer?: Uint8Array }
  | { kind: 'DEADLINE_SOON' }
  | { kind: 'TIMED_OUT' }
  | { kind: 'DELETED' }
  | { kind: 'RELEASED' }
  | { kind: 'TOUCHED' }
  | { kind: 'WATCHING'; count: number }
  | { kind: 'NOT_IGNORED' }
  /** `kick` replies with a count; `kick-job` replies bare KICKED. */
  | { kind: 'KICKED'; count?: number }
  /** stats, stats-job, stats-tube, list-tubes, list-tubes-watched: the YAML document. */
  | { kind: 'OK'; body: Uint8Array }
  | { kind: 'PAUSED' }
  | { kind: 'NOT_FOUND' }
  | { kind: 'BAD_FORMAT' }
  | { kind: 'UNKNOWN_COMMAND' }
  | { kind: 'JOB_TOO_BIG' }
  | { kind: 'EXPECTED_CRLF' }
  | { kind: 'DRAINING' }
  | { kind: 'OUT_OF_MEMORY' }
  | { kind: 'INTERNAL_ERROR' };

export type ReplyKind = Reply['kind'];

/** Valid tube name bytes (a.0/7): 1..200 of these, not starting with '-'. */
export const TUBE_NAME_CHARS = /^[A-Za-z0-9\-+/;.$_()]+$/;
export const MAX_TUBE_NAME_BYTES = 200;

export function isValidTubeName(name: string): boolean {
  return (
    name.length >= 1 &&
    name.length <= MAX_TUBE_NAME_BYTES &&
    name[0] !== '-' &&
    TUBE_NAME_CHARS.test(name)
  );
}
