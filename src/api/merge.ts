// `mergeResults`: several load results into one, exactly (their HDR histograms travel encoded).
// Parts of one run made at the same time add up; repeats one after another keep each a sample;
// the shards of one sharded run are reconciled job by job (src/metrics/shard-merge.ts).
import { mergeLoadResults, type MergeMode } from '../metrics/load-merge.js';
import type { LoadResult } from '../metrics/load-result.js';
import type { RunResult } from '../metrics/result.js';
import { isShardResult, mergeShards, ShardMergeError } from '../metrics/shard-merge.js';
import type { SloSpec } from '../scenario/schema.js';

export type { MergeMode };

export interface MergeOptions {
  /**
   * `concurrent` (default): the results are parts of one run made at the same time (several
   * load generators against one server): counts and rates add up. `sequential`: repeats one
   * after another: rates are over the total time, and each stays a sample for compareResults.
   * Shards of one sharded run (runLoad with `shard`) are recognised and reconciled job by job; a
   * job one shard put and another completed is completed. They ran at the same time, so
   * `sequential` does not apply to them.
   */
  mode?: MergeMode;
  /** Evaluate these SLOs (a scenario's `slos`) on the merged result; default: it passes only if every part did. */
  slos?: readonly SloSpec[];
}

/** The results cannot be merged (not load results, different scenarios, shards with non-shards). */
export class MergeError extends Error {
  override name = 'MergeError';
}

/** Merges load results into one load result; throws MergeError for results that do not belong together. */
export function mergeResults(results: ReadonlyArray<LoadResult | RunResult>, options: MergeOptions = {}): LoadResult {
  if (results.length === 0) throw new MergeError('nothing to merge: no results given');
  const loads = results.map((result, i): LoadResult => {
    if (result.kind !== 'load' || !('load' in result)) throw new MergeError(`result ${i + 1} is not a load result (only load results merge)`);
    return result;
  });
  const scenarios = new Set(loads.map((r) => r.scenario));
  if (scenarios.size > 1) throw new MergeError(`the results are of different scenarios: ${[...scenarios].join(', ')}`);
  const shards = loads.filter(isShardResult).length;
  if (shards > 0 && shards < loads.length) throw new MergeError('shard results (runLoad with shard, load --shard) merge only with the other shards of their run, not with other results');
  if (shards > 0 && options.mode === 'sequential') throw new MergeError('shards ran at the same time: the sequential mode (--sequential) does not apply to them');
  if (shards === 0) return mergeLoadResults(loads, options.mode ?? 'concurrent', options.slos);
  try {
    return mergeShards(loads, options.slos);
  } catch (error) {
    throw error instanceof ShardMergeError ? new MergeError(error.message, { cause: error }) : error;
  }
}
