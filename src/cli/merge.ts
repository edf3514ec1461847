// `beanlab merge`: several load results into one, exactly (the HDR histograms travel encoded).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { mergeLoadResults } from '../metrics/load-merge.js';
import { isShardResult, mergeShards, ShardMergeError } from '../metrics/shard-merge.js';
import type { LoadResult } from '../metrics/load-result.js';
import { resultJson } from '../load/report-files.js';
import { loadTerminalReport } from '../report/load-table.js';
import { parseScenario, ScenarioError } from '../scenario/load.js';
import { UsageError, exitCodes } from './errors.js';
import { readResult } from './compare.js';
import { writeMakingDirs } from './load.js';

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
        const result = await readResult(file);
        if (!('load' in result)) throw new UsageError(`${file} is not a load result (only beanlab load results merge)`);
        results.push(result);
      }
      const scenarios = new Set(results.map((r) => r.scenario));
      if (scenarios.size > 1) throw new UsageError(`the results are of different scenarios: ${[...scenarios].join(', ')}`);
      const slos = options.scenario === undefined ? undefined : await scenarioSlos(options.scenario);
      const shards = results.filter(isShardResult).length;
      if (shards > 0 && shards < results.length) throw new UsageError('shard results (--shard) merge only with the other shards of their run, not with other results');
      if (shards > 0 && options.sequential) throw new UsageError('shards ran at the same time: --sequential does not apply to them');
      let merged: LoadResult;
      try {
        merged = shards > 0 ? mergeShards(results, slos) : mergeLoadResults(results, options.sequential ? 'sequential' : 'concurrent', slos);
      } catch (error) {
        throw error instanceof ShardMergeError ? new UsageError(error.message) : error;
      }
      await writeMakingDirs(options.json, resultJson(merged));
      process.stdout.write(loadTerminalReport(merged));
      process.exitCode = merged.pass ? exitCodes.ok : exitCodes.failed;
    });
}

async function scenarioSlos(file: string) {
  try {
    return parseScenario(await readFile(file, 'utf8'), file).slos;
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(error.message);
    throw new UsageError(`cannot read scenario ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
