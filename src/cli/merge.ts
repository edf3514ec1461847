// `beanlab merge`: several load results into one, exactly (the HDR histograms travel encoded).
import type { Command } from 'commander';
import { mergeResults, MergeError } from '../api/merge.js';
import type { LoadResult } from '../metrics/load-result.js';
import { loadTerminalReport } from '../report/load-table.js';
import { UsageError, exitCodes } from './errors.js';
import { readResultFile, readScenarioFile, resultJson, writeMakingDirs } from './files.js';

export function register(program: Command): void {
  program
    .command('merge')
    .description(
      'Merge load results exactly. By default the files are parts of one run made at the same time\n' +
        '(several load generators against one server): counts and rates add up. With --sequential they\n' +
        'are repeats one after another: rates are over the total time and each stays a sample for compare.\n' +
        'Shards of one run (load --shard I/N) are reconciled job by job: a job one shard put and\n' +
        'another completed is completed, a job gone from the server that no shard completed is lost.',
    )
    .argument('<results...>', "result JSON files of beanlab load (or a pod's log ending with the result, from --json -)")
    .usage('--json <file> [options] <results...>')
    .requiredOption('--json <file>', 'required: write the merged result here')
    .option('--sequential', 'the results are repeats, one after another')
    .option('--scenario <file>', "evaluate the scenario's SLOs on the merged result (else it passes only if every part did)")
    .action(async (files: string[], options: { json: string; sequential?: boolean; scenario?: string }) => {
      const results: LoadResult[] = [];
      for (const file of files) {
        const result = await readResultFile(file);
        if (!('load' in result)) throw new UsageError(`${file} is not a load result (only beanlab load results merge)`);
        results.push(result);
      }
      const slos = options.scenario === undefined ? undefined : (await readScenarioFile(options.scenario)).slos;
      let merged: LoadResult;
      try {
        merged = mergeResults(results, { mode: options.sequential ? 'sequential' : 'concurrent', slos });
      } catch (error) {
        throw error instanceof MergeError ? new UsageError(error.message) : error;
      }
      await writeMakingDirs(options.json, resultJson(merged));
      process.stdout.write(loadTerminalReport(merged));
      process.exitCode = merged.pass ? exitCodes.ok : exitCodes.failed;
    });
}
