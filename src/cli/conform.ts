// `beanlab conform`: the transcript corpus against a server, as a table grouped by protocol
// section. Exit 0 when every check passes, 1 when any fails, 2 on bad usage or an unreachable
// target (one line on stderr).
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadCorpus } from '../conformance/corpus.js';
import { runCorpus } from '../conformance/corpus-runner.js';
import { buildResult, type ConformanceResult } from '../conformance/result.js';
import { TranscriptError } from '../conformance/transcript.js';
import { PROFILES, type Profile } from '../protocol/types.js';
import { formatConformanceTable } from '../report/conformance-table.js';
import { canConnect, parseTarget } from '../target/address.js';
import { embeddedTarget } from '../target/embedded.js';
import { addressTarget, spawnTarget, type TargetFactory } from '../target/sessions.js';
import { spawnServer } from '../target/spawn.js';
import { exitCodes, UsageError } from './errors.js';

export interface ConformOptions {
  target?: string;
  spawn?: string;
  profile: Profile;
  only?: string;
  json?: string;
  concurrency: number;
}

const REACH_TIMEOUT_MS = 2000;

function profile(value: string): Profile {
  if (!(PROFILES as readonly string[]).includes(value)) {
    throw new UsageError(`--profile must be one of ${PROFILES.join(', ')}, got '${value}'`);
  }
  return value as Profile;
}

function positiveInteger(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new UsageError(`--concurrency must be a positive integer, got '${value}'`);
  return Number(value);
}

export function register(program: Command): void {
  program
    .command('conform')
    .description(
      'Run the conformance corpus (transcripts by protocol section) against a server and print\n' +
        'pass/fail per section. Without --target or --spawn it tests the embedded server.\n' +
        'Exit status: 0 all passed, 1 some failed, 2 bad usage or unreachable target.',
    )
    .option('--target <host:port>', 'a running server (shared by every case; cases needing a fresh one are skipped)')
    .option('--spawn <command>', "a command with {port} that starts a fresh server per case, e.g. 'beanstalkd -l 127.0.0.1 -p {port}'")
    .option('--profile <version>', `beanstalkd version whose behaviour to expect (${PROFILES.join(' or ')})`, profile, '1.12')
    .option('--only <prefix>', 'only cases whose id starts with this (e.g. worker/reserve)')
    .option('--json <file>', 'also write the result as JSON')
    .option('--concurrency <n>', 'cases run at once on per-case servers', positiveInteger, 4)
    .action(async (options: ConformOptions) => {
      process.exitCode = await runConform(options);
    });
}

/** Runs the corpus as the options say, prints the table, returns the exit code. */
export async function runConform(
  options: ConformOptions,
  log: (text: string) => void = (text) => process.stdout.write(text),
): Promise<number> {
  const { target, replayArgs } = await chooseTarget(options);
  let cases;
  try {
    cases = loadCorpus();
  } catch (error) {
    if (error instanceof TranscriptError) throw new UsageError(`corpus: ${error.message}`);
    throw error;
  }
  if (options.only && !cases.some((c) => c.id.startsWith(options.only!))) {
    throw new UsageError(`no corpus case id starts with '${options.only}'`);
  }
  const checks = await runCorpus(cases, target, {
    profile: options.profile,
    only: options.only,
    concurrency: options.concurrency,
    replayArgs,
  });
  const result: ConformanceResult = buildResult(target.label, options.profile, checks);
  log(formatConformanceTable(result));
  if (options.json) writeJson(options.json, result);
  return result.failed > 0 ? exitCodes.failed : exitCodes.ok;
}

async function chooseTarget(options: ConformOptions): Promise<{ target: TargetFactory; replayArgs: string }> {
  if (options.target && options.spawn) throw new UsageError('give --target or --spawn, not both');
  if (options.target) {
    let address;
    try {
      address = parseTarget(options.target);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (!(await canConnect(address, REACH_TIMEOUT_MS))) {
      throw new UsageError(`cannot connect to ${address.host}:${address.port}`);
    }
    return { target: addressTarget(address), replayArgs: `--target ${options.target}` };
  }
  if (options.spawn) {
    // Start it once up front so a bad command is one clear error, not a failure per case.
    try {
      const probe = await spawnServer(options.spawn);
      await probe.stop();
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    return { target: spawnTarget(options.spawn), replayArgs: `--spawn ${shellWord(options.spawn)}` };
  }
  return { target: embeddedTarget(), replayArgs: '' };
}

function writeJson(file: string, result: ConformanceResult): void {
  try {
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  } catch (error) {
    throw new UsageError(`cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function shellWord(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
