// `beanlab replay FILE`: runs a replay file (a failing check's transcript, as `beanlab conform`
// writes it; any corpus-format file works) against a server again, and prints the table.
// Exit 0 when it passes now, 1 when it still fails, 2 on bad usage or an unreachable target.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { runCorpus } from '../conformance/corpus-runner.js';
import { buildResult } from '../conformance/result.js';
import { parseTranscript, TranscriptError } from '../conformance/transcript.js';
import { PROFILES, type Profile } from '../protocol/types.js';
import { parseFault, type FaultSpec } from '../server/faults.js';
import { formatConformanceTable } from '../report/conformance-table.js';
import { sessionsFor } from '../target/sessions-for.js';
import { replayArgs, TargetError, type TargetSpec } from '../target/spec.js';
import { exitCodes, UsageError } from './errors.js';

interface ReplayOptions {
  target?: string;
  spawn?: string;
  profile?: Profile;
  fault?: FaultSpec[];
}

export function register(program: Command): void {
  program
    .command('replay')
    .description(
      'Run a replay file written by `beanlab conform` (a shrunk failing sequence, as a transcript)\n' +
        'against a server again. Without --target or --spawn it uses the embedded server.\n' +
        'Exit status: 0 passes now, 1 still fails, 2 bad usage or unreachable target.',
    )
    .argument('<file>', 'the replay file (corpus transcript format)')
    .option('--target <host:port|unix:path>', 'a running server')
    .option('--spawn <command>', 'a command with {port} or {socket} that starts a fresh server')
    .option('--profile <version>', `beanstalkd version to expect (default: the file's profiles: line, else 1.12)`, (v: string) => {
      if (!(PROFILES as readonly string[]).includes(v)) throw new UsageError(`--profile must be one of ${PROFILES.join(', ')}, got '${v}'`);
      return v as Profile;
    })
    .option('--fault <name[=value]>', 'the embedded server with this fault injected (repeatable)', (v: string, prev: FaultSpec[] = []) => {
      try {
        return [...prev, parseFault(v)];
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    })
    .action(async (file: string, options: ReplayOptions) => {
      process.exitCode = await runReplay(file, options);
    });
}

export async function runReplay(
  file: string,
  options: ReplayOptions,
  log: (text: string) => void = (text) => process.stdout.write(text),
): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let cases;
  try {
    cases = parseTranscript(text, file);
  } catch (error) {
    if (error instanceof TranscriptError) throw new UsageError(error.message);
    throw error;
  }
  if (cases.length === 0) throw new UsageError(`${file} holds no case`);
  if ([options.target, options.spawn, options.fault?.length].filter(Boolean).length > 1) {
    throw new UsageError('give one of --target, --spawn or --fault');
  }
  const spec: TargetSpec = options.target
    ? { kind: 'address', address: options.target }
    : options.spawn
      ? { kind: 'spawn', command: options.spawn }
      : { kind: 'embedded', faults: options.fault ?? [] };
  const target = await sessionsFor(spec).catch((error: unknown) => {
    throw error instanceof TargetError ? new UsageError(error.message) : error;
  });
  const profile = options.profile ?? (cases[0].profiles?.length === 1 ? cases[0].profiles[0] : '1.12');
  const checks = await runCorpus(cases, target, { profile, replayArgs: replayArgs(spec) });
  const result = buildResult(target.label, profile, checks);
  log(formatConformanceTable(result, { verbose: true }));
  return result.failed > 0 ? exitCodes.failed : exitCodes.ok;
}
