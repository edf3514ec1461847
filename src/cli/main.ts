// The `beanlab` command. Each subcommand lives in its own module and registers itself here;
// core modules never print, the CLI does.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UsageError, exitCodes } from './errors.js';

type Register = (program: Command) => void;

/**
 * Subcommand modules by command name. Only the one being run is loaded (all of them for
 * --help), so `beanlab serve` does not carry the load runner's or the reports' dependencies.
 */
const commandModules: Record<string, () => Promise<{ register: Register }>> = {
  serve: () => import('./serve.js'),
  conform: () => import('./conform.js'),
  replay: () => import('./replay.js'),
  start: () => import('./start.js'),
  sim: () => import('./sim.js'),
  load: () => import('./load.js'),
  validate: () => import('./validate.js'),
  compare: () => import('./compare.js'),
  merge: () => import('./merge.js'),
};

function modulesFor(argv: string[]): Array<() => Promise<{ register: Register }>> {
  const name = argv.find((arg) => !arg.startsWith('-'));
  const only = name === undefined ? undefined : commandModules[name];
  return only ? [only] : Object.values(commandModules);
}

export const MAX_HELP_WIDTH = 100;

function helpWidth(stream: NodeJS.WriteStream): number {
  const columns = stream.isTTY ? stream.columns : undefined;
  return columns !== undefined && columns > 0 ? Math.min(columns, MAX_HELP_WIDTH) : MAX_HELP_WIDTH;
}

/** The version in package.json, two folders up from both src/cli/ and dist/cli/. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

export async function main(argv: string[]): Promise<number> {
  // A reader that went away (`beanlab conform --help | head`) ends the output, not the command:
  // without a listener node throws the EPIPE as an unhandled 'error' event, with a stack trace.
  // The run goes on (its files and exit code are still wanted); later writes go nowhere.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  const program = new Command();
  program
    .name('beanlab')
    .version(packageVersion(), '-V, --version', 'print the version of beanlab')
    .description(
      'Conformance tester, deterministic simulator and load harness for beanstalkd\n' +
        'and any server that speaks its protocol.',
    )
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    // Help wraps to the terminal, but never wider than 100 columns (and at 100 when piped:
    // commander's default of 80 leaves too little room beside long option names to wrap at all).
    .configureOutput({ getOutHelpWidth: () => helpWidth(process.stdout), getErrHelpWidth: () => helpWidth(process.stderr) })
    // Wrap descriptions even in a narrow column (commander's minimum is 40) rather than overflow.
    .configureHelp({ minWidthToWrap: 20 });
  for (const load of modulesFor(argv)) {
    (await load()).register(program);
  }
  // Descriptions are written with line breaks for the source's sake; commander wraps them to
  // the terminal itself, so a single break becomes a space and only blank lines separate.
  for (const command of program.commands) {
    const description = command.description().replace(/([^\n])\n(?=[^\n])/g, '$1 ');
    command.description(description);
    // The command list shows a summary: the description up to its first colon or full stop.
    if (!command.summary()) command.summary(description.split(/[:.](?:\s|$)/)[0]);
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : exitCodes.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return err.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`beanlab: ${err.message}\n`);
      return exitCodes.usage;
    }
    throw err;
  }
}
