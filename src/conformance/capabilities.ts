// What the server under test can do, found out once before the suite runs, so that each check
// depends only on what it checks. A server that lacks `peek` (or `stats`, or `list-tube-used`)
// fails the checks *about* that command, once, as one root cause; a check that only uses the
// command as a helper is reported `not checked: needs peek` instead of failing for a reason
// that has nothing to do with its rule. Job ids are opaque tokens everywhere (a transcript binds
// whatever the server sends); one check, `producer/put/integer-ids`, says whether they are the
// decimal numbers beanstalkd hands out.
import type { CommandKind, Profile } from '../protocol/types.js';
import { nextEvent, type RawConnection } from '../target/connection.js';
import type { Session, TargetFactory } from '../target/sessions.js';
import type { CheckResult } from './corpus-runner.js';
import type { Step, Template, TranscriptCase } from './transcript.js';

export interface Capabilities {
  /** Commands the server answered UNKNOWN_COMMAND when probed with a well-formed line. */
  missing: CommandKind[];
  /** Whether the job ids the server hands out are decimal numbers, as beanstalkd's are. */
  integerIds: boolean;
  /** The first job id the server handed out, as written. */
  idExample?: string;
}

/** What a check assumes when nothing was probed (the virtual-clock model, unit tests). */
export const BEANSTALKD_CAPABILITIES: Capabilities = Object.freeze({ missing: [], integerIds: true });

export const INTEGER_IDS_CHECK_ID = 'producer/put/integer-ids';
const INTEGER_IDS_RULE = '"INSERTED <id>\\r\\n ... <id> is the integer id of the new job" (protocol.txt put; semantics a.1)';

/** Every command with a name on the wire, as the probe and the corpus analysis see them. */
export const COMMAND_NAMES: readonly CommandKind[] = [
  'put', 'use', 'reserve', 'reserve-with-timeout', 'reserve-job', 'delete', 'release', 'bury', 'touch', 'watch',
  'ignore', 'peek', 'peek-ready', 'peek-delayed', 'peek-buried', 'kick', 'kick-job', 'stats-job', 'stats-tube',
  'stats', 'list-tubes', 'list-tube-used', 'list-tubes-watched', 'quit', 'pause-tube',
];
const COMMAND_SET: ReadonlySet<string> = new Set(COMMAND_NAMES);

export interface ProbeOptions {
  profile: Profile;
  /** A tube name of the run's own, so a shared server's other clients are left alone. */
  tube: string;
  replyTimeoutMs: number;
}

/**
 * Probes every optional command with a well-formed line on a job of its own, in one session.
 * Only UNKNOWN_COMMAND marks a command missing: any other reply, right or wrong, means the
 * server has it, and the checks about it say whether the reply was right. When the basics
 * (use, put) do not work, nothing is assumed missing: every check then fails on its own.
 */
export async function probeCapabilities(target: TargetFactory, opts: ProbeOptions): Promise<Capabilities> {
  let session: Session | undefined;
  try {
    session = await target.open({ profile: opts.profile });
    const conn = await session.connect();
    try {
      return await probeOn(conn, opts);
    } finally {
      conn.close();
    }
  } catch {
    return BEANSTALKD_CAPABILITIES;
  } finally {
    await session?.close().catch(() => undefined);
  }
}

async function probeOn(conn: RawConnection, opts: ProbeOptions): Promise<Capabilities> {
  const ask = async (line: string, body?: string): Promise<string | undefined> => {
    conn.send(Buffer.from(`${line}\r\n${body === undefined ? '' : `${body}\r\n`}`, 'latin1'));
    const event = await nextEvent(conn, opts.replyTimeoutMs);
    return event?.kind === 'reply' ? event.raw.toString('latin1').split('\r\n')[0] : undefined;
  };
  const t = opts.tube;
  if ((await ask(`use ${t}`)) !== `USING ${t}`) return BEANSTALKD_CAPABILITIES;
  await ask(`watch ${t}`);
  await ask('ignore default');
  const inserted = await ask('put 0 0 10 1', 'p');
  const id = /^INSERTED (\S+)$/.exec(inserted ?? '')?.[1];
  if (id === undefined) return BEANSTALKD_CAPABILITIES;
  const missing: CommandKind[] = [];
  // Each line is well-formed and safe on the probe's own job; the order walks the job through
  // reserved, ready, buried and back, so the commands that need a state meet it.
  const probes: Array<[CommandKind, string]> = [
    ['peek', `peek ${id}`], ['peek-ready', 'peek-ready'], ['peek-delayed', 'peek-delayed'], ['peek-buried', 'peek-buried'],
    ['stats-job', `stats-job ${id}`], ['stats-tube', `stats-tube ${t}`], ['stats', 'stats'],
    ['list-tubes', 'list-tubes'], ['list-tube-used', 'list-tube-used'], ['list-tubes-watched', 'list-tubes-watched'],
    ['pause-tube', `pause-tube ${t} 0`], ['kick', 'kick 0'],
    ['reserve-with-timeout', 'reserve-with-timeout 0'], ['touch', `touch ${id}`], ['release', `release ${id} 0 0`],
    ['reserve-job', `reserve-job ${id}`], ['bury', `bury ${id} 0`], ['kick-job', `kick-job ${id}`], ['delete', `delete ${id}`],
  ];
  for (const [command, line] of probes) {
    const reply = await ask(line);
    if (reply === undefined) break; // closed or silent: assume the rest is there, the checks will tell
    if (reply === 'UNKNOWN_COMMAND') missing.push(command);
  }
  return { missing, integerIds: /^\d+$/.test(id), idExample: id };
}

/** The one check of the id format (reported in the corpus's producer/put section). */
export function integerIdsCheck(caps: Capabilities): CheckResult {
  const base = { id: INTEGER_IDS_CHECK_ID, section: 'producer/put', rule: INTEGER_IDS_RULE, notes: [] as string[] };
  if (caps.integerIds) return { ...base, status: 'pass', expected: '', actual: '' };
  return {
    ...base,
    status: 'fail',
    expected: 'INSERTED <a decimal number>',
    actual: `INSERTED ${caps.idExample}`,
    cause: { key: 'ids', title: 'ids are not integers' },
  };
}

/**
 * The commands a check is about, from its section: the last component that names a command,
 * and the commands that extend it (`peek` covers peek-ready, -delayed, -buried). A section
 * naming none (`connections/close`) is about no command in particular.
 */
export function subjectCommands(checkId: string): Set<string> {
  const parts = checkId.split('/').slice(0, -1);
  const named = parts.filter((p) => COMMAND_SET.has(p)).at(-1);
  if (named === undefined) return new Set();
  return new Set(COMMAND_NAMES.filter((c) => c === named || c.startsWith(`${named}-`)));
}

/**
 * Why a case cannot check its rule on this server: it needs a command the server lacks and is
 * not about that command. Undefined when it can run (cases about the missing command run, and
 * fail as that root cause).
 */
export function notCheckedReason(c: TranscriptCase, caps: Capabilities, profile: Profile): string | undefined {
  if (caps.missing.length === 0) return undefined;
  const subject = subjectCommands(c.id);
  const sent = sentCommands(c.steps, profile);
  const needed = caps.missing.filter((m) => sent.has(m) && !subject.has(m));
  return needed.length === 0 ? undefined : `needs ${needed.join(', ')}`;
}

/** A missing command this case is about and sends: its failure is that command's absence. */
export function missingSubject(c: TranscriptCase, caps: Capabilities, profile: Profile): string | undefined {
  const subject = subjectCommands(c.id);
  const sent = sentCommands(c.steps, profile);
  return caps.missing.find((m) => sent.has(m) && subject.has(m));
}

const ID_ARGUMENT = /^(?:peek|delete|kick-job|stats-job|reserve-job|touch|bury|release) (\S*)/;
const ID_REPLY = /^(?:INSERTED|RESERVED|FOUND|BURIED) (\S+)/;
/** Stands for a bound variable while the case's text is analysed (no byte of the protocol). */
const VARIABLE = '\u0001';

/**
 * Whether the case writes a job id literally (`peek 1`, `INSERTED 2`, `peek 00$a`, `id=1`):
 * it then assumes beanstalkd's integer ids, and on a server with other ids its failure is
 * that root cause.
 */
export function usesLiteralIds(c: TranscriptCase): boolean {
  for (const line of commandLines(c.steps, undefined)) {
    const arg = ID_ARGUMENT.exec(line)?.[1];
    if (arg !== undefined && arg !== VARIABLE) return true;
  }
  for (const step of c.steps) {
    if (step.kind !== 'expect') continue;
    const e = step.expect;
    if (e.kind === 'exact') {
      const id = ID_REPLY.exec(templateText(e.template))?.[1];
      if (id !== undefined && id !== VARIABLE) return true;
    }
    if (e.kind === 'map' && e.fields.some((f) => f.key === 'id' && 'template' in f.value && templateText(f.value.template) !== VARIABLE)) return true;
  }
  return false;
}

/** The command words a case sends (under `profile`), put bodies skipped. */
export function sentCommands(steps: readonly Step[], profile: Profile | undefined): Set<string> {
  return new Set(commandLines(steps, profile).map((line) => line.split(' ')[0]));
}

/** Every complete command line the case sends, per connection in order, put bodies skipped. */
function commandLines(steps: readonly Step[], profile: Profile | undefined): string[] {
  const perConn = new Map<string, string>();
  for (const step of steps) {
    if (step.kind !== 'send' || (profile && step.profile && step.profile !== profile)) continue;
    perConn.set(step.conn, (perConn.get(step.conn) ?? '') + templateText(step.bytes));
  }
  const lines: string[] = [];
  for (const text of perConn.values()) {
    let at = 0;
    for (let end = text.indexOf('\r\n', at); end >= 0; end = text.indexOf('\r\n', at)) {
      const line = text.slice(at, end);
      lines.push(line);
      at = end + 2;
      const put = /^put \d+ \d+ \d+ (\d+)$/.exec(line);
      if (put) at += Number(put[1]) + 2;
    }
  }
  return lines;
}

function templateText(template: Template): string {
  return template.map((p) => ('bytes' in p ? p.bytes.toString('latin1') : VARIABLE)).join('');
}
